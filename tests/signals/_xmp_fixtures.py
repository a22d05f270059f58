"""Build XMP packets and embed them in JPEG, PNG, WebP and TIFF, all in memory with Pillow.

Reusable by any test that needs an image carrying XMP (C2PA, consent, dataset tests)::

    packet = digital_source_type_packet("trainedAlgorithmicMedia")
    data = embed_xmp(packet, "PNG")
    report = inspect_bytes(data)
"""

from __future__ import annotations

import io
from typing import Iterable, Mapping
from xml.sax.saxutils import escape, quoteattr

from PIL import Image
from PIL.PngImagePlugin import PngInfo

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "Iptc4xmpCore": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
    "plus": "http://ns.useplus.org/ldf/xmp/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "tdm": "http://www.w3.org/ns/tdmrep/",
}
DST_BASE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
PLUS_VOCAB_BASE = "http://ns.useplus.org/ldf/vocab/"
XMP_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF")


# ----- packet building -------------------------------------------------------------------------

def xmp_packet(attributes: Mapping[str, str] | None = None, elements: Iterable[str] | str = (),
               *, xpacket: bool = True) -> bytes:
    """An XMP packet with one rdf:Description.

    ``attributes`` are simple properties written as attributes (``{"xmp:CreatorTool": "GIMP"}``);
    ``elements`` are raw XML property elements (see :func:`xmp_text`, :func:`xmp_alt`...).
    Every namespace in :data:`NS` is declared, so any of those prefixes may be used.
    """
    decls = " ".join(f"xmlns:{p}={quoteattr(u)}" for p, u in NS.items() if p not in ("x", "rdf"))
    attrs = " ".join(f"{k}={quoteattr(v)}" for k, v in (attributes or {}).items())
    body = elements if isinstance(elements, str) else "".join(elements)
    xml = (f'<x:xmpmeta xmlns:x="{NS["x"]}"><rdf:RDF xmlns:rdf="{NS["rdf"]}">'
           f'<rdf:Description rdf:about="" {decls} {attrs}>{body}</rdf:Description>'
           f"</rdf:RDF></x:xmpmeta>")
    if xpacket:
        xml = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + xml
               + "\n" + " " * 64 + '\n<?xpacket end="w"?>')
    return xml.encode("utf-8")


def xmp_text(name: str, value: str) -> str:
    """A simple property in element form: ``<name>value</name>``."""
    return f"<{name}>{escape(value)}</{name}>"


def xmp_resource(name: str, uri: str) -> str:
    """A URI property in rdf:resource form: ``<name rdf:resource="uri"/>``."""
    return f"<{name} rdf:resource={quoteattr(uri)}/>"


def xmp_alt(name: str, value: str, lang: str = "x-default") -> str:
    """A language-alternative property (dc:description, dc:rights, xmpRights:UsageTerms)."""
    return f'<{name}><rdf:Alt><rdf:li xml:lang="{lang}">{escape(value)}</rdf:li></rdf:Alt></{name}>'


def xmp_seq(name: str, values: Iterable[str]) -> str:
    """An ordered array (dc:creator)."""
    return f"<{name}><rdf:Seq>" + "".join(f"<rdf:li>{escape(v)}</rdf:li>" for v in values) + f"</rdf:Seq></{name}>"


def xmp_bag(name: str, values: Iterable[str]) -> str:
    """An unordered array (dc:subject)."""
    return f"<{name}><rdf:Bag>" + "".join(f"<rdf:li>{escape(v)}</rdf:li>" for v in values) + f"</rdf:Bag></{name}>"


def digital_source_type_packet(term: str, *, form: str = "attribute", full_uri: bool = True) -> bytes:
    """A packet declaring ``Iptc4xmpExt:DigitalSourceType``.

    ``form``: "attribute" (on rdf:Description), "element" (text element) or "resource" (rdf:resource).
    """
    value = DST_BASE + term if full_uri else term
    name = "Iptc4xmpExt:DigitalSourceType"
    if form == "attribute":
        return xmp_packet({name: value})
    if form == "element":
        return xmp_packet(elements=[xmp_text(name, value)])
    if form == "resource":
        return xmp_packet(elements=[xmp_resource(name, value)])
    raise ValueError(f"unknown form {form!r}")


def data_mining_packet(code: str, *, full_uri: bool = True, other_constraints: str | None = None) -> bytes:
    """A packet with ``plus:DataMining`` (and optionally ``plus:OtherConstraints``)."""
    elements = [xmp_alt("plus:OtherConstraints", other_constraints)] if other_constraints else []
    return xmp_packet({"plus:DataMining": PLUS_VOCAB_BASE + code if full_uri else code}, elements)


def billion_laughs_packet(levels: int = 10) -> bytes:
    """The classic entity-expansion bomb dressed as XMP (expands to 10**levels 'lol's)."""
    ents = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{"&lol%d;" % (i - 1) * 10}">' for i in range(1, levels)]
    dtd = "<!DOCTYPE x:xmpmeta [" + "".join(ents) + "]>"
    return (f'<?xml version="1.0"?>{dtd}<x:xmpmeta xmlns:x="{NS["x"]}"><rdf:RDF xmlns:rdf="{NS["rdf"]}">'
            f'<rdf:Description rdf:about="" xmlns:dc="{NS["dc"]}"><dc:title>&lol{levels - 1};</dc:title>'
            "</rdf:Description></rdf:RDF></x:xmpmeta>").encode()


# ----- embedding -------------------------------------------------------------------------------

def _image(size: tuple[int, int]) -> Image.Image:
    return Image.new("RGB", size, (120, 140, 160))


def jpeg_with_xmp(packet: bytes | None, *, exif: bytes | None = None, size: tuple[int, int] = (16, 16)) -> bytes:
    """JPEG with the packet in an APP1 'http://ns.adobe.com/xap/1.0/' segment."""
    buf = io.BytesIO()
    kwargs = {"xmp": packet} if packet is not None else {}
    if exif is not None:
        kwargs["exif"] = exif
    _image(size).save(buf, "JPEG", quality=85, **kwargs)
    return buf.getvalue()


def png_with_xmp(packet: bytes | None, *, exif: bytes | None = None, size: tuple[int, int] = (16, 16),
                 compressed: bool = False) -> bytes:
    """PNG with the packet in an iTXt chunk keyed 'XML:com.adobe.xmp'."""
    info = PngInfo()
    if packet is not None:
        info.add_itxt("XML:com.adobe.xmp", packet.decode("utf-8"), zip=compressed)
    buf = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    _image(size).save(buf, "PNG", pnginfo=info, **kwargs)
    return buf.getvalue()


def webp_with_xmp(packet: bytes | None, *, exif: bytes | None = None, size: tuple[int, int] = (16, 16)) -> bytes:
    """WebP (extended format) with the packet in an 'XMP ' chunk."""
    buf = io.BytesIO()
    kwargs = {"xmp": packet} if packet is not None else {}
    if exif is not None:
        kwargs["exif"] = exif
    _image(size).save(buf, "WEBP", **kwargs)
    return buf.getvalue()


def tiff_with_xmp(packet: bytes | None, *, exif: bytes | None = None, size: tuple[int, int] = (16, 16)) -> bytes:
    """TIFF with the packet in tag 700 (XMLPacket)."""
    buf = io.BytesIO()
    kwargs = {"tiffinfo": {700: packet}} if packet is not None else {}
    if exif is not None:
        kwargs["exif"] = exif
    _image(size).save(buf, "TIFF", **kwargs)
    return buf.getvalue()


_EMBEDDERS = {"JPEG": jpeg_with_xmp, "PNG": png_with_xmp, "WEBP": webp_with_xmp, "TIFF": tiff_with_xmp}


def embed_xmp(packet: bytes | None, fmt: str, *, exif: bytes | None = None) -> bytes:
    """An image of format ``fmt`` (one of :data:`XMP_FORMATS`) carrying ``packet`` and optional EXIF."""
    try:
        embed = _EMBEDDERS[fmt.upper()]
    except KeyError:
        raise ValueError(f"no XMP embedder for {fmt!r}; use one of {XMP_FORMATS}") from None
    return embed(packet, exif=exif)
