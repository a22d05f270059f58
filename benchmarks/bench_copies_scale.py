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
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from artlineage.matching import copies as cp  # noqa: E402
from bench_copies import edits, photo_set  # noqa: E402


class ScaledIndex(cp.CopyIndex):
    """The real works' index plus ``n`` synthetic works: window hashes drawn from the real works'
    hashes with 12 of 64 bits flipped per window, ORB features *referenced* from a donor photo
    (not copied, so millions of works fit in memory; the memory per work printed is a real work's).
    The real works sit at random rows: ties at the 12th candidate (frequent among the synthetic
    clones) are broken by row, and real works in the first rows would win every tie."""

    def __init__(self, real: cp.CopyIndex, donors: cp.CopyIndex, n: int, rng: np.random.Generator):
        super().__init__()
        self.real, self.donors = real, donors
        src = rng.integers(0, len(real), n)
        self.donor_of = rng.integers(0, len(donors), n)
        total = len(real) + n
        self.real_rows = np.sort(rng.choice(total, len(real), replace=False))
        self.synthetic_of = np.cumsum(~np.isin(np.arange(total), self.real_rows)) - 1
        hashes = np.empty((total, len(cp.WINDOWS)), np.uint64)
        synthetic = np.ones(total, bool)
        synthetic[self.real_rows] = False
        syn_rows = np.flatnonzero(synthetic)
        for a in range(0, n, 100_000):          # in blocks: the flip masks of 10 M works would not fit
            b = min(n, a + 100_000)
            flips = np.zeros((b - a, len(cp.WINDOWS)), np.uint64)
            for _ in range(12):
                flips ^= np.left_shift(np.uint64(1), rng.integers(0, 64, flips.shape).astype(np.uint64))
            hashes[syn_rows[a:b]] = np.asarray(real.hashes)[src[a:b]] ^ flips
        hashes[self.real_rows] = np.asarray(real.hashes)
        self.hashes = hashes
        ids = np.arange(1_000_000, 1_000_000 + total)
        ids[self.real_rows] = np.asarray(real.work_ids)
        self.work_ids = ids
        self._real_index = {int(r): i for i, r in enumerate(self.real_rows)}

    def use_ivf(self, nlist: int, nprobe: int, rng: np.random.Generator) -> float:
        """The library's inverted file over the window hashes (``CopyIndex.build_ivf``, what a 10 M
        work index would need) instead of the exact scan; returns the seconds it took to build."""
        t0 = time.perf_counter()
        self.build_ivf(nlist, nprobe, seed=int(rng.integers(0, 2**31)))
        return time.perf_counter() - t0

    def features(self, row: int):
        if row in self._real_index:
            return self.real.features(self._real_index[row])
        return self.donors.features(int(self.donor_of[self.synthetic_of[row]]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("photos", type=Path)
    ap.add_argument("--works", type=int, default=100_000)
    ap.add_argument("--real", type=int, default=150)
    ap.add_argument("--queries", type=int, default=150)
    ap.add_argument("--donors", type=int, default=300, help="photos lending ORB features to synthetic works")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--ivf", type=int, default=0, help="IndexBinaryIVF with this many lists as the first stage")
    ap.add_argument("--nprobe", type=int, default=64)
    ap.add_argument("--candidates", type=int, default=None, help="works verified per query at most (default: 24 with faiss, 12 without)")
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
    rng = np.random.default_rng(args.seed)
    reg, neg = photo_set(args.photos, args.real)
    real = cp.CopyDetector.from_images((i, im) for i, (_, im) in enumerate(reg)).index
    # Features of synthetic works come from other photographs (files after the registered and
    # look-alike ones), so a synthetic candidate verifies only if ORB + RANSAC really confuses them.
    files = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    donor_files = files[2 * args.real: 2 * args.real + args.donors]
    donors = cp.CopyDetector.from_images((i, p) for i, p in enumerate(donor_files)).index
    index = ScaledIndex(real, donors, max(0, args.works - len(real)), rng)
    if args.ivf:
        print(f"IndexBinaryIVF({args.ivf} lists, nprobe {args.nprobe}) trained and filled in "
              f"{index.use_ivf(args.ivf, args.nprobe, rng):.0f} s")
    det = cp.CopyDetector(index, candidates=args.candidates)
    per_work = sum(np.asarray(getattr(real, name)).nbytes for name in cp.CopyIndex._ARRAYS) / len(real)
    print(f"{len(index):,} works x {len(cp.WINDOWS)} windows ({index.hashes.nbytes / 2**30:.2f} GiB of window "
          f"hashes); {per_work / 1024:.1f} KiB per real work in the index")
    ed = edits(rng)
    names = list(ed)
    hash_t, total_t, found, pos, fp = [], [], 0, 0, 0
    per_edit: dict[str, list[int]] = {n: [0, 0] for n in names}
    for k in range(args.queries):
        registered = k % 2 == 0
        pool = reg if registered else neg
        i = int(rng.integers(0, len(pool)))
        edit = names[(k // 2) % len(names)]
        q = ed[edit](pool[i][1])
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
            per_edit[edit][0] += i in hits
            per_edit[edit][1] += 1
        fp += sum(1 for h in hits if not (registered and h == i))
    for label, t in (("query hashes + window scan", hash_t), ("whole find_copies", total_t)):
        print(f"{label:28s} CPU ms p50 {np.percentile(t, 50) * 1000:6.1f}  p99 {np.percentile(t, 99) * 1000:6.1f}")
    print(f"recall of registered photos' copies {found}/{pos}; false matches {fp} in {args.queries} queries")
    print("recall per edit: " + ", ".join(f"{n} {a}/{b}" for n, (a, b) in per_edit.items()))
    print(f"load average {os.getloadavg()[0]:.1f} (2-core box shared with other jobs)")


if __name__ == "__main__":
    main()
