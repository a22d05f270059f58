""""Stealth" metadata hidden in pixel least-significant bits (NovelAI and the stealth-pnginfo extension).

Layout, bits read column by column (``for x in width: for y in height``), most significant bit of
each byte first:

* 15-byte magic: ``stealth_pngcomp`` / ``stealth_pnginfo`` in the alpha channel's LSBs (NovelAI,
  and the A1111 extension for images with alpha), or ``stealth_rgbcomp`` / ``stealth_rgbinfo`` in
  the LSBs of R, G, B in turn (the extension, for images without alpha);
* a 32-bit big-endian payload length **in bits**;
* the payload: gzip-compressed for ``*comp``, plain UTF-8 for ``*info``.

NovelAI's payload is JSON of its PNG text fields (``Comment``, ``Source``...); the extension's is
an A1111 infotext. Metadata stripping tools keep pixels, so this survives where text chunks do not,
but not lossy re-encoding: only lossless formats are read.
"""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from typing import Any, Iterable, Mapping

import numpy as np
from PIL import Image

from .._base import Evidence, SignalError
from .._registry import register_reader
from .._source import ImageSource
from .._json import load_json
from ._common import generation_evidence, looks_like_json_object
from .a1111 import is_image_to_image, parse_a1111_parameters
from .novelai import parse_novelai_fields

MAGIC_LEN = 15
HEADER_BYTES = MAGIC_LEN + 4
MAX_PAYLOAD_BYTES = 8 * 1024 * 1024  # compressed or not, and after decompression
ALPHA_MAGICS = {b"stealth_pngcomp": True, b"stealth_pnginfo": False}  # magic -> compressed
RGB_MAGICS = {b"stealth_rgbcomp": True, b"stealth_rgbinfo": False}
_LOSSLESS = {"PNG", "WEBP", "TIFF", "BMP"}


def _channels(image: Image.Image, channel: str) -> slice | None:
    """Which bands carry the bits, or None when the image has no such channel."""
    if channel == "alpha":
        return slice(-1, None) if image.mode in ("RGBA", "LA") else None
    return slice(0, 3) if image.mode in ("RGB", "RGBA") else None


def _read_lsb_bytes(image: Image.Image, bands: slice, count: int) -> bytes | None:
    """The first ``count`` bytes carried in column-major LSBs; None when the image is too small.

    Only the columns that hold them are converted to an array, so checking the magic of a large
    image costs a few columns, not a pass over every pixel.
    """
    depth = 1 if bands.start == -1 else 3
    bits = count * 8
    if bits > image.width * image.height * depth:
        return None
    columns = -(-bits // (image.height * depth))
    plane = np.asarray(image.crop((0, 0, columns, image.height)))[..., bands]
    lsb = plane.transpose(1, 0, 2).reshape(-1)[:bits] & 1
    return np.packbits(lsb).tobytes()


def _gunzip_bounded(data: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_PAYLOAD_BYTES + 1)
    except zlib.error as exc:
        raise SignalError(f"stealth metadata: corrupt gzip payload ({exc})") from None
    if len(out) > MAX_PAYLOAD_BYTES or inflater.unconsumed_tail:
        raise SignalError(f"stealth metadata: payload inflates beyond {MAX_PAYLOAD_BYTES} bytes")
    return out


def _read_channel(image: Image.Image, bands: slice, magics: Mapping[bytes, bool]) -> tuple[str, str] | None:
    header = _read_lsb_bytes(image, bands, HEADER_BYTES)
    if header is None or header[:MAGIC_LEN] not in magics:
        return None
    magic = header[:MAGIC_LEN]
    length_bits = struct.unpack(">I", header[MAGIC_LEN:])[0]
    length = length_bits // 8
    capacity = image.width * image.height * (1 if bands.start == -1 else 3) // 8 - HEADER_BYTES
    if length > min(capacity, MAX_PAYLOAD_BYTES):
        raise SignalError(f"stealth metadata: header claims {length} bytes, the image holds at most "
                          f"{capacity} (limit {MAX_PAYLOAD_BYTES})")
    payload = (_read_lsb_bytes(image, bands, HEADER_BYTES + length) or b"")[HEADER_BYTES:]
    if magics[magic]:
        payload = _gunzip_bounded(payload)
    return magic.decode("ascii"), payload.decode("utf-8", errors="replace")


def read_novelai_stealth(image: Image.Image) -> tuple[str, str] | None:
    """(magic, payload text) hidden in ``image``'s LSBs (alpha first, then RGB), or None."""
    for channel, magics in (("alpha", ALPHA_MAGICS), ("rgb", RGB_MAGICS)):
        bands = _channels(image, channel)
        if bands is not None:
            found = _read_channel(image, bands, magics)
            if found is not None:
                return found
    return None


def embed_stealth_metadata(image: Image.Image, fields: Mapping[str, Any] | str, compressed: bool = True,
                           channel: str = "alpha") -> Image.Image:
    """A copy of ``image`` with ``fields`` hidden as stealth metadata (for fixtures and tools).

    ``fields`` is a dict of NovelAI text fields (stored as JSON) or an A1111 infotext string;
    ``channel`` is ``"alpha"`` (NovelAI; the result is RGBA) or ``"rgb"`` (extension's RGB variant).
    """
    text = json.dumps(dict(fields)) if isinstance(fields, Mapping) else str(fields)
    payload = text.encode("utf-8")
    if compressed:
        payload = gzip.compress(payload, mtime=0)
    if channel == "alpha":
        magic = b"stealth_pngcomp" if compressed else b"stealth_pnginfo"
        carrier = image.convert("RGBA")
        channels = slice(3, 4)
    elif channel == "rgb":
        magic = b"stealth_rgbcomp" if compressed else b"stealth_rgbinfo"
        carrier = image.convert("RGBA" if image.mode == "RGBA" else "RGB")
        channels = slice(0, 3)
    else:
        raise ValueError(f"channel must be 'alpha' or 'rgb', not {channel!r}")
    data = magic + struct.pack(">I", len(payload) * 8) + payload
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
    pixels = np.array(carrier)
    plane = pixels[..., channels]
    height, width, depth = plane.shape
    if bits.size > plane.size:
        raise ValueError(f"image holds {plane.size // 8} bytes of stealth data, {len(data)} needed")
    flat = plane.transpose(1, 0, 2).reshape(-1).copy()  # column-major order
    flat[:bits.size] = (flat[:bits.size] & 0xFE) | bits
    pixels[..., channels] = flat.reshape(width, height, depth).transpose(1, 0, 2)
    return Image.fromarray(pixels, carrier.mode)


def _applies(source: ImageSource) -> bool:
    return (source.format in _LOSSLESS and source.mode in ("RGBA", "LA", "RGB")
            and source.width * source.height <= source.options.max_pixels)


@register_reader("novelai_stealth", needs_pixels=True, applies=_applies,
                 description="NovelAI / stealth-pnginfo metadata hidden in pixel LSBs",
                 formats=("PNG/WebP alpha or RGB least significant bits",))
def read_stealth(source: ImageSource) -> Iterable[Evidence]:
    found = read_novelai_stealth(source.full_pixels())
    if found is None:
        return []
    magic, text = found
    channel = "alpha" if magic.startswith("stealth_png") else "RGB"
    location = f"{source.format} pixels: {channel} LSB ({magic})"
    if looks_like_json_object(text):
        fields = load_json(text, "stealth metadata")
        if not isinstance(fields, dict):
            raise SignalError("stealth metadata: JSON payload is not an object")
        params, edited = parse_novelai_fields(fields)
    else:
        params = parse_a1111_parameters(text)
        edited = is_image_to_image(params)
    params.extra["stealth"] = magic
    return [generation_evidence("novelai_stealth", location, magic, text, params, edited=edited,
                                note=f"{params.tool} parameters hidden in {channel} least-significant bits")]
