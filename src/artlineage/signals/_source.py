"""Open an image file once and expose its metadata containers to every reader.

Readers never re-parse the file: they get an :class:`ImageSource` with the text chunks,
EXIF, XMP packets and raw bytes already split out, and ask for pixels only if they need
them (``source.pixels()``), which decodes at a bounded size.

PNG chunks are walked here rather than through Pillow because Pillow only surfaces text
chunks stored *after* IDAT once the pixels are decoded, and it rejects big text chunks
with a bare ValueError; walking the chunk list lets a metadata-only scan skip IDAT entirely.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, features

from ._base import UnreadableImageError
from ._bmff import parse_container

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
XMP_JPEG_PREFIX = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXTENSION_PREFIX = b"http://ns.adobe.com/xmp/extension/\x00"
# xmpNote:HasExtendedXMP in the main packet, as an attribute or a simple element (XMP part 3, 1.1.3.1).
_HAS_EXTENDED_XMP = re.compile(
    rb"HasExtendedXMP\s*=\s*[\"']([0-9A-Fa-f]{32})[\"']|HasExtendedXMP>\s*([0-9A-Fa-f]{32})\s*<")
EXIF_IFD_POINTER = 0x8769
# Formats whose pixels need a plugin beyond Pillow: (extra to install, what it brings). Pillow
# >= 11.3 wheels decode AVIF themselves; pillow-heif (~26 MB of libheif/x265/aom) and
# pillow-jxl-plugin (~6 MB) stay out of the default install for that size.
_HEIF_HINT = "pillow-heif: pip install 'artlineage[heif]'"
PIXEL_PLUGINS = {"HEIC": _HEIF_HINT, "HEIF": _HEIF_HINT, "JXL": "pillow-jxl-plugin: pip install 'artlineage[jxl]'",
                 "AVIF": "Pillow built with libavif: pip install -U 'pillow>=11.3'"}


@dataclass(frozen=True)
class SourceOptions:
    """Bounds and switches that apply to one inspection."""

    pixels: bool = True  # let pixel readers (watermark, stealth metadata) run
    max_pixels: int = 4_194_304  # pixel readers see at most this many pixels (downscaled)
    max_image_pixels: int = 178_956_970  # declared size above this is a decompression bomb
    max_file_bytes: int = 512 * 1024 * 1024
    max_text_bytes: int = 8 * 1024 * 1024  # one text chunk, after decompression
    max_total_text_bytes: int = 32 * 1024 * 1024
    # PEM bundle of trusted C2PA signer roots for this inspection (None: the process default,
    # artlineage.set_trust_anchors or ARTLINEAGE_C2PA_TRUST_ANCHORS).
    c2pa_trust_anchors: str | bytes | None = None


@dataclass(frozen=True)
class TextChunk:
    key: str
    text: str
    location: str  # e.g. "PNG tEXt", "PNG iTXt", "JPEG COM"


@dataclass
class ImageSource:
    """A parsed image container. Cheap to build: no pixel is decoded."""

    data: bytes
    format: str  # "PNG", "JPEG", "WEBP", "TIFF", "GIF", ...
    width: int
    height: int
    path: str | None = None
    mode: str | None = None
    texts: list[TextChunk] = field(default_factory=list)
    exif_bytes: bytes | None = None
    exif_location: str | None = None
    xmp_packets: list[tuple[str, bytes]] = field(default_factory=list)  # (location, packet)
    jpeg_segments: list[tuple[int, bytes]] = field(default_factory=list)  # (marker, payload)
    png_chunk_types: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    options: SourceOptions = field(default_factory=SourceOptions)
    _exif: Any = None
    _pixels: Any = None

    # ----- conveniences for readers -------------------------------------------------
    def text(self, key: str) -> TextChunk | None:
        """First text chunk with this keyword (case-sensitive, as tools write them)."""
        for chunk in self.texts:
            if chunk.key == key:
                return chunk
        return None

    def exif(self) -> dict[int, Any]:
        """IFD0 and the Exif sub-IFD merged into one tag -> value mapping (parsed once)."""
        if self._exif is None:
            self._exif = _parse_exif(self.exif_bytes) if self.exif_bytes else {}
        return self._exif

    def pixels(self) -> Image.Image:
        """Decoded pixels, downscaled so that at most ``options.max_pixels`` are decoded.

        JPEG uses Pillow's ``draft`` so the DCT decoder itself skips detail; other formats
        are decoded and reduced. Raises :class:`UnreadableImageError` on corrupt data.
        """
        if self._pixels is not None:
            return self._pixels
        if not self.options.pixels:
            raise UnreadableImageError("pixel decoding is switched off (metadata-only scan)")
        # The pixel limit is checked here, not through warnings filters: those are process-global
        # and not thread-safe (the platform inspects uploads on a thread pool).
        if self.format in PIXEL_PLUGINS:
            _open_plugin(self.format)
        try:
            im = Image.open(io.BytesIO(self.data))
            if im.width * im.height > self.options.max_image_pixels:
                raise UnreadableImageError(
                    f"decompression bomb: {im.width}x{im.height} pixels exceeds limit"
                )
            if im.format == "JPEG" and im.width * im.height > self.options.max_pixels:
                scale = (self.options.max_pixels / (im.width * im.height)) ** 0.5
                im.draft(im.mode, (max(1, int(im.width * scale)), max(1, int(im.height * scale))))
            im.load()
        except UnreadableImageError:
            raise
        except Image.DecompressionBombError as exc:
            raise UnreadableImageError(f"decompression bomb: {exc}") from exc
        except Exception as exc:  # Pillow raises many types for corrupt data
            raise UnreadableImageError(f"cannot decode pixels: {exc}") from exc
        self._pixels = im
        return im

    def full_pixels(self) -> Image.Image:
        """Pixels at full resolution, refused above ``options.max_pixels``.

        For readers whose signal does not survive resampling (alpha-channel LSB metadata).
        """
        if self.width * self.height > self.options.max_pixels:
            raise UnreadableImageError(
                f"image has {self.width * self.height} pixels, above the {self.options.max_pixels} "
                "limit for full-resolution pixel readers"
            )
        im = self.pixels()
        if im.size != (self.width, self.height):
            raise UnreadableImageError("full-resolution pixels unavailable")
        return im


# ----- opening -----------------------------------------------------------------------

def open_source(path: str | os.PathLike[str] | None = None, *, data: bytes | None = None,
                options: SourceOptions | None = None) -> ImageSource:
    """Parse an image's containers. Raises :class:`UnreadableImageError` with a clear reason."""
    options = options or SourceOptions()
    if data is None:
        if path is None:
            raise ValueError("give a path or data")
        p = Path(path)
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise UnreadableImageError(f"cannot stat file: {exc.strerror or exc}") from exc
        if size > options.max_file_bytes:
            raise UnreadableImageError(f"file is {size} bytes, above the {options.max_file_bytes} limit")
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise UnreadableImageError(f"cannot read file: {exc.strerror or exc}") from exc
    if not data:
        raise UnreadableImageError("empty file (0 bytes)")
    name = str(path) if path is not None else None
    try:
        src = _open_png(data, options) if data.startswith(PNG_MAGIC) else _open_with_pillow(data, options)
    except UnreadableImageError:
        raise
    except RecursionError as exc:
        raise UnreadableImageError("container parser failed (nested too deeply)") from exc
    except Exception as exc:  # noqa: BLE001 - last resort: a parser bug on hostile bytes is this file's error
        raise UnreadableImageError(f"container parser failed ({type(exc).__name__}: {exc})") from exc
    src.path = name
    if src.width * src.height > options.max_image_pixels:
        raise UnreadableImageError(
            f"decompression bomb: declared size {src.width}x{src.height} "
            f"({src.width * src.height} pixels) exceeds the {options.max_image_pixels} limit"
        )
    return src


def _open_png(data: bytes, options: SourceOptions) -> ImageSource:
    pos = len(PNG_MAGIC)
    n = len(data)
    width = height = 0
    mode = None
    texts: list[TextChunk] = []
    exif_bytes = None
    xmp: list[tuple[str, bytes]] = []
    types: list[str] = []
    warns: list[str] = []
    total_text = 0
    saw_ihdr = saw_iend = False
    while pos + 8 <= n:
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body_start = pos + 8
        body_end = body_start + length
        if body_end + 4 > n:
            warns.append(f"truncated PNG: chunk {ctype!r} at offset {pos} runs past end of file")
            break
        try:
            tname = ctype.decode("ascii")
        except UnicodeDecodeError:
            warns.append(f"invalid PNG chunk type at offset {pos}")
            break
        types.append(tname)
        body = data[body_start:body_end]
        pos = body_end + 4
        if tname == "IHDR":
            if length < 13:
                raise UnreadableImageError("corrupt PNG: short IHDR")
            width, height, depth, ctype_code = struct.unpack(">IIBB", body[:10])
            mode = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}.get(ctype_code, f"png-type-{ctype_code}")
            saw_ihdr = True
        elif tname in ("tEXt", "zTXt", "iTXt"):
            if length > options.max_text_bytes:
                warns.append(f"PNG {tname} chunk of {length} bytes skipped (limit {options.max_text_bytes})")
                continue
            try:
                key, text = _decode_png_text(tname, body, options.max_text_bytes)
            except ValueError as exc:
                warns.append(f"unreadable PNG {tname} chunk: {exc}")
                continue
            total_text += len(text)
            if total_text > options.max_total_text_bytes:
                warns.append("PNG text chunks exceed the total text limit; the rest were skipped")
                continue
            if key == "XML:com.adobe.xmp":
                xmp.append((f"PNG {tname} 'XML:com.adobe.xmp'", text.encode("utf-8")))
            else:
                texts.append(TextChunk(key, text, f"PNG {tname} '{key}'"))
        elif tname == "eXIf":
            exif_bytes = body
        elif tname == "IEND":
            saw_iend = True
            break
    if not saw_ihdr:
        raise UnreadableImageError("corrupt PNG: no IHDR chunk")
    if not saw_iend and not any(w.startswith("truncated") for w in warns):
        warns.append("truncated PNG: no IEND chunk")
    return ImageSource(data=data, format="PNG", width=width, height=height, mode=mode, texts=texts,
                       exif_bytes=exif_bytes, exif_location="PNG eXIf" if exif_bytes else None,
                       xmp_packets=xmp, png_chunk_types=types, warnings=warns, options=options)


def _bounded_inflate(payload: bytes, limit: int) -> bytes:
    """Inflate a zTXt/iTXt payload, at most ``limit`` bytes. ValueError on anything wrong."""
    d = zlib.decompressobj()
    try:
        out = d.decompress(payload, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"not zlib data ({exc})") from None
    if len(out) > limit or d.unconsumed_tail:
        raise ValueError(f"compressed text inflates beyond {limit} bytes")
    if not d.eof:
        raise ValueError("compressed text is truncated (zlib stream does not end)")
    return out


def _decode_png_text(tname: str, body: bytes, limit: int) -> tuple[str, str]:
    if tname == "tEXt":
        key, _, text = body.partition(b"\x00")
        return key.decode("latin-1"), text.decode("latin-1")
    if tname == "zTXt":
        key, _, rest = body.partition(b"\x00")
        if not rest:
            raise ValueError("missing compression method")
        if rest[0] != 0:  # 0 (deflate) is the only method PNG defines
            raise ValueError(f"unknown compression method {rest[0]}")
        return key.decode("latin-1"), _bounded_inflate(rest[1:], limit).decode("latin-1")
    # iTXt: keyword\0 flag method lang\0 translated\0 text
    key, _, rest = body.partition(b"\x00")
    if len(rest) < 2:
        raise ValueError("short iTXt")
    flag, method = rest[0], rest[1]
    if flag and method != 0:
        raise ValueError(f"unknown compression method {method}")
    rest = rest[2:]
    _lang, _, rest = rest.partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    if flag:
        text = _bounded_inflate(text, limit)
    return key.decode("latin-1"), text.decode("utf-8", errors="replace")


def _open_box_container(data: bytes, options: SourceOptions) -> ImageSource | None:
    """HEIF/HEIC/AVIF and JPEG XL: metadata from the boxes (see ``_bmff``), no decoder plugin needed."""
    meta = parse_container(data, options.max_text_bytes)
    if meta is None:
        return None
    exif_location, exif_bytes = meta.exif if meta.exif else (None, None)
    return ImageSource(data=data, format=meta.format, width=meta.width, height=meta.height,
                       exif_bytes=exif_bytes, exif_location=exif_location, xmp_packets=meta.xmp,
                       warnings=meta.warnings, options=options)


def _open_plugin(fmt: str) -> None:
    """Register the Pillow plugin that decodes ``fmt``; the error names the extra that brings it."""
    try:
        if fmt in ("HEIC", "HEIF"):
            import pillow_heif
            pillow_heif.register_heif_opener()
        elif fmt == "JXL":
            import pillow_jxl  # noqa: F401 - registers the JXL plugin on import
        elif fmt == "AVIF" and not features.check("avif"):
            raise ImportError("Pillow without libavif")
    except ImportError as exc:
        raise UnreadableImageError(
            f"decoding {fmt} pixels needs {PIXEL_PLUGINS[fmt]} (metadata is read without it)") from exc


_SIGNATURES = ((b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"), (b"II*\x00", "TIFF"),
               (b"MM\x00*", "TIFF"))


def _signature(data: bytes) -> str | None:
    """The format a file's first bytes announce, for naming what is corrupt."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return next((name for magic, name in _SIGNATURES if data.startswith(magic)), None)


def _open_with_pillow(data: bytes, options: SourceOptions) -> ImageSource:
    boxed = _open_box_container(data, options)
    if boxed is not None:
        return boxed
    try:
        im = Image.open(io.BytesIO(data))  # size limit: checked by open_source against SourceOptions
    except Image.DecompressionBombError as exc:
        raise UnreadableImageError(f"decompression bomb: {exc}") from exc
    except Image.UnidentifiedImageError as exc:
        head = data[:16].hex(" ")
        kind = _signature(data)
        if kind is not None:  # the format is known; its header is broken (Pillow's reason is lost here)
            raise UnreadableImageError(f"corrupt {kind}: its header cannot be parsed (first bytes: {head})") from exc
        raise UnreadableImageError(f"not an image in a recognised format (first bytes: {head})") from exc
    except Exception as exc:
        kind = _signature(data)
        what = f"corrupt {kind}" if kind is not None else "not a readable image"
        raise UnreadableImageError(f"{what}: {type(exc).__name__}: {exc}") from exc
    fmt = im.format or "UNKNOWN"
    info = im.info
    texts: list[TextChunk] = []
    xmp: list[tuple[str, bytes]] = []
    segments: list[tuple[int, bytes]] = []
    exif_bytes = info.get("exif") if isinstance(info.get("exif"), bytes) else None
    exif_location = f"{fmt} EXIF" if exif_bytes else None
    warns: list[str] = []
    if fmt == "JPEG":
        exif_location = "JPEG APP1 Exif" if exif_bytes else None
        for marker_name, payload in getattr(im, "applist", []):
            marker = 0xE0 + int(marker_name[3:]) if marker_name.startswith("APP") else 0xFE
            segments.append((marker, payload))
            if marker == 0xE1 and payload.startswith(XMP_JPEG_PREFIX):
                xmp.append(("JPEG APP1 XMP", payload[len(XMP_JPEG_PREFIX):]))
        extended = _jpeg_extended_xmp(xmp, segments, options.max_text_bytes, warns)
        if extended is not None:
            xmp.append(("JPEG APP1 Extended XMP", extended))
        comment = info.get("comment")
        if isinstance(comment, bytes):
            texts.append(TextChunk("comment", comment.decode("utf-8", errors="replace"), "JPEG COM"))
    elif fmt == "TIFF":
        tags = getattr(im, "tag_v2", {})
        packet = tags.get(700)
        if packet:
            xmp.append(("TIFF tag 700 XMP", packet if isinstance(packet, bytes) else str(packet).encode()))
        try:
            exif_bytes = im.getexif().tobytes()
            exif_location = "TIFF IFD0"
        except Exception as exc:  # noqa: BLE001 - any parse failure is a warning, not fatal
            warns.append(f"unreadable TIFF tags: {exc}")
    elif isinstance(info.get("xmp"), (bytes, str)):
        packet = info["xmp"]
        xmp.append((f"{fmt} XMP", packet if isinstance(packet, bytes) else packet.encode()))
    if fmt != "JPEG" and isinstance(info.get("comment"), (bytes, str)):
        c = info["comment"]
        texts.append(TextChunk("comment", c.decode("utf-8", "replace") if isinstance(c, bytes) else c,
                               f"{fmt} comment"))
    return ImageSource(data=data, format=fmt, width=im.width, height=im.height, mode=im.mode,
                       texts=texts, exif_bytes=exif_bytes, exif_location=exif_location,
                       xmp_packets=xmp, jpeg_segments=segments, warnings=warns, options=options)


def extended_xmp_guid(main_packet: bytes) -> str | None:
    """The GUID named by ``xmpNote:HasExtendedXMP`` in a main XMP packet, upper-cased, or ``None``."""
    match = _HAS_EXTENDED_XMP.search(main_packet)
    if not match:
        return None
    return (match.group(1) or match.group(2)).decode("ascii").upper()


def assemble_extended_xmp(payloads: list[bytes], guid: str, limit: int) -> tuple[bytes | None, list[str]]:
    """Join the JPEG extended-XMP chunks for ``guid`` (XMP spec part 3, 1.1.3.1) into one packet.

    Each payload, after the ``http://ns.adobe.com/xmp/extension/\\0`` prefix, is: 32-byte GUID
    (hex of the packet's MD5), 4-byte full length, 4-byte offset, data. Chunks of other GUIDs are
    ignored, as the spec says. Returns ``(packet, warnings)``; the packet is ``None`` when it is
    above ``limit``, incomplete, overlapping or inconsistent. Pure; no library reassembles these
    (Pillow exposes only the main packet), so it is done here.
    """
    header = len(XMP_EXTENSION_PREFIX) + 32 + 8
    full_length: int | None = None
    chunks: dict[int, bytes] = {}
    for payload in payloads:
        if len(payload) < header:
            return None, [f"extended XMP chunk of {len(payload)} bytes is shorter than its header"]
        body = payload[len(XMP_EXTENSION_PREFIX):]
        if body[:32].decode("latin-1").upper() != guid:
            continue
        length, offset = struct.unpack(">II", body[32:40])
        if full_length is None:
            full_length = length
        elif length != full_length:
            return None, [f"extended XMP chunks disagree on the full length ({full_length} vs {length})"]
        if length > limit:
            return None, [f"extended XMP of {length} bytes skipped (limit {limit})"]
        data = body[40:]
        if offset + len(data) > length:
            return None, [f"extended XMP chunk at offset {offset} runs past the declared length {length}"]
        chunks.setdefault(offset, data)
    if full_length is None:
        return None, [f"main XMP names extended XMP {guid} but no chunk carries it"]
    packet = bytearray()
    for offset in sorted(chunks):
        if offset != len(packet):
            kind = "gap" if offset > len(packet) else "overlap"
            return None, [f"extended XMP {guid} is incomplete: {kind} at offset {min(offset, len(packet))}"]
        packet += chunks[offset]
    if len(packet) != full_length:
        return None, [f"extended XMP {guid} is truncated: {len(packet)} of {full_length} bytes present"]
    warns: list[str] = []
    if hashlib.md5(packet).hexdigest().upper() != guid:  # noqa: S324 - the spec's identifier, not security
        warns.append(f"extended XMP content does not match its GUID {guid} (MD5 differs); read anyway")
    return bytes(packet), warns


def _jpeg_extended_xmp(main_packets: list[tuple[str, bytes]], segments: list[tuple[int, bytes]],
                       limit: int, warns: list[str]) -> bytes | None:
    payloads = [p for marker, p in segments if marker == 0xE1 and p.startswith(XMP_EXTENSION_PREFIX)]
    if not payloads:
        return None
    guid = next((g for _, packet in main_packets if (g := extended_xmp_guid(packet))), None)
    if guid is None:
        warns.append(f"{len(payloads)} extended XMP chunk(s) ignored: no main XMP packet names their GUID")
        return None
    packet, problems = assemble_extended_xmp(payloads, guid, limit)
    warns.extend(problems)
    return packet


def _parse_exif(raw: bytes) -> dict[int, Any]:
    exif = Image.Exif()
    if raw.startswith(b"Exif\x00\x00"):
        raw = raw[6:]
    exif.load(raw)
    tags: dict[int, Any] = dict(exif.items())
    try:
        tags.update(exif.get_ifd(EXIF_IFD_POINTER))
    except Exception:  # noqa: BLE001 - a broken sub-IFD keeps IFD0
        pass
    return tags
