import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from artlineage.interfaces.cli import app

GALLERY = Path(__file__).resolve().parents[2] / "examples" / "gallery"
EXPECTED = {
    "a1111_txt2img.png": ("ai_generated", "a1111"),
    "comfyui.png": ("ai_generated", "comfyui"),
    "novelai_stealth_only.png": ("ai_generated", None),
    "iptc_trained_algorithmic.jpg": ("ai_generated", "xmp"),
    "iptc_composite_with_ai.png": ("ai_edited", "xmp"),
    "camera_photo.jpg": ("camera", "exif"),
    "human_digital_art.png": ("human_declared", "xmp"),
    "c2pa_signed_ai.jpg": ("ai_generated", "c2pa"),
    "sd_invisible_watermark.png": ("ai_generated", "watermark"),
    "no_metadata.webp": ("unknown", None),
}
runner = CliRunner()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_inspect_json_gives_origin_with_evidence(name):
    origin, reader = EXPECTED[name]
    result = runner.invoke(app, ["inspect", "--json", str(GALLERY / name)])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)
    assert report["error"] is None
    assert report["verdict"]["origin"] == origin
    if reader:
        assert any(e["reader"] == reader and e["implies"] == origin for e in report["verdict"]["evidence"])
    if origin == "unknown":
        assert report["verdict"]["evidence"] == []


def test_inspect_human_readable_shows_evidence_and_parameters():
    result = runner.invoke(app, ["inspect", str(GALLERY / "a1111_txt2img.png")])
    assert result.exit_code == 0
    assert "ai_generated" in result.output and "AUTOMATIC1111" in result.output
    assert "PNG tEXt 'parameters'" in result.output
    assert "1234567890" in result.output  # the parsed seed


def test_inspect_reports_corrupt_file_and_fails_when_all_fail():
    result = runner.invoke(app, ["inspect", str(GALLERY / "corrupt_truncated.jpg")])
    assert result.exit_code == 1
    assert "error" in result.output


def test_scan_summary_counts_by_origin_and_generator(tmp_path):
    db = tmp_path / "g.sqlite"
    result = runner.invoke(app, ["scan", str(GALLERY), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["scanned"] == len(list(GALLERY.iterdir()))
    assert summary["by_origin"]["ai_generated"] == sum(1 for o, _ in EXPECTED.values() if o == "ai_generated")
    assert summary["by_origin"]["camera"] == 1
    assert summary["error_rows"] == 1
    assert summary["by_generator"]["AUTOMATIC1111"] == 1
    again = json.loads(runner.invoke(app, ["scan", str(GALLERY), "--db", str(db), "--json"]).output)
    assert again["scanned"] == 0 and again["skipped_unchanged"] == summary["scanned"]


def test_metadata_only_scan_skips_pixel_readers(tmp_path):
    result = runner.invoke(app, ["inspect", "--json", "--no-pixels", str(GALLERY / "sd_invisible_watermark.png")])
    (report,) = json.loads(result.output)
    assert report["verdict"]["origin"] == "unknown"


def test_readers_lists_the_registry():
    result = runner.invoke(app, ["readers"])
    for name in ("c2pa", "xmp", "exif", "a1111", "watermark"):
        assert name in result.output


def test_inspect_reports_every_file_when_one_has_a_corrupt_ztxt_chunk(tmp_path):
    import io
    import struct
    import zlib

    from PIL import Image

    def png(extra: bytes = b"") -> bytes:
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), "white").save(buf, "PNG")
        data = buf.getvalue()
        iend = data.rindex(b"IEND") - 4
        return data[:iend] + extra + data[iend:]

    body = b"parameters\x00\x00this is not zlib"
    bad = struct.pack(">I", len(body)) + b"zTXt" + body + struct.pack(">I", zlib.crc32(b"zTXt" + body))
    paths = [tmp_path / "a.png", tmp_path / "bad.png", tmp_path / "c.png"]
    for path, data in zip(paths, [png(), png(bad), png()]):
        path.write_bytes(data)
    result = runner.invoke(app, ["inspect", "--json", *map(str, paths)])
    assert result.exit_code == 0, result.output
    reports = json.loads(result.output)
    assert [Path(r["path"]).name for r in reports] == ["a.png", "bad.png", "c.png"]
    assert all(r["error"] is None and r["verdict"]["origin"] == "unknown" for r in reports)
    assert any("unreadable PNG zTXt chunk" in w for w in reports[1]["warnings"])


@pytest.mark.parametrize("url, reason", [
    ("http://[::1/x", "malformed URL 'http://[::1/x'"),
    ("http://0177.0.0.1:9/x", "malformed URL 'http://0177.0.0.1:9/x': Invalid IPv4 address: '0177.0.0.1'"),
    ("http:host/x", "malformed URL 'http:host/x': no host"),
    ("", "malformed URL '': no host"),
])
def test_optout_of_a_malformed_url_is_a_clean_error(url, reason):
    result = runner.invoke(app, ["optout", url])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit) and result.exception.code == 2  # a clean exit, no crash
    assert f"error: {reason}" in result.output and "Traceback" not in result.output
