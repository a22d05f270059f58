"""``artlineage filter --registry``: rows whose *image* is a copy of a registered work get that work's
terms — local files, WebDataset shards, and web rows whose image the filter downloads (--in-file)."""

import io
import json
import sys
import tarfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageOps
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests._webserver import LoopbackServer, loopback_resolver  # noqa: E402

from artlineage.interfaces.cli import app  # noqa: E402
from artlineage.matching import _local_features as lf  # noqa: E402
from artlineage.pipelines.consent_filter import FilterConfig, filter_manifest  # noqa: E402
from artlineage.pipelines.registry_consent import RegistryConsent  # noqa: E402
from artlineage.registry import Registry  # noqa: E402

data = pytest.importorskip("skimage.data", reason="scikit-image ships the real test photographs")
pytestmark = pytest.mark.skipif(not lf.available(), reason="OpenCV (extra 'copies') not installed")


def _photo(name):
    return Image.fromarray(getattr(data, name)()).convert("RGB")


def _jpeg(im, q=75):
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=q)
    return buf.getvalue()


def _copy_of_chelsea():   # a mirrored, off-centre 63 %-area crop, recompressed
    im = _photo("chelsea")
    w, h = im.size
    return _jpeg(ImageOps.mirror(im.crop((int(w * 0.3), 0, w, int(h * 0.9)))), 60)


@pytest.fixture()
def registry(tmp_path):
    works = tmp_path / "works"
    works.mkdir()
    for n in ("chelsea", "coffee"):
        _photo(n).save(works / f"{n}.png")
    db = tmp_path / "reg.sqlite"
    with Registry(db) as reg:
        reg.add_artist("Ann")
        reg.add_work_files("Ann", works)
        reg.set_terms("Ann", ai_training="not_allowed")
    return db


def _reasons(out):
    excluded = {Path(r.get("member") or r.get("path") or r["url"]).name: r
                for r in pq.read_table(out / "excluded.parquet").to_pylist()}
    kept = [Path(r.get("member") or r.get("path") or r["url"]).name for r in pq.read_table(out / "kept.parquet").to_pylist()]
    return excluded, sorted(kept)


def test_local_folder_copies_get_the_works_terms(registry, tmp_path):
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "copy.jpg").write_bytes(_copy_of_chelsea())
    (folder / "other.jpg").write_bytes(_jpeg(_photo("astronaut")))
    (folder / "broken.jpg").write_bytes(_copy_of_chelsea()[:400])
    res = CliRunner().invoke(app, ["filter", str(folder), "--out", str(tmp_path / "out"), "--registry", str(registry),
                                   "--json"])
    assert res.exit_code == 0, res.output
    excluded, kept = _reasons(tmp_path / "out")
    assert set(excluded) == {"copy.jpg"} and kept == ["broken.jpg", "other.jpg"]
    row = excluded["copy.jpg"]
    assert row["reason"] == "registry" and "ai_training: not_allowed" in row["rule"]
    ev = [e for e in json.loads(row["evidence"]) if e["reader"] == "registry"]
    assert ev and "image copy (orb+ransac" in json.dumps(ev) and "mirrored" in json.dumps(ev)
    res = CliRunner().invoke(app, ["filter", str(folder), "--out", str(tmp_path / "out2"), "--registry",
                                   str(registry), "--no-registry-images", "--json"])
    assert res.exit_code == 0 and not pq.read_table(tmp_path / "out2" / "excluded.parquet").num_rows


def test_webdataset_shards_copies(registry, tmp_path):
    shards = tmp_path / "shards"
    shards.mkdir()
    with tarfile.open(shards / "00000.tar", "w") as tar:
        for name, payload in (("a.jpg", _copy_of_chelsea()), ("a.json", b"{}"), ("b.jpg", _jpeg(_photo("rocket")))):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    res = CliRunner().invoke(app, ["filter", str(shards), "--out", str(tmp_path / "out"), "--registry", str(registry),
                                   "--json"])
    assert res.exit_code == 0, res.output
    excluded, kept = _reasons(tmp_path / "out")
    assert set(excluded) == {"a.jpg"} and kept == ["b.jpg"]


def test_web_rows_with_in_file(registry, tmp_path):
    with LoopbackServer() as s:
        s.route("img.test", "/copy.jpg", headers={"Content-Type": "image/jpeg"}, body=_copy_of_chelsea())
        s.route("img.test", "/other.jpg", headers={"Content-Type": "image/jpeg"}, body=_jpeg(_photo("rocket")))
        urls = [s.url("img.test", "/copy.jpg"), s.url("img.test", "/other.jpg")]
        pq.write_table(pa.table({"url": urls}), tmp_path / "m.parquet")
        cfg = FilterConfig(allow_private=True, in_file=True, fetch_options={"resolver": loopback_resolver},
                           registry_terms=RegistryConsent(registry))
        summary = filter_manifest(tmp_path / "m.parquet", tmp_path / "out", cfg)
    assert summary.excluded == 1 and summary.excluded_by_reason == {"registry": 1}
    excluded, kept = _reasons(tmp_path / "out")
    assert set(excluded) == {"copy.jpg"} and kept == ["other.jpg"]
