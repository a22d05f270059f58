"""Trust: "not stated" uploads are Unknown, declarations are marked as such, the evidence-backed view,
corrections, copy checks against the registry, identity verification and verified-only terms."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from .conftest import a1111_png, make_user, png_bytes


def _photo(seed: int = 1, size=(256, 192)) -> bytes:
    """A picture with structure (perceptual hashes of flat colours are meaningless)."""
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
    im = Image.fromarray(small).resize(size, Image.BICUBIC)
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def _jpeg_resized(data: bytes, scale: float = 0.5, quality: int = 70) -> bytes:
    from PIL import Image
    im = Image.open(io.BytesIO(data)).convert("RGB")
    im = im.resize((int(im.width * scale), int(im.height * scale)))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _upload(client, key, data, name="w.png", **form):
    r = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                    files={"file": (name, data, "image/png")}, data=form)
    assert r.status_code == 201, r.text
    return r.json()


def test_not_stated_is_unknown_declared_is_marked_and_evidence_view(app, client):
    _aid, key = make_user(app, "a@example.org", "Ana Artist")
    plain = _upload(client, key, png_bytes(color=(1, 2, 3)))
    assert (plain["origin"]["badge"], plain["origin"]["badge_source"]) == ("unknown", "none")
    assert plain["declared"]["ai_use"] == "not_stated"
    assert plain["summary"].startswith("Origin unknown")
    declared = _upload(client, key, png_bytes(color=(4, 5, 6)), declared_ai_use="none")
    assert (declared["origin"]["badge"], declared["origin"]["badge_source"]) == ("human", "declared")
    assert declared["summary"].startswith("The artist says: no AI used")
    ai = _upload(client, key, a1111_png(), declared_ai_use="none")  # the declaration cannot hide the evidence
    assert (ai["origin"]["badge"], ai["origin"]["badge_source"]) == ("ai", "file")
    assert "found in the file's metadata" in ai["summary"]
    ids = lambda items: [i["work_id"] for i in items]  # noqa: E731
    platform = app.state.platform
    with platform.session() as s:
        assert ids(platform.gallery(s, human_only=True)) == [declared["work"]["id"]]
        assert ids(platform.gallery(s, evidence_only=True)) == [ai["work"]["id"]]
        assert ids(platform.gallery(s, human_only=True, evidence_only=True)) == []
    page = client.get("/?evidence_only=true").text
    assert 'data-badge="ai"' in page and 'data-badge="human"' not in page
    human_page = client.get("/?human_only=true").text
    assert "declared" in human_page and 'data-source="declared"' in human_page


def test_correcting_a_declaration_recomputes_the_badge(app, client):
    _aid, key = make_user(app, "b@example.org", "Ben Artist")
    work = _upload(client, key, png_bytes(color=(9, 9, 9)))
    wid = work["work"]["id"]
    r = client.patch(f"/v1/works/{wid}", headers={"Authorization": f"Bearer {key}"},
                     json={"declared_ai_use": "generated", "title": "Fixed"})
    assert r.status_code == 200, r.text
    assert (r.json()["origin"]["badge"], r.json()["origin"]["badge_source"]) == ("ai", "declared")
    assert r.json()["work"]["title"] == "Fixed"
    r = client.patch(f"/v1/works/{wid}", headers={"Authorization": f"Bearer {key}"},
                     json={"declared_ai_use": "bogus"})
    assert r.status_code == 422


def test_similar_works_find_a_resized_copy_of_another_artists_work(app, client):
    _a1, key1 = make_user(app, "c@example.org", "Cara Original")
    a2, _key2 = make_user(app, "d@example.org", "Dan Copier")
    original = _photo(7)
    work = _upload(client, key1, original, declared_ai_use="none")
    _upload(client, key1, _photo(99))  # an unrelated work
    platform = app.state.platform
    copy = _jpeg_resized(original)
    with platform.session() as s:
        hits = platform.similar_works(s, copy, uploader_artist_id=a2)
        assert [h.work_id for h in hits] == [work["work"]["id"]]
        assert hits[0].relation == "other_artist" and hits[0].artist == "Cara Original"
        # a smooth picture has too few ORB details to verify: its window hash decides (the whole frame's
        # pHash survives the JPEG resize intact), and the answer says it was not checked point by point
        assert (hits[0].match, hits[0].method, hits[0].distance, hits[0].score) == ("copy", "window-hash", 0, 1.0)
        assert (hits[0].evidence["window"], hits[0].evidence["mirrored"]) == ("full", False)
        assert hits[0].explanation == ("Its picture hash differs in 0 of 64 bits from the hash of the whole picture of the "
                                       "work (not checked point by point).")
        # the same file is the first, cheapest answer
        same = platform.similar_works(s, original, uploader_artist_id=a2)
        assert [(h.work_id, h.match, h.method, h.score) for h in same] == [(work["work"]["id"], "identical", "sha256", 1.0)]
        assert platform.similar_works(s, _photo(1234)) == []
        # the uploader's own work is "own"
        assert platform.similar_works(s, copy, uploader_artist_id=work["artist"]["id"])[0].relation == "own"
    # a work added after the index was built is found too (incremental index)
    later = _upload(client, key1, _photo(55))
    with platform.session() as s:
        assert [h.work_id for h in platform.similar_works(s, _jpeg_resized(_photo(55)))] == [later["work"]["id"]]


class _Site(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    server = HTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_identity_token_on_the_artists_page(app, site):
    pytest.importorskip("httpx")
    import asyncio

    from artlineage.interfaces.web import identity
    from artlineage.interfaces.web.models import User
    aid, _key = make_user(app, "e@example.org", "Mira Okonkwo")
    platform = app.state.platform
    url = f"http://127.0.0.1:{site.server_address[1]}/about"
    with platform.session() as s, s.begin():
        user = s.query(User).filter_by(artist_id=aid).one()
        claim = identity.open_claim(s, user)
        token_text = identity.claim_text(claim)
    # loopback is refused unless explicitly allowed: the claim goes to the operators' queue
    page, how = asyncio.run(identity.fetch_page(url, allow_private=False))
    assert page is None
    assert how == ("could not read the page: refused 127.0.0.1: it resolves only to non-public addresses "
                   "(pass allow_private to fetch private/loopback hosts)")
    _Site.body = b"<html><body>nothing here</body></html>"
    page, _how = asyncio.run(identity.fetch_page(url, allow_private=True))
    with platform.session() as s, s.begin():
        claim = identity.open_claim(s, s.query(User).filter_by(artist_id=aid).one())
        assert identity.record_check(s, claim, url, page, "read").status == "failed"
    _Site.body = f"<html><body><p>{token_text}</p></body></html>".encode()
    page, _how = asyncio.run(identity.fetch_page(url, allow_private=True))
    with platform.session() as s, s.begin():
        claim = identity.open_claim(s, s.query(User).filter_by(artist_id=aid).one())
        assert identity.record_check(s, claim, url, page, "read").status == "verified"
    with platform.session() as s:
        assert identity.is_verified(s, aid)
        assert aid in platform.verified_artist_ids(s)


def test_unverified_namesake_never_overrides_verified_terms(app, client):
    from artlineage.interfaces.web import identity
    from artlineage.registry import Registry
    real, _k1 = make_user(app, "real@example.org", "Mira Okonkwo")
    fake, _k2 = make_user(app, "fake@example.org", "Mira Okonkwo")
    platform = app.state.platform
    with platform.session() as s, s.begin():
        Registry.in_session(s).set_terms(real, None, style_imitation="not_allowed")
        Registry.in_session(s).set_terms(fake, None, style_imitation="allowed")
        identity._mark_verified(s, real, "https://mira.example/", "operator")
    result = platform.check_prompt("a lighthouse in the style of Mira Okonkwo")
    mira = [m for m in result["matches"] if m["artist"] == "Mira Okonkwo"]
    assert [(m["artist_id"], m["decision"]) for m in mira] == [(real, "block")]
    entries = [{"artist_id": fake, "ai_training": "allowed"}, {"artist_id": real, "ai_training": "not_allowed"}]
    assert identity.trusted_terms(entries, {real}) == [entries[1]]
    assert identity.trusted_terms(entries, set()) == entries


def test_v1_consent_answers_by_similarity_with_the_matched_work(app, client):
    pytest.importorskip("artlineage.verdicts.consent")
    aid, key = make_user(app, "g@example.org", "Gia Terms")
    original = _photo(41)
    wid = _upload(client, key, original, title="Terms test")["work"]["id"]
    r = client.post(f"/v1/works/{wid}/terms", headers={"Authorization": f"Bearer {key}"},
                    json={"ai_training": "not_allowed", "generative_training": "not_allowed",
                          "data_mining": "not_allowed"})
    assert r.status_code == 201, r.text
    resized = _jpeg_resized(original, 0.6)
    body = client.post("/v1/consent", files={"file": ("r.jpg", resized, "image/jpeg")}).json()
    assert [(m["work_id"], m["match"]) for m in body["matched_works"]] == [(wid, "copy")]
    hit = body["matched_works"][0]
    assert (hit["distance"], hit["artist"], hit["method"]) == (0, "Gia Terms", "window-hash")
    assert hit["terms"]["ai_training"] == "not_allowed"
    assert body["decision"] == "reserved"  # the registered work's terms reserve AI training
    assert "registry work #%d (copy: Its picture hash differs in 0 of 64 bits" % wid in str(body)
    exact = client.post("/v1/consent", files={"file": ("o.png", original, "image/png")}).json()
    assert [(m["work_id"], m["match"]) for m in exact["matched_works"]] == [(wid, "identical")]
    unrelated = client.post("/v1/consent", files={"file": ("u.png", _photo(4242), "image/png")}).json()
    assert unrelated["matched_works"] == []
