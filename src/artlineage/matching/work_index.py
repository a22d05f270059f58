"""The registry's perceptual-match index, persisted next to the registry and updated incrementally.

``artlineage match`` used to read every registered work's hashes and rebuild the Hamming index on
every run. Now a folder (``<registry>.sqlite.index/`` by default) holds:

- ``base/``: a saved ``HammingIndex`` over the works' pHashes (ids = work ids) plus, in the same
  order, ``work_ids.npy`` / ``artist_ids.npy`` / ``pdq.npy`` / ``has_pdq.npy`` (opened with mmap);
- ``seg-NNNNNN.npz``: segments appended by ``Registry.add_work_files`` (one per call, tiny);
- ``meta.json``: the segment list and the registry's ``(works with a pHash, largest work id)`` at
  the time of the last write. A loader whose registry reports other numbers treats the index as
  stale and rebuilds it (works added through a path that does not update the index, deletions, a
  crash between writing a segment and ``meta.json``). ``Registry.set_work_hashes`` removes
  ``meta.json``, since changing a hash in place leaves those numbers unchanged.

Writers take an exclusive ``fcntl`` lock on ``<folder>.lock`` (POSIX; elsewhere concurrent writers
are not serialised). Many segments are compacted into a new base (a full save) once they hold
``max(50_000, base // 8)`` rows or number more than ``MAX_SEGMENTS``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from .._files import write_atomic, write_text_atomic

from .hashing import pdq_to_words, phash_from_db
from .index import HammingIndex

FORMAT_VERSION = 1
MAX_SEGMENTS = 64
_COLUMNS = ("work_ids", "artist_ids", "phash", "pdq", "has_pdq")


@dataclass
class WorkRows:
    """Columns of registered works that have a pHash (one row per work)."""

    work_ids: np.ndarray      # int64
    artist_ids: np.ndarray    # int64 (-1: none)
    phash: np.ndarray         # uint64
    pdq: np.ndarray           # (n, 4) uint64, zero where has_pdq is False
    has_pdq: np.ndarray       # bool

    def __len__(self) -> int:
        return len(self.work_ids)

    @classmethod
    def empty(cls) -> "WorkRows":
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint64),
                   np.zeros((0, 4), np.uint64), np.zeros(0, bool))

    @classmethod
    def from_hashes(cls, rows: Iterable[tuple[int, int | None, int | None, Any]]) -> "WorkRows":
        """From (work_id, artist_id, phash64, pdq256 as hex/bytes/None); rows without a pHash are skipped."""
        wid, aid, ph, pq, has = [], [], [], [], []
        for work_id, artist_id, phash, pdq in rows:
            if phash is None:
                continue
            wid.append(int(work_id))
            aid.append(-1 if artist_id is None else int(artist_id))
            ph.append(int(phash))
            if pdq:
                pq.append(pdq_to_words(bytes.fromhex(pdq) if isinstance(pdq, str) else bytes(pdq)))
                has.append(True)
            else:
                pq.append(np.zeros(4, np.uint64))
                has.append(False)
        if not wid:
            return cls.empty()
        return cls(np.array(wid, np.int64), np.array(aid, np.int64), np.array(ph, np.uint64),
                   np.array(pq, np.uint64).reshape(-1, 4), np.array(has, bool))

    @classmethod
    def concat(cls, parts: list["WorkRows"]) -> "WorkRows":
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate([np.asarray(getattr(p, c)) for p in parts]) for c in _COLUMNS))

    def as_arrays(self) -> dict[str, np.ndarray]:
        return {c: np.asarray(getattr(self, c)) for c in _COLUMNS}


class WorkIndex:
    """pHash index over registered works (ids = work ids) plus each work's artist id and PDQ words."""

    def __init__(self, base: WorkRows | None = None):
        self.phash = HammingIndex(64)
        self._parts: list[WorkRows] = []
        self._base = WorkRows.empty()
        self._delta = WorkRows.empty()
        if base is not None and len(base):
            order = np.argsort(base.work_ids, kind="stable")
            self._base = WorkRows(*(np.asarray(getattr(base, c))[order] for c in _COLUMNS))
            self.phash.add(self._base.work_ids, self._base.phash)
            self.phash.merge()

    def __len__(self) -> int:
        return len(self._base) + len(self._delta)

    def add(self, rows: WorkRows) -> None:
        if not len(rows):
            return
        self.phash.add(rows.work_ids, rows.phash)
        self._delta = WorkRows.concat([self._delta, rows])

    def rows(self) -> WorkRows:
        return WorkRows.concat([self._base, self._delta])

    def _row(self, work_id: int) -> tuple[WorkRows, int]:
        ids = self._base.work_ids           # sorted by work id (``save`` sorts; ``__init__`` merges)
        i = int(np.searchsorted(ids, work_id))
        if i < len(ids) and ids[i] == work_id:
            return self._base, i
        hit = np.flatnonzero(self._delta.work_ids == work_id)   # the delta is small and unsorted
        if len(hit):
            return self._delta, int(hit[0])
        raise KeyError(work_id)

    def artist_id(self, work_id: int) -> int | None:
        part, i = self._row(work_id)
        a = int(part.artist_ids[i])
        return None if a < 0 else a

    def lookup(self, phash: int, pdq_words: np.ndarray | None, max_distance: int, max_combined: float,
               max_distance_without_pdq: int) -> list[tuple[int, int, int | None]]:
        """(work id, pHash distance, PDQ distance or None) of every work this image matches: pHash
        within ``max_distance``, confirmed by ``phash_d / 64 + pdq_d / 256 <= max_combined`` when
        both sides have PDQ, else by ``phash_d <= max_distance_without_pdq``."""
        res = self.phash.search(np.uint64(phash), max_distance)
        out = []
        for work_id, d in zip(res.ids.tolist(), res.distances.tolist()):
            part, i = self._row(work_id)
            pd = None
            if pdq_words is not None and part.has_pdq[i]:
                pd = int(np.bitwise_count(np.asarray(part.pdq[i]) ^ pdq_words).sum())
                if d / 64 + pd / 256 > max_combined:
                    continue
            elif d > max_distance_without_pdq:
                continue
            out.append((work_id, d, pd))
        return out

    # ---- persistence -----------------------------------------------------------------------
    def save(self, directory: str | os.PathLike[str], registry_stats: tuple[int, int]) -> Path:
        """Write everything as a new base (segments folded in), replacing the folder's contents."""
        d = Path(directory)
        tmp = d.with_name(f".{d.name}.new-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        rows = self.rows()
        order = np.argsort(rows.work_ids, kind="stable")
        rows = WorkRows(*(np.asarray(getattr(rows, c))[order] for c in _COLUMNS))
        base = HammingIndex(64)
        base.add(rows.work_ids, rows.phash)
        base.save(tmp / "base")
        for name, arr in rows.as_arrays().items():
            if name != "phash":
                np.save(tmp / "base" / f"{name}.npy", arr)
        _write_meta(tmp, {"format": FORMAT_VERSION, "base_rows": len(rows), "segments": [],
                          "registry": list(registry_stats)})
        old = d.with_name(f".{d.name}.old-{os.getpid()}")
        if d.exists():
            os.replace(d, old)
        os.replace(tmp, d)
        shutil.rmtree(old, ignore_errors=True)
        self.phash, self._base, self._delta = HammingIndex.load(d / "base"), _load_base_rows(d / "base"), WorkRows.empty()
        return d

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> tuple["WorkIndex", dict]:
        """(index, meta); raises ValueError / OSError when the folder is missing or unreadable."""
        d = Path(directory)
        meta = read_meta(d)
        if meta is None:
            raise FileNotFoundError(f"{d}: no index")
        idx = cls()
        idx.phash = HammingIndex.load(d / "base")
        idx._base = _load_base_rows(d / "base")
        if len(idx._base) != meta["base_rows"]:
            raise ValueError(f"{d}: base rows disagree with meta.json")
        for seg in meta["segments"]:
            with np.load(d / seg) as z:
                idx.add(WorkRows(*(z[c] for c in _COLUMNS)))
        return idx, meta


def _load_base_rows(base: Path) -> WorkRows:
    ph = np.load(base / "words.npy", mmap_mode="r")
    return WorkRows(np.load(base / "work_ids.npy", mmap_mode="r"), np.load(base / "artist_ids.npy", mmap_mode="r"),
                    ph[:, 0] if len(ph) else np.zeros(0, np.uint64),
                    np.load(base / "pdq.npy", mmap_mode="r"), np.load(base / "has_pdq.npy", mmap_mode="r"))


def read_meta(directory: str | os.PathLike[str]) -> dict | None:
    p = Path(directory) / "meta.json"
    try:
        meta = json.loads(p.read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == FORMAT_VERSION else None


def _write_meta(directory: Path, meta: dict) -> None:
    write_text_atomic(json.dumps(meta), directory / "meta.json")


def invalidate(directory: str | os.PathLike[str] | None) -> None:
    """Mark the index stale (the next ``load_or_build`` rebuilds it)."""
    if directory is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(Path(directory) / "meta.json")


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(directory.with_name(directory.name + ".lock"), "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ---- registry wiring -------------------------------------------------------------------------

def rows_from_registry(registry) -> WorkRows:
    return WorkRows.from_hashes((r.work_id, r.artist_id, r.phash64, r.pdq256) for r in registry.works_with_hashes())


def build(registry, directory: str | os.PathLike[str] | None = None) -> WorkIndex:
    """Index every registered work with a pHash; saved to ``directory`` when given."""
    stats = registry.work_hash_stats()
    idx = WorkIndex(rows_from_registry(registry))
    if directory is not None:
        with _locked(Path(directory)):
            idx.save(directory, stats)
    return idx


def load_or_build(registry, directory: str | os.PathLike[str] | None = None) -> tuple[WorkIndex, str]:
    """(index, how): "loaded" from the persisted folder when it is current, else "rebuilt" (and
    saved), or "built" in memory when there is no folder (a server database with no index path)."""
    directory = directory if directory is not None else getattr(registry, "match_index_dir", None)
    if directory is None:
        return build(registry), "built"
    meta = read_meta(directory)
    if meta is not None and tuple(meta.get("registry", ())) == registry.work_hash_stats():
        try:
            return WorkIndex.load(directory)[0], "loaded"
        except (OSError, ValueError, KeyError):
            pass   # damaged: rebuild below
    return build(registry, directory), "rebuilt"


def works_added(registry, works: list) -> str:
    """Called by ``Registry.add_work_files`` after its commit with the new ``Work`` rows: append
    them as a segment when the index was current before them, else rebuild; then fingerprint them
    into the copy-detection index beside it (``copy_index``). Returns what it did to this index."""
    how = _hash_works_added(registry, works)
    from . import copy_index
    try:
        copy_index.works_added(registry, works)
    except OSError as exc:
        # The works are registered; the copy index catches up on its next update (it fingerprints
        # whatever the registry has that it lacks), so a full disk here must not fail the registration.
        import warnings
        warnings.warn(f"copy index not updated ({exc}); it catches up on the next match", stacklevel=2)
    return how


def _hash_works_added(registry, works: list) -> str:
    directory = Path(registry.match_index_dir)
    new = WorkRows.from_hashes((w.id, w.artist_id, phash_from_db(w.phash64), w.pdq256) for w in works)
    with _locked(directory):
        stats = registry.work_hash_stats()
        meta = read_meta(directory)
        before = tuple(meta.get("registry", ())) if meta else None
        current = (before is not None and before[0] + len(new) == stats[0]
                   and (not len(new) or (int(new.work_ids.min()) > before[1] and int(new.work_ids.max()) == stats[1])))
        if not current:
            idx = WorkIndex(rows_from_registry(registry))
            idx.save(directory, stats)
            return "rebuilt"
        if not len(new):
            return "unchanged"
        segments = list(meta["segments"])
        pending = sum(_segment_rows(directory / s) for s in segments) + len(new)
        if len(segments) + 1 > MAX_SEGMENTS or pending > max(50_000, meta["base_rows"] // 8):
            idx, _ = WorkIndex.load(directory)
            idx.add(new)
            idx.save(directory, stats)
            return "compacted"
        name = f"seg-{(int(segments[-1][4:10]) + 1) if segments else 1:06d}.npz"
        arrays = new.as_arrays()

        def save_segment(tmp: str) -> None:
            with open(tmp, "wb") as fh:  # a file object: np.savez would append ".npz" to a temp name
                np.savez(fh, **arrays)

        write_atomic(directory / name, save_segment)
        _write_meta(directory, {**meta, "segments": segments + [name], "registry": list(stats)})
        return "appended"


def _segment_rows(path: Path) -> int:
    with np.load(path) as z:
        return len(z["work_ids"])
