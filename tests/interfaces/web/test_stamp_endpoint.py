"""POST /v1/prompt before generation, POST /v1/stamp after it."""

import json

import c2pa
import io

from artlineage import inspect_bytes
from artlineage.stamping import make_test_chain, read_container_xmp
from artlineage.verdicts import Origin

from .conftest import make_user, png_bytes


def test_check_then_stamp(app, client, tmp_path, monkeypatch):
    from artlineage.registry import Registry

    artist_id, key = make_user(app, "mira@example.org", "Mira Okonkwo")
    with app.state.platform.session() as s, s.begin():
        Registry.in_session(s).set_terms(artist_id, style_imitation="not_allowed")
    auth = {"Authorization": f"Bearer {key}"}
    before = client.post("/v1/prompt", json={"text": "harbour at night in the style of Mira Okonkwo"}).json()
    assert before["decision"] == "block" and before["matches"][0]["artist"] == "Mira Okonkwo"

    certs = make_test_chain(tmp_path / "certs")
    monkeypatch.setenv("ARTLINEAGE_STAMP_CERT", str(certs.chain))
    monkeypatch.setenv("ARTLINEAGE_STAMP_KEY", str(certs.key))
    res = client.post("/v1/stamp", headers=auth, files={"file": ("out.png", png_bytes(), "image/png")},
                      data={"generator": "Acme Imagine", "prompt": "harbour at night in the style of Mira Okonkwo"})
    assert res.status_code == 200 and res.headers["content-type"] == "image/png"
    summary = json.loads(res.headers["x-artlineage-stamp"])
    assert summary["signed"] and summary["test_certificate"] and summary["influences"] == ["Mira Okonkwo"]
    assert inspect_bytes(res.content, name="out.png").verdict.origin == Origin.AI_GENERATED
    reader = c2pa.Reader("image/png", io.BytesIO(res.content))
    store_json = json.loads(reader.json())
    manifest = store_json["manifests"][store_json["active_manifest"]]
    influences = next(a["data"] for a in manifest["assertions"] if a["label"] == "org.artlineage.influences")
    assert influences["artists"][0]["registry_id"] == artist_id
    assert influences["artists"][0]["style_imitation"] == "not_allowed"


def test_stamp_needs_a_key_and_an_image(client, app, monkeypatch):
    monkeypatch.delenv("ARTLINEAGE_STAMP_CERT", raising=False)
    monkeypatch.delenv("ARTLINEAGE_STAMP_KEY", raising=False)
    files = {"file": ("out.png", png_bytes(), "image/png")}
    assert client.post("/v1/stamp", files=files, data={"generator": "g"}).status_code == 401
    _id, key = make_user(app, "a@example.org", "A Painter")
    auth = {"Authorization": f"Bearer {key}"}
    bad = client.post("/v1/stamp", headers=auth, files={"file": ("x.png", b"nope", "image/png")},
                      data={"generator": "g"})
    assert bad.status_code == 422 and "PNG, JPEG and WebP" in bad.json()["detail"]
    ok = client.post("/v1/stamp", headers=auth, files=files, data={"generator": "g"})
    assert ok.status_code == 200 and not json.loads(ok.headers["x-artlineage-stamp"])["signed"]
    assert b"trainedAlgorithmicMedia" in read_container_xmp(ok.content)
