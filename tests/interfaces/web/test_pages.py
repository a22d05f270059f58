"""Every page renders (as a browser would ask for it), with real content; the upload preview and
publish steps; forms keep what was typed on error; HTML error pages; API docs from the package."""

from __future__ import annotations

import re

from .conftest import a1111_png, make_user, png_bytes
from .test_trust import _jpeg_resized, _photo

HTML = {"Accept": "text/html,application/xhtml+xml"}


def _csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def _signin(client, email, password="correct horse battery"):
    page = client.get("/signin", headers=HTML).text
    r = client.post("/signin", data={"csrf": _csrf(page), "email": email, "password": password},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def test_upload_preview_shows_copies_and_publish_keeps_details(app, client):
    _a1, key1 = make_user(app, "orig@example.org", "Olga Original")
    make_user(app, "up@example.org", "Uma Uploader")
    original = _photo(21)
    r = client.post("/v1/works", headers={"Authorization": f"Bearer {key1}"},
                    files={"file": ("o.png", original, "image/png")}, data={"title": "Harbour at dusk"})
    assert r.status_code == 201
    _signin(client, "up@example.org")
    form = client.get("/upload", headers=HTML).text
    assert '<option value="not_stated" selected>' in form  # the default is "not stated"
    r = client.post("/upload", data={"csrf": _csrf(form), "title": "My harbour", "declared_ai_use": "not_stated"},
                    files={"file": ("copy.jpg", _jpeg_resized(original), "image/jpeg")}, headers=HTML)
    assert r.status_code == 200, r.text
    page = r.text
    assert "Preview before publishing" in page
    assert "Harbour at dusk" in page and "Olga Original" in page and "Another artist's registered work" in page
    assert 'data-badge="unknown"' in page and 'value="My harbour"' in page
    assert 'name="confirm_copy"' in page  # publishing a look-alike needs an explicit statement
    pending = re.search(r'name="pending" value="([0-9a-f]{64})"', page).group(1)
    # nothing is published before "Publish"
    assert client.get("/v1/works").json()["items"][0]["title"] == "Harbour at dusk"
    r = client.post("/upload/publish", data={"csrf": _csrf(page), "pending": pending, "filename": "copy.jpg",
                                             "title": "My harbour", "declared_ai_use": "none",
                                             "training_data": "unknown", "confirm_copy": "1"},
                    headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and "notice=published" in r.headers["location"]
    work = client.get(r.headers["location"], headers=HTML).text
    assert "Published." in work and 'data-source="declared"' in work and "The artist says: no AI used" in work
    # the preview's file is gone once published: the same token cannot publish twice
    r = client.post("/upload/publish", data={"csrf": _csrf(page), "pending": pending, "title": "again"},
                    headers=HTML)
    assert r.status_code == 410 and "The preview expired" in r.text


def test_visitor_check_and_find_my_work(app, client):
    _a, key = make_user(app, "f@example.org", "Finn Finder")
    original = _photo(31)
    client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                files={"file": ("o.png", original, "image/png")}, data={"title": "Blue field"})
    page = client.get("/find", headers=HTML).text
    assert "<h1>Find my work</h1>" in page
    r = client.post("/find", data={"csrf": _csrf(page)}, files={"file": ("x.jpg", _jpeg_resized(original, 0.4),
                                                                         "image/jpeg")}, headers=HTML)
    assert r.status_code == 200 and "Blue field" in r.text and "Finn Finder" in r.text and "How it was found" in r.text
    r = client.post("/find", data={"csrf": _csrf(page)}, files={"file": ("y.png", _photo(77), "image/png")},
                    headers=HTML)
    assert "No registered work looks like this image." in r.text
    r = client.post("/find", data={"csrf": _csrf(page)}, files={"file": ("z.png", b"not an image", "image/png")},
                    headers=HTML)
    assert r.status_code == 415 and "Refused" in r.text
    # a visitor's check shows findings but offers no Publish
    form = client.get("/upload", headers=HTML).text
    r = client.post("/upload", data={"csrf": _csrf(form)}, files={"file": ("g.png", a1111_png(), "image/png")},
                    headers=HTML)
    assert "What this image says" in r.text and 'data-badge="ai"' in r.text and "/upload/publish" not in r.text
    assert "Greg Rutkowski" in r.text


def test_signup_keeps_typed_values_on_error(app, client):
    page = client.get("/signup", headers=HTML).text
    r = client.post("/signup", data={"csrf": _csrf(page), "email": "not-an-address", "password": "correct horse battery",
                                     "artist_name": "Kept Name"}, headers=HTML)
    assert r.status_code == 400
    assert 'value="Kept Name"' in r.text and 'value="not-an-address"' in r.text and 'role="alert"' in r.text


def test_edit_correct_and_delete_a_work_in_the_browser_forms(app, client):
    aid, key = make_user(app, "ed@example.org", "Edda Editor")
    wid = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                      files={"file": ("e.png", png_bytes(color=(3, 3, 3)), "image/png")}).json()["work"]["id"]
    _signin(client, "ed@example.org")
    form = client.get(f"/works/{wid}/edit", headers=HTML).text
    r = client.post(f"/works/{wid}/edit", data={"csrf": _csrf(form), "title": "Renamed", "declared_ai_use": "bogus",
                                                "training_data": "unknown"}, headers=HTML)
    assert r.status_code == 400 and 'value="Renamed"' in r.text  # kept on error
    r = client.post(f"/works/{wid}/edit", data={"csrf": _csrf(form), "title": "Renamed", "declared_ai_use": "medium",
                                                "process": "I paint over AI sketches", "training_data": "own"},
                    headers=HTML)
    assert r.status_code == 200 and "Saved." in r.text and "Renamed" in r.text
    card = client.get(f"/v1/works/{wid}/card").json()
    assert (card["origin"]["badge"], card["origin"]["badge_source"]) == ("composite", "declared")
    assert card["declared"]["process"] == "I paint over AI sketches"
    r = client.post(f"/works/{wid}/delete", data={"csrf": _csrf(form)}, headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/artists/{aid}"
    assert client.get(f"/v1/works/{wid}").status_code == 404


def test_error_pages_are_html_for_browsers_and_json_for_the_api(client):
    r = client.get("/artists/987654", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and "<h1>Not found</h1>" in r.text
    r = client.get("/no/such/page", headers=HTML)
    assert r.status_code == 404 and "<h1>Not found</h1>" in r.text
    r = client.get("/v1/artists/987654", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    r = client.get("/artists/987654")
    assert r.status_code == 404 and "detail" in r.json()


def test_api_docs_are_served_from_the_package_under_the_csp(client):
    for path, asset in (("/docs", "/docs-assets/swagger-ui-bundle.js"), ("/redoc", "/docs-assets/redoc.standalone.js")):
        r = client.get(path)
        assert r.status_code == 200 and asset in r.text and "cdn" not in r.text.lower()
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "unsafe-inline" not in r.headers["content-security-policy"].split("script-src")[1].split(";")[0]
        assert "<script>" not in r.text  # no inline script: the CSP would block it
        js = client.get(asset)
        assert js.status_code == 200 and len(js.content) > 500_000
    assert client.get("/static/docs-init.js").status_code == 200


def test_pages_carry_share_tags_favicon_and_legend(app, client):
    _a, key = make_user(app, "s@example.org", "Sam Share")
    wid = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                      files={"file": ("s.png", _photo(5), "image/png")}, data={"title": "Shared"}).json()["work"]["id"]
    home = client.get("/", headers=HTML).text
    assert '<link rel="icon" href="/static/favicon.svg"' in home and 'property="og:title"' in home
    assert "What the labels mean" in home and "<h1>Gallery</h1>" in home
    work = client.get(f"/works/{wid}", headers=HTML).text
    assert 'property="og:image" content="http://127.0.0.1:8000/media/' in work
    assert 'name="twitter:card" content="summary_large_image"' in work
    visible = re.sub(r"<[^>]+>", " ", work.split("<main")[1])
    assert "DMI-" not in visible and "human_declared" not in visible and "not_allowed" not in visible  # no internal codes
    assert client.get("/static/favicon.svg").status_code == 200
