"""Labelled test images built in code: camera-like and generator-like pictures.

Camera-like: a smooth scene sampled through a Bayer mosaic with sensor noise, then demosaiced
(bilinear), which correlates the colour channels' noise. Generator-like: a scene decoded at half
resolution and upsampled 2x with a fixed 2x2 kernel pattern (what transposed convolutions leave),
with little noise. These differ in exactly the traces the residual features measure; they are a
test that the pipeline learns and evaluates, not a claim about real generators.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def _scene(rng: np.random.Generator, side: int) -> np.ndarray:
    coarse = rng.uniform(0, 255, (side // 32 + 2, side // 32 + 2, 3)).astype(np.float32)
    img = Image.fromarray(coarse.astype(np.uint8)).resize((side, side), Image.Resampling.BICUBIC)
    return np.asarray(img, np.float32)


def camera_like(rng: np.random.Generator, side: int = 256) -> Image.Image:
    scene = _scene(rng, side) + rng.normal(0, rng.uniform(2, 6), (side, side, 3)).astype(np.float32)
    mosaic = np.zeros((side, side), np.float32)
    mosaic[0::2, 0::2] = scene[0::2, 0::2, 0]
    mosaic[1::2, 1::2] = scene[1::2, 1::2, 2]
    mosaic[0::2, 1::2] = scene[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = scene[1::2, 0::2, 1]
    # Bilinear demosaic approximated by a 3x3 average of the mosaic for every channel.
    p = np.pad(mosaic, 1, mode="edge")
    avg = sum(p[i:i + side, j:j + side] for i in range(3) for j in range(3)) / 9.0
    out = np.stack([0.5 * avg + 0.5 * scene[..., c] for c in range(3)], axis=2)
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


def generator_like(rng: np.random.Generator, side: int = 256) -> Image.Image:
    half = _scene(rng, side // 2) + rng.normal(0, 0.8, (side // 2, side // 2, 3)).astype(np.float32)
    up = np.repeat(np.repeat(half, 2, axis=0), 2, axis=1)
    pattern = np.asarray([[1.06, 0.97], [0.98, 0.99]], np.float32)  # a transposed-conv checkerboard
    up *= np.tile(pattern, (side // 2, side // 2))[..., None]
    return Image.fromarray(np.clip(up, 0, 255).astype(np.uint8))


def write_labelled(root: Path, n_ai: int, n_real: int, seed: int = 0, fmt: str = "PNG") -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    ai, real = root / "ai", root / "real"
    for i in range(n_ai):
        sub = ai / ("gen_a" if i % 2 == 0 else "gen_b")
        sub.mkdir(parents=True, exist_ok=True)
        generator_like(rng).save(sub / f"{i:04d}.{fmt.lower()}", fmt)
    for i in range(n_real):
        sub = real / "camera"
        sub.mkdir(parents=True, exist_ok=True)
        camera_like(rng).save(sub / f"{i:04d}.{fmt.lower()}", fmt)
    return ai, real
