"""``artlineage audit`` end to end on code-built img2dataset shards: exact outcomes per image,
cross-shard duplicates, kill-and-resume accounting, Parquet with bytes, loopback S3 and the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests._moto import moto_s3  # noqa: E402
from tests.pipelines._dataset import build, write_parquet, write_webdataset  # noqa: E402

from artlineage.datasets.filesystems import open_location  # noqa: E402
from artlineage.pipelines.dataset_audit import AuditConfig, run_audit, iter_kept  # noqa: E402


def _cfg(tmp_path: Path, **kw) -> AuditConfig:
    return AuditConfig(web=False, cache_path=str(tmp_path / "cache.sqlite"), dedup_partitions=4, **kw)


def _expected(ds):
    kept = {s.key for s in ds.samples if s.expect == "kept"}
    excluded = {s.key: s.expect for s in ds.samples if s.expect != "kept"}
    return kept, excluded


def _outputs(out: str, options=None):
    kept = {key: fields for key, fields in iter_kept(out, options)}
    loc = open_location(out, options)
    rows = []
    for f in loc.child("excluded").list((".parquet",)):
        with f.open("rb") as fh:
            rows += pq.read_table(fh).to_pylist()
    return kept, rows


def _check(ds, kept, excluded_rows):
    want_kept, want_excluded = _expected(ds)
    assert set(kept) == want_kept
    reasons = {r["key"]: r["reason"] for r in excluded_rows}
    assert len(excluded_rows) == len(reasons)  # each excluded image once
    assert {k: ("consent" if v.startswith("consent:") else v) for k, v in reasons.items()} == want_excluded
    assert all(v in ("consent:xmp", "unreadable") for v in reasons.values())
    by_key = {s.key: s for s in ds.samples}
    for key, fields in kept.items():
        record = json.loads(fields["artlineage.json"])
        assert record["provenance"]["origin"] == by_key[key].origin
        assert fields[by_key[key].ext] == by_key[key].data  # the image bytes travel untouched
        assert json.loads(fields["json"])["caption"] == by_key[key].caption
        assert fields["txt"].decode() == by_key[key].caption
        assert record["consent"]["decision"] in ("unknown", "allowed")
        assert record["sha256"] and record["phash64"]
    consent_row = next(r for r in excluded_rows if r["reason"] == "consent:xmp")
    evidence = json.loads(consent_row["evidence"])
    assert any(e["reader"] == "xmp" and "DMI-PROHIBITED" in str(e["value"]) for e in evidence)


def test_webdataset_audit_exact_outcomes_and_cross_shard_duplicate(tmp_path):
    ds = build(3, 8)
    write_webdataset(ds, tmp_path / "in")
    s = run_audit(str(tmp_path / "in"), str(tmp_path / "out"), _cfg(tmp_path, embeddings=True))
    kept, excluded = _outputs(str(tmp_path / "out"))
    _check(ds, kept, excluded)
    assert (s.input_rows, s.kept, s.excluded, s.shards) == (24, 16, 8, 3)
    assert s.by_origin == {"unknown": 16, "ai_generated": 6, "error": 2}
    # the copy of shard 0's first image in shard 2 is found by the global step
    dup = pq.read_table(tmp_path / "out" / "duplicates.parquet").to_pylist()
    assert {(r["shard"], r["key"], r["is_canonical"]) for r in dup} == {(0, "000000000", True), (2, "000020007", False)}
    assert s.duplicates["cross_shard_clusters"] == 1 and s.duplicates["redundant_files"] == 1
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["health"]["provenance"]["by_origin"] == {"ai_generated": 6, "unknown": 16}
    assert report["health"]["duplicates"]["clusters"] == 1 and report["health"]["diversity"]["overall"]["n"] == 22
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Near duplicates" in html and "Provenance" in html and "24 rows: 16 kept, 8 excluded" in html


def test_parquet_with_image_bytes_on_two_workers_matches_webdataset(tmp_path):
    ds = build(3, 8)
    write_parquet(ds, tmp_path / "in")
    s = run_audit(str(tmp_path / "in"), str(tmp_path / "out"), _cfg(tmp_path, workers=2))
    kept, excluded = _outputs(str(tmp_path / "out"))
    _check(ds, kept, excluded)
    assert json.loads(kept["000010001"]["json"])["status"] == "success"  # the row's columns as the .json sidecar
    assert len({json.loads((tmp_path / "out" / "done" / f"{i:06d}.json").read_text())["pid"] for i in range(3)}) >= 1
    assert s.duplicates["cross_shard_clusters"] == 1


def test_folder_of_images_is_cut_into_shards(tmp_path):
    ds = build(1, 8)
    (tmp_path / "in" / "sub").mkdir(parents=True)
    for n, smp in enumerate(ds.samples):
        (tmp_path / "in" / ("sub" if n % 2 else "") / f"{smp.key}.{smp.ext}").write_bytes(smp.data)
    s = run_audit(str(tmp_path / "in"), str(tmp_path / "out"), _cfg(tmp_path, shard_size=3))
    assert (s.shards, s.input_rows, s.kept) == (3, 8, 6)
    kept, _ = _outputs(str(tmp_path / "out"))
    assert "sub/000000001" in kept and "000000000" in kept


def test_killed_run_resumes_without_losing_or_repeating_a_shard(tmp_path):
    ds = build(6, 8, seed0=100)
    write_webdataset(ds, tmp_path / "in")
    out = tmp_path / "out"
    script = (f"import sys; sys.path.insert(0, {str(ROOT / 'src')!r})\n"
              "from artlineage.pipelines.dataset_audit import AuditConfig, run_audit\n"
              f"run_audit({str(tmp_path / 'in')!r}, {str(out)!r}, AuditConfig(web=False, dedup_partitions=4, "
              f"cache_path={str(tmp_path / 'c.sqlite')!r}))\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list((out / "done").glob("*.json"))) < 2:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # mid-run: shards 3..6 not done, one of them maybe half-written
    finally:
        proc.wait(timeout=30)
    done_before = len(list((out / "done").glob("*.json")))
    assert 2 <= done_before < 6
    s = run_audit(str(tmp_path / "in"), str(out), _cfg(tmp_path))
    assert s.shards_resumed == done_before and s.shards_run == 6 - done_before and s.shards == 6
    kept, excluded = _outputs(str(out))
    _check(ds, kept, excluded)
    assert s.input_rows == 48 and s.kept + s.excluded == 48
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]  # the killed run's half files are gone


def test_rerun_with_different_input_is_refused(tmp_path):
    ds = build(2, 4)
    write_webdataset(ds, tmp_path / "in")
    run_audit(str(tmp_path / "in"), str(tmp_path / "out"), _cfg(tmp_path))
    write_webdataset(build(3, 4), tmp_path / "in")
    from artlineage.errors import PipelineError

    with pytest.raises(PipelineError, match="different input"):
        run_audit(str(tmp_path / "in"), str(tmp_path / "out"), _cfg(tmp_path))


def test_s3_to_s3_through_a_loopback_s3_server(tmp_path):
    ds = build(3, 8)
    local = write_webdataset(ds, tmp_path / "in")
    with moto_s3() as options:
        import s3fs

        fs = s3fs.S3FileSystem(**options)
        for p in local:
            fs.put_file(str(p), f"datasets/laion/{p.name}")
        s = run_audit("s3://datasets/laion", "s3://datasets/audited", _cfg(tmp_path, workers=2, storage_options=options))
        kept, excluded = _outputs("s3://datasets/audited", options)
        names = sorted(fs.ls("datasets/audited/shards"))
        report = json.loads(fs.cat_file("datasets/audited/report.json"))
    _check(ds, kept, excluded)
    assert names == [f"datasets/audited/shards/{i:06d}.tar" for i in range(3)]
    assert s.duplicates["cross_shard_clusters"] == 1 and report["audit"]["kept"] == 16


def test_web_opt_out_excludes_a_url_row(tmp_path):
    from tests._webserver import LoopbackServer, loopback_resolver

    ds = build(1, 4)
    with LoopbackServer() as server:
        server.route("optout.test", "/robots.txt", body="User-agent: GPTBot\nDisallow: /\n")
        server.route("*", "*", headers={"Content-Type": "image/jpeg"}, body=b"\xff\xd8")
        ds.samples[0].url = server.url("optout.test", "/a.jpg")
        ds.samples[3].url = server.url("fine.test", "/b.jpg")
        write_webdataset(ds, tmp_path / "in")
        cfg = AuditConfig(allow_private=True, cache_path=str(tmp_path / "cache.sqlite"),
                          fetch_options={"resolver": loopback_resolver}, dedup=False)
        s = run_audit(str(tmp_path / "in"), str(tmp_path / "out"), cfg)
    kept, excluded = _outputs(str(tmp_path / "out"))
    reasons = {r["key"]: r["reason"] for r in excluded}
    assert reasons == {"000000000": "consent:robots", "000000002": "consent:xmp"}
    assert s.excluded_by_reason == {"consent:robots": 1, "consent:xmp": 1}
    assert set(kept) == {"000000001", "000000003"}


def test_cli_audit(tmp_path):
    from typer.testing import CliRunner

    from artlineage.interfaces.cli import app

    ds = build(2, 4)
    write_webdataset(ds, tmp_path / "in")
    r = CliRunner().invoke(app, ["audit", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--no-web",
                                 "--cache", str(tmp_path / "c.sqlite"), "--exclude-origin", "ai_generated", "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report["audit"]["excluded_by_reason"] == {"consent:xmp": 2, "provenance:ai_generated": 2}
    assert report["audit"]["kept"] == 4 and report["audit"]["input_rows"] == 8


def test_registered_work_found_through_a_mirrored_crop_brings_its_terms(tmp_path):
    """The registry's copy detector runs on the audit's one decode: a mirrored 80 % crop of a
    registered photograph is found, and the artist's terms (no AI training) exclude it."""
    data = pytest.importorskip("skimage.data", reason="scikit-image ships the real test photographs")
    import io

    from PIL import Image, ImageOps

    from artlineage.registry import Registry
    from tests.pipelines._dataset import Sample

    photo = Image.fromarray(data.chelsea()).convert("RGB")
    (tmp_path / "works").mkdir()
    photo.save(tmp_path / "works" / "chelsea.png")
    db = tmp_path / "reg.sqlite"
    with Registry(db) as reg:
        artist = reg.add_artist("Ada Refuser")
        reg.set_terms(artist.id, ai_training="not_allowed")
        reg.add_work_files("Ada Refuser", tmp_path / "works")
    w, h = photo.size
    crop = ImageOps.mirror(photo.crop((int(w * 0.1), int(h * 0.1), int(w * 0.9), int(h * 0.9))))
    buf = io.BytesIO()
    crop.save(buf, "JPEG", quality=85)
    ds = build(1, 4)
    ds.shards[0][3] = Sample("000000003", "jpg", buf.getvalue(), "file-only://3", "a cat", "registry", "unknown")
    write_webdataset(ds, tmp_path / "in")
    s = run_audit(str(tmp_path / "in"), str(tmp_path / "out"), _cfg(tmp_path, registry=str(db)))
    kept, excluded = _outputs(str(tmp_path / "out"))
    reasons = {r["key"]: r for r in excluded}
    assert set(reasons) == {"000000002", "000000003"} and set(kept) == {"000000000", "000000001"}
    row = reasons["000000003"]
    assert row["reason"] == "consent:registry" and "ai_training: not_allowed" in row["rule"]
    (match,) = json.loads(row["registry_matches"])
    assert (match["title"], match["artist"], match["mirrored"]) == ("chelsea", "Ada Refuser", True)
    assert s.excluded_by_reason == {"consent:xmp": 1, "consent:registry": 1}
    assert all(json.loads(f["artlineage.json"])["registry_matches"] == [] for f in kept.values())


def test_url_manifest_gives_a_filtered_manifest(tmp_path):
    """Parquet with only URLs (what img2dataset downloads from): web opt-outs decide, and the kept
    rows come out as Parquet with their own columns, ready for img2dataset."""
    import pyarrow as pa

    from tests._webserver import LoopbackServer, loopback_resolver

    with LoopbackServer() as server:
        server.route("optout.test", "/ai.txt", body="User-Agent: *\nDisallow: /\n")
        server.route("*", "*", headers={"Content-Type": "image/jpeg"}, body=b"\xff\xd8")
        urls = [server.url("optout.test", f"/{i}.jpg") for i in range(3)] + \
            [server.url("fine.test", f"/{i}.jpg") for i in range(2)]
        (tmp_path / "in").mkdir()
        pq.write_table(pa.table({"url": urls, "caption": list("abcde"), "width": [1, 2, 3, 4, 5]}),
                       tmp_path / "in" / "part-0.parquet")
        cfg = AuditConfig(allow_private=True, cache_path=str(tmp_path / "cache.sqlite"),
                          fetch_options={"resolver": loopback_resolver})
        s = run_audit(str(tmp_path / "in"), str(tmp_path / "out"), cfg)
    kept = pq.read_table(tmp_path / "out" / "kept" / "000000.parquet").to_pylist()
    assert [(r["url"], r["caption"], r["width"]) for r in kept] == [(urls[3], "d", 4), (urls[4], "e", 5)]
    assert s.excluded_by_reason == {"consent:ai.txt": 3} and s.by_origin == {"not_read": 5}
    assert not (tmp_path / "out" / "shards").exists() or not list((tmp_path / "out" / "shards").iterdir())


@pytest.mark.parametrize("bad", [{"workers": 0}, {"backend": "spark"}, {"dedup_max_distance": 64},
                                 {"dedup_partitions": 0}, {"registry": "r.sqlite", "hashes": False}])
def test_bad_settings_are_refused_up_front(bad):
    from artlineage.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        AuditConfig(**bad)
