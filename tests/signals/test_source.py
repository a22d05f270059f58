"""Container parsing: what every reader sees, and how hostile files are refused."""

import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from artlineage import inspect_bytes
from artlineage.signals import SourceOptions, UnreadableImageError, open_source


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def png_bytes(text: dict[str, str] | None = None, size=(32, 16), mode="RGB") -> bytes:
    info = PngImagePlugin.PngInfo()
    for k, v in (text or {}).items():
        info.add_text(k, v)
    buf = io.BytesIO()
    Image.new(mode, size, "white").save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def test_png_text_chunks_of_all_three_kinds():
    info = PngImagePlugin.PngInfo()
    info.add_text("plain", "latin text")
    info.add_text("zipped", "z" * 500, zip=True)
    info.add_itxt("intl", "ünïcødé", zip=True)
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, "PNG", pnginfo=info)
    src = open_source(data=buf.getvalue())
    assert (src.format, src.width, src.height) == ("PNG", 4, 4)
    assert src.text("plain").text == "latin text"
    assert src.text("zipped").text == "z" * 500 and src.text("zipped").location == "PNG zTXt 'zipped'"
    assert src.text("intl").text == "ünïcødé"


def test_text_after_idat_is_read_without_decoding_pixels():
    data = png_bytes()
    iend = data.rindex(b"IEND") - 4
    late = png_chunk(b"tEXt", b"parameters\x00late chunk")
    src = open_source(data=data[:iend] + late + data[iend:])
    assert src.text("parameters").text == "late chunk"


def test_zero_bytes_and_non_images_are_clear_errors():
    assert inspect_bytes(b"").error == "empty file (0 bytes)"
    report = inspect_bytes(b"%PDF-1.7 not an image")
    assert report.error.startswith("not an image in a recognised format")
    assert report.verdict is None


def test_png_decompression_bomb_is_refused_from_its_header():
    ihdr = struct.pack(">IIBBBBB", 200_000, 200_000, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 100)) \
        + png_chunk(b"IEND", b"")
    report = inspect_bytes(data)
    assert report.error and "decompression bomb" in report.error and "200000x200000" in report.error


def test_giant_text_chunk_is_skipped_with_a_warning():
    data = png_bytes()
    iend = data.rindex(b"IEND") - 4
    big = png_chunk(b"tEXt", b"parameters\x00" + b"a" * (9 * 1024 * 1024))
    report = inspect_bytes(data[:iend] + big + data[iend:])  # its time: benchmarks/bench_hostile_inputs.py
    assert report.error is None
    assert any("tEXt chunk of" in w and "skipped" in w for w in report.warnings)


def test_ztxt_that_inflates_past_the_limit_is_refused():
    data = png_bytes()
    iend = data.rindex(b"IEND") - 4
    bomb = png_chunk(b"zTXt", b"parameters\x00\x00" + zlib.compress(b"a" * (64 * 1024 * 1024), 9))
    src = open_source(data=data[:iend] + bomb + data[iend:], options=SourceOptions(max_text_bytes=1024 * 1024))
    assert src.text("parameters") is None
    assert any("inflates beyond" in w for w in src.warnings)


def test_truncated_png_keeps_what_was_read():
    data = png_bytes({"Description": "kept"})
    src = open_source(data=data[: len(data) - 20])
    assert src.text("Description").text == "kept"
    assert any(w.startswith("truncated PNG") for w in src.warnings)


def test_png_without_ihdr_is_corrupt():
    with pytest.raises(UnreadableImageError, match="no IHDR"):
        open_source(data=b"\x89PNG\r\n\x1a\n" + png_chunk(b"IEND", b""))


def test_truncated_jpeg_header_is_an_error_and_truncated_pixels_a_pixel_error():
    buf = io.BytesIO()
    Image.effect_noise((256, 256), 64).convert("RGB").save(buf, "JPEG")
    data = buf.getvalue()
    assert inspect_bytes(data[:10]).error
    src = open_source(data=data[: len(data) // 2])
    assert src.format == "JPEG"
    with pytest.raises(UnreadableImageError):
        src.pixels()


def test_jpeg_draft_decodes_at_reduced_size():
    buf = io.BytesIO()
    Image.new("RGB", (2048, 2048), "blue").save(buf, "JPEG")
    src = open_source(data=buf.getvalue(), options=SourceOptions(max_pixels=512 * 512))
    im = src.pixels()
    assert im.width * im.height <= 512 * 512 * 4 and im.width < 2048
    with pytest.raises(UnreadableImageError, match="limit"):
        src.full_pixels()


def test_pixels_switched_off():
    src = open_source(data=png_bytes(), options=SourceOptions(pixels=False))
    with pytest.raises(UnreadableImageError, match="switched off"):
        src.pixels()


def test_jpeg_exif_xmp_and_comment_are_split_out():
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG", exif=exif, comment=b"hello", xmp=xmp)
    src = open_source(data=buf.getvalue())
    assert src.exif()[0x010F] == "Canon"
    assert src.text("comment").text == "hello"
    assert src.xmp_packets == [("JPEG APP1 XMP", xmp)]


def _with_chunk_before_iend(ctype: bytes, body: bytes) -> bytes:
    data = png_bytes()
    iend = data.rindex(b"IEND") - 4
    return data[:iend] + png_chunk(ctype, body) + data[iend:]


@pytest.mark.parametrize("ctype, body, reason", [
    (b"zTXt", b"parameters\x00\x00not zlib at all", "not zlib data"),
    (b"iTXt", b"parameters\x00\x01\x00\x00\x00not zlib at all", "not zlib data"),
    (b"zTXt", b"parameters\x00\x00" + zlib.compress(b"x" * 5000)[:-6], "truncated"),
    (b"zTXt", b"parameters\x00\x07" + zlib.compress(b"x"), "compression method 7"),
])
def test_compressed_text_chunk_that_is_not_zlib_is_a_warning_not_a_crash(ctype, body, reason):
    report = inspect_bytes(_with_chunk_before_iend(ctype, body))
    assert report.error is None and report.format == "PNG" and report.width == 32
    (warning,) = [w for w in report.warnings if f"unreadable PNG {ctype.decode()} chunk" in w]
    assert reason in warning


def test_a_container_parser_bug_is_a_per_file_error_naming_it(monkeypatch):
    import artlineage.signals._source as source_module

    def broken(data, options):
        raise KeyError("bug in the PNG walker")

    monkeypatch.setattr(source_module, "_open_png", broken)
    report = inspect_bytes(png_bytes())
    assert report.verdict is None
    assert report.error == "container parser failed (KeyError: 'bug in the PNG walker')"


def test_a_bug_while_weighing_evidence_is_a_per_file_error(monkeypatch):
    import artlineage._inspect as inspect_module

    def broken(evidence):
        raise OverflowError("bug in the verdict")

    monkeypatch.setattr(inspect_module, "decide_provenance", broken)
    report = inspect_bytes(png_bytes())
    assert (report.format, report.width, report.verdict) == ("PNG", 32, None)
    assert report.error == "cannot decide a verdict (OverflowError: bug in the verdict)"


@pytest.mark.parametrize("data, name", [
    (b"\xff\xd8\xff\xed\x00\x19Photoshop 3.0\x00" + b"\x00" * 8, "JPEG"),
    (b"GIF89a" + b"\xff" * 4, "GIF"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8X" + b"\x00" * 4, "WebP"),
    (b"II*\x00" + b"\xff" * 12, "TIFF"),
])
def test_a_file_with_a_known_signature_but_a_broken_header_is_called_corrupt(data, name):
    report = inspect_bytes(data)
    assert report.error.startswith(f"corrupt {name}: ") and report.verdict is None
