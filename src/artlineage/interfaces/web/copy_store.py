"""The platform's copy index: every registered work's copy fingerprint (``artlineage.matching.copies``),
kept in a folder next to the platform database and brought up to date incrementally.

Platform uploads are stored by content (``media/originals/<sha[:2]>/<sha>.<ext>``, the work's location
is ``upload:<sha>``), so the registry-side index (``matching.copy_index``, built from works' file
locations) cannot read them; this one resolves each work to its image: the stored original for an
upload, the file for a registry work whose location is a local path. Works without a readable image
(a URL location, a missing or broken file) are recorded in ``failed.json`` and still match on their
stored pHash/PDQ (``WorkMatcher``, the detector's fallback).

Folder (``Platform.copies_dir``: ``<db>.copies`` next to a SQLite database, else ``<media>/copies``;
``ARTLINEAGE_PLATFORM_COPIES`` or ``create_app(copies_dir=...)`` chooses another):

- ``meta.json``: format, window set, whether ORB features were extracted;
- ``base/`` and ``seg-NNNNNN/``: ``CopyIndex`` folders, each with ``keys.json`` (per row: work id and
  content key, the work's sha256 or location, so a work id that SQLite reuses after a deletion never
  inherits the deleted work's fingerprint); a sync that finds new works appends one segment; more
  than ``MAX_SEGMENTS`` are folded into a new base (deduplicated, tombstones applied);
- ``tombstones.json``: (work id, key) of rows whose work was deleted or replaced, dropped on load and
  at the next fold;
- ``failed.json``: works whose image could not be fingerprinted, with the reason.

Syncing (``sync``, at most once per data version, see ``caches``): works with an id above the highest
seen are fingerprinted (at most ``MAX_PER_SYNC`` per call; the rest wait as "pending" and match on
their pHash/PDQ meanwhile); when the number of works in the database differs from what the index
accounts for (a deletion, or on PostgreSQL a transaction that committed a lower id late), the full
(id, key) list is compared once. A missing, stale (other format, windows, OpenCV now available) or
unreadable folder is rebuilt from the database, never a failed request.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..._files import write_text_atomic
from ...registry.models import Work, phash_from_db
from .models import Media

log = logging.getLogger(__name__)

FORMAT = 1
MAX_SEGMENTS = 16
MAX_PER_SYNC = 200          # fingerprints per request (~20-50 ms each): a cold start never blocks for long


@dataclass(frozen=True)
class WorkImage:
    """A registered work as the copy index needs it."""

    work_id: int
    artist_id: int
    key: str                     # sha256, else location: what the fingerprint was made from
    path: Path | None            # the image to fingerprint (None: nothing local)
    phash64: int | None
    pdq256: str | None


@dataclass(frozen=True)
class CopyIndexState:
    """What an answer says about the index it was searched in."""

    works: int                   # fingerprinted works
    pending: int                 # not fingerprinted yet (matched on pHash/PDQ meanwhile)
    without_image: int           # no readable image: pHash/PDQ only
    verification: bool           # ORB + RANSAC available (OpenCV installed)
    how: str                     # how the index was opened: loaded, built, rebuilt (reason)

    @property
    def method(self) -> str:
        return "window hashes and visual words + ORB/RANSAC verification" if self.verification else "window hashes only"

    @property
    def note(self) -> str | None:
        if self.verification:
            return None
        return ("OpenCV is not installed on this server, so copies are found by window hashes only: "
                "resized, recompressed, mirrored and lightly cropped copies are found, hard crops and "
                "rotations mostly are not.")

    def to_dict(self) -> dict[str, Any]:
        return {"works": self.works, "pending": self.pending, "without_image": self.without_image,
                "method": self.method, "verification": self.verification, "note": self.note, "how": self.how}


def _copies():  # the matching part is optional: the platform runs without it (no similarity answers)
    from ...matching import copies
    return copies


def _one_thread_per_request() -> None:
    """The server already runs requests in parallel threads: faiss's OpenMP team and OpenCV's pool on
    top oversubscribe the cores (measured, 10k works on a loaded 2-core box: a query's window scan took
    ~110 ms with OpenMP's 2 threads, 5-6 ms with one)."""
    from ...matching import _local_features as lf
    faiss = lf.faiss_or_none()
    if faiss is not None:
        faiss.omp_set_num_threads(1)
    if lf.cv2 is not None:
        lf.cv2.setNumThreads(1)


def _keys_of(work_ids: np.ndarray, keys: list[str]) -> list[tuple[int, str]]:
    return list(zip((int(w) for w in np.asarray(work_ids).tolist()), keys))


def _locked(directory: Path) -> Any:
    """One writer at a time among the worker processes sharing the folder (the registry index's lock
    file beside the folder; imported when used: the matching part loads on the first copy check)."""
    from ...matching.work_index import _locked as locked_beside
    return locked_beside(directory)


def _part_id(part: Path) -> str:
    """A part as read: a segment by its (never reused) name, the base by when it was written."""
    return f"base@{_mtime(part / 'meta.json')}" if part.name == "base" else part.name


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


@dataclass
class _Disk:
    """The folder's content, read or written under the lock."""

    directory: Path

    def meta_ok(self) -> str | None:
        """None when the folder can be used, else why it must be rebuilt."""
        copies = _copies()
        try:
            meta = json.loads((self.directory / "meta.json").read_text())
        except FileNotFoundError:
            return "missing"
        except (OSError, ValueError) as exc:
            return f"unreadable meta.json ({exc})"
        if meta.get("format") != FORMAT or meta.get("windows") != list(copies.WINDOWS):
            return "other format or window set"
        from ...matching import _local_features as lf
        if lf.available() and not meta.get("features"):
            return "built without OpenCV, which is installed now"
        return None

    def parts(self) -> list[Path]:
        d = self.directory
        return ([d / "base"] if (d / "base" / "meta.json").exists() else []) + sorted(
            p for p in d.glob("seg-*") if (p / "meta.json").exists())

    def read_part(self, part: Path) -> tuple[Any, list[str]]:
        idx = _copies().CopyIndex.load(part, mmap=part.name == "base")
        keys = json.loads((part / "keys.json").read_text())
        if not isinstance(keys, list) or len(keys) != len(idx):
            raise ValueError(f"{part}: keys.json does not match the index")
        return idx, [str(k) for k in keys]

    def write_part(self, part: Path, idx: Any, keys: list[str]) -> None:
        tmp = part.with_name(f".{part.name}.new-{os.getpid()}-{threading.get_ident()}")
        shutil.rmtree(tmp, ignore_errors=True)
        idx.save(tmp)
        write_text_atomic(json.dumps(keys), tmp / "keys.json")
        old = part.with_name(f".{part.name}.old-{os.getpid()}-{threading.get_ident()}")
        if part.exists():
            os.replace(part, old)
        os.replace(tmp, part)
        shutil.rmtree(old, ignore_errors=True)

    def read_json(self, name: str, default: Any) -> Any:
        try:
            return json.loads((self.directory / name).read_text())
        except FileNotFoundError:
            return default

    def write_json(self, name: str, value: Any) -> None:
        write_text_atomic(json.dumps(value), self.directory / name)

    def reset(self) -> None:
        """Empty folder with a fresh meta.json (rebuild)."""
        from ...matching import _local_features as lf
        if self.directory.exists():
            aside = self.directory.with_name(f".{self.directory.name}.broken-{os.getpid()}")
            shutil.rmtree(aside, ignore_errors=True)
            os.replace(self.directory, aside)
            shutil.rmtree(aside, ignore_errors=True)
        self.directory.mkdir(parents=True)
        self.write_json("meta.json", {"format": FORMAT, "windows": list(_copies().WINDOWS),
                                      "features": lf.available()})


@dataclass
class PlatformCopyIndex:
    """The in-memory copy index of one platform process, backed by the shared folder."""

    directory: Path
    image_path: Callable[[str | None, str | None, str | None], Path | None]  # (location, sha256, stored name)
    index: Any = None                       # CopyIndex
    keys: list[str] = field(default_factory=list)         # per index row
    indexed: dict[int, str] = field(default_factory=dict)  # work id -> key of its live row
    failed: dict[int, tuple[str, str]] = field(default_factory=dict)  # work id -> (key, reason)
    pending: dict[int, WorkImage] = field(default_factory=dict)
    hashes: dict[int, tuple[int, int | None, str | None]] = field(default_factory=dict)  # id -> (artist, pHash, PDQ)
    top: int = 0
    how: str = "not opened"
    _seen_parts: set[str] = field(default_factory=set)
    _fallback: Any = None
    _fallback_ids: frozenset[int] = frozenset()
    _version: Any = None
    _tomb_mtime: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ---- reading the database
    def _rows(self, s: Session, after: int | None = None, limit: int | None = None) -> list[WorkImage]:
        q = (select(Work.id, Work.artist_id, Work.location, func.coalesce(Work.sha256, Media.sha256), Work.phash64,
                    Work.pdq256, Media.stored_name)
             .outerjoin(Media, Media.work_id == Work.id).order_by(Work.id))
        if after is not None:
            q = q.where(Work.id > after)
        if limit is not None:
            q = q.limit(limit)
        out = []
        for wid, aid, loc, sha, ph, pdq, stored in s.execute(q):
            out.append(WorkImage(int(wid), int(aid), sha or loc or "", self.image_path(loc, sha, stored),
                                 phash_from_db(ph), pdq))
        return out

    # ---- opening
    def _open(self, s: Session) -> None:
        """Load the folder (or rebuild it when missing, stale or unreadable), then compare with the database."""
        _one_thread_per_request()
        disk = _Disk(self.directory)
        with _locked(self.directory):
            why = disk.meta_ok()
            loaded = False
            if why is None:
                try:
                    self._load(disk)
                    loaded = True
                except Exception as exc:  # noqa: BLE001 - a corrupt folder is rebuilt, never a failed request
                    why = f"unreadable ({type(exc).__name__}: {exc})"
            if not loaded:
                if why != "missing":
                    log.warning("copy index %s: %s; rebuilding it from the database", self.directory, why)
                disk.reset()
                self._clear()
            self.how = "loaded" if loaded else ("built" if why == "missing" else f"rebuilt ({why})")
        self._full_diff(s)
        if len(self.index.desc):
            self.index.words()   # visual words ready at start-up (a folder from before them: built now, once)

    def _clear(self) -> None:
        self.index, self.keys, self.indexed, self._seen_parts = _copies().CopyIndex(), [], {}, set()
        self.failed, self.pending, self.top = {}, {}, 0

    def _load(self, disk: _Disk) -> None:
        parts = [disk.read_part(p) for p in disk.parts()]
        tomb = {(int(w), str(k)) for w, k in disk.read_json("tombstones.json", [])}
        failed = {int(w): (str(k), str(r)) for w, (k, r) in disk.read_json("failed.json", {}).items()}
        self._clear()
        self._seen_parts = {_part_id(p) for p in disk.parts()}
        self.failed = failed
        self._append_rows([(idx, keys) for idx, keys in parts], tomb)

    def _append_rows(self, parts: list[tuple[Any, list[str]]], tomb: set[tuple[int, str]] = frozenset()) -> None:  # type: ignore[assignment]
        """Add loaded parts to the in-memory index, skipping tombstoned and already indexed rows."""
        from ...matching.copy_index import concat, without_rows
        pieces = [self.index] if len(self.index) else []
        for idx, keys in parts:
            pairs = _keys_of(idx.work_ids, keys)
            drop = np.array([(w, k) in tomb or self.indexed.get(w) == k for w, k in pairs], dtype=bool)
            if drop.all():
                continue
            if drop.any():
                idx = without_rows(idx, drop)
                pairs = [p for p, d in zip(pairs, drop) if not d]
            for w, k in pairs:
                if w in self.indexed:  # the same work id with another key: the older row is dead
                    self._drop_ids({w})
                self.indexed[w] = k
                self.failed.pop(w, None)
                self.pending.pop(w, None)
            self.keys += [k for _w, k in pairs]
            pieces.append(idx)
        if len(pieces) > 1 or (pieces and pieces[0] is not self.index):
            self.index = concat(pieces) if len(pieces) > 1 else pieces[0]
        if self.indexed:
            self.top = max(self.top, max(self.indexed))

    def _drop_ids(self, ids: set[int]) -> None:
        if not ids:
            return
        from ...matching.copy_index import without_rows
        drop = np.isin(np.asarray(self.index.work_ids), np.fromiter(ids, np.int64))
        if drop.any():
            self.index = without_rows(self.index, drop)
            self.keys = [k for k, d in zip(self.keys, drop.tolist()) if not d]
        for w in ids:
            self.indexed.pop(w, None)

    # ---- deletions
    def forget(self, work_id: int) -> None:
        """A work is being deleted: drop it now and tombstone its rows on disk for the other workers
        (which read ``tombstones.json`` when it changes). Should the deletion roll back, the next
        comparison with the database finds the work unindexed and fingerprints it again."""
        with self._lock:
            key = self.indexed.get(work_id)
            self.failed.pop(work_id, None)
            self.pending.pop(work_id, None)
            self.hashes.pop(work_id, None)
            if key is None or self.index is None:
                return
            self._drop_ids({work_id})
            self._tombstone([(work_id, key)])

    def _tombstone(self, pairs: list[tuple[int, str]]) -> None:
        with _locked(self.directory):
            disk = _Disk(self.directory)
            old = {(int(w), str(k)) for w, k in disk.read_json("tombstones.json", [])}
            if not set(pairs) <= old:
                disk.write_json("tombstones.json", sorted(old | set(pairs)))
            self._tomb_mtime = _mtime(self.directory / "tombstones.json")

    def _apply_tombstones(self) -> None:
        """Rows other workers tombstoned since we last looked (a file stat when nothing changed)."""
        path = self.directory / "tombstones.json"
        mtime = _mtime(path)
        if mtime == self._tomb_mtime:
            return
        self._tomb_mtime = mtime
        try:
            tomb = {(int(w), str(k)) for w, k in json.loads(path.read_text())}
        except (OSError, ValueError):
            return
        self._drop_ids({w for w, k in self.indexed.items() if (w, k) in tomb})

    # ---- syncing with the database
    def _full_diff(self, s: Session) -> None:
        rows = self._rows(s)
        current = {r.work_id: r for r in rows}
        gone = {w for w, k in self.indexed.items() if w not in current or current[w].key != k}
        if gone:
            tomb = [(w, self.indexed[w]) for w in gone]
            self._drop_ids(gone)
            self._tombstone(tomb)
        self.failed = {w: v for w, v in self.failed.items() if w in current and current[w].key == v[0]}
        self.pending = {r.work_id: r for r in rows if r.work_id not in self.indexed and r.work_id not in self.failed}
        self.hashes = {r.work_id: (r.artist_id, r.phash64, r.pdq256) for r in rows
                       if r.work_id not in self.indexed and (r.phash64 is not None or r.pdq256 is not None)}
        self.top = max([self.top] + list(current))

    def sync(self, s: Session, version: Any = None) -> None:
        """Bring the index up to date with the database (cheap when nothing changed: two queries, or
        none when ``version``, the platform's data version, is the one last synced)."""
        with self._lock:
            if self.index is None:
                self._open(s)
            elif version is not None and version == self._version and not self.pending:
                return
            else:
                self._apply_tombstones()
                if self._disk_changed():
                    with _locked(self.directory):
                        self._refresh(_Disk(self.directory))
                for r in self._rows(s, after=self.top, limit=100_000):
                    self.pending[r.work_id] = r
                    if r.phash64 is not None or r.pdq256 is not None:
                        self.hashes[r.work_id] = (r.artist_id, r.phash64, r.pdq256)
                    self.top = max(self.top, r.work_id)
                total = s.scalar(select(func.count()).select_from(Work)) or 0
                if total != len(self.indexed) + len(self.failed) + len(self.pending):
                    self._full_diff(s)
            self._fingerprint_pending()
            self._version = version

    def _fingerprint_pending(self) -> None:
        if not self.pending:
            return
        copies = _copies()
        todo = sorted(self.pending.values(), key=lambda r: r.work_id)[:MAX_PER_SYNC]
        disk = _Disk(self.directory)
        with _locked(self.directory):
            if disk.meta_ok() is not None:  # removed or replaced under us: start again from the database
                disk.reset()
                self._clear()
                self.how = "rebuilt (folder removed while open)"
                todo = []
            self._refresh(disk)  # rows other workers wrote since: taken, not fingerprinted again
            todo = [r for r in todo if self.indexed.get(r.work_id) != r.key]
            items, keys = [], []
            failed = {int(w): v for w, v in disk.read_json("failed.json", {}).items()}
            for r in todo:
                self.pending.pop(r.work_id, None)
                if failed.get(r.work_id, (None,))[0] == r.key:
                    self.failed[r.work_id] = tuple(failed[r.work_id])  # type: ignore[assignment]
                    continue
                try:
                    if r.path is None:
                        raise copies.HashError(f"no local image file ({r.key[:80] or 'no location'})")
                    items.append((r.work_id, copies.fingerprint(r.path)))
                    keys.append(r.key)
                except copies.HashError as exc:
                    self.failed[r.work_id] = (r.key, str(exc))
                except Exception as exc:  # noqa: BLE001 - a hostile file fails alone
                    self.failed[r.work_id] = (r.key, f"{type(exc).__name__}: {exc}")
            new = copies.CopyIndex()
            new.add(items)
            if failed != self.failed:
                disk.write_json("failed.json", {str(w): list(v) for w, v in {**failed, **self.failed}.items()})
            if len(new):
                # a work fingerprinted again after a rolled-back deletion: its rows are alive again
                tomb = {(int(w), str(k)) for w, k in disk.read_json("tombstones.json", [])}
                back = tomb & set(_keys_of(new.work_ids, keys))
                if back:
                    disk.write_json("tombstones.json", sorted(tomb - back))
                segs = sorted(p.name for p in disk.parts() if p.name != "base")
                n = int(segs[-1][4:10]) + 1 if segs else 1
                # a random tail: after a fold numbering starts again, and another worker must not take
                # the new seg-000001 for the one it has already read
                name = f"seg-{n:06d}-{secrets.token_hex(3)}"
                disk.write_part(self.directory / name, new, keys)
                self._seen_parts.add(name)
                self._append_rows([(new, keys)])
                if len(segs) + 1 > MAX_SEGMENTS:
                    self._fold(disk)
        for w in [w for w in self.hashes if w in self.indexed]:
            del self.hashes[w]

    def _fold(self, disk: _Disk) -> None:
        """Segments and tombstones into a new base: this process's index (which has every row on disk)."""
        disk.write_part(self.directory / "base", self.index, self.keys)
        for p in disk.parts():
            if p.name != "base":
                shutil.rmtree(p, ignore_errors=True)
        disk.write_json("tombstones.json", [])
        self.index = _copies().CopyIndex.load(self.directory / "base", mmap=True)
        self._seen_parts = {_part_id(self.directory / "base")}

    def _refresh(self, disk: _Disk) -> None:
        """Under the lock: take the segments other workers appended, or everything after a fold."""
        parts = disk.parts()
        fresh = [p for p in parts if _part_id(p) not in self._seen_parts]
        if not fresh:
            return
        tomb = {(int(w), str(k)) for w, k in disk.read_json("tombstones.json", [])}
        if any(p.name == "base" for p in fresh):  # folded by another worker: reread everything
            self.index, self.keys, self.indexed, self._seen_parts = _copies().CopyIndex(), [], {}, set()
            fresh = parts
        self._seen_parts |= {_part_id(p) for p in fresh}
        self._append_rows([disk.read_part(p) for p in fresh], tomb)

    def _disk_changed(self) -> bool:
        """Whether another worker wrote parts we have not read (a directory listing, no lock)."""
        return any(_part_id(p) not in self._seen_parts for p in _Disk(self.directory).parts())

    # ---- querying
    def fallback(self) -> Any:
        """pHash/PDQ matcher over the works without a fingerprint (pending or without an image)."""
        ids = frozenset(w for w in self.hashes if w not in self.indexed)
        if ids != self._fallback_ids:
            from ...matching.match import RegisteredWork, WorkMatcher
            from ...matching.work_index import WorkIndex, WorkRows
            if ids:
                rows = [(w, self.hashes[w][0], self.hashes[w][1], self.hashes[w][2]) for w in sorted(ids)]
                self._fallback = WorkMatcher(index=WorkIndex(WorkRows.from_hashes(rows)),
                                             describe=lambda wid: RegisteredWork(wid, None, "", None))
            else:
                self._fallback = None
            self._fallback_ids = ids
        return self._fallback

    def detector(self) -> Any:
        copies = _copies()
        with self._lock:
            return copies.CopyDetector(self.index, None, fallback=self.fallback(), every_copy=True)

    def state(self) -> CopyIndexState:
        from ...matching import _local_features as lf
        return CopyIndexState(len(self.indexed), len(self.pending), len(self.failed), lf.available(), self.how)
