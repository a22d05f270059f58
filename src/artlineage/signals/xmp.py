"""XMP reader: IPTC digital source type, AI fields, creator/rights, PLUS data-mining consent.

Each packet in ``source.xmp_packets`` is parsed with defusedxml, which refuses DTDs and entity
declarations outright, so a billion-laughs or external-entity packet fails in microseconds
instead of expanding. RDF/XMP has no maintained, safe Python parser (python-xmp-toolkit needs
the native Exempi library), so the small RDF walk that turns the tree into properties
(attributes, plain elements, rdf:resource, Alt/Seq/Bag arrays, structs) is written here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from ._ai_tools import ai_credit_line, match_ai_tool
from ._base import XMP_CONTAINERS, Evidence, GenerationParameters, Implication, SignalError, truncate
from ._iptc_vocab import (ALL_USES, USE_DATA_MINING, USE_GENERATIVE_TRAINING, USE_TRAINING,
                          lookup_data_mining, lookup_digital_source_type)
from ._registry import register_reader
from ._source import ImageSource
from .strengths import strength

READER = "xmp"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_RDF_DESCRIPTION = f"{{{RDF}}}Description"
_RDF_RESOURCE = f"{{{RDF}}}resource"
_RDF_PARSETYPE = f"{{{RDF}}}parseType"
_RDF_LI = f"{{{RDF}}}li"
_RDF_ALT = f"{{{RDF}}}Alt"
_RDF_ARRAYS = (f"{{{RDF}}}Alt", f"{{{RDF}}}Seq", f"{{{RDF}}}Bag")

# Namespace URI -> the conventional prefix, so properties are named as people write them.
NAMESPACES = {
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/xap/1.0/rights/": "xmpRights",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://iptc.org/std/Iptc4xmpExt/2008-02-29/": "Iptc4xmpExt",
    "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": "Iptc4xmpCore",
    "http://ns.useplus.org/ldf/xmp/1.0/": "plus",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://www.w3.org/ns/tdmrep/": "tdm",
    "http://purl.org/dc/terms/": "dcterms",
    RDF: "rdf",
}

MAX_STRUCT_DEPTH = 16  # XMP structs nest two or three deep; deeper is hostile or broken
DIGITAL_SOURCE_FIELDS = ("Iptc4xmpExt:DigitalSourceType", "Iptc4xmpExt:DigitalSourceFileType")
AI_FIELD_STRENGTH = strength("xmp_ai_field")
AI_CREATOR_TOOL_STRENGTH = strength("xmp_ai_creator_tool")
MIDJOURNEY_STRENGTH = strength("xmp_midjourney")
DATA_MINING_STRENGTH = strength("xmp_data_mining")
CONSENT_TEXT_STRENGTH = strength("xmp_consent_text")

XmpValue = Any  # str | list[XmpValue] | dict[str, XmpValue]


# ----- parsing ---------------------------------------------------------------------------------

def _qname(tag: str) -> str:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        prefix = NAMESPACES.get(uri)
        return f"{prefix}:{local}" if prefix else tag
    return tag


def _property_attributes(el: Element) -> dict[str, str]:
    return {_qname(k): v for k, v in el.attrib.items()
            if not k.startswith(f"{{{RDF}}}") and k != XML_LANG}


def _element_value(el: Element, depth: int) -> XmpValue:
    if depth > MAX_STRUCT_DEPTH:
        raise SignalError(f"XMP nested more than {MAX_STRUCT_DEPTH} levels deep")
    resource = el.get(_RDF_RESOURCE)
    if resource is not None:
        return resource
    children = list(el)
    if not children:
        attrs = _property_attributes(el)
        return attrs if attrs and not (el.text or "").strip() else (el.text or "").strip()
    first = children[0]
    if first.tag in _RDF_ARRAYS:
        items = [li for li in first if li.tag == _RDF_LI]
        if first.tag == _RDF_ALT:  # language alternatives: the default language first
            items.sort(key=lambda li: li.get(XML_LANG, "") != "x-default")
        return [_element_value(li, depth + 1) for li in items]
    if el.get(_RDF_PARSETYPE) == "Resource":
        return {_qname(c.tag): _element_value(c, depth + 1) for c in children}
    if first.tag == _RDF_DESCRIPTION:
        struct = _property_attributes(first)
        struct.update({_qname(c.tag): _element_value(c, depth + 1) for c in first})
        return struct
    return (el.text or "").strip()


_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xef\xbb\xbf", "utf-8"),
         (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))
# "<" in each encoding without a BOM (XML 1.0 Appendix F.1), longest first.
_LT_PATTERNS = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
                (b"\x00<", "utf-16-be"), (b"<\x00", "utf-16-le"))
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]{0,200}\?>")
_ENCODING_ATTRIBUTE = re.compile(rb"^\s*<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._-]{1,40})[\"']")
# JPEG's APP1 namespace, which some HEIF writers copy into the XMP item along with the packet.
_JPEG_XMP_PREFIX = b"http://ns.adobe.com/xap/1.0/\x00"


def decode_xmp_packet(packet: bytes) -> str:
    """The packet's text: UTF-8, UTF-16 or UTF-32 (XMP part 1, 7.1), by BOM, by the byte pattern of
    the first ``<`` or by the XML declaration's encoding; bytes that are not UTF-8 and declare
    nothing are read as Latin-1 (older writers), never refused. NULs and padding are trimmed."""
    if packet.startswith(_JPEG_XMP_PREFIX):
        packet = packet[len(_JPEG_XMP_PREFIX):]
    encoding = None
    for bom, name in _BOMS:
        if packet.startswith(bom):
            encoding, packet = name, packet[len(bom):]
            break
    if encoding is None:
        head = packet.lstrip(b" \t\r\n")
        encoding = next((name for pattern, name in _LT_PATTERNS if head.startswith(pattern)), None)
        if encoding is None and len(head) > 1 and head[0] == 0 and head[1:2] == b"<":
            encoding = "utf-16-be"
    if encoding is None:
        declared = _ENCODING_ATTRIBUTE.match(packet)
        encoding = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    try:
        text = packet.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        text = packet.decode("latin-1")
    text = text.strip("\x00 \t\r\n\ufeff")
    return _XML_DECLARATION.sub("", text, count=1)  # its encoding named the bytes, not the str


def parse_xmp(packet: bytes, max_bytes: int = 8 * 1024 * 1024) -> dict[str, list[XmpValue]]:
    """Parse one XMP packet into ``{"prefix:Name": [values...]}``.

    Values are strings, lists (Alt/Seq/Bag; Alt has x-default first) or dicts (structs).
    Raises :class:`SignalError` for oversized, malformed or hostile (DTD, entities) packets.
    """
    if len(packet) > max_bytes:
        raise SignalError(f"XMP packet of {len(packet)} bytes exceeds the {max_bytes}-byte limit")
    text = decode_xmp_packet(packet)
    if not text:
        raise SignalError("empty XMP packet")
    try:
        # A str goes to the parser so the encoding found here wins; defusedxml's protections
        # (no DTD, no entities, no external references) apply to the decoded text the same way.
        root = DET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SignalError(f"hostile XMP packet refused ({type(exc).__name__}): DTDs and entity "
                          "declarations are not allowed in XMP") from exc
    except ParseError as exc:
        raise SignalError(f"malformed XMP packet: {exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise SignalError(f"unreadable XMP packet: {exc}") from exc
    props: dict[str, list[XmpValue]] = {}
    for rdf in root.iter(f"{{{RDF}}}RDF"):
        for desc in rdf:
            if desc.tag != _RDF_DESCRIPTION:
                continue
            for name, value in _property_attributes(desc).items():
                props.setdefault(name, []).append(value)
            for child in desc:
                props.setdefault(_qname(child.tag), []).append(_element_value(child, 1))
    return props


def _strings(value: XmpValue) -> list[str]:
    """Every non-empty string inside a value (arrays flattened, structs skipped)."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _all_strings(props: dict[str, list[XmpValue]], name: str) -> list[str]:
    out: list[str] = []
    for value in props.get(name, []):
        for s in _strings(value):
            if s not in out:
                out.append(s)
    return out


def _first(props: dict[str, list[XmpValue]], name: str) -> str | None:
    values = _all_strings(props, name)
    return values[0] if values else None


# ----- Midjourney ------------------------------------------------------------------------------

_MJ_JOB_ID = re.compile(r"\bJob\s*ID:\s*([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")
_MJ_FLAG = re.compile(r"(?:^|\s)--([A-Za-z]+)((?:(?!\s--[A-Za-z]).)*)", re.DOTALL)
_MJ_EXTRA_NAMES = {"ar": "aspect_ratio", "aspect": "aspect_ratio", "s": "stylize", "stylize": "stylize",
                   "c": "chaos", "chaos": "chaos", "q": "quality", "quality": "quality", "w": "weird",
                   "weird": "weird", "iw": "image_weight", "sref": "style_reference",
                   "cref": "character_reference", "style": "style", "tile": "tile", "r": "repeat",
                   "stop": "stop", "p": "personalize", "sw": "style_weight", "cw": "character_weight"}


def parse_midjourney_description(text: str) -> tuple[GenerationParameters, str] | None:
    """Midjourney writes ``"<prompt> --flags Job ID: <uuid>"`` into dc:description.

    Returns the parsed parameters and the job id, or ``None`` when the text is not Midjourney's.
    """
    match = _MJ_JOB_ID.search(text)
    if not match:
        return None
    job_id = match.group(1)
    body = (text[:match.start()] + " " + text[match.end():]).strip()
    flag_start = re.search(r"(?:^|\s)--[A-Za-z]", body)
    prompt = body[:flag_start.start()].strip() if flag_start else body
    params = GenerationParameters(tool="Midjourney", prompt=prompt or None)
    extra: dict[str, Any] = {"job_id": job_id}
    if flag_start:
        for flag, raw in _MJ_FLAG.findall(body[flag_start.start():]):
            flag, value = flag.lower(), raw.strip()
            if flag == "seed" and value.isdigit():
                params.seed = int(value)
            elif flag == "no":
                params.negative_prompt = value or None
            elif flag in ("v", "version"):
                params.model = f"Midjourney v{value}" if value else "Midjourney"
            elif flag == "niji":
                params.model = f"Niji {value}".strip()
            else:
                extra[_MJ_EXTRA_NAMES.get(flag, flag)] = value or True
    params.extra = extra
    return params, job_id


# ----- consent wording -------------------------------------------------------------------------

_NEGATION = re.compile(r"\b(?:no|not|never|prohibit\w*|forbid\w*|disallow\w*|reserve[sd]?|"
                       r"opt(?:s|ed)?[\s-]?out|without\s+(?:prior\s+)?(?:written\s+)?(?:permission|consent))\b",
                       re.IGNORECASE)
_PERMISSION = re.compile(r"\b(?:allow\w*|permit\w*|may\s+be\s+used)\b", re.IGNORECASE)
_GENERATIVE = re.compile(r"\bgenerative\b|\bgen[\s-]?ai\b", re.IGNORECASE)
_TRAINING = re.compile(r"\b(?:ai|a\.i\.|artificial\s+intelligence|machine\s+learning|ml)\b.{0,40}\btrain\w*|"
                       r"\btrain\w*\b.{0,40}\b(?:ai|artificial\s+intelligence|machine\s+learning|ml|models?)\b",
                       re.IGNORECASE | re.DOTALL)
_MINING = re.compile(r"\b(?:text\s+and\s+)?data[\s-]+mining\b|\btdm\b|\bscrap\w*", re.IGNORECASE)


def consent_uses_in_text(text: str) -> tuple[Implication, list[str]] | None:
    """Read a rights sentence ("Not for AI training") as a reservation or permission, by keyword.

    Returns ``(CONSENT_RESERVED|CONSENT_ALLOWED, uses)`` or ``None`` when it mentions no AI use.
    """
    uses: list[str] = []
    if _TRAINING.search(text):
        uses += [USE_GENERATIVE_TRAINING] if _GENERATIVE.search(text) else [USE_TRAINING, USE_GENERATIVE_TRAINING]
    elif _GENERATIVE.search(text):
        uses.append(USE_GENERATIVE_TRAINING)
    if _MINING.search(text):
        uses.append(USE_DATA_MINING)
    if not uses:
        return None
    uses = [u for u in ALL_USES if u in uses]
    if _NEGATION.search(text):
        return Implication.CONSENT_RESERVED, uses
    if _PERMISSION.search(text):
        return Implication.CONSENT_ALLOWED, uses
    return None


# ----- evidence --------------------------------------------------------------------------------

@dataclass
class _Context:
    location: str
    props: dict[str, list[XmpValue]]


def _info(ctx: _Context, field: str, value: Any, note: str, **data: Any) -> Evidence:
    if isinstance(value, str):
        value = truncate(value)
    return Evidence(READER, ctx.location, field, value, Implication.INFO, 0.0, note=note, data=data)


def _ai_tool_named(ctx: _Context) -> str | None:
    system = _first(ctx.props, "Iptc4xmpExt:AISystemUsed")
    if system:
        return match_ai_tool(system) or system
    tool = _first(ctx.props, "xmp:CreatorTool")
    return match_ai_tool(tool) if tool else None


def _digital_source_evidence(ctx: _Context, generator: str | None) -> list[Evidence]:
    out = []
    for field in DIGITAL_SOURCE_FIELDS:
        for raw in _all_strings(ctx.props, field):
            term = lookup_digital_source_type(raw)
            if term is None:
                out.append(_info(ctx, field, raw, "digital source type not in the IPTC vocabulary"))
                continue
            is_ai = term.implies in (Implication.AI_GENERATED, Implication.AI_EDITED)
            out.append(Evidence(
                READER, ctx.location, field, truncate(raw, 500), term.implies, term.strength,
                generator=generator if is_ai else None,
                note=f"IPTC digital source type {term.code}: {term.name}" + (" (retired term)" if term.retired else ""),
                data={"digital_source_type": term.code, "uri": term.uri}))
    return out


def _ai_fields_evidence(ctx: _Context, implies: Implication, midjourney: bool) -> Evidence | None:
    system = _first(ctx.props, "Iptc4xmpExt:AISystemUsed")
    version = _first(ctx.props, "Iptc4xmpExt:AISystemVersionUsed")
    prompt = _first(ctx.props, "Iptc4xmpExt:AIPromptInformation")
    writer = _first(ctx.props, "Iptc4xmpExt:AIPromptWriterName")
    if not (system or version or prompt):
        return None
    generator = (match_ai_tool(system) or system) if system else None
    data: dict[str, Any] = {k: v for k, v in (("ai_system", system), ("ai_system_version", version),
                                              ("prompt", prompt and truncate(prompt)),
                                              ("prompt_writer", writer)) if v}
    if not midjourney:  # Midjourney's description already carries the parsed generation block
        extra = {k: v for k, v in (("ai_system_version", version), ("prompt_writer", writer)) if v}
        params = GenerationParameters(tool=generator or "unknown AI system",
                                      prompt=truncate(prompt) if prompt else None, extra=extra)
        data["generation"] = params.to_dict()
    field = "Iptc4xmpExt:AISystemUsed" if system else (
        "Iptc4xmpExt:AIPromptInformation" if prompt else "Iptc4xmpExt:AISystemVersionUsed")
    value = system or prompt or version
    return Evidence(READER, ctx.location, field, truncate(value, 500), implies, AI_FIELD_STRENGTH,
                    generator=generator, note="IPTC AI generation fields" + (f": {system}" if system else ""),
                    data=data)


CREDIT_LINE_STRENGTH = strength("credit_line_ai_label")


def _credit_line_evidence(ctx: _Context) -> list[Evidence]:
    """IPTC Credit Line used as an AI label (Google's "Edited with Google AI", Meta's "Imagined with AI")."""
    out = []
    for text in _all_strings(ctx.props, "photoshop:Credit")[:4]:
        label = ai_credit_line(text)
        if label is None:
            out.append(_info(ctx, "photoshop:Credit", text, f"credit: {truncate(text, 80)}"))
            continue
        edited, generator = label
        out.append(Evidence(READER, ctx.location, "photoshop:Credit", truncate(text, 500),
                            Implication.AI_EDITED if edited else Implication.AI_GENERATED, CREDIT_LINE_STRENGTH,
                            generator=generator, note=f"IPTC Credit Line labels the image: {truncate(text, 80)}"))
    return out


def _creator_tool_evidence(ctx: _Context) -> Evidence | None:
    tool = _first(ctx.props, "xmp:CreatorTool")
    if not tool:
        return None
    ai = match_ai_tool(tool)
    if ai:
        return Evidence(READER, ctx.location, "xmp:CreatorTool", truncate(tool, 500), Implication.AI_GENERATED,
                        AI_CREATOR_TOOL_STRENGTH, generator=ai, note=f"CreatorTool names the AI generator {ai}")
    return _info(ctx, "xmp:CreatorTool", tool, f"created with {truncate(tool, 80)}")


def _description_evidence(ctx: _Context) -> tuple[list[Evidence], bool]:
    out: list[Evidence] = []
    midjourney = False
    for text in _all_strings(ctx.props, "dc:description")[:4]:
        parsed = parse_midjourney_description(text)
        if parsed:
            params, job_id = parsed
            midjourney = True
            out.append(Evidence(READER, ctx.location, "dc:description", truncate(text), Implication.AI_GENERATED,
                                MIDJOURNEY_STRENGTH, generator="Midjourney",
                                note=f"Midjourney prompt with Job ID {job_id}",
                                data={"generation": params.to_dict()}))
        else:
            out.append(_info(ctx, "dc:description", text, "description"))
    return out, midjourney


def _rights_evidence(ctx: _Context) -> list[Evidence]:
    out: list[Evidence] = []
    creators = _all_strings(ctx.props, "dc:creator")
    if creators:
        out.append(_info(ctx, "dc:creator", creators if len(creators) > 1 else creators[0],
                         "creator: " + truncate(", ".join(creators), 120), creators=creators))
    for field in ("dc:rights", "xmpRights:UsageTerms", "xmpRights:WebStatement", "plus:OtherConstraints"):
        for text in _all_strings(ctx.props, field)[:4]:
            out.append(_info(ctx, field, text, f"{field.split(':')[1]}: {truncate(text, 80)}"))
            reading = consent_uses_in_text(text) if field != "xmpRights:WebStatement" else None
            if reading:
                implies, uses = reading
                out.append(Evidence(READER, ctx.location, field, truncate(text), implies, CONSENT_TEXT_STRENGTH,
                                    note=f"rights wording {'reserves' if implies is Implication.CONSENT_RESERVED else 'allows'} "
                                         + ", ".join(uses), data={"uses": uses, "source": "text"}))
    return out


def _data_mining_evidence(ctx: _Context) -> list[Evidence]:
    out: list[Evidence] = []
    constraints = _all_strings(ctx.props, "plus:OtherConstraints")
    for field in ("plus:DataMining", "Iptc4xmpExt:DataMining"):
        for raw in _all_strings(ctx.props, field):
            term = lookup_data_mining(raw)
            if term is None:
                out.append(_info(ctx, field, raw, "data-mining value not in the PLUS vocabulary"))
                continue
            data: dict[str, Any] = {"uses": list(term.uses), "code": term.code, "uri": term.uri}
            if term.exceptions:
                data["exceptions"] = list(term.exceptions)
            if term.refers_to:
                data["refers_to"] = term.refers_to
            if constraints:
                data["constraints"] = [truncate(c, 1000) for c in constraints]
            strength = DATA_MINING_STRENGTH if term.implies is not Implication.INFO else 0.0
            out.append(Evidence(READER, ctx.location, field, truncate(raw, 500), term.implies, strength,
                                note=f"PLUS data mining: {term.description}", data=data))
    for raw in _all_strings(ctx.props, "tdm:reservation"):
        # W3C TDMRep in XMP: 1 = TDM rights reserved, 0 = not reserved.
        if raw.strip() in ("0", "1"):
            reserved = raw.strip() == "1"
            policy = _first(ctx.props, "tdm:policy")
            out.append(Evidence(
                READER, ctx.location, "tdm:reservation", raw.strip(),
                Implication.CONSENT_RESERVED if reserved else Implication.CONSENT_ALLOWED, DATA_MINING_STRENGTH,
                note="TDMRep: text and data mining rights " + ("reserved" if reserved else "not reserved"),
                data={"uses": list(ALL_USES), **({"policy": policy} if policy else {})}))
    return out


def read_xmp_properties(props: dict[str, list[XmpValue]], location: str) -> list[Evidence]:
    """Evidence from one parsed packet (pure; the reader's core)."""
    ctx = _Context(location, props)
    descriptions, midjourney = _description_evidence(ctx)
    generator = "Midjourney" if midjourney else _ai_tool_named(ctx)
    source_types = _digital_source_evidence(ctx, generator)
    edited_only = any(e.implies is Implication.AI_EDITED for e in source_types) and not any(
        e.implies is Implication.AI_GENERATED for e in source_types)
    evidence = source_types
    ai_fields = _ai_fields_evidence(ctx, Implication.AI_EDITED if edited_only else Implication.AI_GENERATED,
                                    midjourney)
    if ai_fields:
        evidence.append(ai_fields)
    creator_tool = _creator_tool_evidence(ctx)
    if creator_tool:
        evidence.append(creator_tool)
    evidence += descriptions
    evidence += _credit_line_evidence(ctx)
    for url in _all_strings(ctx.props, "dcterms:provenance")[:2]:
        # C2PA's remote-manifest pointer (Adobe's cloud-stored Content Credentials): never fetched.
        evidence.append(_info(ctx, "dcterms:provenance", url,
                              "remote C2PA manifest; not fetched (a scan makes no request a file chooses)",
                              remote_c2pa_manifest=truncate(url, 500)))
    evidence += _rights_evidence(ctx)
    evidence += _data_mining_evidence(ctx)
    return evidence


@register_reader("xmp", applies=lambda s: bool(s.xmp_packets), formats=XMP_CONTAINERS)
def read_xmp(source: ImageSource) -> Iterable[Evidence]:
    """XMP: IPTC digital source type, AI fields, creator/rights, PLUS data-mining consent."""
    evidence: list[Evidence] = []
    errors: list[str] = []
    for location, packet in source.xmp_packets:
        try:
            props = parse_xmp(packet, source.options.max_text_bytes)
        except SignalError as exc:
            errors.append(f"{location}: {exc}")
            continue
        evidence += read_xmp_properties(props, location)
    if errors and not evidence:
        raise SignalError("; ".join(errors))
    for problem in errors:  # other packets were readable: keep their evidence, note the bad one
        evidence.append(Evidence(READER, problem.split(":", 1)[0], "xmp", None, Implication.INFO, 0.0,
                                 note=f"unreadable XMP packet skipped: {truncate(problem, 300)}"))
    return evidence
