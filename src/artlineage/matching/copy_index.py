"""The registry's copy-detection index, persisted next to the registry and updated incrementally.

Folder ``<registry>.copies/`` (beside ``<registry>.index/``; for a server database only when
``Registry(match_index=...)`` names a folder, else built in memory per run):

- ``base/``: a saved ``CopyIndex`` (window hashes, ORB features, work ids; opened with mmap), with
  ``windows.ivf`` (faiss inverted file over the window hashes) once it holds ``IVF_MIN_WORKS`` works;
- ``seg-NNNNNN/``: ``CopyIndex`` folders appended when works are added (``Registry.add_work_files``
  calls ``works_added``), folded into a new base once there are more than ``MAX_SEGMENTS``;
- ``failed.json``: work ids whose image could not be read (a URL location, a missing or broken
  file) with the reason, so they are not retried on every run (they still match through the
  registry's stored pHash/PDQ: ``CopyDetector``'s fallback).

``update`` fingerprints only the works the folder does not cover yet: adding works never rebuilds
everything. Works deleted from the registry are dropped at query time (their description fails).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .._files import write_text_atomic
from ..errors import HashError, NotFoundError
from ._local_features import faiss_or_none
from .copies import COARSE_WINDOWS, IVF_MIN_WORKS, CopyDetector, CopyIndex, fingerprint
from .work_index import _locked

MAX_SEGMENTS = 16


def default_dir(registry) -> Path | None:
    """``<registry file>.copies`` next to the pHash index folder (``<file>.index``), or None."""
    d = getattr(registry, "match_index_dir", None)
    if d is None:
        return None
    d = Path(d)
    stem = d.name[: -len(".index")] if d.name.endswith(".index") else d.name
    return d.with_name(stem + ".copies")


def _fingerprints(works: Iterable[Any], failed: dict[str, str]) -> list[tuple[int, Any]]:
    out = []
    for w in works:
        loc = getattr(w, "location", None)
        if not loc or "://" in str(loc) or not os.path.isfile(loc):
            failed[str(w.id)] = f"no local image file ({loc or 'no location'})"
            continue
        try:
            out.append((int(w.id), fingerprint(loc)))
        except HashError as exc:
            failed[str(w.id)] = str(exc)
        except Exception as exc:  # noqa: BLE001 - a hostile file (OpenCV, Pillow internals) fails alone
            failed[str(w.id)] = f"{loc}: {type(exc).__name__}: {exc}"
    return out


def load(directory: str | os.PathLike[str]) -> tuple[CopyIndex, dict[str, str]]:
    """(index of base + segments, failed work ids); an empty index when the folder is missing."""
    d = Path(directory)
    idx = CopyIndex()
    parts = []
    if (d / "base" / "meta.json").exists():
        parts.append(CopyIndex.load(d / "base"))
    for seg in sorted(d.glob("seg-*")):
        if (seg / "meta.json").exists():
            parts.append(CopyIndex.load(seg, mmap=False))
    if len(parts) == 1:
        idx = parts[0]
    elif parts:
        idx = concat(parts)
    failed: dict[str, str] = {}
    try:
        failed = json.loads((d / "failed.json").read_text())
    except (OSError, ValueError):
        pass
    return idx, failed


def concat(parts: list[CopyIndex]) -> CopyIndex:
    """One in-memory index of several, rows in order (loading a folder's base and segments, folding them)."""
    out = CopyIndex()
    out.work_ids = np.concatenate([p.work_ids for p in parts])
    out.hashes = np.concatenate([p.hashes for p in parts])
    offsets, base = [np.zeros(1, np.int64)], 0
    for p in parts:
        offsets.append(np.asarray(p.feat_offsets[1:]) + base)
        base += int(p.feat_offsets[-1])
    out.feat_offsets = np.concatenate(offsets)
    out.xy = np.concatenate([p.xy for p in parts])
    out.desc = np.concatenate([p.desc for p in parts])
    out.sizes = np.concatenate([p.sizes for p in parts])
    if len(out.desc):                  # posting lists kept (built for a part that lacks them), rows shifted
        out.word_parts, first = [], 0
        for p in parts:
            out.word_parts += [(w, f + first) for w, f in (p.words() if len(p.desc) else [])]
            first += len(p)
    if parts[0].ivf is not None:       # the base's inverted file takes the segments' windows
        out.ivf, out.ivf_windows = parts[0].ivf, parts[0].ivf_windows
        first = len(parts[0])
        for p in parts[1:]:
            out.ivf_add(np.asarray(p.hashes), first)
            first += len(p)
    return out


def without_rows(index: CopyIndex, drop: np.ndarray) -> CopyIndex:
    """A copy of ``index`` without the rows where ``drop`` is True (deleted works), no inverted file."""
    keep = ~drop
    out = CopyIndex()
    offsets = np.asarray(index.feat_offsets)
    counts = np.diff(offsets)[keep]
    feat_keep = np.repeat(keep, np.diff(offsets))
    out.work_ids = np.asarray(index.work_ids)[keep]
    out.hashes = np.asarray(index.hashes)[keep]
    out.feat_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    out.xy = np.asarray(index.xy)[feat_keep]
    out.desc = np.asarray(index.desc)[feat_keep]
    out.sizes = np.asarray(index.sizes)[keep]
    if index.word_parts is not None:   # the posting lists without those rows (a pass, not a rebuild)
        out.word_parts = [w.without(keep, first) for w, first in index.word_parts]
    return out


def update(registry, directory: str | os.PathLike[str] | None = None, works: Iterable[Any] | None = None
           ) -> tuple[CopyIndex, str]:
    """Bring the copy index up to date with the registry: fingerprint the works it lacks (all of
    ``registry.list_works()``, or just ``works``), persist them as a segment. Returns (index, how):
    "loaded" (nothing new), "appended", "compacted", or "built" (in memory: no folder)."""
    directory = Path(directory) if directory is not None else default_dir(registry)
    if directory is None:
        idx = CopyIndex()
        failed: dict[str, str] = {}
        idx.add(_fingerprints(registry.list_works() if works is None else works, failed))
        return idx, "built"
    with _locked(directory):
        idx, failed = load(directory)
        known = set(np.asarray(idx.work_ids).tolist()) | {int(k) for k in failed}
        todo = [w for w in (registry.list_works() if works is None else works) if int(w.id) not in known]
        if not todo:
            return idx, "loaded"
        new = CopyIndex()
        new.add(_fingerprints(todo, failed))
        write_text_atomic(json.dumps(failed), directory / "failed.json")
        segments = sorted(directory.glob("seg-*"))
        if len(segments) + 1 > MAX_SEGMENTS or not (directory / "base").exists():
            merged = concat([idx, new]) if len(idx) else new
            if merged.ivf is None and len(merged) >= IVF_MIN_WORKS and faiss_or_none() is not None:
                # minutes, once: from here on queries visit 64 lists, not all. With features the
                # visual words rank crops, so the file holds only the coarse windows (7x smaller)
                merged.build_ivf(windows=COARSE_WINDOWS if len(merged.desc) else None)
            tmp = directory / f".base.new-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            merged.save(tmp)
            old = directory / f".base.old-{os.getpid()}"
            if (directory / "base").exists():
                os.replace(directory / "base", old)
            os.replace(tmp, directory / "base")
            shutil.rmtree(old, ignore_errors=True)
            for s in segments:
                shutil.rmtree(s, ignore_errors=True)
            return merged, "compacted" if len(idx) else "built"
        n = int(segments[-1].name[4:]) + 1 if segments else 1
        if len(new):
            new.save(directory / f"seg-{n:06d}")
        return (concat([idx, new]) if len(idx) else new), "appended"


def works_added(registry, works: list) -> str:
    """``Registry.add_work_files`` hook: fingerprint the new works into the persisted folder."""
    directory = default_dir(registry)
    if directory is None or not works:
        return "unchanged"
    return update(registry, directory, works)[1]


def describe_from_registry(registry):
    """work id -> RegisteredWork, or None when the work was deleted."""
    from .match import describe_from_registry as describe
    inner = describe(registry)

    def safe(work_id: int):
        try:
            return inner(work_id)
        except NotFoundError:
            return None
    return safe


def detector_from_registry(registry, directory: str | os.PathLike[str] | None = None,
                           hash_index: str | os.PathLike[str] | None = None, **kw: Any) -> CopyDetector:
    """A ``CopyDetector`` over the registry's works: the copy index (updated first, ``.how`` says
    how) plus the registry's pHash/PDQ index for works without a readable image."""
    from .match import WorkMatcher
    idx, how = update(registry, directory)
    fallback = WorkMatcher.from_registry(registry, hash_index)
    det = CopyDetector(idx, describe_from_registry(registry), fallback=fallback, **kw)
    det.how = how
    return det
