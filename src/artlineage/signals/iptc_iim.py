"""IPTC-IIM reader: legacy IPTC in JPEG APP13 (Photoshop image resource 0x0404).

Older tools (Photoshop, Lightroom, newsroom software, some generators' export paths) still write
creator, copyright, caption and the originating program as IIM datasets rather than XMP.

Parsed by hand. Pillow does split APP13 into ``info["photoshop"]`` and ``IptcImagePlugin.getiptcinfo``
walks IIM datasets, but neither fits a bounded, warn-don't-crash reader: the APP13 walk swallows
truncation silently (``except struct.error: pass``) so a damaged block cannot be reported,
resources split over several APP13 segments are not joined, ``getiptcinfo`` needs a Pillow
``JpegImageFile`` (readers get the already-split segments) and lets ``SyntaxError``/``OSError``
escape on the first bad dataset, losing the good ones, and the 1:90 character set is ignored.
Without exiftool no Python package does better, and both formats are a few lines of struct.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterable

from ._ai_tools import ai_credit_line, match_ai_tool
from ._base import Evidence, Implication, SignalError, truncate
from ._registry import register_reader
from ._source import ImageSource
from .strengths import strength

READER = "iptc_iim"
LOCATION = "JPEG APP13 IPTC-IIM"

APP13 = 0xED
PHOTOSHOP_PREFIX = b"Photoshop 3.0\x00"
IRB_SIGNATURES = (b"8BIM", b"PHUT", b"AgHg", b"DCSR")  # Photoshop and third-party resource blocks
IPTC_RESOURCE_ID = 0x0404
IIM_TAG_MARKER = 0x1C
MAX_RESOURCES = 4096  # a real APP13 holds a few dozen
MAX_DATASETS = 10_000
AI_PROGRAM_STRENGTH = strength("iptc_ai_program")
CREDIT_LINE_STRENGTH = strength("credit_line_ai_label")  # e.g. "Edited with Google AI"

# (record, dataset) -> (IIM name, evidence data key)
_INFO_DATASETS: dict[tuple[int, int], tuple[str, str]] = {
    (2, 80): ("By-line", "creator"),
    (2, 116): ("CopyrightNotice", "rights"),
    (2, 120): ("Caption-Abstract", "caption"),
    (2, 110): ("Credit", "credit"),
    (2, 115): ("Source", "source"),
}
ORIGINATING_PROGRAM = (2, 65)
PROGRAM_VERSION = (2, 70)
CODED_CHARACTER_SET = (1, 90)
UTF8_ESCAPE = b"\x1b%G"


@dataclass(frozen=True)
class IimDataset:
    record: int
    number: int
    value: bytes


def photoshop_resources(block: bytes, *, max_resources: int = MAX_RESOURCES) -> tuple[dict[int, bytes], list[str]]:
    """Image resources of a Photoshop IRB (APP13 bodies joined, prefix removed): id -> data.

    Each resource: 4-byte signature, 2-byte id, Pascal name padded to even length, 4-byte size,
    data padded to even length. Returns what was read and the problems met (truncation, bad
    signature); the first occurrence of an id wins.
    """
    resources: dict[int, bytes] = {}
    problems: list[str] = []
    pos, n, count = 0, len(block), 0
    while pos < n:
        count += 1
        if count > max_resources:
            problems.append(f"more than {max_resources} image resources; the rest were skipped")
            break
        if n - pos < 4 or block[pos:pos + 4] not in IRB_SIGNATURES:
            if block[pos:].strip(b"\x00"):
                problems.append(f"bad image resource signature at offset {pos}")
            break
        if pos + 7 > n:
            problems.append(f"truncated image resource header at offset {pos}")
            break
        resource_id = struct.unpack(">H", block[pos + 4:pos + 6])[0]
        name_len = block[pos + 6]
        size_at = pos + 6 + 1 + name_len
        size_at += (1 + name_len) & 1  # the Pascal name (with its length byte) is padded to even
        if size_at + 4 > n:
            problems.append(f"truncated image resource 0x{resource_id:04X} at offset {pos}")
            break
        size = struct.unpack(">I", block[size_at:size_at + 4])[0]
        data_at = size_at + 4
        if data_at + size > n:
            problems.append(f"image resource 0x{resource_id:04X} declares {size} bytes, "
                            f"only {n - data_at} present")
            break
        resources.setdefault(resource_id, block[data_at:data_at + size])
        pos = data_at + size + (size & 1)
    return resources, problems


def iim_datasets(data: bytes, *, max_datasets: int = MAX_DATASETS) -> tuple[list[IimDataset], list[str]]:
    """IIM datasets (IPTC-NAA IIM 4.2, section 1.5): tag marker 0x1C, record, number, length.

    A length with its top bit set is an extended length: the low 15 bits count the bytes of the
    real length that follow. Returns the datasets read and the problems met.
    """
    datasets: list[IimDataset] = []
    problems: list[str] = []
    pos, n = 0, len(data)
    while pos < n:
        if data[pos] != IIM_TAG_MARKER:
            if data[pos:].strip(b"\x00"):  # writers pad the resource with NULs
                problems.append(f"bad IIM tag marker 0x{data[pos]:02X} at offset {pos}")
            break
        if len(datasets) >= max_datasets:
            problems.append(f"more than {max_datasets} IIM datasets; the rest were skipped")
            break
        if pos + 5 > n:
            problems.append(f"truncated IIM dataset header at offset {pos}")
            break
        record, number, length = data[pos + 1], data[pos + 2], struct.unpack(">H", data[pos + 3:pos + 5])[0]
        pos += 5
        if length & 0x8000:
            count = length & 0x7FFF
            if not 1 <= count <= 4 or pos + count > n:
                problems.append(f"bad extended length for IIM {record}:{number}")
                break
            length = int.from_bytes(data[pos:pos + count], "big")
            pos += count
        if pos + length > n:
            problems.append(f"IIM {record}:{number} declares {length} bytes, only {n - pos} present")
            break
        datasets.append(IimDataset(record, number, data[pos:pos + length]))
        pos += length
    return datasets, problems


def _decoder(datasets: list[IimDataset]) -> str | None:
    """The charset 1:90 declares: only UTF-8 is named in practice; ``None`` means guess."""
    for ds in datasets:
        if (ds.record, ds.number) == CODED_CHARACTER_SET:
            return "utf-8" if ds.value.startswith(UTF8_ESCAPE) else None
    return None


def _text(value: bytes, charset: str | None) -> str:
    # Without 1:90, writers used UTF-8 or a Latin code page: UTF-8 when valid, else Latin-1.
    try:
        text = value.decode(charset or "utf-8")
    except UnicodeDecodeError:
        text = value.decode("latin-1")
    return text.replace("\x00", " ").strip()


def read_iim_datasets(datasets: list[IimDataset], location: str = LOCATION) -> list[Evidence]:
    """Evidence from parsed IIM datasets (pure; the reader's core)."""
    charset = _decoder(datasets)
    values: dict[tuple[int, int], list[str]] = {}
    for ds in datasets:
        text = _text(ds.value, charset)
        if text:
            values.setdefault((ds.record, ds.number), []).append(text)
    evidence: list[Evidence] = []
    program = "; ".join(values.get(ORIGINATING_PROGRAM, []))
    if program:
        version = "; ".join(values.get(PROGRAM_VERSION, []))
        data = {"program": program, **({"version": version} if version else {})}
        tool = match_ai_tool(f"{program} {version}".strip())
        if tool:
            evidence.append(Evidence(READER, location, "OriginatingProgram", truncate(program, 500),
                                     Implication.AI_GENERATED, AI_PROGRAM_STRENGTH, generator=tool,
                                     note=f"IPTC OriginatingProgram names the AI generator {tool}", data=data))
        else:
            evidence.append(Evidence(READER, location, "OriginatingProgram", truncate(program, 500),
                                     Implication.INFO, 0.0, note=f"program: {truncate(program, 80)}", data=data))
    for key, (name, data_key) in _INFO_DATASETS.items():
        texts = values.get(key)
        label = ai_credit_line("; ".join(texts)) if texts and name == "Credit" else None
        if label is not None:
            edited, generator = label
            evidence.append(Evidence(READER, location, name, truncate("; ".join(texts), 500),
                                     Implication.AI_EDITED if edited else Implication.AI_GENERATED,
                                     CREDIT_LINE_STRENGTH, generator=generator,
                                     note=f"IPTC Credit labels the image: {truncate('; '.join(texts), 80)}"))
        elif texts:
            joined = "; ".join(texts)
            evidence.append(Evidence(READER, location, name, truncate(joined), Implication.INFO, 0.0,
                                     note=f"{data_key}: {truncate(joined, 80)}",
                                     data={data_key: truncate(joined) if data_key == "caption" else joined}))
    return evidence


def _photoshop_block(source: ImageSource) -> bytes:
    # Photoshop splits a large IRB over consecutive APP13 segments, each with the prefix.
    return b"".join(p[len(PHOTOSHOP_PREFIX):] for marker, p in source.jpeg_segments
                    if marker == APP13 and p.startswith(PHOTOSHOP_PREFIX))


def _has_app13(source: ImageSource) -> bool:
    return any(marker == APP13 for marker, _ in source.jpeg_segments)


@register_reader("iptc_iim", applies=_has_app13, formats=("JPEG APP13 Photoshop IRB",))
def read_iptc_iim(source: ImageSource) -> Iterable[Evidence]:
    """IPTC-IIM (JPEG APP13): by-line, copyright, caption, credit, source, originating program."""
    block = _photoshop_block(source)
    if not block:
        return []
    resources, problems = photoshop_resources(block)
    evidence: list[Evidence] = []
    iptc = resources.get(IPTC_RESOURCE_ID)
    if iptc is not None:
        datasets, iim_problems = iim_datasets(iptc)
        problems += iim_problems
        evidence = read_iim_datasets(datasets)
    if problems and not evidence:
        raise SignalError(f"unreadable IPTC-IIM in {LOCATION}: {truncate('; '.join(problems), 300)}")
    for problem in problems:  # keep what was readable, note what was not
        evidence.append(Evidence(READER, LOCATION, "iptc_iim", None, Implication.INFO, 0.0,
                                 note=f"damaged IPTC-IIM skipped: {truncate(problem, 300)}"))
    return evidence
