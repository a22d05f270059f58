"""Fixture builders for the generator-metadata tests: every file is made here, in code."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Iterable

import piexif
import piexif.helper
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from artlineage import _inspect
from artlineage.signals._base import Evidence

GENERATOR_READERS = {"a1111", "comfyui", "novelai", "novelai_stealth", "invokeai", "fooocus", "swarmui",
                     "drawthings", "kohya", "midjourney", "json_parameters"}


def png_with_text(texts: dict[str, str], *, itxt: Iterable[str] = (), size=(64, 48), mode="RGB") -> bytes:
    """A PNG whose text chunks are written by Pillow (tEXt, or iTXt for the keys in ``itxt``)."""
    info = PngInfo()
    itxt = set(itxt)
    for key, value in texts.items():
        if key in itxt:
            info.add_itxt(key, value)
        else:
            info.add_text(key, value)
    out = io.BytesIO()
    Image.new(mode, size, (90, 120, 150, 255)[: len(mode)]).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def add_png_chunk(png: bytes, ctype: bytes, body: bytes) -> bytes:
    """Insert a raw chunk before IEND (for chunks Pillow will not write, e.g. 20 MB of text)."""
    iend = png.rindex(b"IEND") - 4
    chunk = struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))
    return png[:iend] + chunk + png[iend:]


def jpeg_with_exif(exif: dict, size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 180, 160)).save(out, "JPEG", exif=piexif.dump(exif), quality=90)
    return out.getvalue()


def jpeg_with_user_comment(text: str, encoding: str = "unicode", software: str | None = None) -> bytes:
    """A JPEG as A1111 saves it: the infotext in EXIF UserComment, ``UNICODE\\0`` + UTF-16."""
    zeroth = {piexif.ImageIFD.Software: software.encode()} if software else {}
    return jpeg_with_exif({"0th": zeroth,
                           "Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump(text, encoding)}})


def camera_jpeg() -> bytes:
    return jpeg_with_exif({
        "0th": {piexif.ImageIFD.Make: b"Canon", piexif.ImageIFD.Model: b"Canon EOS R5",
                piexif.ImageIFD.Software: b"Firmware Version 1.8.1"},
        "Exif": {piexif.ExifIFD.ExposureTime: (1, 250), piexif.ExifIFD.FNumber: (56, 10),
                 piexif.ExifIFD.ISOSpeedRatings: 200,
                 piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump("Holiday: beach, sunset, family")},
    })


def inspect(data: bytes, **kwargs) -> _inspect.FileReport:
    report = _inspect.inspect_bytes(data, **kwargs)
    assert report.error is None, report.error
    return report


def generator_evidence(report: _inspect.FileReport) -> list[Evidence]:
    return [e for e in report.evidence if e.reader in GENERATOR_READERS]


def only_generation(report: _inspect.FileReport, reader: str) -> tuple[Evidence, dict]:
    """The single generator evidence in ``report``, from ``reader``, and its parsed parameters."""
    found = generator_evidence(report)
    assert [e.reader for e in found] == [reader], (found, report.warnings)
    return found[0], found[0].data["generation"]
