"""XMP packets in UTF-16 / UTF-32 (allowed by XMP part 1, 7.1), Latin-1 from old writers, and the
JPEG namespace prefix some HEIF writers copy into the XMP item; all still parsed with defusedxml."""

from __future__ import annotations

import pytest

from artlineage.signals._base import SignalError
from artlineage.signals.xmp import decode_xmp_packet, parse_xmp

DST = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
BODY = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'Iptc4xmpExt:DigitalSourceType="{DST}"><dc:creator><rdf:Seq><rdf:li>Zoë Ångström</rdf:li>'
        '</rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>')
PACKET = f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>{BODY}<?xpacket end="w"?>'
EXPECTED = {"Iptc4xmpExt:DigitalSourceType": [DST], "dc:creator": [["Zoë Ångström"]]}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be",
                                      "utf-32", "utf-32-le", "utf-32-be"])
def test_unicode_encodings_with_and_without_bom(encoding):
    assert parse_xmp(PACKET.encode(encoding)) == EXPECTED


@pytest.mark.parametrize("declared,codec", [("UTF-16", "utf-16-le"), ("UTF-16BE", "utf-16-be"),
                                            ("ISO-8859-1", "latin-1")])
def test_xml_declaration_names_the_encoding(declared, codec):
    packet = f'<?xml version="1.0" encoding="{declared}"?>{BODY}'.encode(codec)
    assert parse_xmp(packet) == EXPECTED


def test_undeclared_latin1_bytes_are_read_not_refused():
    # pillow-heif's test file L_xmp_latin1.heic: Latin-1 bytes, no declaration, a NUL at the end.
    assert parse_xmp(BODY.encode("latin-1") + b"\x00") == EXPECTED


def test_jpeg_namespace_prefix_copied_into_a_heif_item_is_dropped():
    # c2pa-rs' sample1.heic: the XMP item starts with JPEG's APP1 namespace string.
    assert parse_xmp(b"http://ns.adobe.com/xap/1.0/\x00" + PACKET.encode("utf-8") + b"\x00") == EXPECTED


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32-be"])
def test_dtd_in_a_utf16_packet_is_still_refused(encoding):
    hostile = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaa">]>' + BODY.replace("Zoë", "&a;")
    with pytest.raises(SignalError, match="hostile XMP packet refused"):
        parse_xmp(hostile.encode(encoding))


def test_decode_trims_padding_and_declaration():
    assert decode_xmp_packet(b"\x00\x00" + b'<?xml version="1.0"?><a/>  \x00') == "<a/>"


def test_remote_c2pa_manifest_pointer_is_reported_not_fetched():
    from artlineage.signals.xmp import read_xmp_properties

    # c2pa-rs' libpng-test_with_url.png / cloud.jpg: XMP dcterms:provenance names the manifest's URL
    packet = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              '<rdf:Description xmlns:dcterms="http://purl.org/dc/terms/" '
              'dcterms:provenance="https://cai-manifests.adobe.com/manifests/adobe-urn-uuid-1"/></rdf:RDF></x:xmpmeta>')
    [evidence] = read_xmp_properties(parse_xmp(packet.encode()), "JPEG APP1 XMP")
    assert (evidence.field, evidence.implies.value) == ("dcterms:provenance", "info")
    assert evidence.data["remote_c2pa_manifest"] == "https://cai-manifests.adobe.com/manifests/adobe-urn-uuid-1"
