"""Find registered works in a dataset with copy detection (``artlineage match``): every image of a
folder, manifest, scan database or WebDataset shard goes through ``CopyDetector.find_copies``; each
hit is reported with the work, artist, score, transform evidence and the artist's current terms.

An image that cannot be read (truncated, not an image, too large, hostile) is one error line in the
report, never a stopped run. With ``workers > 1`` images are matched in a process pool (spawn) with
at most ``4 * workers`` images in flight; the workers get the detector without its registry
connection and the parent process describes the works they find.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from typing import Any, Callable, Iterable, Iterator

from ..matching.copies import CopyDetector, CopyMatch
from ..matching.match import MatchReport, RegisteredWork, WorkMatch, WorkMatcher

Item = tuple[str, "str | bytes"]     # (label, local path | image bytes | "error: ...")


def _match_one(detector: CopyDetector, source: str | bytes) -> list[CopyMatch] | str:
    if isinstance(source, str) and source.startswith("error: "):
        return source[len("error: "):]
    try:
        return detector.find_copies(source)
    except Exception as exc:  # noqa: BLE001 - one image never stops the run (HashError, OpenCV errors)
        return f"{type(exc).__name__}: {exc}"


_worker_detector: CopyDetector | None = None


def _placeholder(work_id: int) -> RegisteredWork:
    return RegisteredWork(work_id, None, "", None)


def _portable(detector: CopyDetector) -> CopyDetector:
    """The detector without its registry handles (picklable): works are described by the parent."""
    fallback = None
    if detector.fallback is not None:
        fallback = WorkMatcher(index=detector.fallback.index, describe=_placeholder)
    return CopyDetector(detector.index, None, candidates=detector.candidates, min_inliers=detector.min_inliers,
                        hash_only_max_distance=detector.hash_only_max_distance, verify=detector.verify,
                        fallback=fallback)


def _init_worker(detector: CopyDetector) -> None:
    global _worker_detector
    _worker_detector = detector
    # One thread per worker process: the pool is the parallelism; faiss's OpenMP team and OpenCV's
    # pool on top oversubscribe the cores (a window scan 5 ms -> ~110 ms on a loaded 2-core box).
    from ..matching import _local_features as lf
    faiss = lf.faiss_or_none()
    if faiss is not None:
        faiss.omp_set_num_threads(1)
    if lf.cv2 is not None:
        lf.cv2.setNumThreads(1)


def _work_in_worker(source: str | bytes) -> list[CopyMatch] | str:
    assert _worker_detector is not None
    return _match_one(_worker_detector, source)


def _results(items: Iterable[Item], detector: CopyDetector, workers: int
             ) -> Iterator[tuple[str, list[CopyMatch] | str]]:
    if workers <= 1:
        for label, source in items:
            yield label, _match_one(detector, source)
        return
    ctx = multiprocessing.get_context("spawn")   # the caller may hold database connections and threads
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(_portable(detector),)) as pool:
        pending: deque = deque()
        for label, source in items:
            pending.append((label, pool.submit(_work_in_worker, source)))
            if len(pending) >= 4 * workers:
                lab, fut = pending.popleft()
                yield lab, fut.result()
        while pending:
            lab, fut = pending.popleft()
            yield lab, fut.result()


def find_copies_in(items: Iterable[Item], detector: CopyDetector, *, artist: str | None = None,
                   terms_for: Callable[[RegisteredWork], dict | None] | None = None,
                   progress: Callable[[int, int | None], None] | None = None, total: int | None = None,
                   workers: int = 1, progress_every: int = 64) -> MatchReport:
    """Match every (label, source) against ``detector``; ``report.hashed`` counts the images read."""
    report = MatchReport()
    want = artist.casefold() if artist else None
    terms_cache: dict[tuple, dict | None] = {}
    done = 0
    for label, found in _results(items, detector, workers):
        done += 1
        if isinstance(found, str):
            report.errors.append(f"{label}: {found}")
        else:
            report.hashed += 1
            for m in found:
                work = detector.describe(m.work_id) if workers > 1 else None
                if workers > 1 and work is None and detector._describe is not None:
                    continue   # deleted from the registry meanwhile
                name = work.artist if work is not None else m.artist
                if want and name.casefold() != want:
                    continue
                reg = work or RegisteredWork(m.work_id, m.artist_id, m.artist, None, None, m.title)
                terms = None
                if terms_for is not None:
                    key = (reg.artist_id, reg.work_id)
                    if key not in terms_cache:
                        terms_cache[key] = terms_for(reg)
                    terms = terms_cache[key]
                ev = asdict(m.evidence)
                report.matches.append(WorkMatch(label, reg.work_id, reg.artist_id, reg.artist, reg.title,
                                                m.distance, None, terms, m.score, ev))
        if progress and (done % progress_every == 0):
            progress(done, total)
    if progress:
        progress(done, total)
    report.matches.sort(key=lambda w: (w.path, -(w.score or 0), w.distance))
    return report
