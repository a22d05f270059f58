"""JPEG extended XMP (XMP spec part 3): packets above one APP1 segment, split across several."""

from __future__ import annotations

import hashlib
import io
import struct

from PIL import Image

from artlineage import inspect_bytes
from artlineage.signals import SourceOptions, open_source
from artlineage.signals._base import Implication
from artlineage.signals._source import (XMP_EXTENSION_PREFIX, XMP_JPEG_PREFIX, assemble_extended_xmp,
                                        extended_xmp_guid)

from ._xmp_fixtures import DST_BASE, digital_source_type_packet, xmp_alt, xmp_packet

EXTENDED = "JPEG APP1 Extended XMP"
MAX_CHUNK = 65533 - len(XMP_EXTENSION_PREFIX) - 40  # one APP1 payload, less the extension header


def app1(payload: bytes) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def plain_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 120, 150)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def extended_packet(padding: int = 100_000) -> bytes:
    """A packet too big for one segment, whose only origin signal is its DigitalSourceType."""
    return xmp_packet({"Iptc4xmpExt:DigitalSourceType": DST_BASE + "trainedAlgorithmicMedia"},
                      [xmp_alt("dc:description", "x" * padding)], xpacket=False)


def main_packet(guid: str) -> bytes:
    return xmp_packet({"xmlns:xmpNote": "http://ns.adobe.com/xmp/note/", "xmpNote:HasExtendedXMP": guid,
                       "xmp:CreatorTool": "Some Editor"})


def extension_chunks(packet: bytes, guid: str, *, full_length: int | None = None) -> list[bytes]:
    full = len(packet) if full_length is None else full_length
    return [XMP_EXTENSION_PREFIX + guid.encode() + struct.pack(">II", full, off) + packet[off:off + MAX_CHUNK]
            for off in range(0, len(packet), MAX_CHUNK)]


def jpeg_with_extended_xmp(packet: bytes, *, chunks: list[bytes] | None = None, guid: str | None = None) -> bytes:
    guid = guid or hashlib.md5(packet).hexdigest().upper()
    chunks = extension_chunks(packet, guid) if chunks is None else chunks
    segments = app1(XMP_JPEG_PREFIX + main_packet(guid)) + b"".join(app1(c) for c in chunks)
    data = plain_jpeg()
    return data[:2] + segments + data[2:]  # right after SOI


def test_digital_source_type_only_in_the_extended_part_is_found():
    packet = extended_packet()
    data = jpeg_with_extended_xmp(packet)
    src = open_source(data=data)
    assert [loc for loc, _ in src.xmp_packets] == ["JPEG APP1 XMP", EXTENDED]
    assert src.xmp_packets[1][1] == packet and not src.warnings
    report = inspect_bytes(data, pixels=False)
    assert report.origin == "ai_generated"
    dst = [e for e in report.evidence if e.field == "Iptc4xmpExt:DigitalSourceType"]
    assert [(e.reader, e.location, e.implies) for e in dst] == [("xmp", EXTENDED, Implication.AI_GENERATED)]


def test_chunks_in_any_order_and_guid_case_are_reassembled():
    packet = extended_packet(150_000)
    guid = hashlib.md5(packet).hexdigest().upper()
    chunks = extension_chunks(packet, guid)
    assert len(chunks) == 3
    assembled, warns = assemble_extended_xmp(chunks[::-1], guid, 1 << 20)
    assert assembled == packet and warns == []
    assert extended_xmp_guid(b"<x xmpNote:HasExtendedXMP='" + guid.lower().encode() + b"'/>") == guid
    assert extended_xmp_guid(b"<xmpNote:HasExtendedXMP>" + guid.encode() + b"</xmpNote:HasExtendedXMP>") == guid


def test_chunks_of_another_guid_are_ignored():
    packet = extended_packet()
    other = extended_packet(70_000)
    guid = hashlib.md5(packet).hexdigest().upper()
    stray = extension_chunks(other, hashlib.md5(other).hexdigest().upper())
    data = jpeg_with_extended_xmp(packet, chunks=stray + extension_chunks(packet, guid), guid=guid)
    src = open_source(data=data)
    assert src.xmp_packets[-1] == (EXTENDED, packet) and not src.warnings


def test_truncated_extension_is_a_warning_and_the_main_packet_still_reads():
    packet = extended_packet()
    guid = hashlib.md5(packet).hexdigest().upper()
    data = jpeg_with_extended_xmp(packet, chunks=extension_chunks(packet, guid)[:1], guid=guid)
    report = inspect_bytes(data, pixels=False)
    assert report.error is None
    assert any("extended XMP" in w and "truncated" in w for w in report.warnings)
    assert report.origin != "ai_generated"
    assert any(e.location == "JPEG APP1 XMP" and e.field == "xmp:CreatorTool" for e in report.evidence)
    assert not any(e.location == EXTENDED for e in report.evidence)


def test_oversized_extension_is_skipped_with_a_warning():
    packet = extended_packet()
    data = jpeg_with_extended_xmp(packet)
    src = open_source(data=data, options=SourceOptions(max_text_bytes=50_000))
    assert [loc for loc, _ in src.xmp_packets] == ["JPEG APP1 XMP"]
    assert any("limit 50000" in w for w in src.warnings)
    # A forged full length far beyond the data is refused before anything is allocated.
    guid = hashlib.md5(packet).hexdigest().upper()
    forged = extension_chunks(packet, guid, full_length=0xFFFFFFFF)
    assert assemble_extended_xmp(forged, guid, 1 << 20)[0] is None


def test_hostile_chunk_headers_are_warnings_not_crashes():
    packet = extended_packet()
    guid = hashlib.md5(packet).hexdigest().upper()
    chunks = extension_chunks(packet, guid)
    short = XMP_EXTENSION_PREFIX + guid.encode()[:10]
    past_end = XMP_EXTENSION_PREFIX + guid.encode() + struct.pack(">II", len(packet), len(packet) - 5) + b"x" * 50
    disagree = extension_chunks(packet, guid, full_length=len(packet) + 1)[1:]
    for bad in ([short], chunks + [past_end], chunks[:1] + disagree):
        report = inspect_bytes(jpeg_with_extended_xmp(packet, chunks=bad, guid=guid), pixels=False)
        assert report.error is None and any("extended XMP" in w for w in report.warnings), bad[-1][:60]
        assert not any(e.location == EXTENDED for e in report.evidence)


def test_content_not_matching_its_guid_is_read_with_a_warning():
    packet = extended_packet()
    guid = "0123456789ABCDEF0123456789ABCDEF"
    report = inspect_bytes(jpeg_with_extended_xmp(packet, guid=guid), pixels=False)
    assert report.origin == "ai_generated"
    assert any("MD5 differs" in w for w in report.warnings)


def test_extension_without_a_main_packet_naming_it_is_ignored():
    packet = extended_packet()
    guid = hashlib.md5(packet).hexdigest().upper()
    data = plain_jpeg()
    data = data[:2] + b"".join(app1(c) for c in extension_chunks(packet, guid)) + data[2:]
    src = open_source(data=data)
    assert src.xmp_packets == [] and any("ignored" in w for w in src.warnings)


def test_ordinary_jpeg_xmp_is_unchanged():
    data = plain_jpeg()
    packet = digital_source_type_packet("digitalCapture")
    data = data[:2] + app1(XMP_JPEG_PREFIX + packet) + data[2:]
    src = open_source(data=data)
    assert src.xmp_packets == [("JPEG APP1 XMP", packet)] and not src.warnings
