"""Renditions under versioned URLs: immutable caching, ETag / 304, no database read per request,
opt-out headers on every image response, new URLs when the artist's terms change."""

from __future__ import annotations

import re

from .conftest import make_user, png_bytes

IMMUTABLE = "public, max-age=31536000, immutable"


def _work(client, app, color=(9, 8, 7)):
    a_id, key = make_user(app, "a@example.org", "Alice Example")
    r = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                    files={"file": ("x.png", png_bytes(color=color), "image/png")})
    assert r.status_code == 201, r.text
    return a_id, key, r.json()


def _assert_image_headers(r) -> None:
    assert r.headers["x-robots-tag"] == "noai, noimageai" and r.headers["tdm-reservation"] == "1"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == IMMUTABLE


def test_versioned_urls_are_immutable_with_etag_and_304(client, app):
    a_id, _key, card = _work(client, app)
    sha = card["work"]["sha256"]
    thumb = card["media"]["thumb"]
    assert re.fullmatch(rf"/media/{a_id}/{card['work']['id']}/{sha}-DMI-PROHIBITED-AIMLTRAINING\.thumb\.webp", thumb)
    assert card["media"]["display"].endswith(".display.png")
    assert client.get("/v1/works").json()["items"][0]["thumb"] == thumb
    assert f'src="{thumb}"' in client.get("/").text
    r = client.get(thumb)
    assert r.status_code == 200 and r.headers["content-type"] == "image/webp" and r.content[:4] == b"RIFF"
    _assert_image_headers(r)
    etag = r.headers["etag"]
    again = client.get(thumb, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    _assert_image_headers(again)
    assert client.get(thumb, headers={"If-None-Match": '"other"'}).status_code == 200
    display = client.get(card["media"]["display"])
    assert display.status_code == 200 and display.headers["content-type"] == "image/png"
    assert display.headers["etag"] != etag


def test_cached_image_is_served_without_a_database_read(client, app):
    _a, _key, card = _work(client, app)
    thumb = card["media"]["thumb"]
    assert client.get(thumb).status_code == 200  # made, and the artist's opt-out cached

    def no_database():  # noqa: ANN202
        raise AssertionError("the media handler opened a database session")

    app.state.platform.session = no_database
    r = client.get(thumb)
    assert r.status_code == 200 and r.headers["x-robots-tag"] == "noai, noimageai"
    assert client.get(thumb, headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_terms_change_gives_new_urls_and_old_ones_redirect(client, app):
    a_id, key, card = _work(client, app)
    old = card["media"]["thumb"]
    r = client.post(f"/v1/artists/{a_id}/terms", headers={"Authorization": f"Bearer {key}"},
                    json={"ai_training": "allowed", "generative_training": "allowed", "data_mining": "allowed"})
    assert r.status_code == 201
    new = client.get(f"/v1/works/{card['work']['id']}/card").json()["media"]["thumb"]
    assert new != old and "-DMI-ALLOWED.thumb.webp" in new
    moved = client.get(old, follow_redirects=False)
    assert moved.status_code == 307 and moved.headers["location"] == new and moved.headers["cache-control"] == "no-cache"
    r = client.get(new)
    assert r.status_code == 200 and r.headers["tdm-reservation"] == "0" and "x-robots-tag" not in r.headers
    assert b"DMI-ALLOWED" in r.content and r.headers["x-content-type-options"] == "nosniff"
    # Unversioned links (older pages, the API before versioning) redirect to the current version.
    legacy = client.get(f"/media/{a_id}/{card['work']['id']}/thumb", follow_redirects=False)
    assert legacy.status_code == 307 and legacy.headers["location"] == new


def test_bad_names_wrong_artist_and_deleted_works_are_404(client, app):
    a_id, key, card = _work(client, app)
    work_id, sha = card["work"]["id"], card["work"]["sha256"]
    thumb = card["media"]["thumb"]
    assert client.get(thumb).status_code == 200
    for name in ("..%2F..%2Fp.sqlite", f"{sha}-DMI-PROHIBITED-AIMLTRAINING.thumb.png",
                 f"{sha[:-1]}x-DMI-PROHIBITED-AIMLTRAINING.thumb.webp", "original", f"{'0' * 64}-DMI-PROHIBITED-AIMLTRAINING.thumb.webp"):
        assert client.get(f"/media/{a_id}/{work_id}/{name}").status_code == 404, name
    b_id, _kb = make_user(app, "b@example.org", "Bob Example")
    assert client.get(thumb.replace(f"/media/{a_id}/", f"/media/{b_id}/")).status_code == 404
    assert client.get(f"/media/{b_id}/{work_id}/thumb").status_code == 404
    assert client.delete(f"/v1/works/{work_id}", headers={"Authorization": f"Bearer {key}"}).status_code == 204
    assert client.get(thumb).status_code == 404
