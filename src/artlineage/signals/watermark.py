"""Invisible-watermark ``dwtDct`` marks, as Stable Diffusion's reference scripts embed them.

Stable Diffusion v1/v2 (CompVis / Stability ``scripts/txt2img.py``) and SDXL (``sgm``, and the
diffusers SDXL pipelines) mark every output with the `invisible-watermark` package's
``dwtDct`` method. That package imports torch and OpenCV, so it cannot be a dependency; this
module re-implements its algorithm (``imwatermark/maxDct.py``, class ``EmbedMaxDct``, v0.2.0)
on numpy + PyWavelets, vectorised over blocks, and reproduces its quirks on purpose because a
decoder only works if it mirrors what the encoder really did:

* Colour: OpenCV ``COLOR_BGR2YUV``. For uint8 input OpenCV uses 14-bit fixed point with
  rounding and saturation (reproduced bit-exactly below); for float input (what SDXL passes:
  ``255 * image`` as float32) it uses float coefficients *and a chroma offset of 0.5, not 128*,
  so SDXL embeds in a U channel shifted by 127.5. We decode SDXL in that float domain.
* Only channel 1 (U) carries the mark: ``scales=[0, 36, 36]`` but the loop is
  ``for channel in range(2)`` and skips scale 0, so V (channel 2) is never touched.
* "dwtDct" applies **no DCT**: ``diffuse_dct_matrix`` quantises the raw Haar LL coefficients of
  each 4x4 block (the largest-magnitude one after the first, by ``argmax``), despite its name
  (ShieldMnt/invisible-watermark issue #39, unmerged PR #43). We follow the shipped code, since
  that is what is in the images.
* The inverse DWT is called with ``(cA, (cV, cH, cD))``: the library unpacks ``dwt2`` as
  ``ca1, (h1, v1, d1)`` and passes ``(v1, h1, d1)`` back, swapping the horizontal and vertical
  detail bands. It does not change the LL band the decoder reads, but it changes the embedded
  pixels, so :func:`embed_dwtdct` does the same.
* The modified U plane is written back into OpenCV's uint8 YUV array by numpy's float->uint8
  cast (truncation toward zero, wrap-around outside 0..255), reproduced explicitly.

The watermark lives on an 8x8-pixel grid anchored at the top-left corner (one LL block = 8x8
pixels), so it survives lossless saves and mild JPEG (chroma subsampling averages 2x2, the
same support as the Haar LL band) but not resampling or cropping off-grid. The reader never
resamples: full resolution when within ``options.max_pixels``, otherwise a grid-aligned
centred crop of a full-resolution decode, with bit indices mapped back to the full image's grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pywt

from ._base import Evidence, Implication, UnreadableImageError
from ._registry import register_reader
from ._source import ImageSource

SCALE = 36  # EmbedMaxDct default scales[1] (U channel)
BLOCK = 4  # LL-band block size; one block covers 8x8 pixels
PIXELS_PER_BLOCK = 2 * BLOCK
MIN_IMAGE_PIXELS = 256 * 256  # WatermarkEncoder.encode refuses smaller images, so none are marked

# A payload counts as present when its bit accuracy would be this unlikely by chance: if an
# unmarked image gave independent fair-coin bits, P(accuracy >= threshold) <= CHANCE_LIMIT.
# That is 30/32 bits for SDV2, 41/48 for SDXL, 96/136 for StableDiffusionV1; with the ~8
# (payload, variant, rule) tests per image it bounds chance hits near 1e-5 per image. Measured
# on 320 unmarked decodes of 240 generated images (benchmarks/bench_watermark.py) the best
# accuracy any payload reached was 0.75 (SDV2 on pure noise); none reached its threshold.
CHANCE_LIMIT = 1e-6
STRONG_AT = 0.95


def detection_threshold(n_bits: int, chance: float = CHANCE_LIMIT) -> float:
    """Smallest bit accuracy k/n with P(Binomial(n, 1/2) >= k) <= ``chance``."""
    tail = 0
    for k in range(n_bits, -1, -1):
        tail += math.comb(n_bits, k)
        if tail / 2 ** n_bits > chance:
            return min(1.0, (k + 1) / n_bits)
    return 0.0


def _bytes_to_bits(data: bytes) -> tuple[int, ...]:
    """The library's 'bytes' mode: ``np.unpackbits`` of the payload, most significant bit first."""
    return tuple(int(b) for b in np.unpackbits(np.frombuffer(data, dtype=np.uint8)))


SDXL_WATERMARK_MESSAGE = 0b101100111110110010010000011110111011000110011110
ARTLINEAGE_WATERMARK_MESSAGE = 0xF1AA40879C2F0DF1


@dataclass(frozen=True)
class KnownWatermark:
    """A payload some generator embeds, and how its encoder converted colours."""

    bits: tuple[int, ...]
    generator: str
    # Colour domains to try, as (float_yuv, swap_rb): float_yuv = the encoder got float pixels
    # (OpenCV float path, chroma offset 0.5); swap_rb = the encoder got RGB where it expected BGR.
    variants: tuple[tuple[bool, bool], ...] = ((False, False),)
    note: str = ""


# Extensible: add a name -> KnownWatermark entry and the reader checks it.
KNOWN_WATERMARKS: dict[str, KnownWatermark] = {
    # CompVis/stable-diffusion scripts/txt2img.py: PIL RGB uint8 -> cv2 BGR -> 'bytes' payload.
    "StableDiffusionV1": KnownWatermark(_bytes_to_bits(b"StableDiffusionV1"), "Stable Diffusion 1.x",
                                        note="CompVis reference scripts"),
    # Stability-AI/stablediffusion scripts/txt2img.py, same helper with payload "SDV2".
    "SDV2": KnownWatermark(_bytes_to_bits(b"SDV2"), "Stable Diffusion 2.x",
                           note="Stability-AI reference scripts"),
    # sgm (Stability-AI/generative-models) WATERMARK_MESSAGE, 'bits' mode. sgm and diffusers pass
    # float32 255*image; sgm before its PR #25 (July 2023) and diffusers before PR #7013 (v0.27,
    # Feb 2024) passed RGB where the library expects BGR, so both channel orders exist in the wild.
    "SDXL": KnownWatermark(tuple(int(b) for b in bin(SDXL_WATERMARK_MESSAGE)[2:]), "Stable Diffusion XL",
                           variants=((True, False), (True, True)),
                           note="sgm / diffusers SDXL pipelines"),
    # artlineage stamp --watermark (artlineage.stamping): RGB uint8, 64 'bits' (the first 8 bytes of
    # sha256(b"artlineage stamp")): balanced like a random string, so no ASCII payload above decodes in it.
    "artlineage": KnownWatermark(tuple(int(b) for b in format(ARTLINEAGE_WATERMARK_MESSAGE, "064b")),
                                 "an AI generator (artlineage stamp)",
                                 note="written by artlineage stamp --watermark at generation time"),
}


# ----- colour conversion (OpenCV COLOR_BGR2YUV / COLOR_YUV2BGR) --------------------------
# OpenCV's 8-bit path works in 14-bit fixed point (modules/imgproc/src/color_yuv.simd.hpp):
# coefficients are round(c * 2**14) and CV_DESCALE(x, 14) = (x + 2**13) >> 14.
_SHIFT = 14
_HALF = 1 << (_SHIFT - 1)
_R2Y, _G2Y, _B2Y = 4899, 9617, 1868  # 0.299, 0.587, 0.114
_B2U, _R2V = 8061, 14369  # 0.492, 0.877
_U2B, _U2G, _V2G, _V2R = 33292, -6472, -9519, 18678  # 2.032, -0.395, -0.581, 1.140
_DELTA_8U = 128


def _rgb_channels(rgb: np.ndarray, swap_rb: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R, G, B) as the encoder saw them; ``swap_rb`` when it was handed RGB as if it were BGR."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return (b, g, r) if swap_rb else (r, g, b)


def _yuv_8u(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OpenCV uint8 BGR2YUV, bit-exact: rounded fixed point, saturated to 0..255."""
    r, g, b = (c.astype(np.int32) for c in (r, g, b))
    y = (r * _R2Y + g * _G2Y + b * _B2Y + _HALF) >> _SHIFT
    u = ((b - y) * _B2U + (_DELTA_8U << _SHIFT) + _HALF) >> _SHIFT
    v = ((r - y) * _R2V + (_DELTA_8U << _SHIFT) + _HALF) >> _SHIFT
    return tuple(np.clip(c, 0, 255).astype(np.uint8) for c in (y, u, v))  # type: ignore[return-value]


def _rgb_from_yuv_8u(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OpenCV uint8 YUV2BGR, bit-exact."""
    y, u, v = (c.astype(np.int32) for c in (y, u, v))
    u -= _DELTA_8U
    v -= _DELTA_8U
    b = y + ((u * _U2B + _HALF) >> _SHIFT)
    g = y + ((u * _U2G + v * _V2G + _HALF) >> _SHIFT)
    r = y + ((v * _V2R + _HALF) >> _SHIFT)
    return tuple(np.clip(c, 0, 255).astype(np.uint8) for c in (r, g, b))  # type: ignore[return-value]


def _u_float(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    """OpenCV float BGR2YUV's U: no rounding and a chroma offset of 0.5 (its float 'half')."""
    r, g, b = (c.astype(np.float32) for c in (r, g, b))
    y = np.float32(0.299) * r + np.float32(0.587) * g + np.float32(0.114) * b
    return (b - y) * np.float32(0.492) + np.float32(0.5)


def _u_plane(rgb: np.ndarray, float_yuv: bool, swap_rb: bool) -> np.ndarray:
    r, g, b = _rgb_channels(rgb, swap_rb)
    if float_yuv:
        return _u_float(r, g, b)
    return _yuv_8u(r, g, b)[1]


# ----- the block transform ---------------------------------------------------------------

def _ll_blocks(plane: np.ndarray) -> tuple[np.ndarray, tuple, int, int]:
    """Haar DWT of the plane cropped to multiples of 4: (LL, details, block rows, block columns)."""
    h4, w4 = plane.shape[0] // 4 * 4, plane.shape[1] // 4 * 4
    if h4 == 0 or w4 == 0:  # thinner than 4 pixels: no block at all (pywt refuses empty input)
        empty = np.zeros((h4 // 2, w4 // 2))
        return empty, (empty, empty, empty), 0, 0
    ll, details = pywt.dwt2(plane[:h4, :w4], "haar")
    return ll, details, ll.shape[0] // BLOCK, ll.shape[1] // BLOCK


def _block_view(ll: np.ndarray, nby: int, nbx: int) -> np.ndarray:
    """The LL band's whole 4x4 blocks as (nby, nbx, 16), row-major inside each block."""
    return ll[:nby * BLOCK, :nbx * BLOCK].reshape(nby, BLOCK, nbx, BLOCK).swapaxes(1, 2).reshape(nby, nbx, BLOCK * BLOCK)


def _carrier_values(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per block, the index and value of the largest-|x| coefficient after the first.

    ``np.argmax`` returns the first of equal maxima, like the library's per-block call.
    """
    pos = np.argmax(np.abs(blocks[..., 1:]), axis=-1) + 1
    return pos, np.take_along_axis(blocks, pos[..., None], axis=-1)[..., 0]


def _haar_ll(plane: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Only the Haar LL band of the plane cropped to multiples of 4: (LL, block rows, block columns).

    Decoding never needs the detail bands. On even sizes Haar has no boundary extension, so
    LL[i, j] is the 2x2 sum / 2, exactly what ``pywt.dwt2(..., "haar")[0]`` returns — at a
    tenth of its cost (the three decodes per image spent most of their time in dwt2).
    """
    h4, w4 = plane.shape[0] // 4 * 4, plane.shape[1] // 4 * 4
    if h4 == 0 or w4 == 0:  # thinner than 4 pixels: no block at all
        return np.zeros((h4 // 2, w4 // 2)), 0, 0
    p = np.asarray(plane[:h4, :w4], dtype=np.float64)
    ll = p.reshape(h4 // 2, 2, w4 // 2, 2).sum(axis=(1, 3)) * 0.5
    return ll, ll.shape[0] // BLOCK, ll.shape[1] // BLOCK


def _block_bits(plane: np.ndarray, scale: float = SCALE) -> np.ndarray:
    """One inferred bit per LL block, shape (nby, nbx): ``(|val| % scale) > scale / 2``."""
    ll, nby, nbx = _haar_ll(plane)
    _pos, val = _carrier_values(_block_view(ll, nby, nbx))
    return (np.abs(val) % scale > 0.5 * scale).astype(np.uint8)


def _vote(block_bits: np.ndarray, n_bits: int, first_index: np.ndarray | int = 0,
          row_stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Average block bits per payload bit index; returns (library bits, mean score per index).

    Block (i, j) carries bit ``(i * row_stride + j + first_index) % n_bits`` (row-major over
    the full image's block grid, ``row_stride`` = its blocks per row). Bits with no vote come
    out 0, as the library's ``nan * 255 > 127`` does.
    """
    nby, nbx = block_bits.shape
    stride = nbx if row_stride is None else row_stride
    index = (np.arange(nby)[:, None] * stride + np.arange(nbx)[None, :] + first_index) % n_bits
    votes = np.bincount(index.ravel(), minlength=n_bits)
    ones = np.bincount(index.ravel(), weights=block_bits.ravel().astype(np.float64), minlength=n_bits)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = ones / votes
    avg = np.nan_to_num(avg, nan=0.0)
    return (avg * 255 > 127).astype(np.uint8), avg


# ----- public API ------------------------------------------------------------------------

def _as_rgb(rgb: np.ndarray) -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] < 3:
        raise ValueError(f"expected an RGB array of shape (H, W, 3), got {arr.shape}")
    return arr[..., :3]


def embed_dwtdct(rgb: np.ndarray, bits: Sequence[int], *, float_yuv: bool = False,
                 swap_rb: bool = False) -> np.ndarray:
    """Mark an RGB uint8 image as ``WatermarkEncoder().encode(bgr, 'dwtDct')`` does; returns RGB uint8.

    ``float_yuv=True`` embeds as SDXL does (float pixels, OpenCV float colour path), rounding the
    result to uint8 as diffusers' ``numpy_to_pil`` does. ``swap_rb=True`` mimics encoders that
    handed the library RGB as if it were BGR. Raises ValueError below 256x256 pixels, as the
    library does.
    """
    arr = _as_rgb(rgb)
    payload = np.asarray([int(b) % 2 for b in bits], dtype=np.float64)
    if payload.size == 0:
        raise ValueError("empty watermark")
    h, w = arr.shape[:2]
    if h * w < MIN_IMAGE_PIXELS:
        raise ValueError("image too small: the watermark library refuses images under 256x256 pixels")
    r, g, b = _rgb_channels(arr, swap_rb)
    if float_yuv:
        r, g, b = (c.astype(np.float32) for c in (r, g, b))
        y = np.float32(0.299) * r + np.float32(0.587) * g + np.float32(0.114) * b
        u = (b - y) * np.float32(0.492) + np.float32(0.5)
        v = (r - y) * np.float32(0.877) + np.float32(0.5)
    else:
        y, u, v = _yuv_8u(r, g, b)
    u = u.copy()
    h4, w4 = h // 4 * 4, w // 4 * 4
    ll, (ch, cv, cd), nby, nbx = _ll_blocks(u)
    blocks = _block_view(ll, nby, nbx).copy()
    pos, val = _carrier_values(blocks)
    block_payload = payload[np.arange(nby * nbx).reshape(nby, nbx) % payload.size]
    magnitude = (np.abs(val) // SCALE + 0.25 + 0.5 * block_payload) * SCALE
    np.put_along_axis(blocks, pos[..., None], np.where(val >= 0.0, magnitude, -magnitude)[..., None], axis=-1)
    ll[:nby * BLOCK, :nbx * BLOCK] = blocks.reshape(nby, nbx, BLOCK, BLOCK).swapaxes(1, 2).reshape(nby * BLOCK, nbx * BLOCK)
    # The library passes (v1, h1, d1) where dwt2 gave (h1, v1, d1): detail bands swapped (see
    # module docstring). Kept because it is what marked images actually contain.
    restored = pywt.idwt2((ll, (cv, ch, cd)), "haar")
    if float_yuv:
        u[:h4, :w4] = restored
        r2 = y + (v - np.float32(0.5)) * np.float32(1.140)
        g2 = y + (u - np.float32(0.5)) * np.float32(-0.395) + (v - np.float32(0.5)) * np.float32(-0.581)
        b2 = y + (u - np.float32(0.5)) * np.float32(2.032)
        out = [np.clip(np.round(c), 0, 255).astype(np.uint8) for c in (r2, g2, b2)]
    else:
        # numpy's float64 -> uint8 assignment in the library: truncate toward zero, then wrap.
        u[:h4, :w4] = restored.astype(np.int64).astype(np.uint8)
        out = list(_rgb_from_yuv_8u(y, u, v))
    if swap_rb:
        out = out[::-1]
    return np.stack(out, axis=-1)


def decode_dwtdct(rgb: np.ndarray, n_bits: int, *, float_yuv: bool = False, swap_rb: bool = False) -> np.ndarray:
    """Decode ``n_bits`` as ``WatermarkDecoder(..., n_bits).decode(bgr, 'dwtDct')`` does (uint8 0/1 array).

    ``float_yuv`` / ``swap_rb`` select the colour domain the encoder used (see :data:`KNOWN_WATERMARKS`).
    """
    if n_bits <= 0:
        raise ValueError("n_bits must be positive")
    plane = _u_plane(_as_rgb(rgb), float_yuv, swap_rb)
    bits, _scores = _vote(_block_bits(plane), n_bits)
    return bits


def _bit_accuracy(decoded: np.ndarray, expected: Sequence[int]) -> float:
    return float(np.mean(decoded == np.asarray(expected, dtype=np.uint8)))


def _adaptive_bits(scores: np.ndarray) -> np.ndarray:
    """Bits from per-index mean scores thresholded at their own mean instead of 0.5.

    Why: in smooth areas a 0 bit often lowers the carrier below a neighbouring coefficient, and
    the decoder then reads that neighbour, whose remainder is about as often > scale/2 as not; so
    0-bit indices average ~0.5 while 1-bit indices stay near 1, and the library's fixed 0.5 cut
    (``avg * 255 > 127``) misreads many 0s. Cutting between the two clusters recovers them; on
    unmarked images it still yields chance-level bits, so the same threshold applies.
    """
    return (scores > scores.mean()).astype(np.uint8)


def _detect(rgb: np.ndarray, *, row_stride: int | None = None, first_index: int = 0,
            table: dict[str, KnownWatermark] | None = None) -> list[tuple[str, float, dict]]:
    """Best bit accuracy per known payload over its colour variants and both bit rules, best first."""
    arr = _as_rgb(rgb)
    if arr.shape[0] * arr.shape[1] < MIN_IMAGE_PIXELS:
        return []  # the library refuses to mark (or decode) images this small
    planes: dict[tuple[bool, bool], np.ndarray] = {}
    results = []
    for name, known in (table or KNOWN_WATERMARKS).items():
        n = len(known.bits)
        best: tuple[float, dict] | None = None
        for variant in known.variants:
            if variant not in planes:
                planes[variant] = _block_bits(_u_plane(arr, *variant))
            block_bits = planes[variant]
            if block_bits.size < n:
                continue  # not every payload bit has a block: nothing meaningful to compare
            # A crop's first block sits at a known place in the full grid; index accordingly.
            library_bits, scores = _vote(block_bits, n, first_index, row_stride)
            for rule, bits in (("library", library_bits), ("adaptive", _adaptive_bits(scores))):
                acc = _bit_accuracy(bits, known.bits)
                if best is None or acc > best[0]:
                    best = (acc, {"float_yuv": variant[0], "swap_rb": variant[1], "rule": rule,
                                  "library_rule_accuracy": round(_bit_accuracy(library_bits, known.bits), 4)})
        if best is not None:
            results.append((name, best[0], best[1]))
    results.sort(key=lambda t: -t[1])
    return results


def detect_known_watermarks(rgb: np.ndarray) -> list[tuple[str, float]]:
    """(payload name, bit accuracy) for every known payload, best first. ~0.5 means absent."""
    return [(name, acc) for name, acc, _variant in _detect(rgb)]


# ----- reader ----------------------------------------------------------------------------

def _aligned_crop_box(width: int, height: int, max_pixels: int) -> tuple[int, int, int, int]:
    """A centred (left, top, right, bottom) box of at most ``max_pixels``, on the 8-pixel grid.

    Offsets are multiples of 8 from the top-left so the crop's Haar/LL blocks coincide with
    the ones the encoder used on the whole image; sizes are multiples of 8 so no partial block.
    """
    if width * height <= max_pixels:
        return 0, 0, width, height
    side = max(PIXELS_PER_BLOCK, int(max_pixels ** 0.5) // PIXELS_PER_BLOCK * PIXELS_PER_BLOCK)
    cw = min(width // PIXELS_PER_BLOCK * PIXELS_PER_BLOCK, side)
    ch = min(height // PIXELS_PER_BLOCK * PIXELS_PER_BLOCK,
             max(PIXELS_PER_BLOCK, max_pixels // max(cw, 1) // PIXELS_PER_BLOCK * PIXELS_PER_BLOCK))
    left = (width - cw) // 2 // PIXELS_PER_BLOCK * PIXELS_PER_BLOCK
    top = (height - ch) // 2 // PIXELS_PER_BLOCK * PIXELS_PER_BLOCK
    return left, top, left + cw, top + ch


def _full_resolution_rgb(source: ImageSource) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Pixels at full resolution (never resampled), cropped to a bounded, grid-aligned window.

    Within ``max_pixels``: ``full_pixels()``. Above it, ``pixels()`` is still full resolution for
    every format but JPEG (only JPEG is draft-downscaled), so we crop that; a large JPEG's draft
    is resampled and useless, so it is refused (the ``applies`` check skips it up front).
    """
    max_pixels = source.options.max_pixels
    im = source.full_pixels() if source.width * source.height <= max_pixels else source.pixels()
    if im.size != (source.width, source.height):
        raise UnreadableImageError("full-resolution pixels unavailable for watermark decoding")
    box = _aligned_crop_box(source.width, source.height, max_pixels)
    if box != (0, 0, source.width, source.height):
        im = im.crop(box)
    return np.asarray(im.convert("RGB")), box


def _watermark_applies(source: ImageSource) -> bool:
    if source.width * source.height < MIN_IMAGE_PIXELS:
        return False  # the library never marks images this small
    # Large JPEGs are only decoded downscaled (draft), which destroys the 8x8 grid.
    return not (source.format == "JPEG" and source.width * source.height > source.options.max_pixels)


def _strength(accuracy: float, threshold: float) -> float:
    """0.9 at >= STRONG_AT bit accuracy, falling linearly to 0.6 at the payload's threshold."""
    if accuracy >= STRONG_AT or threshold >= STRONG_AT:
        return 0.9
    return round(0.6 + 0.3 * (accuracy - threshold) / (STRONG_AT - threshold), 3)


@register_reader("watermark", needs_pixels=True, applies=_watermark_applies,
                 description="invisible-watermark dwtDct marks (Stable Diffusion 1.x/2.x/XL)",
                 formats=("pixels of any decodable format",))
def read_watermark(source: ImageSource) -> Iterable[Evidence]:
    """Decode known dwtDct payloads; evidence AI_GENERATED when one decodes with high bit accuracy."""
    rgb, (left, top, _right, _bottom) = _full_resolution_rgb(source)
    # Bit index of a crop's first block in the full image's row-major block grid.
    row_stride = source.width // PIXELS_PER_BLOCK
    first_index = (top // PIXELS_PER_BLOCK) * row_stride + left // PIXELS_PER_BLOCK
    results = _detect(rgb, row_stride=row_stride, first_index=first_index)
    cropped = (left, top, rgb.shape[1], rgb.shape[0]) != (0, 0, source.width, source.height)
    for name, accuracy, how in results:
        known = KNOWN_WATERMARKS[name]
        threshold = detection_threshold(len(known.bits))
        if accuracy < threshold:
            continue
        yield Evidence(
            reader="watermark",
            location="pixels (U channel, Haar LL 4x4 blocks)" + (" centred crop" if cropped else ""),
            field="invisible-watermark dwtDct",
            value=name,
            implies=Implication.AI_GENERATED,
            strength=_strength(accuracy, threshold),
            generator=known.generator,
            note=f"{known.generator} invisible watermark '{name}' decoded with {accuracy:.0%} bit accuracy "
                 f"({len(known.bits)} bits)",
            data={"watermark": {"payload": name, "bit_accuracy": round(accuracy, 4), "bits": len(known.bits),
                                "threshold": round(threshold, 4), "method": "dwtDct", **how,
                                "crop": [left, top, rgb.shape[1], rgb.shape[0]] if cropped else None}},
        )
