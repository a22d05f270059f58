"""Weight-free features for the trainable detector: noise residuals and their spectrum.

Generated images differ from camera images less in *what* they show than in the fine structure
left by how they were made: camera pipelines leave sensor noise and demosaicing correlations
between colour channels; decoders that upsample (transposed convolutions, VAE decoders) leave
periodic peaks in the spectrum of the high-frequency residual (Durall et al., CVPR 2020;
Corvi et al., ICASSP 2023); JPEG leaves 8x8 block boundaries. These statistics are cheap, need no
weights, and are a *baseline*: on real data a learned embedder (``--embedder onnx:PATH``) is usually
stronger. Whatever the features, ``detect eval`` on your own data says how well they work.

Pixels are read at native resolution (a centred window), because resampling destroys exactly the
traces measured here; very large JPEGs are reduced with ``draft`` only down to twice the window.
"""

from __future__ import annotations

import os
from typing import Sequence, Union

import numpy as np
from PIL import Image

from ._preprocess import center_crop, to_rgb

ImageLike = Union[str, "os.PathLike[str]", Image.Image]

WINDOW = 256
_BANDS = 12
_PEAKS = ((1 / 2, 0), (0, 1 / 2), (1 / 2, 1 / 2), (1 / 4, 0), (0, 1 / 4), (1 / 4, 1 / 4), (1 / 8, 0), (0, 1 / 8))
FEATURE_NAMES: tuple[str, ...] = (
    *(f"residual_std_{c}" for c in "rgb"), "residual_kurtosis",
    "residual_corr_rg", "residual_corr_gb", "residual_corr_rb",
    *(f"residual_band_{i}" for i in range(_BANDS)),
    *(f"residual_peak_{a:.3g}_{b:.3g}" for a, b in _PEAKS),
    "jpeg_block_h", "jpeg_block_v", "saturation_mean", "saturation_std", "gradient_mean", "gradient_kurtosis",
)


def load_window(image: ImageLike, side: int = WINDOW) -> np.ndarray:
    """The centred ``side`` x ``side`` RGB window as float32 in [0, 255]."""
    img = image if isinstance(image, Image.Image) else Image.open(image)
    if img.format == "JPEG" and min(img.size) > 4 * side:
        img.draft("RGB", (2 * side, 2 * side))  # keep >= 2x the window; DCT scaling is cheap
    return np.asarray(center_crop(to_rgb(img), side, side), np.float32)


def _blur3(x: np.ndarray) -> np.ndarray:
    """3x3 box blur with edge padding, over the first two axes."""
    p = np.pad(x, ((1, 1), (1, 1)) + ((0, 0),) * (x.ndim - 2), mode="edge")
    s = p[:-2] + p[1:-1] + p[2:]
    return (s[:, :-2] + s[:, 1:-1] + s[:, 2:]) / 9.0


def _kurtosis(v: np.ndarray) -> float:
    d = v.ravel() - v.mean(dtype=np.float64)
    d2 = d * d
    var = float(d2.mean(dtype=np.float64))
    return float((d2 * d2).mean(dtype=np.float64) / (var * var)) if var > 1e-12 else 0.0


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-9 else 0.0


def _spectrum_features(residual: np.ndarray) -> list[float]:
    n = residual.shape[0]
    power = np.abs(np.fft.fftshift(np.fft.fft2(residual * np.hanning(n)[:, None] * np.hanning(n)[None, :]))) ** 2
    logp = np.log1p(power)
    yy, xx = np.indices(power.shape)
    c = n // 2
    radius = np.hypot(yy - c, xx - c) / c  # 0 at DC, 1 at Nyquist on the axes
    bands = [float(logp[(radius >= i / _BANDS) & (radius < (i + 1) / _BANDS)].mean()) for i in range(_BANDS)]
    total = float(np.mean(bands)) or 1.0
    bands = [b / total for b in bands]
    median = float(np.median(logp)) or 1.0
    peaks = []
    for fy, fx in _PEAKS:  # relative to DC; the peak and its 3x3 neighbourhood (spectral leakage)
        y, x = c + int(round(fy * n)), c + int(round(fx * n))
        y, x = min(y, n - 1), min(x, n - 1)
        peaks.append(float(logp[max(0, y - 1):y + 2, max(0, x - 1):x + 2].max() / median))
    return bands + peaks


def _blockiness(gray: np.ndarray) -> list[float]:
    dh = np.abs(np.diff(gray, axis=1))  # between columns j and j+1
    dv = np.abs(np.diff(gray, axis=0))
    h_edge, h_other = dh[:, 7::8].mean(), np.delete(dh, np.s_[7::8], axis=1).mean()
    v_edge, v_other = dv[7::8, :].mean(), np.delete(dv, np.s_[7::8], axis=0).mean()
    return [float(h_edge / (h_other + 1e-6)), float(v_edge / (v_other + 1e-6))]


def image_features(image: ImageLike) -> np.ndarray:
    """The feature vector (``len(FEATURE_NAMES)`` float32 values) of one image."""
    rgb = load_window(image)
    residual = rgb - _blur3(rgb)
    gray = rgb @ np.asarray([0.299, 0.587, 0.114], np.float32)
    gray_res = residual @ np.asarray([0.299, 0.587, 0.114], np.float32)
    feats: list[float] = [float(residual[..., i].std()) for i in range(3)]
    feats.append(_kurtosis(gray_res))
    feats += [_corr(residual[..., 0], residual[..., 1]), _corr(residual[..., 1], residual[..., 2]),
              _corr(residual[..., 0], residual[..., 2])]
    feats += _spectrum_features(gray_res)
    feats += _blockiness(gray)
    mx, mn = rgb.max(axis=2), rgb.min(axis=2)
    sat = np.where(mx > 0, (mx - mn) / np.maximum(mx, 1e-6), 0.0)
    feats += [float(sat.mean()), float(sat.std())]
    gy, gx = np.gradient(gray)
    mag = np.hypot(gx, gy)
    feats += [float(mag.mean()), _kurtosis(mag)]
    return np.asarray(feats, np.float32)


class ResidualFeatures:
    """The default feature extractor (``features: "residual"`` in a trained detector's card)."""

    name = "residual"

    def features(self, images: Sequence[ImageLike]) -> np.ndarray:
        if not images:
            return np.zeros((0, len(FEATURE_NAMES)), np.float32)
        return np.stack([image_features(im) for im in images])


class EmbedderFeatures:
    """Features from an image embedder (``onnx:PATH`` through ``health.embeddings``)."""

    def __init__(self, spec: str):
        from ..health.embeddings import embedder_from_spec

        self.name = spec
        self.embedder = embedder_from_spec(spec)

    def features(self, images: Sequence[ImageLike]) -> np.ndarray:
        return np.asarray(self.embedder.embed(list(images)), np.float32)


def feature_extractor(spec: str | None):
    """``residual`` (default) or an embedder spec such as ``onnx:/models/clip.onnx``."""
    if not spec or spec == "residual":
        return ResidualFeatures()
    return EmbedderFeatures(spec)
