"""Near-duplicate clusters from 64-bit perceptual hashes.

One pHash and one Hamming index for the whole project: hashes come from ``artlineage.matching.hashing``
(the same values ``artlineage match`` and the registry store) and pairs within a distance from
``artlineage.matching.index.near_pairs`` (tiled popcounts for small sets, the multi-index
``HammingIndex`` above that). Clusters are the connected components of the pair graph.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..matching import hashing
from ..matching.hashing import hamming64 as hamming  # noqa: F401  (re-exported: health's public name)
from ..matching.index import near_pairs
from .embeddings import ImageLike, load_thumbnail

DEFAULT_MAX_DISTANCE = 8  # of 64 bits: survives resizing and recompression, rarely joins unrelated images


def phash64(image: ImageLike) -> int:
    """64-bit perceptual hash of an image (path or PIL image) as an unsigned int: matching's pHash
    of the bounded thumbnail health decodes anyway."""
    return hashing.phash64(load_thumbnail(image))


def hash_image(path: str | os.PathLike[str]) -> int:
    """The project's 64-bit perceptual hash of an image file (``matching.hashing.hash_image_file``)."""
    return hashing.hash_image_file(path)[0]


def near_duplicate_pairs(hashes: Sequence[int] | np.ndarray, max_distance: int = DEFAULT_MAX_DISTANCE) -> np.ndarray:
    """Index pairs (i < j) whose hashes differ in at most ``max_distance`` bits, as an (m, 2) array.

    Exact-equal hashes are chained (one pair per neighbour in the group, enough for connectivity),
    then distinct hashes are paired through the Hamming index, one representative file per hash.
    """
    if not 0 <= max_distance < 64:
        raise ValueError("max_distance must be in [0, 63]")
    h = np.asarray(hashes, dtype=np.uint64)
    if h.size < 2:
        return np.zeros((0, 2), np.int64)
    uniq, inverse = np.unique(h, return_inverse=True)
    pairs: list[np.ndarray] = []
    order = np.argsort(inverse, kind="stable")
    same = inverse[order][1:] == inverse[order][:-1]
    if same.any():
        pairs.append(np.stack([order[:-1][same], order[1:][same]], axis=1))
    if uniq.size > 1 and max_distance > 0:
        up = near_pairs(uniq, max_distance)
        if len(up):
            rep = np.empty(uniq.size, np.int64)
            rep[inverse[::-1]] = np.arange(h.size)[::-1]  # first file holding each unique hash
            pairs.append(rep[up])
    if not pairs:
        return np.zeros((0, 2), np.int64)
    return np.sort(np.concatenate(pairs).astype(np.int64), axis=1)


def clusters_from_pairs(n: int, pairs: np.ndarray) -> list[list[int]]:
    """Connected components of size ≥ 2 (sorted members, largest cluster first)."""
    if n == 0 or len(pairs) == 0:
        return []
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = defaultdict(list)
    for i, lab in enumerate(labels.tolist()):
        groups[lab].append(i)
    clusters = [g for g in groups.values() if len(g) > 1]
    clusters.sort(key=lambda g: (-len(g), g[0]))
    return clusters


@dataclass
class DuplicateReport:
    """Near-duplicate clusters over ``total`` items.

    ``duplicate_rate`` is the share of items that are redundant copies: every cluster keeps one
    representative, the rest count as duplicates.
    """

    total: int
    max_distance: int
    clusters: list[list[str]] = field(default_factory=list)
    exact_groups: int = 0

    @property
    def redundant(self) -> int:
        return sum(len(c) - 1 for c in self.clusters)

    @property
    def duplicate_rate(self) -> float:
        return self.redundant / self.total if self.total else 0.0

    def to_dict(self, max_clusters: int = 50) -> dict[str, Any]:
        return {
            "total": self.total, "max_distance": self.max_distance, "clusters": len(self.clusters),
            "files_in_clusters": sum(len(c) for c in self.clusters), "redundant_files": self.redundant,
            "duplicate_rate": round(self.duplicate_rate, 6), "exact_sha256_groups": self.exact_groups,
            "largest_clusters": [c[:20] for c in self.clusters[:max_clusters]],
        }


def find_near_duplicates(names: Sequence[str], hashes: Sequence[int], *,
                         max_distance: int = DEFAULT_MAX_DISTANCE,
                         sha256: Sequence[str | None] | None = None) -> DuplicateReport:
    """Cluster items by perceptual-hash distance (and identical sha256, when given)."""
    pairs = near_duplicate_pairs(hashes, max_distance)
    exact_groups = 0
    if sha256 is not None:
        by_digest: dict[str, list[int]] = defaultdict(list)
        for i, d in enumerate(sha256):
            if d:
                by_digest[d].append(i)
        extra = [(g[k], g[k + 1]) for g in by_digest.values() if len(g) > 1 for k in range(len(g) - 1)]
        exact_groups = sum(1 for g in by_digest.values() if len(g) > 1)
        if extra:
            pairs = np.concatenate([pairs, np.array(extra, np.int64)])
    clusters = clusters_from_pairs(len(names), pairs)
    return DuplicateReport(len(names), max_distance, [[names[i] for i in c] for c in clusters], exact_groups)
