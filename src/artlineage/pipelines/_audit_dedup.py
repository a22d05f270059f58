"""The audit's global near-duplicate step: duplicate keys of every shard grouped together.

Map side (each shard worker, :func:`._audit_shard._write_dup_keys`): one row per image and bucket —
its four 16-bit pHash bands and its sha256 prefix — written one row group per partition
(``partition = hash(bucket) % P``). Reduce side: partition ``p`` gathers its row group from every
shard (a process per partition, or with Ray a Ray Data ``groupby`` shuffle on the partition), then
inside each bucket confirms pairs on the full 64-bit Hamming distance (``max_distance``) or equal
bytes. So an image in shard 1 and its copy in shard 900 meet in the same bucket wherever they are.

Recall: two hashes within 3 bits always share a band (pigeonhole, 4 bands); at 4..8 bits they
share one unless every band has a flipped bit — rare for the few-bit differences that resizing and
recompression make. Buckets above ``MAX_BUCKET`` images (blank or near-uniform images all hashing
alike) are compared in windows of that size and counted in ``oversized_buckets``.

The pairs (only duplicates, a small fraction of all images) come back to the parent, which joins
them into clusters (connected components) and writes ``duplicates.parquet``.
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..datasets.filesystems import Location, open_location
from ._audit_shard import SHA_BUCKET_FLAG

MAX_BUCKET = 5_000
PAIRS_SCHEMA = pa.schema([("a", pa.int64()), ("b", pa.int64())])  # refs: shard << 32 | row


@dataclass
class PartitionPairs:
    pairs: np.ndarray  # (m, 2) int64 refs
    exact_groups: int = 0
    oversized_buckets: int = 0


def _ref(shard: np.ndarray, row: np.ndarray) -> np.ndarray:
    return (shard.astype(np.int64) << 32) | row.astype(np.int64)


def pairs_in_partition(table: pa.Table, max_distance: int) -> PartitionPairs:
    """Confirmed duplicate pairs among the rows of one partition (columns bucket, shard, row, phash)."""
    from ..health.duplicates import near_duplicate_pairs

    if table.num_rows < 2:
        return PartitionPairs(np.zeros((0, 2), np.int64))
    bucket = table.column("bucket").to_numpy()
    refs = _ref(table.column("shard").to_numpy(), table.column("row").to_numpy())
    phash = table.column("phash").to_numpy().view(np.uint64)
    order = np.argsort(bucket, kind="stable")
    bucket, refs, phash = bucket[order], refs[order], phash[order]
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(bucket)]
    out: list[np.ndarray] = []
    result = PartitionPairs(np.zeros((0, 2), np.int64))
    sha_flag = np.int64(SHA_BUCKET_FLAG)
    for a, b in zip(starts[ends - starts > 1], ends[ends - starts > 1]):
        if (bucket[a] & sha_flag) != 0:  # identical bytes: chain the group
            group = np.unique(refs[a:b])
            if len(group) > 1:
                result.exact_groups += 1
                out.append(np.stack([group[:-1], group[1:]], axis=1))
            continue
        if b - a > MAX_BUCKET:
            result.oversized_buckets += 1
        for w in range(a, b, MAX_BUCKET):
            e = min(w + MAX_BUCKET, b)
            local = near_duplicate_pairs(phash[w:e], max_distance)
            if len(local):
                out.append(refs[w:e][local])
    if out:
        pairs = np.sort(np.concatenate(out), axis=1)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        result.pairs = np.unique(pairs, axis=0) if len(pairs) else pairs
    return result


def _read_partition(out: Location, names: Sequence[str], part: int) -> pa.Table:
    tables = []
    for name in names:
        with out.child("dupkeys", f"{name}.parquet").open("rb") as fh:
            pf = pq.ParquetFile(fh)
            index = json.loads((pf.metadata.metadata or {}).get(b"parts", b"{}"))
            group = index.get(str(part))
            if group is not None:
                tables.append(pf.read_row_group(group))
    return pa.concat_tables(tables) if tables else pa.table({"bucket": pa.array([], pa.int64())})


def reduce_partition(args: tuple[str, dict, list[str], int, int]) -> PartitionPairs:
    """Reducer ``part``: its row group from every shard's duplicate keys, then the confirmed pairs."""
    out_url, options, names, part, max_distance = args
    return pairs_in_partition(_read_partition(open_location(out_url, options), names, part), max_distance)


def _ray_pairs(out: Location, names: Sequence[str], max_distance: int, partitions: int) -> list[PartitionPairs]:
    """Ray Data: read every shard's keys, shuffle by partition (hash prefix of the bucket), reduce."""
    import ray

    paths = [out.child("dupkeys", f"{n}.parquet").path for n in names]
    ds = ray.data.read_parquet(paths, filesystem=out.arrow_filesystem())

    def reduce(batch: pa.Table) -> pa.Table:
        got = pairs_in_partition(batch, max_distance)
        n = len(got.pairs)
        return pa.table({"a": got.pairs[:, 0] if n else np.zeros(0, np.int64),
                         "b": got.pairs[:, 1] if n else np.zeros(0, np.int64),
                         "exact_groups": np.full(n, got.exact_groups, np.int64) if n else np.zeros(0, np.int64),
                         "oversized": np.full(n, got.oversized_buckets, np.int64) if n else np.zeros(0, np.int64)})

    # The shuffle's own partition count follows the plan's (Ray's default of 200 is overhead here).
    reduced = ds.groupby("part", num_partitions=partitions).map_groups(reduce, batch_format="pyarrow")
    results = []
    for batch in reduced.iter_batches(batch_format="pyarrow", batch_size=None):
        if batch.num_rows:
            pairs = np.stack([batch.column("a").to_numpy(), batch.column("b").to_numpy()], axis=1)
            results.append(PartitionPairs(pairs, int(batch.column("exact_groups").to_numpy().max()),
                                          int(batch.column("oversized").to_numpy().max())))
    return results


@dataclass
class DuplicateSummary:
    """The global step's result, in the health report's ``duplicates`` shape plus cross-shard counts."""

    total: int
    max_distance: int
    clusters: list[list[str]] = field(default_factory=list)
    exact_groups: int = 0
    cross_shard_clusters: int = 0
    oversized_buckets: int = 0

    def to_dict(self, max_clusters: int = 50) -> dict[str, Any]:
        redundant = sum(len(c) - 1 for c in self.clusters)
        return {"total": self.total, "max_distance": self.max_distance, "clusters": len(self.clusters),
                "files_in_clusters": sum(len(c) for c in self.clusters), "redundant_files": redundant,
                "duplicate_rate": round(redundant / self.total, 6) if self.total else 0.0,
                "exact_sha256_groups": self.exact_groups, "cross_shard_clusters": self.cross_shard_clusters,
                "oversized_buckets": self.oversized_buckets,
                "largest_clusters": [c[:20] for c in self.clusters[:max_clusters]],
                "cluster_sizes": [len(c) for c in self.clusters[:1000]]}


def find_duplicates(out: Location, names: Sequence[str], *, hashed: int, max_distance: int, partitions: int,
                    backend: str = "local", workers: int = 1) -> DuplicateSummary:
    """Run the global step over the finished shards ``names``; writes ``duplicates.parquet``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if backend == "ray":
        parts = _ray_pairs(out, names, max_distance, partitions)
    else:
        tasks = [(out.url, out.storage_options, list(names), p, max_distance) for p in range(partitions)]
        if workers > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                parts = list(pool.map(reduce_partition, tasks))
        else:
            parts = [reduce_partition(t) for t in tasks]
    summary = DuplicateSummary(hashed, max_distance, exact_groups=sum(p.exact_groups for p in parts),
                               oversized_buckets=sum(p.oversized_buckets for p in parts))
    pairs = np.concatenate([p.pairs for p in parts if len(p.pairs)] or [np.zeros((0, 2), np.int64)])
    rows: list[dict[str, Any]] = []
    if len(pairs):
        refs, inverse = np.unique(pairs, return_inverse=True)
        inverse = inverse.reshape(-1, 2)
        graph = coo_matrix((np.ones(len(inverse), np.int8), (inverse[:, 0], inverse[:, 1])),
                           shape=(len(refs), len(refs)))
        _, labels = connected_components(graph, directed=False)
        keys = _keys_of(out, refs)
        groups: dict[int, list[int]] = {}
        for i, lab in enumerate(labels.tolist()):
            groups.setdefault(lab, []).append(i)
        clusters = sorted(groups.values(), key=lambda g: (-len(g), int(refs[g[0]])))
        for cid, members in enumerate(clusters):
            canonical = int(refs[members[0]])  # the first in shard order is the one to keep
            if len({int(refs[m]) >> 32 for m in members}) > 1:
                summary.cross_shard_clusters += 1
            for m in members:
                ref = int(refs[m])
                rows.append({"cluster": cid, "shard": ref >> 32, "row": ref & 0xFFFFFFFF, "key": keys[ref],
                             "canonical_shard": canonical >> 32, "canonical_key": keys[canonical],
                             "is_canonical": ref == canonical})
            summary.clusters.append([f"{ref_name(int(refs[m]))}/{keys[int(refs[m])]}" for m in members])
    table = pa.Table.from_pylist(rows, schema=DUPLICATES_SCHEMA)
    out.child("duplicates.parquet").write_with(lambda tmp: pq.write_table(table, tmp), suffix=".parquet")
    return summary


DUPLICATES_SCHEMA = pa.schema([("cluster", pa.int64()), ("shard", pa.int64()), ("row", pa.int64()),
                               ("key", pa.string()), ("canonical_shard", pa.int64()),
                               ("canonical_key", pa.string()), ("is_canonical", pa.bool_())])


def ref_name(ref: int) -> str:
    return f"{ref >> 32:06d}"


def _keys_of(out: Location, refs: np.ndarray) -> dict[int, str]:
    """Sample keys of the given refs, read from the shards' key files (only the shards involved)."""
    keys: dict[int, str] = {}
    for shard in np.unique(refs >> 32).tolist():
        with out.child("keys", f"{shard:06d}.parquet").open("rb") as fh:
            t = pq.read_table(fh, columns=["row", "key"])
        for row, key in zip(t.column("row").to_pylist(), t.column("key").to_pylist()):
            keys[(shard << 32) | row] = key
    return {int(r): keys.get(int(r), "?") for r in refs}
