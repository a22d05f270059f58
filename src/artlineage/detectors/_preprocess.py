"""Pixels to model input, exactly as a model card describes."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image

from ._card import InputSpec


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB with transparency composited onto white (alpha must not leak hidden colour values)."""
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return image.convert("RGB")


def center_crop(image: Image.Image, width: int, height: int) -> Image.Image:
    """The centred ``width`` x ``height`` window; smaller images are padded with edge-reflection."""
    w, h = image.size
    if w < width or h < height:
        arr = np.asarray(image)
        pad_h, pad_w = max(0, height - h), max(0, width - w)
        arr = np.pad(arr, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)), mode="reflect"
                     if min(h, w) > 1 else "edge")
        image = Image.fromarray(arr)
        w, h = image.size
    left, top = (w - width) // 2, (h - height) // 2
    return image.crop((left, top, left + width, top + height))


def fit(image: Image.Image, spec: InputSpec) -> Image.Image:
    height, width = spec.size
    rgb = to_rgb(image)
    if spec.resize == "resize":
        return rgb.resize((width, height), Image.Resampling.BICUBIC)
    if spec.resize == "shorter_side_center_crop":
        w, h = rgb.size
        scale = max(width / w, height / h)
        rgb = rgb.resize((max(width, round(w * scale)), max(height, round(h * scale))), Image.Resampling.BICUBIC)
    return center_crop(rgb, width, height)


def to_tensor(images: Sequence[Image.Image], spec: InputSpec) -> np.ndarray:
    """A float32 batch in the card's layout, channel order and normalisation."""
    arrays = [np.asarray(fit(im, spec), np.float32) for im in images]
    x = np.stack(arrays) / np.float32(spec.scale)  # N, H, W, C (RGB)
    x = (x - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    if spec.channel_order == "BGR":
        x = x[..., ::-1]
    if spec.layout == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x, dtype=np.float32)
