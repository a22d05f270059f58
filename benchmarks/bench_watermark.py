"""Measure the dwtDct watermark reader: true-positive accuracy (PNG, JPEG q95), false positives, speed.

Run: .venv/bin/python benchmarks/bench_watermark.py [n_unmarked]
All images are generated here (no downloads): gradients + noise + shapes, flat colours, pure
noise, smooth "photo-like" fields, checkerboards, screenshots-like blocks.
"""

from __future__ import annotations

import io
import sys
import time

import numpy as np
from PIL import Image

from artlineage.signals import watermark as wm


def natural(rng: np.random.Generator, h: int = 512, w: int = 512) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    phase = rng.uniform(0, 6.28, 3)
    img = np.stack([127 + 100 * np.sin(xx / rng.uniform(40, 200) + phase[c]) * np.cos(yy / rng.uniform(40, 200))
                    for c in range(3)], -1)
    for _ in range(rng.integers(3, 10)):
        cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(10, 150)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.integers(0, 256, 3)
    img += rng.normal(0, rng.uniform(0, 10), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def unmarked(rng: np.random.Generator, kind: str, h: int = 512, w: int = 512) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    if kind == "natural":
        return natural(rng, h, w)
    if kind == "noise":
        return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    if kind == "flat":
        return np.broadcast_to(rng.integers(0, 256, 3).astype(np.uint8), (h, w, 3)).copy()
    if kind == "gradient":
        a, b = rng.uniform(-1, 1, 2)
        base = (xx * a + yy * b)[..., None] / max(h, w) * rng.uniform(50, 255, 3) + rng.uniform(0, 128, 3)
        return np.clip(base, 0, 255).astype(np.uint8)
    if kind == "photo":  # smooth low-frequency field + sensor noise, like a defocused photo
        small = rng.uniform(0, 255, (8, 8, 3)).astype(np.uint8)
        field = np.asarray(Image.fromarray(small).resize((w, h), Image.BICUBIC), dtype=np.float64)
        return np.clip(field + rng.normal(0, 3, field.shape), 0, 255).astype(np.uint8)
    if kind == "blocks":  # UI-like flat rectangles
        img = np.full((h, w, 3), rng.integers(200, 256), np.uint8)
        for _ in range(20):
            y0, x0 = rng.integers(0, h, 2) if False else (rng.integers(0, h), rng.integers(0, w))
            img[y0:y0 + rng.integers(5, 100), x0:x0 + rng.integers(5, 200)] = rng.integers(0, 256, 3)
        return img
    raise ValueError(kind)


KINDS = ("natural", "noise", "flat", "gradient", "photo", "blocks")


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def main(n_unmarked: int = 240) -> None:
    rng = np.random.default_rng(1234)
    best_fp: list[float] = []
    per_payload: dict[str, list[float]] = {name: [] for name in wm.KNOWN_WATERMARKS}
    fired = 0
    worst = ("", 0.0)
    for i in range(n_unmarked):
        kind = KINDS[i % len(KINDS)]
        h, w = [(512, 512), (768, 512), (1024, 1024), (600, 800)][i % 4]
        img = unmarked(rng, kind, h, w)
        for test in (img, jpeg(img, 90)) if i % 3 == 0 else (img,):
            results = wm.detect_known_watermarks(test)
            for name, acc in results:
                per_payload[name].append(acc)
            fired += any(acc >= wm.detection_threshold(len(wm.KNOWN_WATERMARKS[name].bits)) for name, acc in results)
            top = results[0]
            best_fp.append(top[1])
            if top[1] > worst[1]:
                worst = (f"{kind} {h}x{w} -> {top[0]}", top[1])
    fp = np.array(best_fp)
    print(f"unmarked decodes: {fp.size}; best-payload accuracy mean {fp.mean():.3f}, p99 {np.quantile(fp, .99):.3f}, "
          f"max {fp.max():.3f} ({worst[0]}); images that fired: {fired}")
    for name, accs in per_payload.items():
        thr = wm.detection_threshold(len(wm.KNOWN_WATERMARKS[name].bits))
        print(f"  {name}: unmarked max {max(accs):.3f}, p99 {np.quantile(accs, .99):.3f}, threshold {thr:.3f}")

    for name, known in wm.KNOWN_WATERMARKS.items():
        for variant in known.variants:
            accs = {"png": [], "jpeg95": [], "jpeg85": []}
            for k in range(12):
                img = natural(rng, *[(512, 512), (1024, 1024), (768, 512)][k % 3])
                marked = wm.embed_dwtdct(img, known.bits, float_yuv=variant[0], swap_rb=variant[1])
                for label, test in (("png", marked), ("jpeg95", jpeg(marked, 95)), ("jpeg85", jpeg(marked, 85))):
                    got = dict(wm.detect_known_watermarks(test))
                    accs[label].append(got.get(name, 0.0))
            thr = wm.detection_threshold(len(known.bits))
            print(f"{name:18s} float_yuv={variant[0]!s:5s} swap_rb={variant[1]!s:5s} " + "  ".join(
                f"{k}: mean {np.mean(v):.3f} min {np.min(v):.3f} detected {np.mean(np.array(v) >= thr):.0%}"
                for k, v in accs.items()))

    img = natural(rng)
    for label, fn in (("detect_known_watermarks 512x512", lambda: wm.detect_known_watermarks(img)),
                      ("decode_dwtdct 512x512 (136 bits)", lambda: wm.decode_dwtdct(img, 136)),
                      ("embed_dwtdct 512x512", lambda: wm.embed_dwtdct(img, wm.KNOWN_WATERMARKS["SDV2"].bits))):
        fn()
        t = time.perf_counter()
        for _ in range(20):
            fn()
        print(f"{label}: {(time.perf_counter() - t) / 20 * 1000:.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 240)
