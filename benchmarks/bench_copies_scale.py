"""Copy detection against many registered works: CPU ms per query at 100 k works (and more).

    python benchmarks/bench_copies_scale.py PHOTO_DIR [--works 100000] [--queries 200]
    python benchmarks/bench_copies_scale.py PHOTO_DIR --works 10000000 --ivf 8192 --ivf-windows coarse --queries 720

(10 M works need ~19 GB of memory and ~8 minutes on 2 cores: the inverted file and the visual words'
posting lists are built first.)

The index holds the real photographs' fingerprints (even files of PHOTO_DIR, as in bench_copies.py)
plus synthetic works up to ``--works``: window hashes drawn from the real works' hashes with 12 of
64 bits flipped per window (real pHashes cluster; uniform random rows would flatter the ranking)
and the ORB features of other real photographs (``--donors`` files after those), so verifying a
synthetic candidate costs what a real one does and can fail the way a real look-alike can; their
visual words come from those photographs too (``ScaledIndex.build_words``). Queries are edited copies of registered photos and of unregistered look-alikes. Prints
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
from artlineage.matching import _visual_words as vw  # noqa: E402
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
        self.desc = real.desc          # "has features": the detector's visual-word stage runs

    def build_words(self, seed: int) -> float:
        """Visual-word posting lists of every row; returns the seconds it took. A synthetic work's
        words: those of a random part (30-100 % of the area, any aspect) of its donor photo's
        features, topped up to the donor's feature count with the words of random donor features
        whose 24 word bits are each flipped with probability 0.1 (a different photograph's features
        resemble real ones without repeating them: 10 M works are 10 M different bags spread over
        the whole word space, as 10 M photographs would be, not 300 donors' words repeated). Built with the library's chunked
        builder (``_visual_words.build``), as a 10 M-work registry would be."""
        t0 = time.perf_counter()
        donors, real, total = self.donors, self.real, len(self.work_ids)
        side = 256
        dw = np.zeros((len(donors), side), np.uint32)
        dxy = np.full((len(donors), side, 2), -1.0, np.float32)
        for d in range(len(donors)):
            f = donors.features(d)
            if f is None:
                continue
            n = min(side, len(f))
            dw[d, :n] = vw.words_of(f.desc[:n])
            dxy[d, :n] = f.xy[:n] / np.array(f.size, np.float32)
        pool = np.concatenate([dw[d][dxy[d, :, 0] >= 0] for d in range(len(donors))])
        flip_rng = np.random.default_rng(seed + 1)
        flips = np.zeros(1 << 20, np.uint32)
        for j in range(vw.WORD_BITS):
            flips |= (flip_rng.random(len(flips)) < 0.1).astype(np.uint32) << np.uint32(j)
        real_words = []
        for i in range(len(real)):
            f = real.features(i)
            real_words.append(vw.words_of(f.desc) if f is not None else np.zeros(0, np.uint32))
        is_real = np.zeros(total, bool)
        is_real[self.real_rows] = True

        def chunks():
            for a in range(0, total, vw.CHUNK_WORKS):
                b = min(total, a + vw.CHUNK_WORKS)
                rng = np.random.default_rng([seed, a])
                rows = np.arange(a, b)
                srows = rows[~is_real[a:b]]
                donor = self.donor_of[self.synthetic_of[srows]]
                u = rng.uniform(0.3, 1.0, len(srows))
                fx = rng.uniform(u, 1.0)
                fy = u / fx
                x0, y0 = rng.random(len(srows)) * (1 - fx), rng.random(len(srows)) * (1 - fy)
                xy = dxy[donor]
                inside = ((xy[..., 0] >= x0[:, None]) & (xy[..., 0] <= (x0 + fx)[:, None])
                          & (xy[..., 1] >= y0[:, None]) & (xy[..., 1] <= (y0 + fy)[:, None]))
                present = xy[..., 0] >= 0
                noise = pool[rng.integers(0, len(pool), inside.shape)] ^ flips[rng.integers(0, len(flips), inside.shape)]
                words = np.where(inside, dw[donor], noise)
                keep = present.reshape(-1)
                out_w, out_r = [words.reshape(-1)[keep]], [np.repeat(srows, side)[keep]]
                for r in rows[is_real[a:b]].tolist():
                    out_w.append(real_words[self._real_index[r]])
                    out_r.append(np.full(len(out_w[-1]), r))
                yield np.concatenate(out_w), np.concatenate(out_r)
        self.word_parts = [(vw.build(chunks, total), 0)]
        return time.perf_counter() - t0

    def use_ivf(self, nlist: int, nprobe: int, rng: np.random.Generator, windows=None) -> float:
        """The library's inverted file over the window hashes (``CopyIndex.build_ivf``, what a 10 M
        work index would need) instead of the exact scan; returns the seconds it took to build."""
        t0 = time.perf_counter()
        import faiss
        faiss.omp_set_num_threads(2)        # building only (queries are timed on one core)
        self.build_ivf(nlist, nprobe, seed=int(rng.integers(0, 2**31)), windows=windows)
        faiss.omp_set_num_threads(1)
        return time.perf_counter() - t0

    def features(self, row: int):
        if row in self._real_index:
            return self.real.features(self._real_index[row])
        return self.donors.features(int(self.donor_of[self.synthetic_of[row]]))


def _pixel_distractor(job: tuple[int, str, int]):
    """(work id, fingerprint) of a random edit of a photograph: a crop of 40-100 % of the area, maybe
    mirrored, turned up to 10 degrees, shrunk to 40-100 %, recompressed (``--pixel-distractors``)."""
    import io
    from PIL import Image, ImageOps
    work_id, path, seed = job
    r = np.random.default_rng(seed)
    im = Image.open(path).convert("RGB")
    w, h = im.size
    area = r.uniform(0.4, 1.0)
    fx = r.uniform(area, 1.0)
    fy = area / fx
    cw, ch = max(16, int(w * fx)), max(16, int(h * fy))
    x0, y0 = int((w - cw) * r.random()), int((h - ch) * r.random())
    im = im.crop((x0, y0, x0 + cw, y0 + ch))
    if r.random() < 0.5:
        im = ImageOps.mirror(im)
    if r.random() < 0.3:
        im = im.rotate(float(r.uniform(-10, 10)), Image.BILINEAR)
    s = r.uniform(0.4, 1.0)
    im = im.resize((max(16, int(im.width * s)), max(16, int(im.height * s))), Image.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=int(r.integers(60, 96)))
    return work_id, cp.fingerprint(buf.getvalue())


def pixel_index(real: cp.CopyIndex, files: list, n: int, seed: int, processes: int = 2) -> cp.CopyIndex:
    """The real works plus ``n`` works fingerprinted from real pixels: random edits of ``files``
    (photographs that are neither registered nor look-alikes), so every distractor has real window
    hashes, real ORB features and real visual words - near-duplicate crowds of real photographs, the
    hard case for precision - at the cost of fingerprinting each (~10 ms)."""
    from multiprocessing import Pool
    jobs = [(2_000_000 + i, str(files[i % len(files)]), seed * 1_000_003 + i) for i in range(n)]
    index = cp.CopyIndex()
    index.add((int(w), cp.WorkFingerprint(np.asarray(real.hashes[i]), real.features(i)))
              for i, w in enumerate(np.asarray(real.work_ids)))
    with Pool(processes) as pool:
        index.add(pool.imap(_pixel_distractor, jobs, chunksize=64))
    return index


def _diagnose(index, det, q, work_id: int, edit: str) -> None:
    """Why a copy was missed: was its source among the window or the word candidates, and what did
    verifying it give in each orientation (``--diagnose``)."""
    from artlineage.matching import _local_features as lf
    row = int(np.flatnonzero(np.asarray(index.work_ids) == work_id)[0])
    qq = cp._query(cp.load_image(q))
    cands = det._candidates(qq)
    where = [(k, c[5]) for k, c in enumerate(cands) if c[0] == row]
    words = index.nearest_by_words(qq.features(False).desc, qq.features(True).desc, 200)
    wrank = [(k, n, m) for k, (r, n, m) in enumerate(words) if r == row]
    fits = []
    for m in (False, True):
        v = lf.verify(qq.features(m), index.features(row), 3)
        fits.append(f"{'mirrored' if m else 'plain'}: {v.inliers}/{v.matches} cov {v.coverage:.2f} rot {v.rotation_deg:.0f}"
                    if v else f"{'mirrored' if m else 'plain'}: none")
    top = words[0] if words else None
    print(f"  missed {edit:16s} work {work_id}: candidate {where or 'no'}; words rank {wrank[:1] or 'beyond 200'}"
          f" (top: {top}); query features {len(qq.features(False))}; {'; '.join(fits)}")


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
    ap.add_argument("--word-candidates", type=int, default=cp.WORD_CANDIDATES,
                    help="works ranked by shared visual words also verified (0: window hashes only)")
    ap.add_argument("--ivf-windows", choices=("all", "coarse"), default="all",
                    help="windows the inverted file holds (coarse: whole frame, squares, rotations)")
    ap.add_argument("--no-faiss", action="store_true", help="as without the faiss extra: numpy scan, OpenCV matching")
    ap.add_argument("--pixel-distractors", type=int, default=0,
                    help="instead of synthetic works: this many random edits of the other photographs, fingerprinted from pixels")
    ap.add_argument("--diagnose", action="store_true", help="print why each missed copy was missed")
    ap.add_argument("--all-windows", action="store_true", help="scan all 56 windows, not the coarse 8 (coarse_scan=False)")
    ap.add_argument("--stop-factor", type=float, default=None, help="override _visual_words.STOP_FACTOR")
    ap.add_argument("--pixel-cache", type=Path, default=None, help="keep the pixel-distractor index in this folder (reused)")
    args = ap.parse_args()
    if args.stop_factor is not None:
        vw.STOP_FACTOR = args.stop_factor
    if args.no_faiss:
        from artlineage.matching import _local_features as lf
        lf._FAISS[:] = [None]
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
    if args.pixel_distractors and args.pixel_cache and (args.pixel_cache / "meta.json").exists():
        index = cp.CopyIndex.load(args.pixel_cache)
        print(f"{len(index):,} works loaded from {args.pixel_cache}")
    elif args.pixel_distractors:
        t0 = time.perf_counter()
        index = pixel_index(real, files[2 * args.real:], args.pixel_distractors, args.seed)
        if args.pixel_cache:
            index.save(args.pixel_cache)
        print(f"{args.pixel_distractors:,} distractors fingerprinted from pixels in {time.perf_counter() - t0:.0f} s "
              f"(edits of {len(files[2 * args.real:])} photographs)")
    else:
        index = ScaledIndex(real, donors, max(0, args.works - len(real)), rng)
    if args.ivf:
        windows = cp.COARSE_WINDOWS if args.ivf_windows == "coarse" else None
        print(f"IndexBinaryIVF({args.ivf} lists, nprobe {args.nprobe}, {args.ivf_windows} windows) trained and "
              f"filled in {index.use_ivf(args.ivf, args.nprobe, rng, windows):.0f} s "
              f"({index.ivf.ntotal * 16 / 2**30:.2f} GiB of codes and ids)")
    if args.word_candidates and not args.pixel_distractors:
        t = index.build_words(args.seed)
        wi = index.word_parts[0][0]
        print(f"visual words: {len(wi.rows):,} postings in {len(wi.vocab):,} lists built in {t:.0f} s "
              f"({wi.nbytes / 2**30:.2f} GiB, {wi.nbytes / len(index):.0f} B per work; stop lists over "
              f"{wi.stop_df()} works)")
    det = cp.CopyDetector(index, candidates=args.candidates, word_candidates=args.word_candidates,
                          coarse_scan=not args.all_windows)
    per_work = sum(np.asarray(getattr(real, name)).nbytes for name in cp.CopyIndex._ARRAYS) / len(real)
    print(f"{len(index):,} works x {len(cp.WINDOWS)} windows ({index.hashes.nbytes / 2**30:.2f} GiB of window "
          f"hashes); {per_work / 1024:.1f} KiB per real work in the index")
    ed = edits(rng)
    names = list(ed)
    hash_t, word_t, total_t, found, pos, fp = [], [], [], 0, 0, 0
    per_edit: dict[str, list[int]] = {n: [0, 0] for n in names}
    for k in range(args.queries):
        registered = k % 2 == 0
        pool = reg if registered else neg
        i = int(rng.integers(0, len(pool)))
        edit = names[(k // 2) % len(names)]
        q = ed[edit](pool[i][1])
        t0 = time.process_time()
        qq = cp._query(cp.load_image(q))
        index.nearest(qq.hashes, det.candidates, coarse=bool(args.word_candidates))   # as the detector scans
        hash_t.append(time.process_time() - t0)
        if args.word_candidates:
            t0 = time.process_time()
            index.nearest_by_words(qq.features(False).desc, qq.features(True).desc, args.word_candidates + 24)
            word_t.append(time.process_time() - t0)
        t0 = time.process_time()
        hits = [m.work_id for m in det.find_copies(q)]
        total_t.append(time.process_time() - t0)
        if registered and args.diagnose and i not in hits:
            _diagnose(index, det, q, i, edit)
        if registered:
            pos += 1
            found += i in hits
            per_edit[edit][0] += i in hits
            per_edit[edit][1] += 1
        fp += sum(1 for h in hits if not (registered and h == i))
    for label, t in (("query hashes + window scan", hash_t), ("features + visual words", word_t),
                     ("whole find_copies", total_t)):
        if not t:
            continue
        print(f"{label:28s} CPU ms p50 {np.percentile(t, 50) * 1000:6.1f}  p99 {np.percentile(t, 99) * 1000:6.1f}")
    print(f"recall of registered photos' copies {found}/{pos}; false matches {fp} in {args.queries} queries")
    print("recall per edit: " + ", ".join(f"{n} {a}/{b}" for n, (a, b) in per_edit.items()))
    print(f"load average {os.getloadavg()[0]:.1f} (2-core box shared with other jobs)")


if __name__ == "__main__":
    main()
