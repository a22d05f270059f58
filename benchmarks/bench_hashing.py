"""Hashes per second per core: artlineage (pHash + PDQ, JPEG draft decode) vs imagehash.phash, same JPEGs.

    .venv/bin/python benchmarks/bench_hashing.py [--count 60] [--size 1600x1200]

Prints both rates and the ratio (target >= 5x), plus the mean pHash distance between the fast
path and imagehash on the same files (the draft decode is not bit-identical to a full decode), and
``hash_image_file`` called alone on PNGs (the registry's path), with the BLAS left at its default
thread count: hashing keeps every matrix product under OpenBLAS's threading threshold itself.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from artlineage.matching.hashing import hamming64, hash_files, hash_image_file  # noqa: E402
from tests.matching._images import synthetic_image  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--size", default="1600x1200")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import imagehash

    w, h = (int(x) for x in args.size.split("x"))
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for i in range(args.count):
            p = Path(d) / f"{i}.jpg"
            synthetic_image(i, (w // 8, h // 8)).resize((w, h), Image.BICUBIC).save(p, quality=90)
            paths.append(p)

        def ref() -> list[int]:
            out = []
            for p in paths:
                with Image.open(p) as im:
                    out.append(int(str(imagehash.phash(im)), 16))
            return out

        best_ref = best_ours = float("inf")
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            ref_hashes = ref()
            best_ref = min(best_ref, time.perf_counter() - t0)
            t0 = time.perf_counter()
            ph, _pq, ok = hash_files(paths)
            best_ours = min(best_ours, time.perf_counter() - t0)
        assert ok.all()
        dist = np.mean([hamming64(a, int(b)) for a, b in zip(ref_hashes, ph)])
        pngs = []
        for i in range(min(args.count, 30)):
            p = Path(d) / f"{i}.png"
            synthetic_image(i, (700, 500)).save(p)
            pngs.append(p)
        best_png = float("inf")
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            for p in pngs:
                hash_image_file(p)
            best_png = min(best_png, time.perf_counter() - t0)
    n = len(paths)
    print(f"{n} JPEGs {w}x{h}, best of {args.rounds}, one core")
    print(f"imagehash.phash           : {n / best_ref:8.1f} hashes/s")
    print(f"artlineage pHash+PDQ      : {n / best_ours:8.1f} hashes/s (both hashes, draft decode)")
    print(f"ratio                     : {best_ref / best_ours:8.1f}x   (target >= 5x)")
    print(f"mean pHash distance fast path vs imagehash: {dist:.2f} bits of 64")
    print(f"hash_image_file alone, 700x500 PNG: {len(pngs) / best_png:8.1f} hashes/s")


if __name__ == "__main__":
    main()
