"""Generated test images: distinct procedural pictures (no fixtures on disk)."""

import numpy as np
from PIL import Image


def picture(seed: int, size: int = 96) -> Image.Image:
    """A distinct image per seed: random smooth colour field plus stripes at a random angle."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC), np.float64)
    yy, xx = np.mgrid[0:size, 0:size]
    angle, freq = rng.uniform(0, np.pi), rng.uniform(0.05, 0.4)
    stripes = 60 * np.sin(freq * (np.cos(angle) * xx + np.sin(angle) * yy))[..., None]
    return Image.fromarray(np.clip(base + stripes, 0, 255).astype(np.uint8))
