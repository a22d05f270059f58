"""Inspect one image: open its containers, run every registered reader, decide a verdict."""

from __future__ import annotations

import hashlib
import io
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence

from PIL import Image

from .signals._base import Evidence, GenerationParameters, SignalError, UnreadableImageError
from .signals._registry import SignalReader, get_readers
from .signals._source import ImageSource, SourceOptions, open_source
from .verdicts.provenance import Origin, ProvenanceVerdict, decide_provenance

log = logging.getLogger(__name__)


@dataclass
class FileReport:
    """Everything artlineage found in one file. ``error`` is set when the file is unreadable."""

    path: str | None
    size: int = 0
    sha256: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    verdict: ProvenanceVerdict | None = None
    generation: list[GenerationParameters] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # reader errors and container warnings
    error: str | None = None

    @property
    def origin(self) -> Origin:
        return self.verdict.origin if self.verdict else Origin.UNKNOWN

    @property
    def evidence(self) -> list[Evidence]:
        return self.verdict.evidence if self.verdict else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "size": self.size, "sha256": self.sha256, "format": self.format,
            "width": self.width, "height": self.height,
            "verdict": self.verdict.to_dict() if self.verdict else None,
            "generation": [g.to_dict() for g in self.generation], "warnings": self.warnings, "error": self.error,
        }


def run_readers(source: ImageSource, readers: Iterable[SignalReader]) -> tuple[list[Evidence], list[str]]:
    """Run readers over a parsed source. A failing reader becomes a warning, never a crash."""
    evidence: list[Evidence] = []
    problems: list[str] = []
    for reader in readers:
        if reader.needs_pixels and not source.options.pixels:
            continue
        try:
            if reader.applies is not None and not reader.applies(source):
                continue
            evidence.extend(reader.read(source))
        except (SignalError, UnreadableImageError) as exc:
            problems.append(f"{reader.name}: {exc}")
        except RecursionError:
            problems.append(f"{reader.name}: input nested too deeply")
        except Exception as exc:  # noqa: BLE001 - hostile input must not stop a scan
            problems.append(f"{reader.name}: unexpected {type(exc).__name__}: {exc}")
            # A reader bug, not bad input: the traceback is for whoever enables artlineage's logging.
            log.debug("reader %s failed", reader.name, exc_info=True)
    return evidence, problems


class PixelDetector(Protocol):
    """What ``inspect_*(detectors=...)`` needs of a detector (see ``artlineage.detectors``)."""

    name: str

    def evidence_for(self, image: Image.Image) -> Evidence: ...


def run_detectors(source: ImageSource, detectors: Sequence[PixelDetector]) -> tuple[list[Evidence], list[str]]:
    """Model estimates from pixels. Each detector decodes the image its own way (a fresh, unloaded
    image: JPEG ``draft`` stays possible); a failing detector is a warning, never a lost file."""
    evidence: list[Evidence] = []
    problems: list[str] = []
    if not detectors:
        return evidence, problems
    if not source.options.pixels:
        return evidence, ["detectors: skipped, pixel decoding is switched off (metadata-only)"]
    if source.width * source.height > source.options.max_image_pixels:
        return evidence, [f"detectors: skipped, {source.width}x{source.height} pixels exceeds the limit"]
    for detector in detectors:
        try:
            with Image.open(io.BytesIO(source.data)) as image:
                evidence.append(detector.evidence_for(image))
        except Exception as exc:  # noqa: BLE001 - a detector's failure must not stop a scan
            problems.append(f"detector {getattr(detector, 'name', detector)!s}: {type(exc).__name__}: {exc}")
    return evidence, problems


def _report(source: ImageSource | None, data: bytes, path: str | None, readers: list[SignalReader],
            detectors: Sequence[PixelDetector] = ()) -> FileReport:
    report = FileReport(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    if source is None:
        return report
    report.format, report.width, report.height = source.format, source.width, source.height
    evidence, problems = run_readers(source, readers)
    estimates, detector_problems = run_detectors(source, detectors)
    evidence += estimates
    problems += detector_problems
    report.warnings = list(source.warnings) + problems
    report.verdict = decide_provenance(evidence)
    report.generation = [GenerationParameters.from_dict(e.data["generation"]) for e in evidence
                         if isinstance(e.data.get("generation"), dict)]
    return report


def inspect_source(data: bytes, *, name: str | None = None, readers: Iterable[str] | None = None,
                   options: SourceOptions | None = None, detectors: Sequence[PixelDetector] = ()
                   ) -> tuple[FileReport, ImageSource | None]:
    """:func:`inspect_bytes` that also returns the parsed source (None when unreadable), so a caller
    that needs the pixels too (hashes, embeddings) reuses the decode the pixel readers already did."""
    options = options or SourceOptions()
    chosen = get_readers(readers, pixels=options.pixels)
    try:
        source = open_source(name, data=data, options=options)
    except UnreadableImageError as exc:
        report = _report(None, data, name, chosen)
        report.error = str(exc)
        return report, None
    try:
        return _report(source, data, name, chosen, detectors), source
    except Exception as exc:  # noqa: BLE001 - last resort: readers are guarded one by one in run_readers,
        # so this is a bug in weighing the evidence; the file still gets a report that says so.
        log.warning("cannot decide a verdict for %s", name, exc_info=True)
        report = _report(None, data, name, chosen)
        report.format, report.width, report.height = source.format, source.width, source.height
        report.error = f"cannot decide a verdict ({type(exc).__name__}: {exc})"
        return report, None


def inspect_bytes(data: bytes, *, name: str | None = None, pixels: bool = True,
                  readers: Iterable[str] | None = None, options: SourceOptions | None = None,
                  detectors: Sequence[PixelDetector] = ()) -> FileReport:
    """Inspect an image held in memory. Never raises on bad input: see ``FileReport.error``.

    ``detectors`` (off by default): learned detectors whose estimates join the evidence as model
    estimates, weighed apart from what the file says (see ``verdicts.provenance``).
    """
    return inspect_source(data, name=name, readers=readers, options=options or SourceOptions(pixels=pixels),
                          detectors=detectors)[0]


def inspect_file(path: str | os.PathLike[str], *, pixels: bool = True, readers: Iterable[str] | None = None,
                 options: SourceOptions | None = None, detectors: Sequence[PixelDetector] = ()) -> FileReport:
    """Inspect one image file: provenance verdict with evidence and generation parameters."""
    options = options or SourceOptions(pixels=pixels)
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > options.max_file_bytes:
            return FileReport(path=str(p), size=size,
                              error=f"file is {size} bytes, above the {options.max_file_bytes} limit")
        data = p.read_bytes()
    except OSError as exc:
        return FileReport(path=str(p), error=f"cannot read file: {exc.strerror or exc}")
    return inspect_bytes(data, name=str(p), readers=readers, options=options, detectors=detectors)
