"""Midjourney outside XMP: the prompt, flags and ``Job ID: <uuid>`` in a PNG ``Description`` text chunk
(beside ``Author`` and ``Creation Time``) or in EXIF ImageDescription (JPEG/WebP downloads).

The XMP reader already reads the same text from ``dc:description``; when the XMP carries the Job ID
this reader stays quiet, so one claim is not counted twice.
"""

from __future__ import annotations

from typing import Iterable

from .._base import Evidence
from .._registry import register_reader
from .._source import ImageSource
from ..xmp import MIDJOURNEY_STRENGTH, parse_midjourney_description
from ._common import EXIF_IMAGE_DESCRIPTION, exif_text, generation_evidence


def _candidates(source: ImageSource) -> list[tuple[str, str]]:
    found = [(chunk.location, chunk.text) for key in ("Description", "description")
             if (chunk := source.text(key)) is not None]
    text = exif_text(source, EXIF_IMAGE_DESCRIPTION) if source.exif_bytes else None
    if text:
        found.append((f"{source.exif_location or 'EXIF'} ImageDescription", text))
    return found


def _applies(source: ImageSource) -> bool:
    return source.text("Description") is not None or source.text("description") is not None or bool(source.exif_bytes)


@register_reader("midjourney", applies=_applies, description="Midjourney prompt and Job ID outside XMP",
                 formats=("PNG tEXt/iTXt 'Description'", "EXIF ImageDescription (JPEG, WebP)"))
def read_midjourney(source: ImageSource) -> Iterable[Evidence]:
    if any(b"Job ID" in packet for _, packet in source.xmp_packets):
        return []  # the XMP reader reports it from dc:description
    for location, text in _candidates(source):
        parsed = parse_midjourney_description(text)
        if parsed is None:
            continue
        params, job_id = parsed
        author = source.text("Author")
        if author is not None:
            params.extra["author"] = author.text[:200]
        return [generation_evidence("midjourney", location, "Description", text, params,
                                    note=f"Midjourney prompt with Job ID {job_id}", strength=MIDJOURNEY_STRENGTH)]
    return []
