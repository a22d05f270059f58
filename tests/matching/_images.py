"""Synthetic test images for perceptual matching, built in code: gradients, shapes and noise."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps


def synthetic_image(seed: int, size: tuple[int, int] = (96, 72)) -> Image.Image:
    """A small random picture: a two-colour gradient, a few filled shapes, mild noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    x = np.linspace(0, 1, w)[None, :, None]
    y = np.linspace(0, 1, h)[:, None, None]
    c0, c1, c2 = (rng.integers(0, 256, 3) for _ in range(3))
    angle = rng.random()
    t = np.clip(angle * x + (1 - angle) * y, 0, 1)
    base = c0 * (1 - t) + c1 * t + c2 * 0.25 * np.sin(rng.uniform(2, 9) * (x + y * rng.random()))
    base = base + rng.normal(0, 6, (h, w, 3))
    im = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for _ in range(rng.integers(3, 8)):
        cx, cy = rng.integers(0, w), rng.integers(0, h)
        r = int(rng.integers(w // 12, w // 3))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        kind = rng.integers(0, 3)
        if kind == 0:
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        elif kind == 1:
            d.rectangle([cx - r, cy - r // 2, cx + r, cy + r // 2], fill=fill)
        else:
            d.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=fill)
    return im


def reencode(im: Image.Image, fmt: str, **kw) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out


def variants(im: Image.Image) -> dict[str, Image.Image]:
    """The edits a registered work must survive."""
    w, h = im.size
    cw, ch = int(w * 0.05), int(h * 0.05)
    return {
        "resize50": im.resize((w // 2, h // 2), Image.BILINEAR),
        "resize200": im.resize((w * 2, h * 2), Image.BICUBIC),
        "jpeg60": reencode(im, "JPEG", quality=60),
        "webp": reencode(reencode(im, "PNG"), "WEBP", quality=80),
        "crop5": im.crop((cw, ch, w - cw, h - ch)),
        "border10": ImageOps.expand(im, border=10, fill=(255, 255, 255)),
        "brighter": ImageEnhance.Brightness(im).enhance(1.2),
        "colour": ImageEnhance.Color(im).enhance(1.4),
    }
