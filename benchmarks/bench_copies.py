"""Copy detection on real photographs: CopyDetector (window hashes + ORB/RANSAC) side by side with
today's pHash+PDQ WorkMatcher and imagehash's crop_resistant_hash.

    python benchmarks/bench_copies.py PHOTO_DIR [--works 200] [--crh 60] [--edits all]

PHOTO_DIR: a folder of real photographs (kept outside the repository). Sorted files alternate:
even ones are registered as works, odd ones are *unregistered look-alikes* (with an ImageNet
sample folder, neighbouring files are neighbouring classes: dog breed next to dog breed). The
photos that scikit-image and scikit-learn ship are added (motorcycle_left registered,
motorcycle_right — the neighbouring stereo frame — as a look-alike). Every edit is applied to
every registered and every look-alike photo; a reported match is correct only when it names the
photo's own work. Prints recall per edit, overall precision, and per-query time.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from artlineage.matching import copies as cp  # noqa: E402
from artlineage.matching.hashing import hash_image  # noqa: E402
from artlineage.matching.match import RegisteredWork, WorkMatcher  # noqa: E402
from artlineage.matching.hashing import pdq_to_words  # noqa: E402


def _jpeg(im: Image.Image, q: int) -> Image.Image:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=q)
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out


def _crop(im, fx, fy, px, py):
    w, h = im.size
    cw, ch = int(w * fx), int(h * fy)
    x0, y0 = int((w - cw) * px), int((h - ch) * py)
    return im.crop((x0, y0, x0 + cw, y0 + ch))


def _text(im):
    im = im.convert("RGB").copy()
    d = ImageDraw.Draw(im)
    w, h = im.size
    for i in range(3):
        d.text((int(w * 0.03), int(h * 0.03) + i * 14), "© stock photo 2024 www.example.com", fill=(255, 255, 255))
    return im


def _logo(im):
    im = im.convert("RGB").copy()
    w, h = im.size
    s = max(8, int(min(w, h) * 0.18))
    d = ImageDraw.Draw(im)
    d.rectangle([w - s - 6, h - s - 6, w - 6, h - 6], fill=(220, 30, 30))
    d.ellipse([w - s, h - s, w - 6 - s // 4, h - 6 - s // 4], fill=(255, 255, 255))
    return im


def edits(rng: np.random.Generator) -> dict:
    """The edits of issue 13, each a function of a PIL image (random parts drawn from ``rng``)."""
    def rand_crop(im):
        fx = rng.uniform(0.6, 1.0)
        fy = min(1.0, 0.6 / fx + 0.01)
        return _crop(im, fx, fy, rng.random(), rng.random())

    def letterbox(im):
        w, h = im.size
        canvas = Image.new("RGB", (w, int(w * 9 / 16) if w * 9 / 16 > h else h), (0, 0, 0))
        cw = int(h * 16 / 9)
        canvas = Image.new("RGB", (max(w, cw), h), (0, 0, 0))
        canvas.paste(im.convert("RGB"), ((canvas.width - w) // 2, 0))
        return canvas

    return {
        "resize50": lambda im: im.resize((im.width // 2, im.height // 2), Image.BILINEAR),
        "thumb160": lambda im: ImageOps.contain(im, (160, 160), Image.BICUBIC),  # a dataset's thumbnail
        "jpeg50": lambda im: _jpeg(im, 50),
        "crop90c": lambda im: _crop(im, 0.9, 0.9, 0.5, 0.5),
        "crop78rand": lambda im: _crop(im, 0.78, 0.78, rng.random(), rng.random()),
        "crop60area": rand_crop,
        "centresq256": lambda im: ImageOps.fit(im, (256, 256), Image.BICUBIC),
        "border": lambda im: ImageOps.expand(im.convert("RGB"), border=max(4, im.width // 12), fill=(255, 255, 255)),
        "letterbox": letterbox,
        "mirror": ImageOps.mirror,
        "rot10": lambda im: im.convert("RGB").rotate(10, Image.BILINEAR),
        "rot-7crop": lambda im: _crop(im.convert("RGB").rotate(-7, Image.BILINEAR, expand=False), .85, .85, .5, .5),
        "bright": lambda im: ImageEnhance.Brightness(im.convert("RGB")).enhance(1.4),
        "contrast": lambda im: ImageEnhance.Contrast(im.convert("RGB")).enhance(0.6),
        "saturate": lambda im: ImageEnhance.Color(im.convert("RGB")).enhance(1.8),
        "grey": lambda im: im.convert("L"),
        "text": _text,
        "logo": _logo,
        "mirror+crop+jpeg": lambda im: _jpeg(_crop(ImageOps.mirror(im), 0.8, 0.8, rng.random(), rng.random()), 60),
    }


def bundled_photos() -> list[tuple[str, Image.Image, bool]]:
    """(name, image, registered) from scikit-image / scikit-learn when installed."""
    out = []
    try:
        from skimage import data
        for name in ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "retina"):
            out.append((name, Image.fromarray(getattr(data, name)()), True))
        left, right, _ = data.stereo_motorcycle()
        out.append(("motorcycle_left", Image.fromarray(left), True))
        out.append(("motorcycle_right", Image.fromarray(right), False))
    except Exception:   # noqa: BLE001 - optional
        pass
    try:
        from sklearn.datasets import load_sample_image
        out.append(("china", Image.fromarray(load_sample_image("china.jpg")), True))
        out.append(("flower", Image.fromarray(load_sample_image("flower.jpg")), False))
    except Exception:   # noqa: BLE001
        pass
    return out


def photo_set(folder: Path | None, works: int) -> tuple[list, list]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"}) if folder else []
    reg, neg = [], []
    for i, p in enumerate(files[: 2 * works]):
        (reg if i % 2 == 0 else neg).append((p.stem, Image.open(p).convert("RGB")))
    for name, im, registered in bundled_photos():
        (reg if registered else neg).append((name, im.convert("RGB")))
    return reg, neg


class Methods:
    def __init__(self, reg, crh_works: int, candidates: int | None = None):
        t0 = time.perf_counter()
        self.copy = cp.CopyDetector.from_images(((i, im) for i, (_, im) in enumerate(reg)), candidates=candidates)
        self.copy_index_s = time.perf_counter() - t0
        self.hash_only = cp.CopyDetector(self.copy.index, verify=False)
        # the cascade as it was before visual words: candidates from the window hashes only
        self.windows_only = cp.CopyDetector(self.copy.index, candidates=candidates, word_candidates=0)
        # visual words with every window scanned (the default scans the coarse windows only)
        self.all_windows = cp.CopyDetector(self.copy.index, candidates=candidates, coarse_scan=False)
        rows = []
        for i, (_, im) in enumerate(reg):
            ph, pq = hash_image(im)
            rows.append(RegisteredWork(i, None, "a", ph, pq))
        self.wm = WorkMatcher(rows)
        self.crh = None
        if crh_works:
            import imagehash
            self.crh = [(i, imagehash.crop_resistant_hash(im)) for i, (_, im) in enumerate(reg[:crh_works])]

    def run_copy(self, im):
        return [m.work_id for m in self.copy.find_copies(im)]

    def run_all_windows(self, im):
        return [m.work_id for m in self.all_windows.find_copies(im)]

    def run_windows_only(self, im):
        return [m.work_id for m in self.windows_only.find_copies(im)]

    def run_hash_only(self, im):
        return [m.work_id for m in self.hash_only.find_copies(im)]

    def run_phash_pdq(self, im):
        ph, pq = hash_image(im)
        return [w.work_id for w, _, _ in self.wm.lookup(ph, pdq_to_words(pq))]

    def run_crh(self, im):
        import imagehash
        q = imagehash.crop_resistant_hash(im)
        return [i for i, h in self.crh if q.matches(h, region_cutoff=1, hamming_cutoff=10)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("photos", nargs="?", type=Path)
    ap.add_argument("--works", type=int, default=200, help="registered works taken from the folder")
    ap.add_argument("--crh", type=int, default=0, help="works (and their queries) also run through crop_resistant_hash")
    ap.add_argument("--edits", default="all")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--candidates", type=int, default=None, help="works verified per query at most (default: 24 with faiss, 12 without)")
    args = ap.parse_args()
    try:
        import cv2
        cv2.setNumThreads(1)         # one core per query: the figure is CPU ms per query on one core
    except ImportError:
        pass
    try:
        import faiss
        faiss.omp_set_num_threads(1)   # the window scan and descriptor matching on one core too
    except ImportError:
        pass
    reg, neg = photo_set(args.photos, args.works)
    rng = np.random.default_rng(args.seed)
    all_edits = edits(rng)
    chosen = list(all_edits) if args.edits == "all" else args.edits.split(",")
    m = Methods(reg, args.crh, args.candidates)
    print(f"{len(reg)} registered photos, {len(neg)} unregistered look-alikes, {len(chosen)} edits; "
          f"copy index built in {m.copy_index_s:.1f} s ({m.copy_index_s / len(reg) * 1000:.1f} ms/work)")
    methods = {"copies": m.run_copy, "words + all windows": m.run_all_windows, "no words": m.run_windows_only,
               "window-hash only": m.run_hash_only, "pHash+PDQ": m.run_phash_pdq}
    if m.crh:
        methods["crop_resistant_hash"] = m.run_crh
    stats = {k: {"tp": 0, "fp": 0, "pos": 0, "time": [], "per_edit": {}} for k in methods}
    misses = []
    for edit in chosen:
        fn = all_edits[edit]
        queries = [(i, fn(im)) for i, (_, im) in enumerate(reg)] + [(None, fn(im)) for _, im in neg]
        for name, run in methods.items():
            if name == "crop_resistant_hash":
                qs = [(t, q) for t, q in queries if t is None or t < args.crh][: 2 * args.crh]
            else:
                qs = queries
            s = stats[name]
            found = 0
            n_pos = 0
            for truth, q in qs:
                t0 = time.process_time()     # CPU time of this process: "per core", whatever else runs
                hits = run(q)
                s["time"].append(time.process_time() - t0)
                if truth is not None:
                    n_pos += 1
                    if truth in hits:
                        found += 1
                    elif name == "copies":
                        misses.append(f"{edit}:{reg[truth][0]}")
                s["tp"] += sum(1 for h in hits if h == truth)
                s["fp"] += sum(1 for h in hits if h != truth)
            s["pos"] += n_pos
            s["per_edit"][edit] = found / max(1, n_pos)
    print(f"{'edit':18s}" + "".join(f"{k:>22s}" for k in methods))
    for edit in chosen:
        print(f"{edit:18s}" + "".join(f"{stats[k]['per_edit'][edit]:22.3f}" for k in methods))
    print(f"{'recall':18s}" + "".join(f"{stats[k]['tp'] / max(1, stats[k]['pos']):22.3f}" for k in methods))
    print(f"{'precision':18s}" + "".join(
        f"{stats[k]['tp'] / max(1, stats[k]['tp'] + stats[k]['fp']):22.4f}" for k in methods))
    print(f"{'false matches':18s}" + "".join(f"{stats[k]['fp']:22d}" for k in methods))
    for q in (50, 99):
        print(f"{f'CPU ms/query p{q}':18s}" + "".join(f"{np.percentile(stats[k]['time'], q) * 1000:22.1f}" for k in methods))
    print(f"copies misses ({len(misses)}): {', '.join(misses[:40])}")


if __name__ == "__main__":
    main()
