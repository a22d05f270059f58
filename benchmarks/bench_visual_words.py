"""How well each first stage ranks a copy's source among real photographs: window pHashes against
visual words (``artlineage.matching._visual_words``), and the word length.

    python benchmarks/bench_visual_words.py PHOTO_DIR [--works 150] [--bits 16,20,24,28] [--store 256]

Every photo of PHOTO_DIR (sorted, ~1 000 real photographs) is a registered work; edited copies of the
first ``--works`` even-numbered ones (as bench_copies.py registers them) are the queries. For each
edit, prints how often the source is ranked first and within the 8 best (what the detector verifies:
``WORD_CANDIDATES``) by the window hashes (``CopyIndex.nearest``, as the detector ranks) and by
shared visual words for several word lengths (bit sampling with ``len`` bits; 24 is the library's),
plus the source's score in standard deviations above the other works' mean (z): what decides
whether it stays on top among 10 M works rather than 1 000.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from artlineage.matching import _visual_words as vw  # noqa: E402
from artlineage.matching import copies as cp  # noqa: E402
from bench_copies import edits  # noqa: E402

HARD = ("crop60area", "crop78rand", "rot-7crop", "mirror+crop+jpeg", "centresq256", "thumb160", "logo")


def word_fn(bits: np.ndarray):
    def f(desc: np.ndarray) -> np.ndarray:
        u = np.unpackbits(np.asarray(desc, np.uint8), axis=1)[:, bits].astype(np.uint64)
        return u @ (np.uint64(1) << np.arange(len(bits), dtype=np.uint64))
    return f


def word_scores(words_of, stored, queries) -> list[np.ndarray]:
    """Per query, the number of its (non-stop) words each work holds, best orientation."""
    n = len(stored)
    keys = np.unique(np.concatenate([words_of(d) * np.uint64(n) + np.uint64(i) for i, d in enumerate(stored)]))
    pw, po = keys // np.uint64(n), (keys % np.uint64(n)).astype(np.int64)
    vocab, start, df = np.unique(pw, return_index=True, return_counts=True)
    stop = max(1, int(vw.STOP_FACTOR * len(pw) / len(vocab)))
    out = []
    for plain, mirrored in queries:
        best = np.zeros(n)
        for d in (plain, mirrored):
            qw = np.unique(words_of(d[:vw.QUERY_FEATURES]))
            pos = np.minimum(np.searchsorted(vocab, qw), len(vocab) - 1)
            pos = pos[vocab[pos] == qw]
            pos = pos[df[pos] <= stop]            # stop words do not vote (as in the library)
            s = np.zeros(n)
            for p in pos.tolist():
                s[po[start[p]:start[p] + df[p]]] += 1
            best = np.maximum(best, s)
        out.append(best)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("photos", type=Path)
    ap.add_argument("--works", type=int, default=150)
    ap.add_argument("--bits", default="16,20,24,28")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--store", type=int, default=256, help="strongest features per work that get words (the index stores 256)")
    ap.add_argument("--stop-factor", type=float, default=None, help="override _visual_words.STOP_FACTOR")
    args = ap.parse_args()
    if args.stop_factor is not None:
        vw.STOP_FACTOR = args.stop_factor
    import cv2
    cv2.setNumThreads(1)
    files = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    images = [Image.open(p).convert("RGB") for p in files]
    index = cp.CopyIndex()
    index.add((i, cp.fingerprint(im)) for i, im in enumerate(images))
    stored = [index.features(r).desc[:args.store] for r in range(len(index))]
    rng = np.random.default_rng(args.seed)
    ed = edits(rng)
    sources = list(range(0, 2 * args.works, 2))
    print(f"{len(index)} real photographs registered; {len(sources)} sources x {len(HARD)} edits")
    rankers = {"window hashes": None} | {f"words {b} bits": int(b) for b in args.bits.split(",")}
    print(f"{'edit':18s}" + "".join(f"{k:>28s}" for k in rankers))
    for edit in HARD:
        qs = [cp._query(cp.load_image(ed[edit](images[i]))) for i in sources]
        row = []
        for name, bits in rankers.items():
            if bits is None:
                ranks = []
                for i, q in zip(sources, qs):
                    order = [r for r, *_ in index.nearest(q.hashes, len(index))]
                    ranks.append(order.index(i) if i in order else len(index))
                row.append(f"top1 {np.mean(np.array(ranks) == 0):.3f} top8 {np.mean(np.array(ranks) < 8):.3f}")
                continue
            sel = np.sort(np.random.default_rng(20261201).choice(256, bits, replace=False)) if bits != vw.WORD_BITS else vw._BITS
            scores = word_scores(word_fn(sel), stored, [(q.features(False).desc, q.features(True).desc) for q in qs])
            ranks, z = [], []
            for i, s in zip(sources, scores):
                others = np.delete(s, i)
                ranks.append(int((others >= s[i]).sum()))
                z.append((s[i] - others.mean()) / max(1e-9, others.std()))
            row.append(f"{np.mean(np.array(ranks) == 0):.3f} {np.mean(np.array(ranks) < 8):.3f} z.p5 {np.percentile(z, 5):5.1f}")
        print(f"{edit:18s}" + "".join(f"{c:>28s}" for c in row))


if __name__ == "__main__":
    main()
