"""Build or merge the XMP packet a stamp writes, and put it into PNG, JPEG and WebP containers
without touching the compressed image data.

Why hand-written container code: Pillow rewrites (re-encodes) the image to change metadata, and
exiftool is a Perl program, not a library; the three containers' metadata slots are simple and
fully specified (PNG iTXt ``XML:com.adobe.xmp``, JPEG APP1 ``http://ns.adobe.com/xap/1.0/``, WebP
``XMP `` chunk with the VP8X flag), so the bytes of every other chunk and segment are copied as
they are.
"""

from __future__ import annotations



import struct
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass

from defusedxml.ElementTree import fromstring as safe_fromstring

from ..errors import InputError
from ..signals.xmp import decode_xmp_packet

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "stEvt": "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "Iptc4xmpCore": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
    "plus": "http://ns.useplus.org/ldf/xmp/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "crs": "http://ns.adobe.com/camera-raw-settings/1.0/",
    "dcterms": "http://purl.org/dc/terms/",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)

IPTC_DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"
XMP_APP1_SIG = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXT_SIG = b"http://ns.adobe.com/xmp/extension/\x00"
PNG_SIG = b"\x89PNG\r\n\x1a\n"
PNG_XMP_KEY = b"XML:com.adobe.xmp"
MAX_JPEG_XMP = 65535 - 2 - len(XMP_APP1_SIG)    # one APP1 segment; extended XMP is not written
MAX_CHUNKS = 100_000                              # a container we walk is data we did not write: bound it


def _q(prefix: str, local: str) -> str:
    return f"{{{NS[prefix]}}}{local}"


@dataclass(frozen=True)
class XmpFields:
    """What a stamp states in XMP (each None is left out)."""

    digital_source_type: str                  # IPTC term name or URI
    ai_system: str | None = None              # Iptc4xmpExt:AISystemUsed (the generator)
    ai_system_version: str | None = None
    prompt: str | None = None                 # Iptc4xmpExt:AIPromptInformation, only when asked
    creator_tool: str | None = None           # xmp:CreatorTool, only set when the file has none
    data_mining: str | None = None            # plus:DataMining URI (e.g. DMI-PROHIBITED-AIMLTRAINING)

    def properties(self) -> list[tuple[str, str, str]]:
        dst = self.digital_source_type if "/" in self.digital_source_type else IPTC_DST + self.digital_source_type
        props = [("Iptc4xmpExt", "DigitalSourceType", dst)]
        for prefix, local, value in (("Iptc4xmpExt", "AISystemUsed", self.ai_system),
                                     ("Iptc4xmpExt", "AISystemVersionUsed", self.ai_system_version),
                                     ("Iptc4xmpExt", "AIPromptInformation", self.prompt),
                                     ("plus", "DataMining", self.data_mining)):
            if value:
                props.append((prefix, local, value))
        return props


def build_packet(fields: XmpFields, existing: bytes | None = None) -> bytes:
    """An XMP packet holding ``fields``, merged into ``existing`` when the file had one: every
    property already there is kept except the ones this stamp states (replaced, not duplicated)."""
    root = None
    if existing:
        try:
            root = safe_fromstring(decode_xmp_packet(existing).encode("utf-8"))
        except Exception:   # an unreadable old packet is replaced rather than copied broken
            root = None
    rdf = None
    if root is not None:
        rdf = root if root.tag == _q("rdf", "RDF") else root.find(f".//{_q('rdf', 'RDF')}")
    if rdf is None:
        root = ET.Element(_q("x", "xmpmeta"))
        rdf = ET.SubElement(root, _q("rdf", "RDF"))
    ours = {_q(p, local) for p, local, _ in fields.properties()}
    has_creator_tool = False
    for desc in rdf.findall(_q("rdf", "Description")):
        for attr in [a for a in desc.attrib if a in ours]:
            del desc.attrib[attr]
        for child in [c for c in desc if c.tag in ours]:
            desc.remove(child)
        has_creator_tool |= _q("xmp", "CreatorTool") in desc.attrib or desc.find(_q("xmp", "CreatorTool")) is not None
    desc = ET.SubElement(rdf, _q("rdf", "Description"), {_q("rdf", "about"): ""})
    for prefix, local, value in fields.properties():
        ET.SubElement(desc, _q(prefix, local)).text = value
    if fields.creator_tool and not has_creator_tool:
        ET.SubElement(desc, _q("xmp", "CreatorTool")).text = fields.creator_tool
    if root.tag != _q("x", "xmpmeta"):
        wrapper = ET.Element(_q("x", "xmpmeta"))
        wrapper.append(root)
        root = wrapper
    body = ET.tostring(root, encoding="unicode")
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body
            + '\n<?xpacket end="w"?>').encode("utf-8")


# ---- containers -----------------------------------------------------------------------------------
def container_of(data: bytes) -> str:
    if data.startswith(PNG_SIG):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        return "avif" if data[8:12] in (b"avif", b"avis") else "heif"
    raise InputError("stamping writes PNG, JPEG and WebP files; this file is none of them")


def _png_chunks(data: bytes):
    pos = 8
    for _ in range(MAX_CHUNKS):
        if pos + 12 > len(data):
            raise InputError("PNG: truncated chunk")
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise InputError(f"PNG: chunk {ctype!r} runs past the end of the file")
        yield ctype, data[pos + 8:pos + 8 + length], data[pos:end]
        if ctype == b"IEND":
            return
        pos = end
    raise InputError("PNG: too many chunks")


def _png_itxt_text(body: bytes) -> bytes | None:
    key, _, rest = body.partition(b"\x00")
    if key != PNG_XMP_KEY or len(rest) < 2:
        return None
    compressed, _method, rest = rest[0], rest[1], rest[2:]
    _lang, _, rest = rest.partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    if compressed:
        d = zlib.decompressobj()
        text = d.decompress(text, 16 * 1024 * 1024)
    return text


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def _png_xmp(data: bytes, packet: bytes | None) -> tuple[bytes | None, bytes]:
    existing = None
    out = [PNG_SIG]
    inserted = packet is None
    for ctype, body, raw in _png_chunks(data):
        if ctype == b"iTXt" and body.startswith(PNG_XMP_KEY + b"\x00"):
            existing = _png_itxt_text(body)
            continue
        if ctype in (b"IDAT", b"IEND") and not inserted:
            out.append(png_chunk(b"iTXt", PNG_XMP_KEY + b"\x00\x00\x00\x00\x00" + packet))
            inserted = True
        out.append(raw)
    return existing, b"".join(out)


def _jpeg_segments(data: bytes):
    """(marker, whole segment bytes) up to and excluding SOS; then (None, rest of the file)."""
    pos = 2
    for _ in range(MAX_CHUNKS):
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise InputError("JPEG: bad segment marker")
        marker = data[pos + 1]
        if marker == 0xFF:          # fill byte
            pos += 1
            continue
        if marker == 0xDA:
            yield None, data[pos:]
            return
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise InputError("JPEG: segment runs past the end of the file")
        yield marker, data[pos:pos + 2 + length]
        pos += 2 + length
    raise InputError("JPEG: too many segments")


def _jpeg_xmp(data: bytes, packet: bytes | None) -> tuple[bytes | None, bytes]:
    if packet is not None and len(packet) > MAX_JPEG_XMP:
        raise InputError(f"XMP packet of {len(packet)} bytes does not fit one JPEG APP1 segment")
    existing = None
    kept: list[bytes] = []
    for marker, seg in _jpeg_segments(data):
        if marker == 0xE1 and seg[4:4 + len(XMP_APP1_SIG)] == XMP_APP1_SIG:
            existing = seg[4 + len(XMP_APP1_SIG):]
            continue
        if marker == 0xE1 and seg[4:4 + len(XMP_EXT_SIG)] == XMP_EXT_SIG:
            continue              # extended XMP belongs to the main packet being replaced
        kept.append(seg)
    if packet is None:
        return existing, data
    # After the leading APP0 (JFIF) / APP1 (Exif) segments, where readers expect XMP.
    at = 0
    while at < len(kept) - 1 and kept[at][1] in (0xE0, 0xE1):
        at += 1
    app1 = b"\xff\xe1" + struct.pack(">H", 2 + len(XMP_APP1_SIG) + len(packet)) + XMP_APP1_SIG + packet
    kept.insert(at, app1)
    return existing, b"\xff\xd8" + b"".join(kept)


def _riff_chunks(data: bytes):
    pos = 12
    end = min(len(data), 8 + struct.unpack("<I", data[4:8])[0])
    for _ in range(MAX_CHUNKS):
        if pos + 8 > end:
            return
        fourcc = data[pos:pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4:pos + 8])
        stop = pos + 8 + size + (size & 1)
        if pos + 8 + size > end:
            raise InputError(f"WebP: chunk {fourcc!r} runs past the end of the file")
        yield fourcc, data[pos + 8:pos + 8 + size], data[pos:stop]
        pos = stop
    raise InputError("WebP: too many chunks")


def _riff_chunk(fourcc: bytes, body: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def _webp_size_alpha(chunks) -> tuple[int, int, bool]:
    """Canvas size and alpha of a simple WebP, from its bitstream header (no pixel decode)."""
    fourcc, body, _ = chunks[0]
    if fourcc == b"VP8L" and len(body) >= 5:
        bits = int.from_bytes(body[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    if fourcc == b"VP8 " and len(body) >= 10:
        w, h = struct.unpack("<HH", body[6:10])
        return w & 0x3FFF, h & 0x3FFF, any(c[0] == b"ALPH" for c in chunks)
    raise InputError("WebP: unknown first chunk %r" % fourcc)


def _webp_xmp(data: bytes, packet: bytes | None) -> tuple[bytes | None, bytes]:
    chunks = list(_riff_chunks(data))
    if not chunks:
        raise InputError("WebP: no chunks")
    existing = next((body for fourcc, body, _ in chunks if fourcc == b"XMP "), None)
    if packet is None:
        return existing, data
    kept = [c for c in chunks if c[0] != b"XMP "]
    if kept[0][0] == b"VP8X":
        body = bytearray(kept[0][1])
        body[0] |= 0x04                               # XMP metadata present
        kept[0] = (b"VP8X", bytes(body), _riff_chunk(b"VP8X", bytes(body)))
    else:
        # A simple (lossy / lossless) file becomes an extended one: VP8X with the canvas size.
        w, h, alpha = _webp_size_alpha(kept)
        flags = 0x04 | (0x10 if alpha else 0) | (0x08 if any(c[0] == b"EXIF" for c in kept) else 0) | (
            0x20 if any(c[0] == b"ICCP" for c in kept) else 0)
        body = bytes([flags, 0, 0, 0]) + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
        kept.insert(0, (b"VP8X", body, _riff_chunk(b"VP8X", body)))
    payload = b"WEBP" + b"".join(c[2] for c in kept) + _riff_chunk(b"XMP ", packet)
    return existing, b"RIFF" + struct.pack("<I", len(payload)) + payload


_WRITERS = {"png": _png_xmp, "jpeg": _jpeg_xmp, "webp": _webp_xmp}


def read_container_xmp(data: bytes) -> bytes | None:
    """The XMP packet a PNG / JPEG / WebP file holds, or None."""
    return _WRITERS[container_of(data)](data, None)[0]


def write_container_xmp(data: bytes, fields: XmpFields, base: bytes | None = None) -> bytes:
    """The same file with its XMP packet merged with ``fields``; every other byte sequence
    (image data, EXIF, ICC, text chunks, C2PA) is copied unchanged. ``base``: the packet to merge
    into instead of the file's own (the original's, when the file was re-encoded for a watermark)."""
    kind = container_of(data)
    if kind not in _WRITERS:
        raise InputError(f"stamping does not write XMP into {kind.upper()} files yet")
    existing = base if base is not None else _WRITERS[kind](data, None)[0]
    return _WRITERS[kind](data, build_packet(fields, existing))[1]


__all__ = ["XmpFields", "build_packet", "container_of", "read_container_xmp", "write_container_xmp", "png_chunk"]

