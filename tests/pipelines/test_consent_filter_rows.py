"""The in-memory, row-by-row filter: a generator of rows in, one decision per row out, in order."""

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests._webserver import LoopbackServer, loopback_resolver  # noqa: E402

from artlineage.pipelines.consent_filter import FilterConfig, RowDecision, filter_manifest, filter_rows  # noqa: E402


@pytest.fixture(scope="module")
def server():
    with LoopbackServer() as s:
        s.route("robots.test", "/robots.txt", body="User-agent: GPTBot\nDisallow: /private/\n")
        for i in range(0, 30, 3):
            s.route("hdr.test", f"/noai/{i}.jpg", headers={"Content-Type": "image/jpeg", "X-Robots-Tag": "noai"})
        s.route("*", "*", headers={"Content-Type": "image/jpeg"}, body=b"\xff\xd8")
        yield s


def _cfg(**kw):
    return FilterConfig(allow_private=True, in_file=False, fetch_options={"resolver": loopback_resolver}, **kw)


def _rows(server, n):
    for i in range(n):
        host, path = ("hdr.test", f"/noai/{i}.jpg") if i % 3 == 0 else (
            "robots.test", f"/private/{i}.jpg" if i % 2 else f"/ok/{i}.jpg")
        yield {"id": i, "url": server.url(host, path)}


def test_rows_in_decisions_out_in_order_and_the_same_as_the_file_pipeline(server, tmp_path):
    got = list(filter_rows(_rows(server, 30), _cfg(), batch_size=7))
    assert [d.row["id"] for d in got] == list(range(30))
    assert all(isinstance(d, RowDecision) for d in got)
    # Row 0 mod 3 is the noai header; otherwise odd i is /private/ (robots.txt Disallow for GPTBot).
    expected = [i % 3 == 0 or i % 2 == 1 for i in range(30)]
    assert [d.excluded for d in got] == expected
    assert {d.reason for d in got if d.excluded} == {"robots", "x-robots-tag"}
    first = got[0]
    assert (first.decision, first.reason, first.uses) == (
        "reserved", "x-robots-tag", {"training": "reserved", "generative_training": "reserved",
                                     "data_mining": "reserved"})
    assert [(e.reader, e.value) for e in first.evidence] == [("x-robots-tag", "noai")]
    kept = got[4]  # /ok/4.jpg on robots.test: nothing reserved, nothing allowed
    assert (kept.excluded, kept.decision, kept.reason, kept.uses["training"]) == (False, "unknown", None, "unknown")
    assert kept.to_dict()["row"] == {"id": 4, "url": kept.row["url"]}

    pq.write_table(pa.table({"id": [r["id"] for r in _rows(server, 30)],
                             "url": [r["url"] for r in _rows(server, 30)]}), tmp_path / "m.parquet")
    filter_manifest(tmp_path / "m.parquet", tmp_path / "out", _cfg(shard_size=9))
    excluded_ids = sorted(pq.read_table(tmp_path / "out" / "excluded.parquet")["id"].to_pylist())
    assert excluded_ids == [d.row["id"] for d in got if d.excluded]


def test_rows_are_consumed_lazily_batch_by_batch(server):
    pulled = []

    def source():
        for row in _rows(server, 10):
            pulled.append(row["id"])
            yield row

    decisions = filter_rows(source(), _cfg(), batch_size=4)
    first = next(decisions)
    assert (first.row["id"], pulled) == (0, [0, 1, 2, 3])
    assert [d.row["id"] for d in decisions] == list(range(1, 10))
    assert pulled == list(range(10))


def test_local_rows_without_url_are_decided_too():
    got = list(filter_rows([{"path": "/nonexistent/a.png"}], FilterConfig(in_file=False)))
    assert [(d.excluded, d.decision, d.errors) for d in got] == [(False, "unknown", ())]


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="batch_size"):
        next(filter_rows([{"url": None}], batch_size=0))
