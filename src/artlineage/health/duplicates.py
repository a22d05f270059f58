"""Near-duplicate clusters from 64-bit perceptual hashes.

Pairs within a Hamming distance are found with multi-index hashing (Norouzi et al.): split the 64
bits into ``max_distance + 1`` chunks; by the pigeonhole principle two hashes within that distance
agree exactly on at least one chunk, so only hashes sharing a chunk value are compared. Clusters are
the connected components of the pair graph (scipy's union-find equivalent).

The pHash here (DCT of a 32×32 grey thumbnail, 8×8 low frequencies against their median) is the
classic one from pHash/imagehash, written out because it is a few lines of numpy over the shared
thumbnail. When ``artlineage.matching.hashing`` is present its hash is used instead, so a dataset is
hashed one way across the project.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from PIL import Image

from .embeddings import ImageLike, load_thumbnail

DEFAULT_MAX_DISTANCE = 8  # of 64 bits: survives resizing and recompression, rarely joins unrelated images


def phash64(image: ImageLike) -> int:
    """64-bit DCT perceptual hash (pHash) as an unsigned int."""
    from scipy.fft import dctn

    img = load_thumbnail(image).convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    coeffs = dctn(np.asarray(img, np.float64), type=2, norm="ortho")[:8, :8]
    flat = coeffs.ravel()
    bits = flat > np.median(flat[1:])  # the DC term would dominate the median; it is excluded
    return int(np.packbits(bits).view(">u8")[0])


def hash_image(path: str | os.PathLike[str]) -> int:
    """The project's 64-bit perceptual hash of an image file (matching.hashing when installed)."""
    try:
        from ..matching.hashing import hash_image_file  # type: ignore[import-not-found]
    except ImportError:
        return phash64(path)
    ph = hash_image_file(path)
    ph = ph[0] if isinstance(ph, tuple) else ph
    if isinstance(ph, (bytes, bytearray)):
        return int.from_bytes(ph[:8], "big")
    if isinstance(ph, str):
        return int(ph, 16)
    return int(ph)


_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.uint8)


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(x)
    return _BYTE_POPCOUNT[x.view(np.uint8)].reshape(*x.shape, 8).sum(-1)


def hamming(a: int, b: int) -> int:
    return (int(a) ^ int(b)).bit_count()


def _chunks(max_distance: int) -> list[tuple[int, int]]:
    k = max_distance + 1
    edges = np.linspace(0, 64, k + 1).round().astype(int)
    return [(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]


def near_duplicate_pairs(hashes: Sequence[int] | np.ndarray, max_distance: int = DEFAULT_MAX_DISTANCE,
                         block: int = 4096) -> np.ndarray:
    """Index pairs (i < j) whose hashes differ in at most ``max_distance`` bits, as an (m, 2) array.

    Exact-equal hashes are joined first (one pair chain per group), then distinct hashes are compared
    only within shared chunk buckets. A large bucket (a degenerate
    chunk value, e.g. flat images) is compared in ``block``×``block`` tiles, so memory stays bounded.
    """
    if not 0 <= max_distance < 64:
        raise ValueError("max_distance must be in [0, 63]")
    h = np.asarray(hashes, dtype=np.uint64)
    if h.size < 2:
        return np.zeros((0, 2), np.int64)
    uniq, inverse = np.unique(h, return_inverse=True)
    pairs: list[np.ndarray] = []
    # Exact duplicates: chain each group (a, b), (b, c) ... — enough for connectivity.
    order = np.argsort(inverse, kind="stable")
    same = inverse[order][1:] == inverse[order][:-1]
    if same.any():
        pairs.append(np.stack([order[:-1][same], order[1:][same]], axis=1))
    # Near duplicates among distinct hashes, by pigeonhole over chunks.
    found: set[tuple[int, int]] = set()
    if uniq.size > 1 and max_distance > 0:
        for lo, hi in _chunks(max_distance):
            mask = np.uint64((1 << (hi - lo)) - 1)
            keys = (uniq >> np.uint64(64 - hi)) & mask
            ordk = np.argsort(keys, kind="stable")
            sk = keys[ordk]
            starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
            ends = np.r_[starts[1:], sk.size]
            for s, e in zip(starts, ends):
                if e - s < 2:
                    continue
                members = ordk[s:e]
                for r0 in range(0, members.size, block):
                    rows = members[r0:r0 + block]
                    for c0 in range(r0, members.size, block):
                        cols = members[c0:c0 + block]
                        dist = _popcount(uniq[rows][:, None] ^ uniq[cols][None, :])
                        ii, jj = np.nonzero(dist <= max_distance)
                        for a, b in zip(rows[ii].tolist(), cols[jj].tolist()):
                            if a != b:
                                found.add((a, b) if a < b else (b, a))
    if found:
        # Map unique-hash pairs back to one representative file per hash (exact groups already chained).
        rep = np.empty(uniq.size, np.int64)
        rep[inverse[::-1]] = np.arange(h.size)[::-1]  # first file holding each unique hash
        up = np.array(sorted(found), np.int64)
        pairs.append(np.stack([rep[up[:, 0]], rep[up[:, 1]]], axis=1))
    if not pairs:
        return np.zeros((0, 2), np.int64)
    out = np.concatenate(pairs).astype(np.int64)
    return np.sort(out, axis=1)


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
