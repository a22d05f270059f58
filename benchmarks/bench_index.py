"""Hamming range-search latency: artlineage MIH vs numpy brute force vs faiss binary indexes.

    .venv/bin/python benchmarks/bench_index.py [--size 1000000] [--queries 200] [--distances 4,8,14]

Random 64-bit hashes (uniform: the worst case for bucket sizes is skew, see the note below) with
queries made by flipping d/2 bits of stored hashes, so each query has at least one true answer.
Prints p50/p99 per query in milliseconds, recall against brute force (faiss hash indexes are
approximate unless nflip covers the radius), and the ratio to brute force.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402

from artlineage.matching.index import HammingIndex, popcount_distances  # noqa: E402


def timed(fn, queries):
    times, results = [], []
    for q in queries:
        t0 = time.perf_counter()
        results.append(fn(q))
        times.append(time.perf_counter() - t0)
    ms = np.array(times) * 1e3
    return np.percentile(ms, 50), np.percentile(ms, 99), results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--distances", default="4,8,14")
    ap.add_argument("--no-faiss", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = args.size
    words = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
    ids = np.arange(n, dtype=np.int64)

    t0 = time.perf_counter()
    idx = HammingIndex(64)
    idx.add(ids, words)
    idx.merge()
    print(f"n={n:,}: MIH build {time.perf_counter() - t0:.2f}s (4 x 16-bit substrings)")

    faiss_indexes = {}
    if not args.no_faiss:
        try:
            import faiss
        except ImportError:
            print("faiss not installed (pip install 'artlineage[faiss]'): skipping")
        else:
            codes = words.view(np.uint8).reshape(n, 8)
            for name, make in (("faiss IndexBinaryFlat", lambda: faiss.IndexBinaryFlat(64)),
                               ("faiss IndexBinaryHash(b=24)", lambda: faiss.IndexBinaryHash(64, 24)),
                               ("faiss IndexBinaryMultiHash(4x16)", lambda: faiss.IndexBinaryMultiHash(64, 4, 16))):
                t0 = time.perf_counter()
                fi = make()
                fi.add(codes)
                faiss_indexes[name] = fi
                print(f"{name} build {time.perf_counter() - t0:.2f}s")

    for d in (int(x) for x in args.distances.split(",")):
        queries = words[rng.integers(0, n, args.queries)].copy()
        for q_i in range(len(queries)):
            for b in rng.choice(64, max(d // 2, 1), replace=False):
                queries[q_i] ^= np.uint64(1) << np.uint64(b)
        brute_p50, brute_p99, truth = timed(
            lambda q: set(np.flatnonzero(popcount_distances(words.reshape(-1, 1), q.reshape(1)) <= d).tolist()),
            queries)
        print(f"\nd <= {d}")
        print(f"  {'numpy brute force (bitwise_count)':36s} p50 {brute_p50:8.3f} ms  p99 {brute_p99:8.3f} ms")
        p50, p99, res = timed(lambda q: idx.search(q, d), queries)
        exact = all(set(r.ids.tolist()) == t for r, t in zip(res, truth))
        print(f"  {'artlineage MIH':36s} p50 {p50:8.3f} ms  p99 {p99:8.3f} ms  exact={exact}  "
              f"{brute_p50 / p50:6.1f}x brute force")
        for name, fi in faiss_indexes.items():
            if hasattr(fi, "nflip"):
                fi.nflip = d // 4 if "Multi" in name else d   # Multi: exact by pigeonhole; Hash: d flips of b
            def search(q, fi=fi):
                lims, _, labels = fi.range_search(np.array([q], dtype=np.uint64).view(np.uint8).reshape(1, 8), d + 1)
                return set(labels[lims[0]:lims[1]].tolist())
            if "IndexBinaryHash" in name and d > 8:
                print(f"  {name:36s} skipped (nflip={d} over 24 bits enumerates millions of buckets)")
                continue
            p50f, p99f, resf = timed(search, queries)
            recall = sum(len(r & t) for r, t in zip(resf, truth)) / max(sum(len(t) for t in truth), 1)
            print(f"  {name:36s} p50 {p50f:8.3f} ms  p99 {p99f:8.3f} ms  recall={recall:.3f}  "
                  f"MIH is {p50f / p50:6.1f}x faster at p50")


if __name__ == "__main__":
    main()
