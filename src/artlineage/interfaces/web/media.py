"""Uploaded images: checks by content, refusal of hostile files, re-encoded display copies and thumbnails.

What is refused, and why (each refusal is an :class:`UploadRejected` with an HTTP status):

* more than ``max_bytes`` (413);
* anything that is not PNG, JPEG, WebP or GIF *by its content* (Pillow identifies the container; the
  file name and the client's Content-Type are ignored), so SVG, HTML and scripts are refused (415);
* markup anywhere in the bytes (``<script``, ``<html``, ``<svg``...): image/HTML polyglots (415);
  bytes after a PNG's IEND chunk are refused too, since nothing legitimate lives there;
* more than ``max_pixels`` pixels as declared in the header, before any decoding: decompression bombs
  such as a 100 kB PNG claiming 100k x 100k pixels (413); Pillow's own bomb check is an error too;
* files Pillow's ``verify`` or full decode rejects (400).

The original bytes are kept for provenance (their sha256 and evidence), but never served: visitors
get a re-encoded display copy and thumbnail, with the artist's Data Mining opt-out stamped in XMP.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from typing import Any

from .optout import OptOut, encode_with_xmp, xmp_packet
from ...errors import UploadRejected  # noqa: F401  (re-exported: its old home)

CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}
MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_FRAMES = 500
DISPLAY_SIDE = 1600
THUMB_SIDE = 320
_MARKUP = re.compile(rb"<\s*(?:script|html|body|svg|iframe|object|embed|!doctype|\?php)|javascript:|onerror\s*=",
                     re.IGNORECASE)


@dataclass(frozen=True)
class CheckedImage:
    format: str  # PNG, JPEG, WEBP, GIF
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def _png_end(data: bytes) -> int | None:
    """Offset just past the IEND chunk (walking chunk lengths), or None if it cannot be found."""
    pos = 8
    n = len(data)
    while pos + 12 <= n:
        length = int.from_bytes(data[pos:pos + 4], "big")
        ctype = data[pos + 4:pos + 8]
        pos += 12 + length
        if ctype == b"IEND":
            return pos
    return None


def check_image(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> CheckedImage:
    """Check an upload by content; raise :class:`UploadRejected` with the reason when refused."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > max_bytes:
        raise UploadRejected(413, f"file is larger than {max_bytes} bytes")
    if not data:
        raise UploadRejected(400, "empty file")
    if _MARKUP.search(data):
        raise UploadRejected(415, "file contains HTML/script/SVG markup (image/markup polyglots are refused)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=list(CONTENT_TYPES)) as im:
                fmt, (w, h) = im.format, im.size
                if w * h > max_pixels:
                    raise UploadRejected(413, f"image declares {w}x{h} pixels, above the {max_pixels} limit "
                                              "(decompression bomb?)")
                if getattr(im, "n_frames", 1) > MAX_FRAMES:
                    raise UploadRejected(413, f"more than {MAX_FRAMES} frames")
                im.verify()
        except UploadRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise UploadRejected(413, f"decompression bomb refused: {exc}") from None
        except UnidentifiedImageError:
            raise UploadRejected(415, "not a PNG, JPEG, WebP or GIF image (checked by content; SVG is refused)"
                                 ) from None
        except Exception as exc:  # noqa: BLE001 - any decoder complaint means a broken or hostile file
            raise UploadRejected(400, f"image failed verification: {type(exc).__name__}: {exc}") from None
    if fmt not in CONTENT_TYPES:
        raise UploadRejected(415, f"{fmt} is not accepted; use PNG, JPEG, WebP or GIF")
    if fmt == "PNG":
        end = _png_end(data)
        if end is None or end != len(data):
            raise UploadRejected(415, "data after the PNG end chunk (polyglot files are refused)")
    return CheckedImage(fmt, w, h)


@dataclass(frozen=True)
class Renditions:
    display: bytes
    display_format: str
    thumb: bytes
    thumb_format: str


def _decoded(data: bytes, checked: CheckedImage) -> Any:
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        im = Image.open(io.BytesIO(data), formats=[checked.format])
        if checked.format == "JPEG":
            im.draft("RGB", (DISPLAY_SIDE, DISPLAY_SIDE))  # decode at reduced size when it is large
        im.seek(0)
        im.load()
    im = ImageOps.exif_transpose(im)
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    return im.convert("RGBA" if has_alpha else "RGB")


def make_renditions(data: bytes, checked: CheckedImage, optout: OptOut, *, creator: str | None = None,
                    rights: str | None = None, web_statement: str | None = None) -> Renditions:
    """Re-encode the upload (display copy up to 1600 px, 320 px WebP thumbnail), metadata stripped
    except the opt-out XMP: the visitor never receives the uploaded bytes."""
    from PIL import Image

    try:
        im = _decoded(data, checked)
    except Exception as exc:  # noqa: BLE001
        raise UploadRejected(400, f"image could not be decoded: {type(exc).__name__}: {exc}") from None
    xmp = xmp_packet(optout, creator=creator, rights=rights, web_statement=web_statement)
    display = im.copy()
    display.thumbnail((DISPLAY_SIDE, DISPLAY_SIDE), Image.Resampling.LANCZOS)
    if checked.format == "JPEG" and display.mode == "RGB":
        display_fmt, opts = "JPEG", {"quality": 90}
    elif checked.format == "WEBP":
        display_fmt, opts = "WEBP", {"quality": 90}
    else:
        display_fmt, opts = "PNG", {}
    display_bytes = encode_with_xmp(display, display_fmt, xmp, **opts)
    thumb = im.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    thumb_bytes = encode_with_xmp(thumb, "WEBP", xmp, quality=80, method=4)
    return Renditions(display_bytes, display_fmt, thumb_bytes, "WEBP")
