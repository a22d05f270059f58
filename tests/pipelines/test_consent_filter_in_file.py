"""``--in-file``: consent written inside the images (IPTC plus:DataMining XMP, C2PA training-mining),
read from images served by the loopback server and from a folder manifest."""

import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests._webserver import LoopbackServer, loopback_resolver  # noqa: E402
from tests.signals._c2pa_fixtures import (created_action, manifest_with_actions, plain_image,  # noqa: E402
                                          sign_image, training_mining)
from tests.signals._xmp_fixtures import data_mining_packet, jpeg_with_xmp  # noqa: E402

from artlineage.pipelines.consent_filter import FilterConfig, filter_manifest  # noqa: E402
from artlineage.interfaces.cli import app  # noqa: E402


@pytest.fixture(scope="module")
def images():
    c2pa_reserved = sign_image(plain_image("JPEG"), "JPEG", manifest_with_actions(
        created_action("digitalCapture"), extra_assertions=[training_mining(ai_training="notAllowed")]))
    return {"xmp-prohibited.jpg": jpeg_with_xmp(data_mining_packet("DMI-PROHIBITED-AIMLTRAINING")),
            "xmp-allowed.jpg": jpeg_with_xmp(data_mining_packet("DMI-ALLOWED")),
            "c2pa-not-allowed.jpg": c2pa_reserved,
            "plain.jpg": plain_image("JPEG")}


def _excluded_by_name(out: Path, name_col: str) -> dict[str, dict]:
    rows = pq.read_table(out / "excluded.parquet").to_pylist()
    return {Path(r[name_col]).name: r for r in rows}


def _assert_in_file_outcome(out: Path, name_col: str) -> None:
    excluded = _excluded_by_name(out, name_col)
    assert set(excluded) == {"xmp-prohibited.jpg", "c2pa-not-allowed.jpg"}
    xmp = excluded["xmp-prohibited.jpg"]
    assert xmp["reason"] == "xmp" and "DMI-PROHIBITED-AIMLTRAINING" in xmp["rule"]
    assert json.loads(xmp["consent"]) == {"training": "reserved", "generative_training": "reserved",
                                          "data_mining": "unknown"}
    c2pa = excluded["c2pa-not-allowed.jpg"]
    assert c2pa["reason"] == "c2pa" and "training" in c2pa["rule"]
    assert any(e["reader"] == "c2pa" and e["implies"] == "consent_reserved" for e in json.loads(c2pa["evidence"]))
    kept = {Path(r[name_col]).name: r["consent"] for r in pq.read_table(out / "kept.parquet").to_pylist()}
    assert kept == {"xmp-allowed.jpg": "allowed", "plain.jpg": "unknown"}


def test_in_file_signals_of_served_images(images, tmp_path):
    with LoopbackServer() as s:
        for name, data in images.items():
            s.route("img.test", f"/{name}", headers={"Content-Type": "image/jpeg"}, body=data)
        pq.write_table(pa.table({"url": [s.url("img.test", f"/{n}") for n in images]}), tmp_path / "m.parquet")
        cfg = FilterConfig(allow_private=True, in_file=True, fetch_options={"resolver": loopback_resolver})
        summary = filter_manifest(tmp_path / "m.parquet", tmp_path / "out", cfg)
        assert sum(1 for m, _h, p in s.hits if m == "GET" and p.endswith(".jpg")) == len(images)
    assert summary.excluded == 2 and summary.excluded_by_reason == {"xmp": 1, "c2pa": 1}
    _assert_in_file_outcome(tmp_path / "out", "url")
    # Without --in-file the same manifest keeps everything: the opt-outs live only in the bytes.
    with LoopbackServer() as s:
        for name, data in images.items():
            s.route("img.test", f"/{name}", headers={"Content-Type": "image/jpeg"}, body=data)
        pq.write_table(pa.table({"url": [s.url("img.test", f"/{n}") for n in images]}), tmp_path / "m2.parquet")
        plain = filter_manifest(tmp_path / "m2.parquet", tmp_path / "out2",
                                FilterConfig(allow_private=True, fetch_options={"resolver": loopback_resolver}))
    assert plain.excluded == 0


def test_in_file_signals_from_a_folder_via_cli(images, tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for name, data in images.items():
        (folder / name).write_bytes(data)
    result = CliRunner().invoke(app, ["filter", str(folder), "--out", str(tmp_path / "out"), "--in-file", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["excluded"] == 2
    _assert_in_file_outcome(tmp_path / "out", "path")


def test_local_files_are_read_by_default_and_not_with_no_in_file(images, tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for name, data in images.items():
        (folder / name).write_bytes(data)
    default = CliRunner().invoke(app, ["filter", str(folder), "--out", str(tmp_path / "out"), "--json"])
    assert default.exit_code == 0, default.output
    assert json.loads(default.output)["excluded"] == 2
    _assert_in_file_outcome(tmp_path / "out", "path")
    off = CliRunner().invoke(app, ["filter", str(folder), "--out", str(tmp_path / "off"), "--no-in-file", "--json"])
    assert json.loads(off.output)["excluded"] == 0


def test_health_lands_in_the_same_audit_report(images, tmp_path):
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    for name in ("xmp-prohibited.jpg", "c2pa-not-allowed.jpg"):
        (folder / name).write_bytes(images[name])
    base = Image.effect_noise((96, 96), 60).convert("RGB")
    base.save(folder / "kept_a.png")
    base.resize((80, 80)).save(folder / "kept_a_small.png")  # a near duplicate of kept_a
    result = CliRunner().invoke(app, ["filter", str(folder), "--out", str(tmp_path / "out"), "--health", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["excluded"] == 2 and report["kept"] == 2
    health = report["health"]
    assert health["not_measured_rows"] == 0
    assert health["provenance"]["total"] == 2
    assert health["duplicates"]["redundant_files"] == 1
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Consent filter report" in page and "Dataset health of the kept rows" in page
