"""Find registered works in a dataset: hash every image, look the hashes up in Hamming indexes built
from the registry's works, report each hit with distance, artist and the artist's current terms.

A candidate needs the 64-bit pHash within ``max_distance`` (found through the MIH index). When both
sides also have a PDQ hash the candidate is confirmed on the combined normalised distance
``phash_d / 64 + pdq_d / 256 <= max_combined``; without PDQ the pHash alone must be within
``max_distance_without_pdq``. On 1000 registered synthetic images x 8 edits + 1000 unrelated images
(tests/matching/test_match.py) pHash alone at <= 10 gave 15 false hits, the combined rule at 0.48 gave
one, at ~96% recall: the two hashes err on different images.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from .artist_names import ArtistEntry, load_artist_names, merge_entries
from .hashing import hash_files, iter_image_files, pdq_to_words
from .index import HammingIndex

DEFAULT_MAX_DISTANCE = 14        # pHash bits of 64 (tests/matching/test_match.py prints the P/R it gives)
DEFAULT_MAX_COMBINED = 0.48      # phash_d / 64 + pdq_d / 256
DEFAULT_MAX_DISTANCE_WITHOUT_PDQ = 8
CHUNK = 256


@dataclass(frozen=True)
class RegisteredWork:
    work_id: int
    artist_id: int | None
    artist: str
    phash64: int | None
    pdq256: bytes | None = None
    title: str | None = None


@dataclass
class WorkMatch:
    path: str
    work_id: int
    artist_id: int | None
    artist: str
    title: str | None
    distance: int                 # pHash Hamming distance
    pdq_distance: int | None
    terms: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MatchReport:
    matches: list[WorkMatch] = field(default_factory=list)
    hashed: int = 0
    errors: list[str] = field(default_factory=list)


def _pdq_bytes(value: bytes | str | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return bytes.fromhex(value)


class WorkMatcher:
    """Hamming indexes over registered works' hashes (built once, queried per image)."""

    def __init__(self, works: Iterable[RegisteredWork]):
        self.works = [w for w in works if w.phash64 is not None]
        self.phash_index = HammingIndex(64)
        self.phash_index.add(np.arange(len(self.works)), [w.phash64 for w in self.works])
        self.phash_index.merge()
        self._pdq = np.zeros((len(self.works), 4), dtype=np.uint64)
        self._has_pdq = np.zeros(len(self.works), dtype=bool)
        for i, w in enumerate(self.works):
            if w.pdq256:
                self._pdq[i] = pdq_to_words(_pdq_bytes(w.pdq256))
                self._has_pdq[i] = True

    def __len__(self) -> int:
        return len(self.works)

    def lookup(self, phash: int, pdq_words: np.ndarray | None, max_distance: int = DEFAULT_MAX_DISTANCE,
               max_combined: float = DEFAULT_MAX_COMBINED,
               max_distance_without_pdq: int = DEFAULT_MAX_DISTANCE_WITHOUT_PDQ,
               ) -> list[tuple[RegisteredWork, int, int | None]]:
        """(work, pHash distance, PDQ distance or None) of every registered work this image matches."""
        res = self.phash_index.search(np.uint64(phash), max_distance)
        out = []
        for row, d in zip(res.ids.tolist(), res.distances.tolist()):
            pd = None
            if pdq_words is not None and self._has_pdq[row]:
                pd = int(np.bitwise_count(self._pdq[row] ^ pdq_words).sum())
                if d / 64 + pd / 256 > max_combined:
                    continue
            elif d > max_distance_without_pdq:
                continue
            out.append((self.works[row], d, pd))
        return out


def dataset_paths(dataset: str | os.PathLike[str]) -> list[str]:
    """Image paths of a folder, or of the rows of a scan database made by ``artlineage scan``."""
    p = Path(dataset)
    if p.is_dir():
        return [str(x) for x in iter_image_files(p)]
    if "://" in str(dataset) or p.is_file():
        from ..datasets.scan_store import ScanStore
        return [row.path for row in ScanStore(dataset).rows() if not row.error]
    raise FileNotFoundError(f"{dataset}: neither a folder nor a scan database")


def match_paths(paths: Sequence[str], matcher: WorkMatcher, *, max_distance: int = DEFAULT_MAX_DISTANCE,
                max_combined: float = DEFAULT_MAX_COMBINED, artist: str | None = None,
                terms_for: Callable[[RegisteredWork], dict | None] | None = None,
                progress: Callable[[int, int], None] | None = None) -> MatchReport:
    """Hash ``paths`` in chunks and report every registered work found (optionally one artist's only)."""
    report = MatchReport()
    want = artist.casefold() if artist else None
    terms_cache: dict[tuple, dict | None] = {}
    for lo in range(0, len(paths), CHUNK):
        chunk = paths[lo:lo + CHUNK]
        ph, pq, ok = hash_files(chunk)
        for i, path in enumerate(chunk):
            if not ok[i]:
                report.errors.append(f"{path}: not decodable as an image")
                continue
            report.hashed += 1
            for work, d, pd in matcher.lookup(int(ph[i]), pq[i], max_distance, max_combined):
                if want and work.artist.casefold() != want:
                    continue
                terms = None
                if terms_for is not None:
                    key = (work.artist_id, work.work_id)
                    if key not in terms_cache:
                        terms_cache[key] = terms_for(work)
                    terms = terms_cache[key]
                report.matches.append(WorkMatch(path, work.work_id, work.artist_id, work.artist, work.title,
                                                d, pd, terms))
        if progress:
            progress(min(lo + CHUNK, len(paths)), len(paths))
    report.matches.sort(key=lambda m: (m.path, m.distance))
    return report


# ---- registry wiring (artlineage.registry) -----------------------------------------------------

def works_from_registry(registry) -> list[RegisteredWork]:
    """Registered works with a pHash, from an open ``artlineage.registry.Registry``."""
    names = {a.id: a.name for a in registry.list_artists()}
    titles = {}
    out = []
    rows = registry.works_with_hashes()
    if rows:
        titles = {w.id: w.title for w in registry.list_works()}
    for r in rows:
        out.append(RegisteredWork(r.work_id, r.artist_id, names.get(r.artist_id, f"artist {r.artist_id}"),
                                  r.phash64, _pdq_bytes(r.pdq256), titles.get(r.work_id)))
    return out


def terms_from_registry(registry) -> Callable[[RegisteredWork], dict | None]:
    """Current terms of a work (work-level overriding artist-level, scope by scope), as {scope: value}."""
    def terms_for(work: RegisteredWork) -> dict | None:
        if work.artist_id is None:
            return None
        resolved = registry.current_terms(work.artist_id, work.work_id)
        return {scope: t.value for scope, t in resolved.scopes.items()}
    return terms_for


def guard_entries_from_registry(registry, include_starter: bool = True) -> list[ArtistEntry]:
    """Prompt-guard entries: every registry artist with all their names, living flag and current
    style_imitation terms, merged with the bundled starter list (registry facts win)."""
    by_artist: dict[int, list[str]] = {}
    for artist_id, name, _kind in registry.all_artist_names():
        by_artist.setdefault(artist_id, []).append(name)
    entries = []
    for a in registry.list_artists():
        names = by_artist.get(a.id, [a.name])
        terms = registry.current_terms(a.id)
        entries.append(ArtistEntry(name=a.name, aliases=tuple(n for n in names if n != a.name), living=a.living,
                                   artist_id=a.id, style_imitation=terms.value("style_imitation"), source="registry"))
    return merge_entries(entries, load_artist_names()) if include_starter else entries


def open_registry(db: str | os.PathLike[str]):
    """Open the artists' registry (read-mostly: migrations are applied if the schema is behind)."""
    from ..registry.api import Registry
    return Registry(db)


def iter_matches(report: MatchReport) -> Iterator[dict[str, Any]]:
    for m in report.matches:
        yield m.to_dict()
