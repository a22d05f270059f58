"""A learned detector as a platform setting: its result is a model's estimate, badged and worded apart from
evidence in the file, never above the artist's declaration or the file's own evidence."""

from __future__ import annotations

import pytest

from ...detectors.test_onnx import _card, _mean_logit_model
from .conftest import a1111_png, make_user, png_bytes

pytest.importorskip("onnxruntime")


@pytest.fixture
def detector_app(tmp_path):
    from artlineage.interfaces.web import create_app

    _mean_logit_model(tmp_path / "m.onnx")  # bright images score as AI (a known function of brightness)
    card = _card(tmp_path)
    return create_app(tmp_path / "p.sqlite", tmp_path / "media", secret_key="test-secret", pixels=True,
                      detectors=[str(card)])


def _upload(client, key, data, **form):
    r = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                    files={"file": ("w.png", data, "image/png")}, data=form)
    assert r.status_code == 201, r.text
    return r.json()


def test_an_estimate_is_badged_and_worded_as_one(detector_app):
    from fastapi.testclient import TestClient

    with TestClient(detector_app) as client:
        _aid, key = make_user(detector_app, "d@example.org", "Dee Artist")
        bright = png_bytes(color=(240, 240, 240))
        estimated = _upload(client, key, bright)
        assert (estimated["origin"]["badge"], estimated["origin"]["badge_source"]) == ("ai", "estimate")
        assert estimated["summary"].startswith("A detector (mean-logit 1.0) estimates 100% likely AI; evaluated at "
                                               "2.0% false positives on unit test set")
        assert "a model's estimate, not evidence in the file" in estimated["summary"]
        page = client.get(f"/works/{estimated['work']['id']}")
        assert "AI-generated · estimated" in page.text and "dotted label" in client.get("/").text.lower()
        assert "Evidence found in the file (0)" in page.text and "A detector's estimate (1)" in page.text
        # The artist's word comes before a model's estimate ...
        declared = _upload(client, key, png_bytes(color=(241, 241, 241)), declared_ai_use="none")
        assert (declared["origin"]["badge"], declared["origin"]["badge_source"]) == ("human", "declared")
        # ... and evidence in the file before both.
        ai = _upload(client, key, a1111_png())
        assert ai["origin"]["badge_source"] == "file"
        platform = detector_app.state.platform
        with platform.session() as s:  # an estimate is not evidence: not in the evidence-backed view
            evidence_ids = [i["work_id"] for i in platform.gallery(s, evidence_only=True)]
        assert evidence_ids == [ai["work"]["id"]]
        r = client.post("/v1/verdict", files={"file": ("x.png", bright, "image/png")})
        assert r.status_code == 200, r.text
        assert r.json()["verdict"]["decided_by"] == "model_estimate"
        # metadata only (serve --no-pixels, or ?pixels=false): the answer says the detector was skipped
        off = client.post("/v1/verdict?pixels=false", files={"file": ("x.png", bright, "image/png")}).json()
        assert "detectors: skipped, pixel decoding is switched off (metadata-only)" in off["warnings"]
        assert off["verdict"]["decided_by"] != "model_estimate"


def test_a_bad_detector_card_stops_start_up(tmp_path):
    from artlineage.detectors import ModelCardError
    from artlineage.interfaces.web import create_app

    (tmp_path / "bad.card.json").write_text('{"kind": "onnx"}')
    with pytest.raises(ModelCardError, match="lacks the field 'name'"):
        create_app(tmp_path / "p.sqlite", tmp_path / "media", secret_key="s", detectors=[str(tmp_path / "bad.card.json")])
