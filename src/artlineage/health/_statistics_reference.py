"""The fixed standardisation of ``StatisticsEmbedder``: a whitening map learned once from generated images.

Why: the raw statistics (histograms, gradient-orientation histograms, log band energies) are all
non-negative and strongly correlated (contrast moves every band energy together), so any two images
have cosine similarity near 1 and Vendi scores come out compressed: 7 unrelated pictures scored ~2.
Centring on a reference mean and whitening with the reference covariance makes unrelated images
near-orthogonal (Vendi close to their count) while copies stay together (Vendi near 1).

Why fixed rather than per dataset: centring on the dataset's own mean would turn a dataset of
near-copies into its residual noise, which looks diverse; a fixed map keeps an image's embedding
independent of what it is scored with, so Vendi values are comparable across datasets and reports.

The reference set is procedural (smooth colour fields, gratings, 1/f noise, shapes, noise textures,
gradients, some greyscale): no downloaded data. The map is ZCA whitening with shrinkage
``W = V diag(1/sqrt(λ + s·mean λ)) Vᵀ`` on per-feature z-scores (standard deviations floored so a
feature that barely varies in the reference cannot dominate). It is stored in
``statistics_reference.json`` (float32, base64) for the default embedder parameters; other
parameters fit their own map on first use (a few seconds). Regenerate with
``python -m artlineage.health._statistics_reference``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

BUILTIN_PATH = Path(__file__).with_name("statistics_reference.json")
REFERENCE_SEED = 20240611
REFERENCE_COUNT = 2000
SHRINKAGE = 0.1  # added to every eigenvalue, as a fraction of their mean: bounds the gain of rare directions
STD_FLOOR = 0.01


@dataclass(frozen=True)
class Standardiser:
    """``(raw - mean) @ transform``: centring, per-feature scaling and whitening in one affine map."""

    params: tuple[int, int, int, int]  # (colour_bins, orientations, bands, side)
    mean: np.ndarray
    transform: np.ndarray

    def apply(self, raw: np.ndarray) -> np.ndarray:
        return (raw - self.mean) @ self.transform


def reference_image(rng: np.random.Generator, size: int = 96) -> Image.Image:
    """One procedural picture from one of six families, drawn with ``rng``."""
    kind = int(rng.integers(6))
    yy, xx = np.mgrid[0:size, 0:size] / size

    def colour_field(k: int) -> np.ndarray:
        coarse = rng.integers(0, 256, (k, k, 3), dtype=np.uint8)
        return np.asarray(Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC), np.float64)

    if kind == 0:  # smooth colour field
        a = colour_field(int(rng.integers(2, 12)))
    elif kind == 1:  # grating over a colour field
        angle, freq = rng.uniform(0, np.pi), rng.uniform(2, 40)
        a = colour_field(int(rng.integers(2, 6)))
        a = a + rng.uniform(10, 90) * np.sin(2 * np.pi * freq * (np.cos(angle) * xx + np.sin(angle) * yy))[..., None]
    elif kind == 2:  # 1/f^alpha noise, the spectrum of natural images, with correlated colour channels
        alpha = rng.uniform(0.8, 2.5)
        fy, fx = np.fft.fftfreq(size)[:, None], np.fft.rfftfreq(size)[None, :]
        amp = 1 / np.maximum(np.hypot(fy, fx), 1 / size) ** alpha

        def noise() -> np.ndarray:
            return np.fft.irfft2(amp * np.exp(2j * np.pi * rng.random(amp.shape)), s=(size, size))

        base = noise()
        a = np.stack([base * rng.uniform(0.3, 1) + rng.uniform(-0.3, 0.3) * noise() for _ in range(3)], -1)
        a = (a - a.mean()) / (a.std() + 1e-9) * rng.uniform(20, 70) + rng.uniform(40, 215, 3)
    elif kind == 3:  # flat shapes on a background, sometimes blurred
        img = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 256, 3)))
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(1, 12))):
            x0, y0 = (int(v) for v in rng.integers(0, size, 2))
            w, h = (int(v) for v in rng.integers(4, size * 2 // 3, 2))
            shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
            shape([x0, y0, x0 + w, y0 + h], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        if rng.random() < 0.5:
            img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 3)))
        a = np.asarray(img, np.float64)
    elif kind == 4:  # pixel noise texture
        a = rng.normal(rng.uniform(40, 215, 3), rng.uniform(5, 80), (size, size, 3))
    else:  # linear gradient between two colours
        angle = rng.uniform(0, 2 * np.pi)
        t = (np.cos(angle) * xx + np.sin(angle) * yy)[..., None]
        c0, c1 = rng.integers(0, 256, (2, 3))
        a = c0 + (c1 - c0) * (t - t.min()) / (np.ptp(t) + 1e-9)
    if rng.random() < 0.15:
        a = np.repeat(a.mean(-1, keepdims=True), 3, -1)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def fit_standardiser(params: tuple[int, int, int, int], count: int | None = None, seed: int = REFERENCE_SEED,
                     shrinkage: float = SHRINKAGE) -> Standardiser:
    """Learn the map from ``count`` (default ``REFERENCE_COUNT``) reference images, deterministic per seed."""
    from .embeddings import raw_statistics

    count = count or REFERENCE_COUNT
    rng = np.random.default_rng(seed)
    raw = np.stack([raw_statistics(reference_image(rng), *params) for _ in range(count)])
    mean = raw.mean(0)
    scale = 1.0 / np.maximum(raw.std(0), STD_FLOOR)
    cov = np.cov(((raw - mean) * scale).T)
    w, v = np.linalg.eigh(cov)
    w = np.clip(w, 0.0, None)
    whiten = (v / np.sqrt(w + shrinkage * w.mean())) @ v.T
    return Standardiser(params, mean, (scale[:, None] * whiten))


def _encode(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, "<f4").tobytes()).decode()


def _decode(s: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), "<f4").reshape(shape).astype(np.float64)


def save_builtin(st: Standardiser, path: Path = BUILTIN_PATH) -> None:
    doc = {"about": "StatisticsEmbedder standardisation; generated by python -m artlineage.health._statistics_reference",
           "params": list(st.params), "count": REFERENCE_COUNT, "seed": REFERENCE_SEED, "shrinkage": SHRINKAGE,
           "std_floor": STD_FLOOR, "dim": int(st.mean.shape[0]), "mean": _encode(st.mean),
           "transform": _encode(st.transform)}
    doc["sha256"] = hashlib.sha256((doc["mean"] + doc["transform"]).encode()).hexdigest()
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


@functools.lru_cache(maxsize=8)
def standardiser_for(params: tuple[int, int, int, int]) -> Standardiser:
    """The stored map for the default parameters; any other parameters fit their own (cached per process)."""
    if BUILTIN_PATH.is_file():
        doc = json.loads(BUILTIN_PATH.read_text(encoding="utf-8"))
        if tuple(doc["params"]) == params:
            d = doc["dim"]
            return Standardiser(params, _decode(doc["mean"], (d,)), _decode(doc["transform"], (d, d)))
    return fit_standardiser(params)


if __name__ == "__main__":  # regenerate the stored map (about 15 s)
    from .embeddings import DEFAULT_STATISTICS_PARAMS

    save_builtin(fit_standardiser(DEFAULT_STATISTICS_PARAMS))
    print(f"wrote {BUILTIN_PATH}")
