"""HEIF / HEIC / AVIF (ISO base media file format) and JPEG XL containers: metadata without decoding.

Pillow opens a HEIF or JPEG XL file only through a decoder plugin (pillow-heif, a JPEG XL plugin),
and even then it reads the metadata by decoding; a metadata scan must work without either, and a
plugin's absence must not make an iPhone photo "not an image". No maintained library reads these
boxes on their own (pillow-heif wraps libheif, which decodes; c2pa-python reads only its own
JUMBF), so the few boxes needed are walked here by hand, bounded in depth, count and size:

* ISOBMFF (ISO/IEC 14496-12 / HEIF 23008-12): ``ftyp`` brand -> format; ``meta`` -> ``pitm``
  (primary item), ``iinf``/``infe`` (item types: ``Exif``, ``mime`` with content type
  ``application/rdf+xml`` for XMP), ``iloc`` (where each item's bytes are: file offsets or
  ``idat``), ``iprp``/``ipco``/``ipma`` (the primary item's ``ispe`` = width and height).
  An Exif item starts with a 4-byte offset to the TIFF header (ISO/IEC 23008-12 Annex A.2.1).
* JPEG XL (ISO/IEC 18181-2): the container's ``Exif`` (same 4-byte offset) and ``xml `` boxes,
  and ``brob`` boxes (Brotli-compressed ``Exif``/``xml ``, decompressed with a byte limit when the
  ``brotli`` package is installed). The size comes from the codestream's SizeHeader (18181-1 A.3).

C2PA manifests in these files (a ``uuid`` box in ISOBMFF, a ``jumb`` box in JPEG XL) are read by
c2pa-python, which supports image/heic, image/heif, image/avif and image/jxl.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

JXL_CONTAINER_MAGIC = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
JXL_CODESTREAM_MAGIC = b"\xff\x0a"
# The C2PA manifest store's uuid box in ISOBMFF (C2PA spec, "Embedding manifests into BMFF").
C2PA_BMFF_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
XMP_MIME = "application/rdf+xml"

_AVIF_BRANDS = {b"avif", b"avis", b"avio"}
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2", b"miaf", b"jpeg", b"avci", b"vvic"} | _AVIF_BRANDS | _HEIC_BRANDS

MAX_BOXES = 10_000  # boxes walked in one file
MAX_DEPTH = 8  # nesting of the boxes we descend into (meta -> iprp -> ipco is depth 3)
MAX_ITEMS = 4_096  # items listed in iinf / iloc
MAX_EXTENTS = 64  # extents of one metadata item


class BoxError(ValueError):
    """The box structure is broken (reported as a warning; what was read before is kept)."""


@dataclass
class ContainerMetadata:
    """What the box walk found: the format, the primary image's size, and the metadata payloads."""

    format: str  # "HEIC", "HEIF", "AVIF" or "JXL"
    mime: str
    width: int = 0
    height: int = 0
    exif: tuple[str, bytes] | None = None  # (location, TIFF bytes starting at the byte-order mark)
    xmp: list[tuple[str, bytes]] = field(default_factory=list)  # (location, packet)
    c2pa_box: str | None = None  # where a C2PA store sits, when there is one
    warnings: list[str] = field(default_factory=list)


def sniff_container(data: bytes) -> str | None:
    """``"HEIC"``/``"AVIF"``/``"HEIF"``/``"JXL"`` from the first bytes, else None (cheap, no parsing)."""
    if data.startswith(JXL_CONTAINER_MAGIC) or data.startswith(JXL_CODESTREAM_MAGIC):
        return "JXL"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        size = struct.unpack(">I", data[:4])[0]
        brands = _brands(data[8:min(max(size, 12), 4096, len(data))])
        if data[8:12] in _AVIF_BRANDS:
            return "AVIF"
        if brands & _HEIC_BRANDS:
            return "HEIC"
        if brands & _AVIF_BRANDS:
            return "AVIF"
        if brands & _HEIF_BRANDS:
            return "HEIF"
    return None


def _brands(ftyp_body: bytes) -> set[bytes]:
    """Major brand and compatible brands of an ``ftyp`` body (minor version skipped)."""
    brands = {ftyp_body[:4]}
    for i in range(8, len(ftyp_body) - 3, 4):
        brands.add(ftyp_body[i:i + 4])
    return brands


def _boxes(data: bytes, start: int, end: int, budget: list[int]):
    """Yield ``(type, body_start, body_end)`` for the boxes in ``data[start:end]``; bounded."""
    pos = start
    while pos + 8 <= end:
        budget[0] -= 1
        if budget[0] < 0:
            raise BoxError(f"more than {MAX_BOXES} boxes")
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise BoxError(f"truncated large-size box {kind!r} at offset {pos}")
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
            header = 16
        elif size == 0:  # runs to the end of its parent
            size = end - pos
        if size < header or pos + size > end:
            raise BoxError(f"box {kind!r} at offset {pos} declares {size} bytes, past the end of its parent")
        yield kind, pos + header, pos + size
        pos += size


def _uint(data: bytes, pos: int, size: int) -> tuple[int, int]:
    """Big-endian unsigned of ``size`` bytes (0, 2, 4 or 8) at ``pos`` -> (value, next position)."""
    if size == 0:
        return 0, pos
    if pos + size > len(data):
        raise BoxError("box ends inside a field")
    return int.from_bytes(data[pos:pos + size], "big"), pos + size


def _cstring(data: bytes, pos: int, end: int) -> tuple[str, int]:
    stop = data.find(b"\x00", pos, end)
    stop = end if stop < 0 else stop
    return data[pos:stop].decode("utf-8", "replace"), min(stop + 1, end)


# ----- ISOBMFF (HEIF / HEIC / AVIF) ----------------------------------------------------------

@dataclass
class _Item:
    kind: str = ""
    content_type: str = ""
    construction: int = 0
    base_offset: int = 0
    extents: list[tuple[int, int]] = field(default_factory=list)


def _parse_iinf(data: bytes, start: int, end: int, items: dict[int, _Item], budget: list[int]) -> None:
    version = data[start]
    pos = start + 4
    _, pos = _uint(data, pos, 2 if version == 0 else 4)
    for kind, b_start, b_end in _boxes(data, pos, end, budget):
        if kind != b"infe" or b_end - b_start < 8:
            continue
        infe_version = data[b_start]
        if infe_version < 2:
            continue  # versions 0/1 describe files, not image items
        p = b_start + 4
        item_id, p = _uint(data, p, 2 if infe_version == 2 else 4)
        p += 2  # item_protection_index
        item_type = data[p:p + 4].decode("latin-1")
        p += 4
        _name, p = _cstring(data, p, b_end)
        item = items.setdefault(item_id, _Item())
        item.kind = item_type
        if item_type == "mime":
            item.content_type, p = _cstring(data, p, b_end)
        if len(items) > MAX_ITEMS:
            raise BoxError(f"more than {MAX_ITEMS} items")


def _parse_iloc(data: bytes, start: int, end: int, items: dict[int, _Item]) -> None:
    version = data[start]
    if version > 2:
        raise BoxError(f"iloc version {version} unknown")
    pos = start + 4
    if pos + 2 > end:
        raise BoxError("short iloc")
    offset_size, length_size = data[pos] >> 4, data[pos] & 15
    base_offset_size, index_size = data[pos + 1] >> 4, (data[pos + 1] & 15 if version else 0)
    if any(s not in (0, 4, 8) for s in (offset_size, length_size, base_offset_size, index_size)):
        raise BoxError("iloc field sizes are not 0, 4 or 8")
    pos += 2
    count, pos = _uint(data, pos, 2 if version < 2 else 4)
    if count > MAX_ITEMS:
        raise BoxError(f"iloc lists {count} items, above {MAX_ITEMS}")
    for _ in range(count):
        item_id, pos = _uint(data, pos, 2 if version < 2 else 4)
        construction = 0
        if version:
            value, pos = _uint(data, pos, 2)
            construction = value & 15
        _, pos = _uint(data, pos, 2)  # data_reference_index: 0 = this file
        base, pos = _uint(data, pos, base_offset_size)
        extent_count, pos = _uint(data, pos, 2)
        extents = []
        for _ in range(extent_count):
            _, pos = _uint(data, pos, index_size)
            offset, pos = _uint(data, pos, offset_size)
            length, pos = _uint(data, pos, length_size)
            extents.append((offset, length))
        if pos > end:
            raise BoxError("iloc runs past its box")
        item = items.setdefault(item_id, _Item())
        item.construction, item.base_offset = construction, base
        item.extents = extents[:MAX_EXTENTS + 1]


def _item_bytes(data: bytes, item: _Item, idat: tuple[int, int] | None, limit: int) -> bytes:
    """An item's payload from its extents (file offsets, or offsets into ``idat``); bounded."""
    if item.construction == 1:
        if idat is None:
            raise BoxError("item stored in idat but the file has no idat box")
        origin, stop = idat
    elif item.construction == 0:
        origin, stop = 0, len(data)
    else:
        raise BoxError(f"item construction method {item.construction} is not supported")
    if not item.extents:
        raise BoxError("item has no extents")
    if len(item.extents) > MAX_EXTENTS:
        raise BoxError(f"item has more than {MAX_EXTENTS} extents")
    chunks, total = [], 0
    for offset, length in item.extents:
        first = origin + item.base_offset + offset
        last = stop if length == 0 else first + length  # length 0: to the end of the source
        if first > stop or last > stop:
            raise BoxError(f"item extent {first}..{last} lies outside the file")
        total += last - first
        if total > limit:
            raise BoxError(f"metadata item of more than {limit} bytes skipped")
        chunks.append(data[first:last])
    return b"".join(chunks)


def _primary_size(data: bytes, iprp: tuple[int, int], primary: int | None, budget: list[int]) -> tuple[int, int]:
    """``ispe`` of the primary item (through ``ipma``), else the largest ``ispe`` in ``ipco``."""
    properties: list[tuple[bytes, int, int]] = []
    associations: dict[int, list[int]] = {}
    for kind, start, end in _boxes(data, iprp[0], iprp[1], budget):
        if kind == b"ipco":
            properties = list(_boxes(data, start, end, budget))
        elif kind == b"ipma":
            version, flags = data[start], int.from_bytes(data[start + 1:start + 4], "big")
            count, pos = _uint(data, start + 4, 4)
            for _ in range(min(count, MAX_ITEMS)):
                item_id, pos = _uint(data, pos, 2 if version < 1 else 4)
                n, pos = _uint(data, pos, 1)
                indexes = []
                for _ in range(n):
                    value, pos = _uint(data, pos, 2 if flags & 1 else 1)
                    indexes.append(value & (0x7FFF if flags & 1 else 0x7F))
                associations[item_id] = indexes
    ispe = [struct.unpack(">II", data[s + 4:s + 12]) if k == b"ispe" and e - s >= 12 else None
            for k, s, e in properties]
    size: tuple[int, int] | None = None
    for index in associations.get(primary, []) if primary is not None else []:
        if not 1 <= index <= len(properties):
            continue
        kind, start, end = properties[index - 1]
        if ispe[index - 1] and size is None:
            size = ispe[index - 1]
        elif kind == b"clap" and size is not None and end - start >= 16:
            # Clean aperture: the displayed crop (encoders pad to the codec's block size).
            wn, wd, hn, hd = struct.unpack(">IIII", data[start:start + 16])
            if wd and hd and 0 < wn // wd <= size[0] and 0 < hn // hd <= size[1]:
                size = (wn // wd, hn // hd)
        elif kind == b"irot" and size is not None and end - start >= 1 and data[start] & 1:
            size = (size[1], size[0])  # rotated by 90 or 270 degrees
    if size is not None:
        return size
    known = [s for s in ispe if s]
    return max(known, key=lambda s: s[0] * s[1]) if known else (0, 0)


def _exif_payload(raw: bytes) -> bytes:
    """Strip the Exif item's 4-byte TIFF-header offset (and the ``Exif\\0\\0`` it usually skips)."""
    if raw[:4] in (b"MM\x00*", b"II*\x00"):
        return raw  # some writers (libjxl through pillow-jxl-plugin) leave the offset field out
    if raw.startswith(b"Exif\x00\x00"):
        return raw[6:]
    if len(raw) < 4:
        raise BoxError("Exif payload shorter than its 4-byte header offset")
    offset = struct.unpack(">I", raw[:4])[0]
    tiff = raw[4 + offset:] if 4 + offset <= len(raw) else b""
    if tiff[:4] not in (b"MM\x00*", b"II*\x00"):
        # Some writers put the TIFF header right after the offset field whatever it says.
        body = raw[4:]
        tiff = body[6:] if body.startswith(b"Exif\x00\x00") else body
    if tiff[:4] not in (b"MM\x00*", b"II*\x00"):
        raise BoxError("Exif payload has no TIFF header")
    return tiff


def parse_isobmff(data: bytes, fmt: str, max_item_bytes: int) -> ContainerMetadata:
    """Metadata of a HEIF-family file (see the module docstring). Never raises for broken boxes:
    they become warnings and what was read before them is kept."""
    mime = {"AVIF": "image/avif", "HEIC": "image/heic"}.get(fmt, "image/heif")
    meta = ContainerMetadata(format=fmt, mime=mime)
    budget = [MAX_BOXES]
    items: dict[int, _Item] = {}
    idat: tuple[int, int] | None = None
    iprp: tuple[int, int] | None = None
    primary: int | None = None
    try:
        for kind, start, end in _boxes(data, 0, len(data), budget):
            if kind == b"uuid" and data[start:start + 16] == C2PA_BMFF_UUID:
                meta.c2pa_box = f"{fmt} uuid C2PA box"
            if kind != b"meta" or end - start < 4:
                continue
            for child, c_start, c_end in _boxes(data, start + 4, end, budget):  # meta is a full box
                if child == b"iinf":
                    _parse_iinf(data, c_start, c_end, items, budget)
                elif child == b"iloc":
                    _parse_iloc(data, c_start, c_end, items)
                elif child == b"idat":
                    idat = (c_start, c_end)
                elif child == b"iprp":
                    iprp = (c_start, c_end)
                elif child == b"pitm":
                    primary, _ = _uint(data, c_start + 4, 2 if data[c_start] == 0 else 4)
    except (BoxError, IndexError) as exc:
        meta.warnings.append(f"broken {fmt} box structure: {exc}")
    if iprp is not None:
        try:
            meta.width, meta.height = _primary_size(data, iprp, primary, budget)
        except (BoxError, IndexError) as exc:
            meta.warnings.append(f"unreadable {fmt} item properties: {exc}")
    for item_id, item in sorted(items.items()):
        is_exif = item.kind == "Exif"
        is_xmp = item.kind == "mime" and item.content_type.split(";")[0].strip().lower() == XMP_MIME
        if not (is_exif or is_xmp):
            continue
        try:
            payload = _item_bytes(data, item, idat, max_item_bytes)
            if is_exif and meta.exif is None:
                meta.exif = (f"{fmt} Exif item {item_id}", _exif_payload(payload))
            elif is_xmp:
                meta.xmp.append((f"{fmt} XMP item {item_id} ({XMP_MIME})", payload))
        except BoxError as exc:
            meta.warnings.append(f"{fmt} {'Exif' if is_exif else 'XMP'} item {item_id} unreadable: {exc}")
    return meta


# ----- JPEG XL -------------------------------------------------------------------------------

class _Bits:
    """LSB-first bit reader of the JPEG XL codestream."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, n: int) -> int:
        value = 0
        for i in range(n):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise BoxError("JPEG XL codestream ends inside its size header")
            value |= ((self.data[byte] >> (self.pos & 7)) & 1) << i
            self.pos += 1
        return value

    def u32(self, *choices: tuple[int, int]) -> int:
        offset, bits = choices[self.read(2)]
        return offset + self.read(bits)


_JXL_RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}


def jxl_codestream_size(codestream: bytes) -> tuple[int, int]:
    """Width and height from the SizeHeader that follows the ``FF 0A`` signature (18181-1 A.3)."""
    if not codestream.startswith(JXL_CODESTREAM_MAGIC):
        raise BoxError("no JPEG XL codestream signature")
    bits = _Bits(codestream[2:34])
    dims = ((1, 9), (1, 13), (1, 18), (1, 30))
    small = bits.read(1)
    height = (bits.read(5) + 1) * 8 if small else bits.u32(*dims)
    ratio = bits.read(3)
    if ratio:
        num, den = _JXL_RATIOS[ratio]
        return height * num // den, height
    width = (bits.read(5) + 1) * 8 if small else bits.u32(*dims)
    return width, height


def _brotli_box(payload: bytes, limit: int) -> tuple[str, bytes]:
    """(original box type, decompressed body) of a ``brob`` box, at most ``limit`` bytes out."""
    try:
        import brotli  # optional: the jxl extra brings it
    except ImportError as exc:
        raise BoxError("Brotli-compressed box needs the brotli package: pip install 'artlineage[jxl]'") from exc
    if len(payload) < 4:
        raise BoxError("brob box shorter than its type field")
    kind = payload[:4].decode("latin-1")
    decompressor = brotli.Decompressor()
    try:
        out = decompressor.process(payload[4:], output_buffer_limit=limit + 1)
    except brotli.error as exc:
        raise BoxError(f"brob box is not valid Brotli data ({exc})") from None
    if len(out) > limit or not decompressor.is_finished():
        raise BoxError(f"brob box inflates beyond {limit} bytes or is truncated")
    return kind, out


def parse_jxl(data: bytes, max_item_bytes: int) -> ContainerMetadata:
    """Metadata of a JPEG XL file: a bare codestream has none; the container's boxes may hold it."""
    meta = ContainerMetadata(format="JXL", mime="image/jxl")
    if data.startswith(JXL_CODESTREAM_MAGIC):
        try:
            meta.width, meta.height = jxl_codestream_size(data)
        except BoxError as exc:
            meta.warnings.append(str(exc))
        return meta
    budget = [MAX_BOXES]
    codestream_head = b""
    try:
        for kind, start, end in _boxes(data, 0, len(data), budget):
            name = kind.decode("latin-1")
            body = data[start:end]
            if name == "jxlc" and not codestream_head:
                codestream_head = body[:64]
            elif name == "jxlp" and len(codestream_head) < 64:
                codestream_head += body[4:68]  # a 4-byte part index precedes each part
            elif name == "jumb" and b"c2pa" in body[:64]:
                meta.c2pa_box = "JXL jumb C2PA box"
            if name == "brob":
                try:
                    name, body = _brotli_box(body, max_item_bytes)
                except BoxError as exc:
                    meta.warnings.append(f"JXL {exc}")
                    continue
                where = f"JXL brob {name.strip()} box"
            else:
                where = f"JXL {name.strip()} box"
            if name in ("Exif", "xml ") and len(body) > max_item_bytes:
                meta.warnings.append(f"{where} of {len(body)} bytes skipped (limit {max_item_bytes})")
            elif name == "Exif" and meta.exif is None:
                try:
                    meta.exif = (where, _exif_payload(body))
                except BoxError as exc:
                    meta.warnings.append(f"{where} unreadable: {exc}")
            elif name == "xml ":
                meta.xmp.append((where, body))
    except (BoxError, IndexError) as exc:
        meta.warnings.append(f"broken JXL box structure: {exc}")
    if codestream_head:
        try:
            meta.width, meta.height = jxl_codestream_size(codestream_head)
        except BoxError as exc:
            meta.warnings.append(str(exc))
    return meta


def parse_container(data: bytes, max_item_bytes: int) -> ContainerMetadata | None:
    """Metadata of a HEIF-family or JPEG XL file, or None when ``data`` is neither."""
    fmt = sniff_container(data)
    if fmt is None:
        return None
    return parse_jxl(data, max_item_bytes) if fmt == "JXL" else parse_isobmff(data, fmt, max_item_bytes)
