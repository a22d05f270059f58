"""End to end: thousands of rows over virtual hosts on a loopback server; kill and resume."""

import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests._webserver import LoopbackServer, loopback_resolver  # noqa: E402

from artlineage.pipelines.consent_filter import FilterConfig, ShardFailure, filter_manifest  # noqa: E402

N = 2400


@pytest.fixture(scope="module")
def server():
    with LoopbackServer() as s:
        s.route("robots.test", "/robots.txt", body="User-agent: GPTBot\nDisallow: /private/\n")
        s.route("tdm.test", "/.well-known/tdmrep.json",
                body='[{"location":"/img/*.jpg","tdm-reservation":1,"tdm-policy":"https://tdm.test/p"},'
                     '{"location":"/","tdm-reservation":0}]')
        s.route("ai.test", "/ai.txt", body="User-Agent: *\nDisallow: *.png\n")
        s.route("hdr.test", "/robots.txt", body="{{{{ not robots")
        s.route("*", "*", headers={"Content-Type": "image/jpeg"}, body=b"\xff\xd8")
        yield s


def _manifest(server, path):
    urls, expect = [], []
    for i in range(N):
        kind = i % 6
        host, p, excluded = [("robots.test", f"/private/{i}.jpg", True), ("robots.test", f"/ok/{i}.jpg", False),
                             ("tdm.test", f"/img/{i}.jpg", True), ("tdm.test", f"/doc/{i}.jpg", False),
                             ("ai.test", f"/a/{i}.png", True), ("hdr.test", f"/x/{i}.jpg", i % 12 == 5)][kind]
        urls.append(server.url(host, p))
        expect.append(excluded)
    pq.write_table(pa.table({"url": urls, "caption": [f"c{i}" for i in range(N)], "extra": list(range(N))}), path)
    return expect


def _cfg(**kw):
    return FilterConfig(allow_private=True, shard_size=300, fetch_options={"resolver": loopback_resolver}, **kw)


def test_filter_kill_and_resume_exact_accounting(server, tmp_path):
    expect = _manifest(server, tmp_path / "m.parquet")
    for i in range(0, N, 12):  # hdr.test rows with i % 12 == 5 carry X-Robots-Tag: noai
        server.route("hdr.test", f"/x/{i + 5}.jpg", headers={"X-Robots-Tag": "noai"})
    out = tmp_path / "out"
    with pytest.raises(ShardFailure):
        filter_manifest(tmp_path / "m.parquet", out, _cfg(fail_after_shards=3))
    assert len(list((out / "shards").glob("*.done"))) == 3
    hits_before = len(server.hits)
    summary = filter_manifest(tmp_path / "m.parquet", out, _cfg(workers=2))
    kept, excluded = pq.read_table(out / "kept.parquet"), pq.read_table(out / "excluded.parquet")
    ids = kept["_row_id"].to_pylist() + excluded["_row_id"].to_pylist()
    assert sorted(ids) == list(range(N)) and summary.kept + summary.excluded == N
    got = set(excluded["_row_id"].to_pylist())
    assert got == {i for i, x in enumerate(expect) if x}
    reasons = dict(zip(excluded["_row_id"].to_pylist(), excluded["reason"].to_pylist()))
    assert reasons[0] == "robots" and reasons[2] == "tdmrep" and reasons[4] == "ai.txt" and reasons[5] == "x-robots-tag"
    ev = json.loads(excluded.filter(pa.compute.equal(excluded["_row_id"], 2))["evidence"][0].as_py())
    assert any(e["data"].get("tdm_policy") == "https://tdm.test/p" for e in ev)
    assert "caption" in kept.column_names and "extra" in kept.column_names
    # robots.txt/tdmrep.json/ai.txt fetched once per host over both runs (the disk cache)
    site_hits = [h for h in server.hits if h[2] in ("/robots.txt", "/.well-known/tdmrep.json", "/ai.txt")]
    assert len(site_hits) == 4 * 3
    report = json.loads((out / "report.json").read_text())
    assert report["excluded"] == len(got) and (out / "report.html").read_text().count("<svg") + \
        (out / "report.html").read_text().count("<img") >= 2
    assert len(server.hits) > hits_before


def test_without_allow_private_loopback_rows_are_not_fetched(server, tmp_path):
    pq.write_table(pa.table({"url": [server.url("127.0.0.1", "/private/1.jpg")]}), tmp_path / "m.parquet")
    before = len(server.hits)
    s = filter_manifest(tmp_path / "m.parquet", tmp_path / "o", FilterConfig(shard_size=10))
    assert s.kept == 1 and len(server.hits) == before and s.signal_errors == 1
    row = pq.read_table(tmp_path / "o" / "kept.parquet").to_pylist()[0]
    assert "refused" in row["signal_errors"]


@pytest.mark.ray
def test_ray_backend(server, tmp_path):
    pytest.importorskip("ray")
    pq.write_table(pa.table({"url": [server.url("robots.test", f"/private/{i}.jpg") for i in range(20)]}),
                   tmp_path / "m.parquet")
    s = filter_manifest(tmp_path / "m.parquet", tmp_path / "o", _cfg(backend="ray", workers=1))
    assert s.excluded == 20


def test_site_files_only_and_cached_rerun_agree(server, tmp_path):
    """--no-head still honours tdmrep.json; a rerun from the cache gives the same rows without a request."""
    expect = _manifest(server, tmp_path / "m.parquet")
    first = filter_manifest(tmp_path / "m.parquet", tmp_path / "a", _cfg(head=False))
    again = filter_manifest(tmp_path / "m.parquet", tmp_path / "b",
                            _cfg(head=False, cache_path=str(tmp_path / "a" / "signals-cache.sqlite")))
    site_level = {i for i, x in enumerate(expect) if x and i % 6 != 5}  # X-Robots-Tag rows need HEAD
    for out in ("a", "b"):
        excluded = pq.read_table(tmp_path / out / "excluded.parquet")
        assert set(excluded["_row_id"].to_pylist()) == site_level
    assert first.requests == 4 * 3 and again.requests == 0
    rows = pq.read_table(tmp_path / "b" / "excluded.parquet").to_pylist()
    assert {r["reason"] for r in rows} == {"robots", "tdmrep", "ai.txt"}
    assert all(json.loads(r["evidence"]) for r in rows)


def test_report_charts_are_png_with_matplotlib_else_svg(tmp_path, monkeypatch):
    import base64
    import io
    import re

    from PIL import Image

    from artlineage.pipelines.consent_filter import FilterSummary, write_report

    summary = FilterSummary(input_rows=100, kept=70, excluded=30, excluded_by_reason={"robots": 20, "tdmrep": 10},
                            excluded_by_host={"a.test": 30}, rows_by_host={"a.test": 60, "b.test": 40})
    pytest.importorskip("matplotlib")
    write_report(tmp_path, summary)
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", (tmp_path / "report.html").read_text())
    assert len(pngs) == 2
    im = Image.open(io.BytesIO(base64.b64decode(pngs[0])))
    assert im.format == "PNG" and im.width >= 600 and im.height >= 150
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # not installed: inline SVG instead
    write_report(tmp_path, summary)
    page = (tmp_path / "report.html").read_text()
    assert page.count("<svg") == 2 and "robots" in page and "50.0%" in page


def test_malformed_urls_and_redirects_to_them_are_per_row_errors(server, tmp_path):
    server.route("redirect.test", "/to-octal.jpg", 302, {"Location": "http://0177.0.0.1/x.jpg"})
    server.route("redirect.test", "/to-bad-port.jpg", 302, {"Location": "http://redirect.test:99999/x.jpg"})
    urls = ["http://0177.0.0.1:9/x", "http://[::1]:99999/", "http://[::1/", "http:host/x", "",
            server.url("redirect.test", "/to-octal.jpg"), server.url("redirect.test", "/to-bad-port.jpg"),
            server.url("robots.test", "/ok/1.jpg")]
    pq.write_table(pa.table({"url": urls}), tmp_path / "m.parquet")
    summary = filter_manifest(tmp_path / "m.parquet", tmp_path / "o", _cfg())
    assert (summary.kept, summary.excluded) == (len(urls), 0)
    rows = pq.read_table(tmp_path / "o" / "kept.parquet").to_pylist()
    errors = {r["url"]: json.loads(r["signal_errors"]) if r["signal_errors"] else [] for r in rows}
    assert errors["http://0177.0.0.1:9/x"] == [
        "url: malformed URL 'http://0177.0.0.1:9/x': Invalid IPv4 address: '0177.0.0.1'"]
    assert errors["http://[::1]:99999/"] == ["url: malformed URL 'http://[::1]:99999/': port 99999 is out of range"]
    assert errors["http://[::1/"][0].startswith("url: malformed URL 'http://[::1/'")
    # (the catch-all route serves redirect.test a JPEG as tdmrep.json: that site file's own error comes first)
    assert errors[server.url("redirect.test", "/to-octal.jpg")][-1] == \
        "response: malformed URL 'http://0177.0.0.1/x.jpg': Invalid IPv4 address: '0177.0.0.1'"
    assert errors[server.url("redirect.test", "/to-bad-port.jpg")][-1] == \
        "response: malformed URL 'http://redirect.test:99999/x.jpg': port 99999 is out of range"
    assert errors["http:host/x"] == ["url: malformed URL 'http:host/x': no host"]
