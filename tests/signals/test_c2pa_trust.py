"""C2PA trust anchors per call and per inspection, with the process default only as a fallback."""

from __future__ import annotations

import threading

import pytest

from artlineage._inspect import inspect_bytes
from artlineage.signals._base import Implication
from artlineage.signals._source import SourceOptions
from artlineage.signals.c2pa import read_c2pa_manifest, set_trust_anchors

from ._c2pa_fixtures import created_action, make_test_signer, manifest_with_actions, plain_image, sign_image


def _signed_jpeg() -> bytes:
    return sign_image(plain_image("JPEG"), "JPEG", manifest_with_actions(created_action("trainedAlgorithmicMedia")))


def _claim_strength(report) -> float:
    [claim] = [e for e in report.evidence if e.reader == "c2pa" and e.implies is Implication.AI_GENERATED]
    return claim.strength


def test_anchors_per_inspection_do_not_leak_into_other_inspections():
    data = _signed_jpeg()
    anchors = make_test_signer().ca_pem
    trusted = inspect_bytes(data, readers=["c2pa"], options=SourceOptions(c2pa_trust_anchors=anchors))
    plain = inspect_bytes(data, readers=["c2pa"])
    assert (_claim_strength(trusted), _claim_strength(plain)) == (pytest.approx(0.97), pytest.approx(0.8))


def test_two_threads_with_different_anchors_each_get_their_own_answer():
    data = _signed_jpeg()
    anchors = make_test_signer().ca_pem
    results: dict[str, str] = {}

    def read(name: str, pem: str | None) -> None:
        for _ in range(3):
            results[name] = read_c2pa_manifest(data, "image/jpeg", trust_anchors=pem).validation_state

    threads = [threading.Thread(target=read, args=("with", anchors)), threading.Thread(target=read, args=("without", ""))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"with": "Trusted", "without": "Valid"}


def test_the_environment_file_is_the_fallback_and_set_trust_anchors_the_default(tmp_path, monkeypatch):
    data = _signed_jpeg()
    pem = tmp_path / "anchors.pem"
    pem.write_bytes(make_test_signer().ca_pem)
    monkeypatch.setenv("ARTLINEAGE_C2PA_TRUST_ANCHORS", str(pem))
    assert _claim_strength(inspect_bytes(data, readers=["c2pa"])) == pytest.approx(0.97)
    monkeypatch.delenv("ARTLINEAGE_C2PA_TRUST_ANCHORS")
    assert _claim_strength(inspect_bytes(data, readers=["c2pa"])) == pytest.approx(0.8)
    set_trust_anchors(make_test_signer().ca_pem)
    try:
        assert _claim_strength(inspect_bytes(data, readers=["c2pa"])) == pytest.approx(0.97)
    finally:
        set_trust_anchors(None)
