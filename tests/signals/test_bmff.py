"""HEIF / HEIC / AVIF and JPEG XL: metadata from the boxes without a decoder, pixels through plugins.

Fixtures are built in code: by the real encoders (pillow-heif for HEIC, Pillow's own AVIF, the
JPEG XL plugin) where installed, and by hand for layouts those encoders do not write (XMP stored
in ``idat``, iloc version 1, Brotli-compressed JPEG XL boxes, broken and hostile box trees).
"""

from __future__ import annotations

import builtins
import io
import struct

import pytest
from PIL import Image, features

from artlineage.signals._base import UnreadableImageError
from artlineage.signals._bmff import (JXL_CONTAINER_MAGIC, jxl_codestream_size, parse_container,
                                      sniff_container)
from artlineage.signals._source import open_source
from artlineage.signals._registry import get_readers

DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"
XMP = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
       b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
       b'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
       b'Iptc4xmpExt:DigitalSourceType="' + DST.encode() + b'trainedAlgorithmicMedia"/>'
       b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>')


def iphone_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15 Pro"
    exif[0x0131] = "17.1"
    return exif.tobytes()


def encode(fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(out, format=fmt, **kwargs)
    return out.getvalue()


# ----- hand-built ISOBMFF ------------------------------------------------------------------

def box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, body: bytes, flags: int = 0) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + body)


def infe(item_id: int, item_type: bytes, content_type: bytes = b"") -> bytes:
    body = struct.pack(">HH4s", item_id, 0, item_type) + b"\x00"
    if item_type == b"mime":
        body += content_type + b"\x00"
    return full_box(b"infe", 2, body)


def hand_heif(*, exif: bytes | None = None, xmp: bytes | None = None, brand: bytes = b"heic",
              xmp_in_idat: bool = True, clap: tuple[int, int] | None = None) -> bytes:
    """A HEIF file with an Exif item in mdat and an XMP item in idat (iloc v1, construction 1)."""
    ftyp = box(b"ftyp", brand + b"\x00\x00\x00\x00" + b"mif1" + brand)
    items = [infe(1, b"hvc1")]
    if exif is not None:
        items.append(infe(2, b"Exif"))
    if xmp is not None:
        items.append(infe(3, b"mime", b"application/rdf+xml"))
    iinf = full_box(b"iinf", 0, struct.pack(">H", len(items)) + b"".join(items))
    props = [box(b"hvcC", b"\x01" + b"\x00" * 22), full_box(b"ispe", 0, struct.pack(">II", 64, 64))]
    if clap:
        props.append(box(b"clap", struct.pack(">IIIIIIII", clap[0], 1, clap[1], 1, 0, 1, 0, 1)))
    ipco = box(b"ipco", b"".join(props))
    assoc = bytes([1, 2] + ([3] if clap else []))
    ipma = full_box(b"ipma", 0, struct.pack(">IHB", 1, 1, len(assoc)) + assoc)
    idat_body = xmp if (xmp is not None and xmp_in_idat) else b""
    tiff = exif[6:] if exif is not None and exif.startswith(b"Exif\x00\x00") else exif
    exif_payload = b"\x00\x00\x00\x06Exif\x00\x00" + tiff if tiff is not None else b""
    mdat_body = b"\x00" * 16 + exif_payload + (xmp if (xmp is not None and not xmp_in_idat) else b"")

    def build(mdat_offset: int) -> bytes:
        entries = [(1, 0, mdat_offset, 16)]
        if exif is not None:
            entries.append((2, 0, mdat_offset + 16, len(exif_payload)))
        if xmp is not None:
            entries.append((3, 1, 0, len(xmp)) if xmp_in_idat
                           else (3, 0, mdat_offset + 16 + len(exif_payload), len(xmp)))
        body = bytes([0x44, 0x00]) + struct.pack(">H", len(entries))  # offset/length 4 bytes
        for item_id, method, offset, length in entries:
            body += struct.pack(">HHHHII", item_id, method, 0, 1, offset, length)
        meta_children = [full_box(b"hdlr", 0, b"\x00" * 4 + b"pict" + b"\x00" * 13),
                         full_box(b"pitm", 0, struct.pack(">H", 1)), full_box(b"iloc", 1, body), iinf,
                         box(b"iprp", ipco + ipma)]
        if idat_body:
            meta_children.append(box(b"idat", idat_body))
        return ftyp + full_box(b"meta", 0, b"".join(meta_children))

    head = build(0)
    return build(len(head) + 8) + box(b"mdat", mdat_body)


def hand_jxl(*boxes: bytes) -> bytes:
    codestream = encode_jxl_codestream()
    return JXL_CONTAINER_MAGIC + box(b"ftyp", b"jxl \x00\x00\x00\x00jxl ") + b"".join(boxes) + box(b"jxlc", codestream)


def encode_jxl_codestream() -> bytes:
    # SizeHeader for 64x48: small=1, height_div8-1 = 5, ratio=0, width_div8-1 = 7 (LSB first).
    bits = [1] + [(5 >> i) & 1 for i in range(5)] + [0, 0, 0] + [(7 >> i) & 1 for i in range(5)]
    value = sum(bit << i for i, bit in enumerate(bits))
    return b"\xff\x0a" + value.to_bytes(3, "little") + b"\x00" * 8


# ----- tests -------------------------------------------------------------------------------

def test_sniff_recognises_brands_and_jxl_signatures():
    assert sniff_container(box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic")) == "HEIC"
    assert sniff_container(box(b"ftyp", b"avif\x00\x00\x00\x00mif1miaf")) == "AVIF"
    assert sniff_container(box(b"ftyp", b"mif1\x00\x00\x00\x00mif1avif")) == "AVIF"
    assert sniff_container(box(b"ftyp", b"mif1\x00\x00\x00\x00mif1miaf")) == "HEIF"
    assert sniff_container(box(b"ftyp", b"isom\x00\x00\x00\x00isomavc1")) is None  # an MP4 video
    assert sniff_container(JXL_CONTAINER_MAGIC) == "JXL"
    assert sniff_container(b"\xff\x0a\xcb\x06") == "JXL"


def test_hand_built_heif_exif_in_mdat_and_xmp_in_idat():
    data = hand_heif(exif=iphone_exif(), xmp=XMP, clap=(60, 40))
    source = open_source(data=data)
    assert (source.format, source.width, source.height) == ("HEIC", 60, 40)  # clap crop applied
    assert source.exif_location == "HEIC Exif item 2"
    assert source.exif()[0x0110] == "iPhone 15 Pro"
    assert source.xmp_packets == [("HEIC XMP item 3 (application/rdf+xml)", XMP)]
    assert source.warnings == []


def test_heif_metadata_reaches_the_readers_without_any_plugin():
    data = hand_heif(exif=iphone_exif(), xmp=XMP, brand=b"heic", xmp_in_idat=False)
    source = open_source(data=data)
    exif = list(get_readers(["exif"])[0].read(source))
    assert any(e.field == "Make/Model" and e.value == "Apple iPhone 15 Pro" and e.location == "HEIC Exif item 2"
               for e in exif), exif
    xmp = list(get_readers(["xmp"])[0].read(source))
    assert any(e.implies.value == "ai_generated" and e.location.startswith("HEIC XMP item 3") for e in xmp), xmp


_BROKEN = "broken HEIC box structure: box {} declares {} bytes, past the end of its parent"


@pytest.mark.parametrize(("cut", "warnings"), [
    (14, [_BROKEN.format("b'ftyp' at offset 0", 24)]),
    (40, [_BROKEN.format("b'meta' at offset 24", 693)]),
    (120, [_BROKEN.format("b'meta' at offset 24", 693)]),
    (300, [_BROKEN.format("b'mdat' at offset 717", 110),  # 300: all but the last 20 bytes
           "HEIC Exif item 2 unreadable: item extent 741..827 lies outside the file"]),
])
def test_truncated_heif_keeps_what_was_read_and_warns(cut, warnings):
    data = hand_heif(exif=iphone_exif(), xmp=XMP)
    source = open_source(data=data[:cut] if cut < 300 else data[:-20])
    assert source.format == "HEIC"
    assert source.warnings == warnings, "a truncated box tree must be reported, naming the box"


def test_iloc_extent_outside_the_file_is_a_warning_not_a_crash():
    data = bytearray(hand_heif(exif=iphone_exif()))
    meta = parse_container(bytes(data), 1 << 20)
    assert meta is not None and meta.exif is not None
    position = bytes(data).find(b"iloc") + 4 + 4 + 2 + 2 + 16 + 8  # second entry's extent offset
    data[position:position + 4] = struct.pack(">I", 10_000_000)
    broken = parse_container(bytes(data), 1 << 20)
    assert broken.exif is None
    assert any("outside the file" in w for w in broken.warnings), broken.warnings


def test_oversized_metadata_item_is_skipped_with_the_limit_named():
    meta = parse_container(hand_heif(xmp=XMP), max_item_bytes=100)
    assert meta.xmp == []
    assert any("more than 100 bytes" in w for w in meta.warnings), meta.warnings


def test_box_count_is_bounded():
    flood = b"".join(box(b"free", b"") for _ in range(20_000))
    meta = parse_container(box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + flood, 1 << 20)
    assert any("more than 10000 boxes" in w for w in meta.warnings)


def test_jxl_codestream_size_header():
    assert jxl_codestream_size(encode_jxl_codestream()) == (64, 48)
    with pytest.raises(ValueError):
        jxl_codestream_size(b"\xff\x0a")


def test_hand_built_jxl_container_exif_and_xml_boxes():
    data = hand_jxl(box(b"Exif", b"\x00\x00\x00\x00" + iphone_exif()), box(b"xml ", XMP))
    source = open_source(data=data)
    assert (source.format, source.width, source.height) == ("JXL", 64, 48)
    assert source.exif_location == "JXL Exif box" and source.exif()[0x010F] == "Apple"
    assert source.xmp_packets == [("JXL xml box", XMP)]


def test_jxl_brotli_compressed_boxes():
    brotli = pytest.importorskip("brotli", reason="brob boxes need the brotli package (jxl extra)")
    data = hand_jxl(box(b"brob", b"xml " + brotli.compress(XMP)),
                    box(b"brob", b"Exif" + brotli.compress(b"\x00\x00\x00\x00" + iphone_exif())))
    source = open_source(data=data)
    assert source.xmp_packets == [("JXL brob xml box", XMP)]
    assert source.exif_location == "JXL brob Exif box" and source.exif()[0x0110] == "iPhone 15 Pro"
    bomb = hand_jxl(box(b"brob", b"xml " + brotli.compress(b" " * 5_000_000)))
    meta = parse_container(bomb, max_item_bytes=1 << 20)
    assert meta.xmp == [] and any("inflates beyond" in w for w in meta.warnings), meta.warnings


def test_heic_from_pillow_heif_metadata_and_pixels():
    pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif (heif extra) writes the HEIC fixture")
    pillow_heif.register_heif_opener()
    source = open_source(data=encode("HEIF", exif=iphone_exif(), xmp=XMP))
    assert (source.format, source.width, source.height) == ("HEIC", 64, 48)
    assert source.exif()[0x0110] == "iPhone 15 Pro"
    assert source.xmp_packets[0][1].rstrip(b"\x00") == XMP
    assert source.pixels().size == (64, 48)


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow has no AVIF codec")
def test_avif_from_pillow_metadata_and_pixels():
    source = open_source(data=encode("AVIF", exif=iphone_exif(), xmp=XMP))
    assert (source.format, source.width, source.height) == ("AVIF", 64, 48)
    assert source.exif_location == "AVIF Exif item 2" and source.exif()[0x010F] == "Apple"
    assert source.xmp_packets[0][1].rstrip(b"\x00") == XMP
    assert source.pixels().getpixel((3, 3))[0] > 150


def test_jxl_from_plugin_metadata_and_pixels():
    pytest.importorskip("pillow_jxl", reason="pillow-jxl-plugin (jxl extra) writes the JXL fixture")
    source = open_source(data=encode("JXL", exif=iphone_exif(), xmp=XMP))
    assert (source.format, source.width, source.height) == ("JXL", 64, 48)
    assert source.exif()[0x0110] == "iPhone 15 Pro"
    assert source.pixels().size == (64, 48)


def test_missing_plugin_error_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_plugins(name, *args, **kwargs):
        if name in ("pillow_heif", "pillow_jxl"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_plugins)
    heic = open_source(data=hand_heif(exif=iphone_exif()))
    assert heic.exif()[0x010F] == "Apple"  # metadata is still read
    with pytest.raises(UnreadableImageError, match=r"pillow-heif: pip install 'artlineage\[heif\]'"):
        heic.pixels()
    jxl = open_source(data=hand_jxl())
    with pytest.raises(UnreadableImageError, match=r"pillow-jxl-plugin: pip install 'artlineage\[jxl\]'"):
        jxl.pixels()


@pytest.mark.parametrize("fmt", ["image/heic", "image/avif", "image/jxl"])
def test_c2pa_manifest_in_heif_avif_and_jxl_is_read(fmt):
    from tests.signals._c2pa_fixtures import created_action, manifest_with_actions, sign_image

    from artlineage.signals.c2pa import read_c2pa

    brand = {"image/heic": b"heic", "image/avif": b"avif"}.get(fmt)
    base = hand_jxl(box(b"xml ", XMP)) if brand is None else hand_heif(exif=iphone_exif(), brand=brand)
    signed = sign_image(base, fmt, manifest_with_actions(created_action("trainedAlgorithmicMedia"),
                                                         generator="Adobe_Firefly"))
    source = open_source(data=signed)
    assert source.format == {"image/heic": "HEIC", "image/avif": "AVIF", "image/jxl": "JXL"}[fmt]
    if brand is not None:  # c2pa-rs moved the items; the iloc walk still finds the Exif
        assert source.exif()[0x0110] == "iPhone 15 Pro"
    claims = [e for e in read_c2pa(source) if e.field == "digitalSourceType"]
    assert [(e.implies.value, e.generator) for e in claims] == [("ai_generated", "Adobe Firefly")]
    assert claims[0].location.startswith(f"{source.format} JUMBF manifest urn:c2pa:")


def test_every_reader_names_the_containers_it_reads_and_the_cli_shows_them():
    from typer.testing import CliRunner

    from artlineage.interfaces.cli import app

    readers = {r.name: r for r in get_readers()}
    assert all(r.formats for r in readers.values()), [n for n, r in readers.items() if not r.formats]
    assert "HEIF/HEIC/AVIF Exif item" in readers["exif"].formats
    assert "JPEG XL xml box (also brob)" in readers["xmp"].formats
    assert "HEIF/HEIC/AVIF uuid box" in readers["c2pa"].formats
    result = CliRunner().invoke(app, ["readers"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert "reads from" in result.output and "HEIF/HEIC/AVIF uuid box" in result.output
