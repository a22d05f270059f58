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

import multiprocessing
import os
from collections import deque
from collections.abc import Sized
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from .artist_names import ArtistEntry, load_artist_names, merge_entries
from .hashing import hash_files, phash_from_db
from .work_index import WorkIndex, WorkRows, load_or_build

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
    distance: int                 # pHash Hamming distance (copy detection: nearest window's)
    pdq_distance: int | None
    terms: dict[str, Any] | None = None
    score: float | None = None    # copy detection: CopyMatch.score
    evidence: dict[str, Any] | None = None   # copy detection: CopyEvidence as a dict

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
    """Hamming index over registered works' hashes (built once or loaded, queried per image).

    ``WorkMatcher(works)`` indexes a list of ``RegisteredWork``; ``WorkMatcher.from_registry(reg)``
    loads the registry's persisted index (``work_index``) and describes only the works it finds.
    """

    def __init__(self, works: Iterable[RegisteredWork] = (), *, index: WorkIndex | None = None,
                 describe: Callable[[int], RegisteredWork] | None = None):
        if index is None:
            known = {w.work_id: w for w in works if w.phash64 is not None}
            index = WorkIndex(WorkRows.from_hashes((w.work_id, w.artist_id, w.phash64, w.pdq256)
                                                   for w in known.values()))
            describe = known.__getitem__
        if describe is None:
            raise ValueError("an index needs a describe(work_id) function")
        self.index = index
        self._describe = describe
        self._described: dict[int, RegisteredWork] = {}
        self.how = "built"

    @classmethod
    def from_registry(cls, registry, index_dir: str | os.PathLike[str] | None = None) -> "WorkMatcher":
        """The registry's persisted index when current, else rebuilt (``.how`` says which)."""
        index, how = load_or_build(registry, index_dir)
        matcher = cls(index=index, describe=describe_from_registry(registry))
        matcher.how = how
        return matcher

    def __len__(self) -> int:
        return len(self.index)

    def work(self, work_id: int) -> RegisteredWork:
        w = self._described.get(work_id)
        if w is None:
            w = self._described[work_id] = self._describe(work_id)
        return w

    def find_copies(self, image) -> list:
        """Registered works this image matches on the global pHash + PDQ alone, as ``CopyMatch``es
        (evidence method "phash+pdq"). Crops, mirrors and rotations need ``CopyDetector``, which
        uses this matcher as its fallback for works without a readable image."""
        from .copies import CopyDetector, load_image
        return CopyDetector(fallback=self)._fallback_matches(load_image(image))

    def lookup(self, phash: int, pdq_words: np.ndarray | None, max_distance: int = DEFAULT_MAX_DISTANCE,
               max_combined: float = DEFAULT_MAX_COMBINED,
               max_distance_without_pdq: int = DEFAULT_MAX_DISTANCE_WITHOUT_PDQ,
               ) -> list[tuple[RegisteredWork, int, int | None]]:
        """(work, pHash distance, PDQ distance or None) of every registered work this image matches."""
        return [(self.work(wid), d, pd) for wid, d, pd in
                self.index.lookup(phash, pdq_words, max_distance, max_combined, max_distance_without_pdq)]


# ---- hashing many files ---------------------------------------------------------------------------

def _chunks(paths: Iterable[str], size: int) -> Iterator[list[str]]:
    it = iter(paths)
    while chunk := list(islice(it, size)):
        yield chunk


def iter_hashed(paths: Iterable[str], workers: int = 1, chunk: int = CHUNK
                ) -> Iterator[tuple[list[str], np.ndarray, np.ndarray, np.ndarray]]:
    """(chunk of paths, phash, pdq words, ok) per chunk, in input order. With ``workers > 1`` the
    chunks are hashed in a process pool with at most ``2 * workers`` chunks in flight, so memory
    stays bounded however long the input is."""
    chunks = _chunks(paths, chunk)
    if workers <= 1:
        for c in chunks:
            yield (c, *hash_files(c))
        return
    # spawn, not fork: the caller may hold database connections and threads.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: deque = deque()
        for c in chunks:
            pending.append((c, pool.submit(hash_files, c)))
            if len(pending) >= 2 * workers:
                c0, fut = pending.popleft()
                yield (c0, *fut.result())
        while pending:
            c0, fut = pending.popleft()
            yield (c0, *fut.result())


def match_paths(paths: Iterable[str], matcher: WorkMatcher, *, max_distance: int = DEFAULT_MAX_DISTANCE,
                max_combined: float = DEFAULT_MAX_COMBINED, artist: str | None = None,
                terms_for: Callable[[RegisteredWork], dict | None] | None = None,
                progress: Callable[[int, int | None], None] | None = None, workers: int = 1,
                total: int | None = None) -> MatchReport:
    """Hash ``paths`` (streamed, in chunks, optionally in ``workers`` processes) and report every
    registered work found (optionally one artist's only). ``progress(done, total)`` after each chunk;
    ``total`` defaults to ``len(paths)`` for sequences, else None (unknown)."""
    report = MatchReport()
    want = artist.casefold() if artist else None
    terms_cache: dict[tuple, dict | None] = {}
    if total is None and isinstance(paths, Sized):
        total = len(paths)
    done = 0
    for chunk, ph, pq, ok in iter_hashed(paths, workers):
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
        done += len(chunk)
        if progress:
            progress(done, total)
    report.matches.sort(key=lambda m: (m.path, m.distance))
    return report


# ---- registry wiring (artlineage.registry) -----------------------------------------------------

def describe_from_registry(registry) -> Callable[[int], RegisteredWork]:
    """work id -> RegisteredWork read from the registry (artist names cached)."""
    names: dict[int, str] = {}

    def describe(work_id: int) -> RegisteredWork:
        w = registry.get_work(work_id)
        if w.artist_id not in names:
            names[w.artist_id] = registry.get_artist(w.artist_id).name
        return RegisteredWork(w.id, w.artist_id, names[w.artist_id], phash_from_db(w.phash64),
                              _pdq_bytes(w.pdq256), w.title)
    return describe


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
