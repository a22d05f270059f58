"""The platform asks "is this image a copy of a registered work?" with the copy detector: a centre
crop, a mirror and a small rotation of a registered work are found at the upload preview, /v1/consent
and "find my work" (the old global pHash/PDQ matcher found none of them); an unrelated photograph is
not. Fixtures: scikit-image's sample photographs (shipped in the test extra), edited in code."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from .conftest import A1111, make_user
from .test_pages import HTML, _csrf, _signin

data = pytest.importorskip("skimage.data", reason="scikit-image ships the sample photographs")
lf = pytest.importorskip("artlineage.matching._local_features")
needs_cv2 = pytest.mark.skipif(not lf.available(), reason="OpenCV (extra 'copies') not installed")


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(data, name)()).convert("RGB")


def png(im: Image.Image, text: str | None = None) -> bytes:
    info = PngInfo()
    if text:
        info.add_text("parameters", text)
    out = io.BytesIO()
    im.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def jpeg(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    return out.getvalue()


def centre_crop(im: Image.Image, side: float = 0.8) -> Image.Image:
    w, h = im.size
    cw, ch = int(w * side), int(h * side)
    return im.crop(((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch))


# edit -> (image, mirrored, rotation in degrees as the detector reports it, share of the work shown)
EDITS = {
    "centre crop 80 %": (lambda im: centre_crop(im), False, 0.0, 0.64),
    "mirror": (lambda im: im.transpose(Image.FLIP_LEFT_RIGHT), True, 0.0, 1.0),
    "rotated 6 degrees": (lambda im: im.rotate(6, Image.BILINEAR), False, 6.0, 1.0),
}


@pytest.fixture
def registered(app, client):
    """Olga's astronaut, and a known AI-generated picture (the coffee cup, with A1111 parameters)."""
    _olga, key = make_user(app, "olga@example.org", "Olga Original")
    make_user(app, "uma@example.org", "Uma Uploader")
    ids = {}
    for name, title, text in (("astronaut", "Astronaut portrait", None), ("coffee", "Coffee cup", A1111)):
        r = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                        files={"file": (f"{name}.png", png(photo(name), text), "image/png")}, data={"title": title})
        assert r.status_code == 201, r.text
        ids[name] = r.json()["work"]["id"]
    r = client.post(f"/v1/works/{ids['astronaut']}/terms", headers={"Authorization": f"Bearer {key}"},
                    json={"ai_training": "not_allowed", "generative_training": "not_allowed", "data_mining": "not_allowed"})
    assert r.status_code == 201, r.text
    return ids


def _check_evidence(ev: dict, edit: str) -> None:
    _f, mirrored, rotation, shown = EDITS[edit]
    assert ev["method"] == "orb+ransac" and ev["mirrored"] is mirrored
    assert abs(ev["rotation_deg"] - rotation) < 1.5
    assert abs(ev["coverage"] - shown) < 0.08
    assert ev["inliers"] >= 12 and ev["inliers"] >= 0.8 * ev["matches"]


@needs_cv2
@pytest.mark.parametrize("edit", list(EDITS))
def test_v1_consent_finds_the_edited_copy_with_its_terms_and_evidence(app, client, registered, edit):
    pytest.importorskip("artlineage.verdicts.consent")
    copy = jpeg(EDITS[edit][0](photo("astronaut")))
    body = client.post("/v1/consent", files={"file": ("c.jpg", copy, "image/jpeg")}).json()
    assert [(m["work_id"], m["match"], m["artist"]) for m in body["matched_works"]] == [
        (registered["astronaut"], "copy", "Olga Original")]
    hit = body["matched_works"][0]
    _check_evidence(hit["evidence"], edit)
    assert hit["terms"] == {"ai_training": "not_allowed", "generative_training": "not_allowed",
                            "data_mining": "not_allowed", "style_imitation": None}
    assert body["decision"] == "reserved"
    assert body["copy_search"]["works"] == 2 and body["copy_search"]["verification"] is True
    assert body["copy_search"]["method"] == "window hashes and visual words + ORB/RANSAC verification"


@needs_cv2
@pytest.mark.parametrize("edit", list(EDITS))
def test_upload_preview_shows_the_copy_and_its_evidence(app, client, registered, edit):
    _signin(client, "uma@example.org")
    form = client.get("/upload", headers=HTML).text
    copy = jpeg(EDITS[edit][0](photo("astronaut")))
    r = client.post("/upload", data={"csrf": _csrf(form), "title": "Mine"},
                    files={"file": ("c.jpg", copy, "image/jpeg")}, headers=HTML)
    assert r.status_code == 200, r.text
    page = r.text
    assert "Astronaut portrait" in page and "Olga Original" in page and "Another artist's registered work" in page
    assert "This image looks like “Astronaut portrait” by Olga Original" in page
    assert "matching details line up in one placement" in page and "<summary>How it was found</summary>" in page
    shown = int(re.search(r"<dt>Share of the work shown</dt><dd>(\d+)%</dd>", page).group(1))
    assert abs(shown / 100 - EDITS[edit][3]) < 0.08
    assert ("<dt>Mirrored</dt><dd>yes</dd>" in page) is EDITS[edit][1]
    shared = re.search(r"<dt>Shared details \(visual words\)</dt><dd>(\d+)", page)
    assert shared and int(shared.group(1)) >= 12      # a copy shares dozens of ORB words with its source
    assert 'name="confirm_copy"' in page
    assert "Searched 2 registered works by window hashes and visual words + ORB/RANSAC verification." in page


@needs_cv2
@pytest.mark.parametrize("edit", list(EDITS))
def test_find_my_work_finds_the_edited_copy(app, client, registered, edit):
    page = client.get("/find", headers=HTML).text
    copy = jpeg(EDITS[edit][0](photo("astronaut")))
    r = client.post("/find", data={"csrf": _csrf(page)}, files={"file": ("c.jpg", copy, "image/jpeg")}, headers=HTML)
    assert r.status_code == 200
    found = re.findall(r'<strong><a href="/artists/\d+/works/(\d+)">([^<]+)</a></strong>', r.text)
    assert found == [(str(registered["astronaut"]), "Astronaut portrait")]
    assert "a copy" in r.text and "matching details line up" in r.text


@needs_cv2
def test_a_copy_of_a_known_ai_work_is_shown_as_such(app, client, registered):
    platform = app.state.platform
    with platform.session() as s:
        hits = platform.similar_works(s, jpeg(centre_crop(photo("coffee"))))
    assert [(h.work_id, h.relation, h.badge, h.badge_source) for h in hits] == [
        (registered["coffee"], "known_ai", "ai", "file")]
    _signin(client, "uma@example.org")
    form = client.get("/upload", headers=HTML).text
    r = client.post("/upload", data={"csrf": _csrf(form)},
                    files={"file": ("r.jpg", jpeg(photo("coffee").transpose(Image.FLIP_LEFT_RIGHT)), "image/jpeg")},
                    headers=HTML)
    assert "A registered work known to be AI-generated" in r.text
    assert "This image looks like “Coffee cup”, a registered work known to be AI-generated." in r.text


def test_an_unrelated_photograph_is_found_nowhere(app, client, registered):
    pytest.importorskip("artlineage.verdicts.consent")
    cat = jpeg(photo("chelsea"))
    body = client.post("/v1/consent", files={"file": ("cat.jpg", cat, "image/jpeg")}).json()
    assert body["matched_works"] == [] and body["decision"] != "reserved"
    page = client.get("/find", headers=HTML).text
    r = client.post("/find", data={"csrf": _csrf(page)}, files={"file": ("cat.jpg", cat, "image/jpeg")}, headers=HTML)
    assert "No registered work looks like this image." in r.text
    _signin(client, "uma@example.org")
    form = client.get("/upload", headers=HTML).text
    r = client.post("/upload", data={"csrf": _csrf(form)}, files={"file": ("cat.jpg", cat, "image/jpeg")}, headers=HTML)
    assert "No registered work looks like this image." in r.text and 'name="confirm_copy"' not in r.text


def test_without_opencv_the_answer_says_hashes_only(tmp_path, monkeypatch):
    """No OpenCV: window hashes alone decide; the mirror is still found, and the API answer and the
    page say the search was degraded rather than staying silent."""
    pytest.importorskip("artlineage.verdicts.consent")
    from fastapi.testclient import TestClient

    from artlineage.interfaces.web import create_app
    monkeypatch.setattr(lf, "available", lambda: False)
    app = create_app(tmp_path / "p.sqlite", tmp_path / "media", secret_key="k", pixels=False)
    _a, key = make_user(app, "o@example.org", "Olga Original")
    with TestClient(app) as client:
        wid = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                          files={"file": ("a.png", png(photo("astronaut")), "image/png")}).json()["work"]["id"]
        mirror = jpeg(photo("astronaut").transpose(Image.FLIP_LEFT_RIGHT))
        body = client.post("/v1/consent", files={"file": ("m.jpg", mirror, "image/jpeg")}).json()
        assert [(m["work_id"], m["method"], m["evidence"]["mirrored"]) for m in body["matched_works"]] == [
            (wid, "window-hash", True)]
        assert body["copy_search"]["method"] == "window hashes only"
        assert body["copy_search"]["note"].startswith("OpenCV is not installed on this server")
        page = client.get("/find", headers=HTML).text
        r = client.post("/find", data={"csrf": _csrf(page)}, files={"file": ("m.jpg", mirror, "image/jpeg")},
                        headers=HTML)
        assert "OpenCV is not installed on this server" in r.text and "Searched 1 registered work by window hashes only." in r.text


@needs_cv2
def test_an_api_upload_reports_the_copies_it_is(app, client, registered):
    _uma, key = make_user(app, "ursula@example.org", "Ursula Uploader")
    copy = jpeg(photo("astronaut").rotate(6, Image.BILINEAR))
    r = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                    files={"file": ("c.jpg", copy, "image/jpeg")}, data={"title": "Mine"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert [(c["work_id"], c["relation"], c["artist"]) for c in body["copies"]] == [
        (registered["astronaut"], "other_artist", "Olga Original")]
    _check_evidence(body["copies"][0]["evidence"], "rotated 6 degrees")
    assert body["copy_search"]["works"] == 2
    # the artist's own work uploaded again is not reported as a copy
    again = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                        files={"file": ("c2.png", png(photo("astronaut").rotate(6, Image.BILINEAR)), "image/png")})
    assert [c["work_id"] for c in again.json()["copies"]] == [registered["astronaut"]]
