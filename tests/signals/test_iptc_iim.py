"""IPTC-IIM reader: APP13 Photoshop resources built in code, AI programs, hostile blocks."""

from __future__ import annotations

import io
import struct

from PIL import Image

from artlineage import inspect_bytes
from artlineage.signals._base import Implication
from artlineage.signals._source import open_source
from artlineage.signals.iptc_iim import (IimDataset, iim_datasets, photoshop_resources, read_iim_datasets,
                                         read_iptc_iim)


def dataset(record: int, number: int, value: bytes) -> bytes:
    if len(value) < 0x8000:
        return struct.pack(">BBBH", 0x1C, record, number, len(value)) + value
    return struct.pack(">BBBHI", 0x1C, record, number, 0x8004, len(value)) + value  # extended length


def resource(resource_id: int, data: bytes, name: bytes = b"", signature: bytes = b"8BIM") -> bytes:
    pascal = bytes([len(name)]) + name
    pascal += b"\x00" * (len(pascal) & 1)
    return signature + struct.pack(">H", resource_id) + pascal + struct.pack(">I", len(data)) + data \
        + b"\x00" * (len(data) & 1)


def iim(fields: dict[tuple[int, int], str], *, utf8: bool = True) -> bytes:
    out = dataset(1, 90, b"\x1b%G") if utf8 else b""
    out += dataset(2, 0, b"\x00\x04")  # RecordVersion, as real writers put first
    for (record, number), text in fields.items():
        out += dataset(record, number, text.encode("utf-8" if utf8 else "latin-1"))
    return out


def app13(*blocks: bytes) -> bytes:
    payload = b"Photoshop 3.0\x00" + b"".join(blocks)
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def jpeg_with(*segments: bytes) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 100, 50)).save(buf, "JPEG", quality=80)
    data = buf.getvalue()
    return data[:2] + b"".join(segments) + data[2:]  # right after SOI


FIELDS = {(2, 80): "Ada Lovelace", (2, 116): "© 2024 Ada Lovelace", (2, 120): "Harbour at dusk",
          (2, 110): "Studio Ada", (2, 115): "Own work"}


def test_creator_rights_and_caption_are_info_evidence():
    data = jpeg_with(app13(resource(0x03ED, b"\x00" * 16), resource(0x0404, iim(FIELDS), name=b"IPTC")))
    report = inspect_bytes(data, pixels=False)
    found = {e.field: e for e in report.evidence if e.reader == "iptc_iim"}
    assert set(found) == {"By-line", "CopyrightNotice", "Caption-Abstract", "Credit", "Source"}
    assert all(e.implies is Implication.INFO and e.location == "JPEG APP13 IPTC-IIM" for e in found.values())
    assert found["By-line"].data == {"creator": "Ada Lovelace"}
    assert found["CopyrightNotice"].value == "© 2024 Ada Lovelace"
    assert found["Caption-Abstract"].data == {"caption": "Harbour at dusk"}
    assert report.origin == "unknown" and not report.warnings


def test_ai_originating_program_is_ai_generated():
    fields = {(2, 65): "Midjourney", (2, 70): "6.1", (2, 80): "someone"}
    report = inspect_bytes(jpeg_with(app13(resource(0x0404, iim(fields)))), pixels=False)
    program = next(e for e in report.evidence if e.field == "OriginatingProgram")
    assert (program.implies, program.generator, program.strength) == (Implication.AI_GENERATED, "Midjourney", 0.8)
    assert program.data == {"program": "Midjourney", "version": "6.1"}
    assert report.origin == "ai_generated"


def test_ordinary_program_is_info_and_latin1_without_charset_decodes():
    fields = {(2, 65): "Adobe Photoshop", (2, 80): "Zoë Müller"}
    evidence = list(read_iptc_iim(open_source(data=jpeg_with(app13(resource(0x0404, iim(fields, utf8=False)))))))
    by_field = {e.field: e for e in evidence}
    assert by_field["OriginatingProgram"].implies is Implication.INFO
    assert by_field["By-line"].value == "Zoë Müller"


def test_resources_split_over_two_app13_segments_are_joined():
    block = resource(0x0404, iim({(2, 80): "Split Writer", (2, 120): "c" * 70_000}))
    parts = [block[i:i + 60_000] for i in range(0, len(block), 60_000)]
    assert len(parts) == 2
    data = jpeg_with(*(app13(part) for part in parts))
    report = inspect_bytes(data, pixels=False)
    found = {e.field: e for e in report.evidence if e.reader == "iptc_iim"}
    assert found["By-line"].value == "Split Writer"
    assert found["Caption-Abstract"].value.startswith("c" * 100) and "more characters" in found["Caption-Abstract"].value


def test_repeated_datasets_are_joined():
    data = dataset(2, 80, b"One") + dataset(2, 80, b"Two")
    datasets, problems = iim_datasets(data)
    assert problems == [] and [d.value for d in datasets] == [b"One", b"Two"]
    assert read_iim_datasets(datasets)[0].value == "One; Two"


def test_truncated_resource_is_a_warning():
    block = resource(0x0404, iim(FIELDS))
    report = inspect_bytes(jpeg_with(app13(block[:20])), pixels=False)
    assert report.error is None
    assert any("iptc_iim" in w and "declares" in w for w in report.warnings), report.warnings
    assert not any(e.reader == "iptc_iim" for e in report.evidence)


def test_truncated_dataset_keeps_what_was_read_and_notes_the_rest():
    body = iim({(2, 80): "Kept"}) + dataset(2, 120, b"lost caption")[:-4]
    evidence = list(read_iptc_iim(open_source(data=jpeg_with(app13(resource(0x0404, body))))))
    assert [e.value for e in evidence if e.field == "By-line"] == ["Kept"]
    assert any("damaged IPTC-IIM" in e.note for e in evidence)


def test_hostile_blocks_are_warnings_not_crashes():
    prefix = "iptc_iim: unreadable IPTC-IIM in JPEG APP13 IPTC-IIM: "
    hostile = [
        (resource(0x0404, b"\x1c\x02\x50\x80\x09" + b"x" * 20),  # extended length of 9 bytes
         "bad extended length for IIM 2:80"),
        (resource(0x0404, b"\x1c\x02\x50\xff\xff"),  # extended length of 32767 length bytes
         "bad extended length for IIM 2:80"),
        (resource(0x0404, b"\x1c\x02\x50\x80\x04\x7f\xff\xff\xff"),  # declares 2 GB of data
         "IIM 2:80 declares 2147483647 bytes, only 0 present"),
        (resource(0x0404, b"\xffgarbage"), "bad IIM tag marker 0xFF at offset 0"),  # not an IIM tag marker
        (b"8BIM\x04\x04\xff" + b"n" * 10,  # Pascal name runs past the end
         "truncated image resource 0x0404 at offset 0"),
        (b"XXXX" + b"\x00" * 30, "bad image resource signature at offset 0"),  # bad signature
        (resource(0x0404, b"")[:-2] + b"\xff\xff",  # size 0xFFFF.... runs past the end
         "image resource 0x0404 declares 65535 bytes, only 0 present"),
    ]
    for block, warning in hostile:
        report = inspect_bytes(jpeg_with(app13(block)), pixels=False)
        assert report.error is None, (block, report.error)
        assert report.warnings == [prefix + warning], (block, report.warnings)


def test_many_tiny_resources_and_datasets_are_bounded():
    resources, problems = photoshop_resources(resource(0x0400, b"") * 5000)
    assert len(resources) == 1 and problems and "more than" in problems[0]
    datasets, problems = iim_datasets(dataset(2, 25, b"k") * 20_000)  # time: benchmarks/bench_hostile_inputs.py
    assert len(datasets) == 10_000 and "more than" in problems[0]


def test_no_app13_means_the_reader_does_not_run():
    report = inspect_bytes(jpeg_with(), pixels=False)
    assert not any(e.reader == "iptc_iim" for e in report.evidence) and not report.warnings
    assert list(read_iptc_iim(open_source(data=jpeg_with(b"\xff\xed\x00\x06abcd")))) == []
