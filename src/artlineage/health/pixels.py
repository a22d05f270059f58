"""The pixel pass of a health report: decode each image once (bounded thumbnail) for its perceptual hash
and its embedding, in batches, optionally in worker processes."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .duplicates import hash_image
from .embeddings import Embedder, StatisticsEmbedder, load_thumbnail


@dataclass
class PixelFeatures:
    """Per-record hashes and embeddings; ``ok[i]`` is False where the image could not be decoded."""

    ok: np.ndarray
    hashes: np.ndarray  # uint64
    embeddings: np.ndarray  # (n, d) float32, zero rows where not ok
    failures: list[tuple[str, str]]


def _features_batch(args: tuple[list[str], Embedder]) -> tuple[list[bool], list[int], np.ndarray, list[tuple[str, str]]]:
    paths, embedder = args
    thumbs, ok, hashes, failures = [], [], [], []
    for path in paths:
        try:
            img = load_thumbnail(path)
            img.load()
            h = hash_image(path)  # the project's pHash of the full image, as ``match`` and the registry store it
            thumbs.append(img)
            ok.append(True)
            hashes.append(h)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop a health pass
            ok.append(False)
            hashes.append(0)
            failures.append((path, f"{type(exc).__name__}: {exc}"))
    emb = embedder.embed(thumbs) if thumbs else None
    return ok, hashes, (emb if emb is not None else np.zeros((0, 0), np.float32)), failures


def compute_pixel_features(paths: Sequence[str], embedder: Embedder | None = None, *, workers: int = 1,
                           batch_size: int = 64, progress: Callable[[int, int], None] | None = None
                           ) -> PixelFeatures:
    """Decode each image once (bounded thumbnail) for its perceptual hash and its embedding."""
    embedder = embedder or StatisticsEmbedder()
    batches = [list(paths[i:i + batch_size]) for i in range(0, len(paths), batch_size)]
    # Only the weight-free embedder is sent to worker processes; a model session stays in-process.
    parallel = workers > 1 and isinstance(embedder, StatisticsEmbedder) and len(batches) > 1
    tasks = [(b, embedder) for b in batches]
    ok: list[bool] = []
    hashes: list[int] = []
    rows: list[np.ndarray] = []
    failures: list[tuple[str, str]] = []
    pool = ProcessPoolExecutor(workers) if parallel else None
    try:
        results = pool.map(_features_batch, tasks) if pool else map(_features_batch, tasks)
        for b_ok, b_hash, b_emb, b_fail in results:
            ok += b_ok
            hashes += b_hash
            if len(b_emb):
                rows.append(b_emb)
            failures += b_fail
            if progress:
                progress(len(ok), len(paths))
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    ok_arr = np.array(ok, bool)
    dim = rows[0].shape[1] if rows else 0
    emb = np.zeros((len(paths), dim), np.float32)
    if rows:
        emb[ok_arr] = np.concatenate(rows)
    return PixelFeatures(ok_arr, np.array(hashes, np.uint64), emb, failures)
