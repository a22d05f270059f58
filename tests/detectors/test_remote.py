"""The remote detection API adapter, against httpx.MockTransport behind the real SafeFetcher
(address pinning, redirects, size caps and deadlines all run; only the socket is replaced)."""

import io
import json
import time

import httpx
import numpy as np
import pytest
from PIL import Image

from artlineage import inspect_file
from artlineage.detectors import DetectorError, ModelCardError, load_detector
from artlineage.detectors.remote import RemoteDetector, _RateLimiter, field_at
from artlineage.detectors._card import card_from_dict


async def public_resolver(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]  # a public address: the mock transport answers, nothing is contacted


async def loopback_resolver(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def brightness_api(calls: list):
    """Answers {"result": {"ai_probability": mean brightness}} for a multipart upload."""

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.headers.get("authorization") != "Bearer sekret":
            return httpx.Response(401, json={"error": "no key"})
        body = request.content
        boundary = request.headers["content-type"].split("boundary=")[1].encode()
        part = body.split(b"--" + boundary)[1]
        image = Image.open(io.BytesIO(part.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n", 1)[0]))
        value = float(np.asarray(image.convert("L"), np.float64).mean() / 255)
        return httpx.Response(200, json={"result": {"ai_probability": value}})

    return handler


def _card(tmp_path, **extra):
    d = {"kind": "remote", "name": "acme", "version": "2026-10", "output": {"kind": "probability"},
         "evaluation": {"dataset": "acme's benchmark", "n_ai": 5000, "n_real": 5000, "threshold": 0.5,
                        "fpr": 0.03, "tpr": 0.9},
         "extra": {"url": "https://api.acme.test/v1/detect", "response_field": "result.ai_probability",
                   "key_env": "ACME_KEY", "rate_per_second": 50, **extra}}
    path = tmp_path / "acme.card.json"
    path.write_text(json.dumps(d))
    return path


def test_posts_the_image_reads_the_field_and_caches_by_sha256(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_KEY", "sekret")
    calls: list = []
    card = card_from_dict(json.loads(_card(tmp_path, cache="cache.sqlite").read_text()), tmp_path / "acme.card.json")
    det = RemoteDetector(card, transport=httpx.MockTransport(brightness_api(calls)), resolver=public_resolver)
    img = tmp_path / "white.png"
    Image.new("RGB", (8, 8), (255, 255, 255)).save(img)
    report = inspect_file(img, detectors=[det])
    [est] = [e for e in report.evidence if e.reader == "detector"]
    assert est.value == 1.0 and est.implies.value == "ai_generated" and len(calls) == 1
    assert "acme 2026-10" in est.note and "3.0% false positives on acme's benchmark" in est.note
    # Same bytes again, from a new detector sharing the SQLite cache: no second request.
    det2 = RemoteDetector(card, transport=httpx.MockTransport(brightness_api(calls)), resolver=public_resolver)
    inspect_file(img, detectors=[det2])
    assert len(calls) == 1 and det2.requests_sent == 0
    assert (tmp_path / "cache.sqlite").is_file()


def test_loopback_api_is_refused_unless_the_card_allows_it(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_KEY", "sekret")
    calls: list = []
    card = card_from_dict(json.loads(_card(tmp_path).read_text()))
    det = RemoteDetector(card, transport=httpx.MockTransport(brightness_api(calls)), resolver=loopback_resolver)
    with pytest.raises(DetectorError, match="refused"):
        det.raw_scores([Image.new("RGB", (8, 8))])
    assert calls == []
    allowed = card_from_dict(json.loads(_card(tmp_path, allow_private=True).read_text()))
    det = RemoteDetector(allowed, transport=httpx.MockTransport(brightness_api(calls)), resolver=loopback_resolver)
    assert det.raw_scores([Image.new("RGB", (8, 8))]) == [0.0]


@pytest.mark.parametrize("status, resent", [(307, True), (308, True), (303, False)])
def test_redirects_resend_the_body_only_where_http_says_so(tmp_path, monkeypatch, status, resent):
    monkeypatch.setenv("ACME_KEY", "sekret")
    seen: list = []

    def handler(request):
        seen.append((request.method, len(request.content)))
        if request.headers["host"] == "api.acme.test":  # the pinned transport sends to the IP, Host kept
            return httpx.Response(status, headers={"location": "https://eu.acme.test/v1/detect"})
        return httpx.Response(200, json={"result": {"ai_probability": 0.25}})

    card = card_from_dict(json.loads(_card(tmp_path).read_text()))
    det = RemoteDetector(card, transport=httpx.MockTransport(handler), resolver=public_resolver)
    assert det.raw_scores([Image.new("RGB", (8, 8))]) == [0.25]
    assert seen[0][0] == "POST" and seen[0][1] > 0
    assert seen[1] == (("POST", seen[0][1]) if resent else ("GET", 0))


@pytest.mark.parametrize("response, message", [
    (httpx.Response(200, json={"result": {}}), "no field 'result.ai_probability'"),
    (httpx.Response(200, json={"result": {"ai_probability": "high"}}), "not a finite number"),
    (httpx.Response(200, content=b"<html>oops</html>"), "not JSON"),
    (httpx.Response(503, json={}), "HTTP 503"),
    (httpx.Response(200, content=b"[" * 2_000_000), "exceeds"),
])
def test_bad_answers_are_detector_errors(tmp_path, monkeypatch, response, message):
    monkeypatch.setenv("ACME_KEY", "sekret")
    card = card_from_dict(json.loads(_card(tmp_path).read_text()))
    det = RemoteDetector(card, transport=httpx.MockTransport(lambda r: response), resolver=public_resolver)
    with pytest.raises(DetectorError, match=message):
        det.raw_scores([Image.new("RGB", (8, 8))])


def test_a_failing_api_is_a_warning_in_the_report_not_a_lost_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_KEY", "sekret")
    card = card_from_dict(json.loads(_card(tmp_path).read_text()))
    det = RemoteDetector(card, transport=httpx.MockTransport(lambda r: httpx.Response(500)), resolver=public_resolver)
    img = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(img)
    report = inspect_file(img, detectors=[det])
    assert report.error is None and report.origin.value == "unknown"
    assert any(w.startswith("detector acme 2026-10: DetectorError") for w in report.warnings)


def test_rate_limiter_spaces_request_starts():
    import asyncio

    now = [100.0]
    slept: list[float] = []

    async def fake_sleep(seconds):
        slept.append(round(seconds, 6))

    limiter = _RateLimiter(20, clock=lambda: now[0], sleep=fake_sleep)

    async def five():
        for _ in range(5):
            await limiter.wait()

    asyncio.run(five())
    assert slept == [0.05, 0.1, 0.15, 0.2]  # the clock stood still: each start waits one more slot
    now[0] += 10.0  # long idle: no burst credit is saved up beyond the next slot
    slept.clear()
    asyncio.run(five())
    assert slept == [0.05, 0.1, 0.15, 0.2]


def test_key_must_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("ACME_KEY", raising=False)
    with pytest.raises(ModelCardError, match=r"\$ACME_KEY"):
        load_detector(_card(tmp_path))


def test_field_paths_index_dicts_and_lists():
    doc = {"scores": [{"label": "ai", "value": 0.7}]}
    assert field_at(doc, "scores.0.value") == 0.7
    assert field_at(doc, "scores.-1.label") == "ai"
    with pytest.raises(DetectorError, match="stopped at '3'"):
        field_at(doc, "scores.3.value")


def remote_benchmark(blobs: list[bytes]) -> list[tuple[str, float]]:
    """Images/s through the adapter against an API answering at once: uncached, then cached."""
    import os

    os.environ.setdefault("ACME_KEY", "sekret")
    card = card_from_dict({"kind": "remote", "name": "bench", "output": {"kind": "probability"},
                           "extra": {"url": "https://api.acme.test/v1/detect", "response_field": "p",
                                     "key_env": "ACME_KEY", "rate_per_second": 1000, "concurrency": 8}})
    det = RemoteDetector(card, transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"p": 0.5})),
                         resolver=public_resolver)
    out = []
    for label in ("uncached", "cached"):
        t = time.perf_counter()
        for start in range(0, len(blobs), 16):
            det.raw_scores([Image.open(io.BytesIO(b)) for b in blobs[start:start + 16]])
        out.append((label, len(blobs) / (time.perf_counter() - t)))
    return out
