"""Copy detection against many registered works: CPU ms per query at 100 k works (and more).

    python benchmarks/bench_copies_scale.py PHOTO_DIR [--works 100000] [--queries 200]

The index holds the real photographs' fingerprints (even files of PHOTO_DIR, as in bench_copies.py)
plus synthetic works up to ``--works``: window hashes drawn from the real works' hashes with 12 of
64 bits flipped per window (real pHashes cluster; uniform random rows would flatter the ranking)
and the ORB features of other real photographs (``--donors`` files after those), so verifying a
synthetic candidate costs what a real one does and can fail the way a real look-alike can. Queries are edited copies of registered photos and of unregistered look-alikes. Prints
CPU time per query (one core: OpenCV held to one thread) for the hash stage alone and in total, the
recall of the registered photos' copies among that many works, and the memory per work.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from artlineage.matching import copies as cp  # noqa: E402
from bench_copies import edits, photo_set  # noqa: E402


def synthetic_rows(real: cp.CopyIndex, donors: cp.CopyIndex, n: int, rng: np.random.Generator) -> cp.CopyIndex:
    src = rng.integers(0, len(real), n)
    don = rng.integers(0, len(donors), n)
    flips = np.zeros((n, len(cp.WINDOWS)), np.uint64)
    for _ in range(12):
        flips ^= np.left_shift(np.uint64(1), rng.integers(0, 64, flips.shape).astype(np.uint64))
    idx = cp.CopyIndex()
    idx.work_ids = np.arange(1_000_000, 1_000_000 + n, dtype=np.int64)
    idx.hashes = np.asarray(real.hashes)[src] ^ flips
    counts = np.diff(np.asarray(donors.feat_offsets))[don]
    idx.feat_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    starts = np.asarray(donors.feat_offsets)[don]
    take = np.concatenate([np.arange(s, s + c) for s, c in zip(starts, counts)]) if n else np.zeros(0, np.int64)
    idx.xy, idx.desc = np.asarray(donors.xy)[take], np.asarray(donors.desc)[take]
    idx.sizes = np.asarray(donors.sizes)[don]
    return idx


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("photos", type=Path)
    ap.add_argument("--works", type=int, default=100_000)
    ap.add_argument("--real", type=int, default=150)
    ap.add_argument("--queries", type=int, default=150)
    ap.add_argument("--donors", type=int, default=300, help="photos lending ORB features to synthetic works")
    args = ap.parse_args()
    try:
        import cv2
        cv2.setNumThreads(1)
    except ImportError:
        pass
    try:
        import faiss
        faiss.omp_set_num_threads(1)   # the window scan and descriptor matching on one core too
    except ImportError:
        pass
    rng = np.random.default_rng(5)
    reg, neg = photo_set(args.photos, args.real)
    real = cp.CopyDetector.from_images((i, im) for i, (_, im) in enumerate(reg)).index
    # Features of synthetic works come from other photographs (files after the registered and
    # look-alike ones), so a synthetic candidate verifies only if ORB + RANSAC really confuses them.
    files = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    donor_files = files[2 * args.real: 2 * args.real + args.donors]
    donors = cp.CopyDetector.from_images((i, p) for i, p in enumerate(donor_files)).index
    big = synthetic_rows(real, donors, max(0, args.works - len(real)), rng)
    from artlineage.matching.copy_index import _concat
    index = _concat([real, big])
    det = cp.CopyDetector(index)
    per_work = (index.hashes.nbytes + index.xy.nbytes + index.desc.nbytes + index.sizes.nbytes
                + index.feat_offsets.nbytes + index.work_ids.nbytes) / len(index)
    print(f"{len(index):,} works x {len(cp.WINDOWS)} windows; {per_work / 1024:.1f} KiB per work in the index")
    ed = edits(rng)
    names = list(ed)
    hash_t, total_t, found, pos, fp = [], [], 0, 0, 0
    for k in range(args.queries):
        registered = k % 2 == 0
        pool = reg if registered else neg
        i = int(rng.integers(0, len(pool)))
        q = ed[names[k % len(names)]](pool[i][1])
        t0 = time.process_time()
        qq = cp._query(cp.load_image(q))
        index.nearest(qq.hashes, det.candidates)
        hash_t.append(time.process_time() - t0)
        t0 = time.process_time()
        hits = [m.work_id for m in det.find_copies(q)]
        total_t.append(time.process_time() - t0)
        if registered:
            pos += 1
            found += i in hits
        fp += sum(1 for h in hits if not (registered and h == i))
    for label, t in (("query hashes + window scan", hash_t), ("whole find_copies", total_t)):
        print(f"{label:28s} CPU ms p50 {np.percentile(t, 50) * 1000:6.1f}  p99 {np.percentile(t, 99) * 1000:6.1f}")
    print(f"recall of registered photos' copies {found}/{pos}; false matches {fp} in {args.queries} queries")


if __name__ == "__main__":
    main()
