"""Perceptual hashes: a 64-bit DCT pHash and a 256-bit PDQ-style hash.

pHash follows ``imagehash.phash`` exactly (grayscale, Lanczos resize to 32x32, 2-D DCT-II,
top-left 8x8 block, bits set where a coefficient is above the block's median; bit 0 of the
64-bit integer is the *last* coefficient, i.e. ``int(str(imagehash.phash(im)), 16)`` is our value).
We reimplement it rather than depend on imagehash because the DCT is two small matrix products
with a precomputed matrix (faster than two ``scipy.fftpack`` calls per image) and because the file
path decodes JPEGs at reduced size with Pillow's ``draft``, which imagehash cannot do.

PDQ follows Facebook's published algorithm (pdq/cpp/hashing/pdqhashing.cpp): luminance
``0.299 R + 0.587 G + 0.114 B``, two passes of a box filter per axis (Jarosz tent filter) with
window ``ceil(old / (2 * 64))``, decimation to 64x64 at the window centres, a 16x64 DCT matrix that
skips the DC row, then 256 bits set where a coefficient is above the median. Simplifications,
stated so nobody mistakes this for the reference hasher: float64 instead of float32 (a bit can
differ where a coefficient is within rounding of the median), the 256 bits are packed row-major
MSB-first (not the reference's 16-bit-word hex order), no dihedral variants and no quality score.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np
from PIL import Image
from ..errors import HashError  # noqa: F401  (re-exported: its old home)

PHASH_SIZE = 32          # imagehash: hash_size 8 * highfreq_factor 4
PDQ_SIZE = 64
# JPEG draft target: libjpeg decodes at the largest 1/2..1/8 scale keeping both sides >= 128 px
# (a 1600x1200 photo at 200x150). Measured on 1600x1200 JPEGs (benchmarks/bench_hashing.py):
# (256, 256) -> 443 hashes/s, PDQ 5.4 bits from a full decode; (128, 128) -> 634/s, PDQ 14 bits
# (pHash unchanged, 0.07 bits). PDQ's own near-duplicate threshold is ~31 bits, so we take the speed.
DRAFT_SIZE = (128, 128)
MAX_PIXELS = 200_000_000  # refuse decompression bombs rather than allocate gigabytes


@lru_cache(maxsize=None)
def _dct_matrix(n: int) -> np.ndarray:
    """Unnormalised DCT-II matrix as scipy.fftpack.dct(type=2) computes it: 2 cos(pi k (2j+1) / 2n)."""
    k = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    return 2.0 * np.cos(np.pi * k * (2 * j + 1) / (2 * n))


@lru_cache(maxsize=None)
def _pdq_dct_matrix() -> np.ndarray:
    """PDQ's 16x64 DCT matrix: rows 1..16 (the DC row is skipped), scaled by sqrt(2/64)."""
    i = np.arange(1, 17)[:, None]
    j = np.arange(PDQ_SIZE)[None, :]
    return np.sqrt(2.0 / PDQ_SIZE) * np.cos(np.pi / 2 / PDQ_SIZE * i * (2 * j + 1))


def _bits_to_int(bits: np.ndarray) -> int:
    return int.from_bytes(np.packbits(bits.ravel()).tobytes(), "big")


def phash_from_gray(gray32: np.ndarray) -> int:
    """pHash of a 32x32 grayscale array (already resized)."""
    d = _dct_matrix(PHASH_SIZE)[:8]
    low = d @ gray32.astype(np.float64) @ d.T   # == dct(dct(x, axis=0), axis=1)[:8, :8]
    return _bits_to_int(low > np.median(low))


def phash(image: Image.Image) -> int:
    """64-bit pHash of a Pillow image, bit-compatible with ``imagehash.phash``."""
    small = image.convert("L").resize((PHASH_SIZE, PHASH_SIZE), Image.LANCZOS)
    return phash_from_gray(np.asarray(small))


def _box_filter(x: np.ndarray, window: int, axis: int) -> np.ndarray:
    """PDQ's box1DFloat: centred window mean, averaging only the samples that exist at the edges."""
    n = x.shape[axis]
    half = (window + 2) // 2
    idx = np.arange(n)
    hi = np.minimum(idx + half - 1, n - 1)          # inclusive window end
    lo = np.maximum(idx + half - window, 0)         # inclusive window start
    c = np.cumsum(x, axis=axis)
    c = np.concatenate([np.zeros_like(np.take(c, [0], axis=axis)), c], axis=axis)
    sums = np.take(c, hi + 1, axis=axis) - np.take(c, lo, axis=axis)
    shape = [1, 1]
    shape[axis] = n
    return sums / (hi - lo + 1).reshape(shape)


@lru_cache(maxsize=256)
def _pdq_axis_matrix(old: int) -> np.ndarray:
    """(16 x old) matrix = PDQ DCT rows @ decimation @ two box-filter passes along one axis.

    The tent filter, the decimation to 64 samples and the DCT are all linear, so instead of
    filtering the whole image (the reference does, at O(pixels) per pass) we push an identity
    matrix through them once per image dimension and cache the product: hashing is then
    ``A @ luma @ B.T``, two small matrix products.
    """
    m = np.eye(old)
    window = (old + 2 * PDQ_SIZE - 1) // (2 * PDQ_SIZE)
    if window > 1:
        for _ in range(2):  # two box passes = Jarosz tent filter
            m = _box_filter(m, window, axis=0)
    picks = ((2 * np.arange(PDQ_SIZE) + 1) * old) // (2 * PDQ_SIZE)
    return _pdq_dct_matrix() @ m[picks]


# Largest m * n * k of one matrix product: OpenBLAS runs gemm single-threaded up to 65536 * 4
# (interface/gemm.c, SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD). Above it, a 16 x 366 x 512
# product went multi-threaded and took 2.3-10 ms instead of 0.45 ms on a busy 2-core box (spin-waiting
# BLAS threads). Cutting the product into row blocks under the threshold keeps every call
# single-threaded without threadpoolctl (whose per-call limit costs 1.4 ms, more than the hash).
_GEMM_SINGLE_THREAD_MNK = 262_144


def pdq_from_luma(luma: np.ndarray) -> bytes:
    """256-bit PDQ-style hash (32 bytes) of a 2-D luminance array of any size >= 1x1."""
    h, w = luma.shape
    right_t = _pdq_axis_matrix(w).T                        # (w, 16)
    luma = np.asarray(luma, dtype=np.float64)
    step = max(1, _GEMM_SINGLE_THREAD_MNK // (16 * w))
    half = np.empty((h, 16))
    for r in range(0, h, step):                           # luma @ B.T, row block by row block
        np.matmul(luma[r:r + step], right_t, out=half[r:r + step])
    coeffs = _pdq_axis_matrix(h) @ half                   # (16, h) @ (h, 16): small
    return np.packbits(coeffs.ravel() > np.median(coeffs)).tobytes()


def _luma(image: Image.Image) -> np.ndarray:
    if image.mode == "L":
        return np.asarray(image, dtype=np.float64)
    rgb = np.asarray(image.convert("RGB"), dtype=np.float64)
    return rgb @ np.array([0.299, 0.587, 0.114])


def pdq(image: Image.Image) -> bytes:
    """256-bit PDQ-style hash of a Pillow image (see the module docstring for the simplifications)."""
    return pdq_from_luma(_luma(image))


def _prepared(image: Image.Image) -> tuple[Image.Image, Image.Image]:
    """(image in L or RGB, reduced to <= 512 px and trimmed of uniform borders; its grayscale)."""
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGBA").convert("RGB") if "A" in image.mode or image.mode == "P" else image.convert("RGB")
    if max(image.size) > 512:
        image = image.copy()
        image.thumbnail((512, 512), Image.BILINEAR, reducing_gap=2.0)
    gray = image if image.mode == "L" else image.convert("L")
    box = content_box(np.asarray(gray))
    if box != (0, 0, image.width, image.height):
        image, gray = image.crop(box), gray.crop(box)
    return image, gray


def _phash_prepared(gray: Image.Image) -> int:
    # reducing_gap: integer box reduction first, then Lanczos over the last factor of <= 3 (twice as
    # fast; `phash()` above keeps the exact imagehash resize for compatibility).
    return phash_from_gray(np.asarray(gray.resize((PHASH_SIZE, PHASH_SIZE), Image.LANCZOS, reducing_gap=3.0)))


def hash_image(image: Image.Image) -> tuple[int, bytes]:
    """(phash64, pdq256) of a decoded image. Larger images are first reduced to <= 512 px, as the
    reference PDQ tool does, which changes no pHash bit in practice (the 32x32 resize dominates)."""
    image, gray = _prepared(image)
    return _phash_prepared(gray), pdq_from_luma(_luma(image))


def phash64(image: Image.Image) -> int:
    """The 64-bit pHash matching uses (uniform borders trimmed), without the PDQ half of ``hash_image``."""
    return _phash_prepared(_prepared(image)[1])


def content_box(gray: np.ndarray, tolerance: int = 24, max_fraction: float = 0.3) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) without uniform borders (frames, letterboxing, padding).

    pHash moves ~20 bits when a 10 px frame is added to a small picture, so matching hashes the
    content inside such borders. A border line is one whose spread (max - min) and whose distance from
    the outermost line's mean both stay within ``tolerance`` and that is near black or near white;
    at most ``max_fraction`` per side goes.
    """
    g = gray.astype(np.int16)
    h, w = g.shape

    def run(lines: np.ndarray, limit: int) -> int:
        spread = lines.max(axis=1) - lines.min(axis=1)
        means = lines.mean(axis=1)
        # Only near-black or near-white lines: frames, letterboxing and padding are; a smooth patch
        # of picture is not, and trimming it would depend on how much noise an edit removed.
        extreme = (means <= 16) | (means >= 239)
        uniform = (spread <= tolerance) & extreme & (np.abs(means - means[0]) <= tolerance / 2)
        n = int(np.argmin(uniform)) if not uniform.all() else len(uniform)
        return min(n, limit)

    if h < 8 or w < 8:
        return 0, 0, w, h
    lim_h, lim_w = int(h * max_fraction), int(w * max_fraction)
    top, bottom = run(g[:lim_h + 1], lim_h), run(g[::-1][:lim_h + 1], lim_h)
    left, right = run(g.T[:lim_w + 1], lim_w), run(g.T[::-1][:lim_w + 1], lim_w)
    return left, top, w - right, h - bottom


def open_for_hashing(path: str | os.PathLike[str]) -> Image.Image:
    """Open and decode an image at the smallest size that still hashes faithfully.

    For JPEG, ``draft('L', ...)`` makes libjpeg decode only the luma plane at 1/2..1/8 scale,
    which is where most of the speed comes from on photos.
    """
    try:
        im = Image.open(path)
        if im.width * im.height > MAX_PIXELS:
            raise HashError(f"{path}: {im.width}x{im.height} exceeds {MAX_PIXELS} pixels")
        if im.format == "JPEG":
            im.draft("L", DRAFT_SIZE)
        im.load()
        return im
    except HashError:
        raise
    except Exception as exc:  # Pillow raises many types for broken files
        raise HashError(f"{path}: {exc}") from exc


def hash_image_file(path: str | os.PathLike[str]) -> tuple[int, bytes]:
    """(phash64, pdq256) of one file; raises HashError if it cannot be decoded."""
    with open_for_hashing(path) as im:
        return hash_image(im)


def hash_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hash many files. Returns (phash uint64[n], pdq uint64[n, 4], ok bool[n]); rows of files
    that failed to decode are zero with ok False (callers report them, one bad file stops nothing)."""
    paths = list(paths)
    ph = np.zeros(len(paths), dtype=np.uint64)
    pq = np.zeros((len(paths), 4), dtype=np.uint64)
    ok = np.zeros(len(paths), dtype=bool)
    for i, p in enumerate(paths):
        try:
            a, b = hash_image_file(p)
        except HashError:
            continue
        ph[i] = a
        pq[i] = pdq_to_words(b)
        ok[i] = True
    return ph, pq, ok


def pdq_to_words(digest: bytes) -> np.ndarray:
    """32-byte PDQ digest -> 4 big-endian uint64 words (the index's 256-bit layout)."""
    if len(digest) != 32:
        raise ValueError("a PDQ digest is 32 bytes")
    return np.frombuffer(digest, dtype=">u8").astype(np.uint64)


def words_to_pdq(words: Sequence[int] | np.ndarray) -> bytes:
    return np.asarray(words, dtype=np.uint64).astype(">u8").tobytes()


def hamming64(a: int, b: int) -> int:
    return (int(a) ^ int(b)).bit_count()


def hamming_bytes(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


# Databases store the unsigned 64-bit pHash as a signed BIGINT with the same bits.
_U64 = (1 << 64) - 1


def phash_to_db(value: int | None) -> int | None:
    """Unsigned 64-bit hash -> signed 64-bit storage with the same bits (two's complement)."""
    if value is None:
        return None
    if not 0 <= value <= _U64:
        raise ValueError(f"phash64 must be an unsigned 64-bit integer, got {value}")
    return value - (1 << 64) if value >= (1 << 63) else value


def phash_from_db(stored: int | None) -> int | None:
    """Signed storage -> the unsigned 64-bit hash."""
    return None if stored is None else stored & _U64
