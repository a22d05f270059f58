"""Dataset records and their provenance shares: synthetic, verified human, unknown.

The shares come from provenance verdicts. "Unknown" is always its own share and never counted as
human: the absence of AI metadata is not evidence of human work (metadata is stripped by most
platforms). Verified human means an origin of ``camera`` or ``human_declared``.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

SYNTHETIC_ORIGINS = frozenset({"ai_generated", "ai_edited"})
VERIFIED_HUMAN_ORIGINS = frozenset({"camera", "human_declared"})
UNKNOWN_ORIGIN = "unknown"
ERROR_ORIGIN = "error"


@dataclass(frozen=True)
class Record:
    """One dataset item as health needs it: where it is, what produced it and how sure we are."""

    path: str
    origin: str
    generator: str | None = None
    confidence: float = 0.0
    sha256: str | None = None
    source: str = ""


def origin_class(origin: str) -> str:
    """Coarse class: ``synthetic``, ``human`` (verified), ``algorithmic``, ``unknown`` or ``error``."""
    if origin in SYNTHETIC_ORIGINS:
        return "synthetic"
    if origin in VERIFIED_HUMAN_ORIGINS:
        return "human"
    if origin == ERROR_ORIGIN:
        return "error"
    if origin == "algorithmic":
        return "algorithmic"
    return "unknown"


def _source_of(path: str, root: str) -> str:
    """First folder under the dataset root (the "source" a scraper or contributor put it in)."""
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        return os.path.dirname(path)
    parts = Path(rel).parts
    return parts[0] if len(parts) > 1 else "."


def with_sources(records: Sequence[Record], root: str | None = None) -> list[Record]:
    """Fill ``source`` from each path's first folder under ``root`` (default: the paths' common folder)."""
    if not records:
        return []
    if root is None:
        try:
            root = os.path.commonpath([os.path.dirname(r.path) or "." for r in records])
        except ValueError:  # mixed absolute and relative paths
            root = ""
    return [Record(r.path, r.origin, r.generator, r.confidence, r.sha256, r.source or _source_of(r.path, root))
            for r in records]


def inspect_record(path: str | os.PathLike[str], *, pixels: bool = True) -> Record:
    """Inspect one file (no database) into a record."""
    from .._inspect import inspect_file

    rep = inspect_file(path, pixels=pixels)
    v = rep.verdict
    return Record(str(path), ERROR_ORIGIN if rep.error else rep.origin.value,
                  v.generator if v else None, float(v.confidence) if v else 0.0, rep.sha256)


def records_from_folder(folder: str | os.PathLike[str], *, pixels: bool = True) -> list[Record]:
    """Inspect every image under ``folder`` (no database) and return records."""
    from .._files import iter_image_files

    return with_sources([inspect_record(path, pixels=pixels) for path in iter_image_files(folder)], str(folder))


@dataclass
class ShareBreakdown:
    """Counts by origin, and the derived shares (of readable items; errors are counted apart)."""

    total: int = 0
    errors: int = 0
    by_origin: dict[str, int] = field(default_factory=dict)

    @property
    def readable(self) -> int:
        return self.total - self.errors

    def _share(self, origins: Iterable[str]) -> float:
        n = sum(self.by_origin.get(o, 0) for o in origins)
        return n / self.readable if self.readable else 0.0

    @property
    def synthetic_share(self) -> float:
        return self._share(SYNTHETIC_ORIGINS)

    @property
    def verified_human_share(self) -> float:
        return self._share(VERIFIED_HUMAN_ORIGINS)

    @property
    def unknown_share(self) -> float:
        return self._share([UNKNOWN_ORIGIN])

    @property
    def algorithmic_share(self) -> float:
        return self._share(["algorithmic"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total, "errors": self.errors, "by_origin": dict(sorted(self.by_origin.items())),
            "synthetic_share": round(self.synthetic_share, 6),
            "verified_human_share": round(self.verified_human_share, 6),
            "unknown_share": round(self.unknown_share, 6),
            "algorithmic_share": round(self.algorithmic_share, 6),
        }


def _breakdown(records: Iterable[Record]) -> ShareBreakdown:
    counts = Counter(r.origin for r in records)
    errors = counts.pop(ERROR_ORIGIN, 0)
    return ShareBreakdown(sum(counts.values()) + errors, errors, dict(counts))


@dataclass
class SyntheticShares:
    overall: ShareBreakdown
    by_source: dict[str, ShareBreakdown]
    by_generator: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.overall.to_dict(),
            "by_source": {k: v.to_dict() for k, v in sorted(self.by_source.items())},
            "by_generator": dict(Counter(self.by_generator).most_common()),
        }


def synthetic_shares(records: Sequence[Record]) -> SyntheticShares:
    """Synthetic / verified-human / unknown shares overall, per source folder, and counts per generator."""
    per_source: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        per_source[r.source or "."].append(r)
    gens = Counter(r.generator for r in records if r.generator and r.origin in SYNTHETIC_ORIGINS)
    return SyntheticShares(_breakdown(records), {k: _breakdown(v) for k, v in per_source.items()}, dict(gens))
