"""EXIF reader: camera make/model, software, artist/copyright, descriptions and UserComment.

EXIF is the weakest origin signal: any tool can write it and img2img pipelines copy a source
photo's Make/Model verbatim. So a camera needs more than Make/Model to score well, and a known
AI tool named in ``Software`` counts, but below a full generator parameter block.

Tag parsing itself is Pillow's (``ImageSource.exif()``); this module only interprets values and
decodes the one field Pillow leaves raw: UserComment with its 8-byte character-code prefix.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from ._ai_tools import match_ai_tool
from ._base import EXIF_CONTAINERS, Evidence, Implication, SignalError, truncate
from ._registry import register_reader
from ._source import ImageSource
from .strengths import strength

READER = "exif"

# EXIF / TIFF tag numbers (EXIF 2.32 / TIFF 6.0).
TAG_IMAGE_DESCRIPTION = 0x010E
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_SOFTWARE = 0x0131
TAG_ARTIST = 0x013B
TAG_COPYRIGHT = 0x8298
TAG_EXPOSURE_TIME = 0x829A
TAG_F_NUMBER = 0x829D
TAG_ISO = 0x8827
TAG_DATETIME_ORIGINAL = 0x9003
TAG_FOCAL_LENGTH = 0x920A
TAG_USER_COMMENT = 0x9286
TAG_LENS_MAKE = 0xA433
TAG_LENS_MODEL = 0xA434
TAG_BODY_SERIAL = 0xA431
TAG_XP_COMMENT = 0x9C9C  # Windows Explorer's fields: UTF-16LE in BYTE arrays
TAG_XP_AUTHOR = 0x9C9D

CAMERA_BASE_STRENGTH = strength("exif_camera_base")
# Tags a camera writes at capture time but a tool that copies "Make/Model" rarely bothers with.
_CAPTURE_TAGS = {
    TAG_DATETIME_ORIGINAL: "DateTimeOriginal",
    TAG_EXPOSURE_TIME: "ExposureTime",
    TAG_F_NUMBER: "FNumber",
    TAG_ISO: "ISOSpeedRatings",
    TAG_FOCAL_LENGTH: "FocalLength",
    TAG_LENS_MODEL: "LensModel",
    TAG_BODY_SERIAL: "BodySerialNumber",
}
_CAPTURE_TAG_BONUS = 0.03
_CAMERA_MAX_STRENGTH = strength("exif_camera_max")
AI_SOFTWARE_STRENGTH = strength("exif_ai_software")

# Editors worth naming in a note; they say nothing about origin.
_EDITOR_PATTERN = re.compile(
    r"photoshop|lightroom|gimp|krita|affinity|capture one|darktable|rawtherapee|paint\.net|"
    r"pixelmator|clip studio|procreate|corel|luminar|snapseed|digital photo professional|imagemagick",
    re.IGNORECASE)


# ----- UserComment -----------------------------------------------------------------------------

_UC_ASCII = b"ASCII\x00\x00\x00"
_UC_UNICODE = b"UNICODE\x00"
_UC_JIS = b"JIS\x00\x00\x00\x00\x00"
_UC_UNDEFINED = b"\x00" * 8


def _decode_text_bytes(raw: bytes) -> str:
    """Bytes of unknown charset: UTF-8 when valid (what most tools write), else Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _utf16_byte_order(body: bytes, hint: str | None) -> str:
    """Pick UTF-16 byte order: BOM, then which half of each code unit is zero, then the hint.

    EXIF says UNICODE follows the TIFF byte order, but writers disagree (piexif, and so A1111,
    always write big-endian even inside little-endian TIFF), so the bytes decide first: text
    that is mostly Latin has its zero bytes in the high half of each code unit.
    """
    if body.startswith(b"\xfe\xff"):
        return "be"
    if body.startswith(b"\xff\xfe"):
        return "le"
    sample = body[:4096]
    zeros_even = sample[0::2].count(0)
    zeros_odd = sample[1::2].count(0)
    if zeros_even > zeros_odd:
        return "be"
    if zeros_odd > zeros_even:
        return "le"
    if hint in ("be", "le"):
        return hint
    return "be"


def _decode_jis(body: bytes) -> str:
    # ISO-2022-JP (escape sequences) when present; raw JIS X 0208 pairs (bytes 0x21-0x7E) are
    # EUC-JP with the high bit cleared; otherwise writers actually used Shift-JIS.
    if b"\x1b" in body:
        return body.decode("iso2022_jp", errors="replace")
    if body and len(body) % 2 == 0 and all(0x21 <= b <= 0x7E for b in body):
        try:
            return bytes(b | 0x80 for b in body).decode("euc_jp")
        except UnicodeDecodeError:
            pass
    for codec in ("shift_jis", "euc_jp"):
        try:
            return body.decode(codec)
        except UnicodeDecodeError:
            continue
    return body.decode("latin-1")


def decode_user_comment(raw: bytes | str | None, byte_order: str | None = None) -> str:
    """Decode an EXIF UserComment (tag 0x9286) to text.

    The first 8 bytes name the character code: ``ASCII\\0\\0\\0``, ``UNICODE\\0`` (UTF-16 in
    either byte order: detected, ``byte_order`` "be"/"le" breaks ties), ``JIS\\0\\0\\0\\0\\0``
    or eight NULs (undefined). Values without a recognised prefix are decoded as UTF-8/Latin-1.
    Trailing NULs and padding spaces are removed. Never raises.
    """
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw.rstrip("\x00").strip()
    if isinstance(raw, (tuple, list)):  # some writers store it as a BYTE array
        try:
            raw = bytes(raw)
        except (TypeError, ValueError):
            return ""
    raw = bytes(raw)
    prefix, body = raw[:8], raw[8:]
    if prefix == _UC_UNICODE:
        order = _utf16_byte_order(body, byte_order)
        if body[:2] in (b"\xfe\xff", b"\xff\xfe"):
            body = body[2:]
        if len(body) % 2:
            body = body[:-1]
        text = body.decode("utf-16-be" if order == "be" else "utf-16-le", errors="replace")
    elif prefix == _UC_ASCII:
        # Nominally ASCII, in practice often UTF-8.
        text = _decode_text_bytes(body)
    elif prefix == _UC_JIS:
        text = _decode_jis(body.rstrip(b"\x00"))
    elif prefix == _UC_UNDEFINED:
        text = _decode_text_bytes(body.rstrip(b"\x00"))
    else:
        text = _decode_text_bytes(raw)
    return text.rstrip("\x00").strip()


# ----- value helpers ---------------------------------------------------------------------------

def _text(value: Any) -> str | None:
    """An EXIF ASCII value as clean text. Pillow decodes ASCII tags as Latin-1; most writers put
    UTF-8 there, so Latin-1 text that is really UTF-8 is re-decoded."""
    if value is None:
        return None
    if isinstance(value, bytes):
        text = _decode_text_bytes(value)
    elif isinstance(value, str):
        text = value
        try:
            text = value.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    elif isinstance(value, (tuple, list)) and value and all(isinstance(v, str) for v in value):
        text = " ".join(value)
    else:
        return None
    text = text.replace("\x00", " ").strip()
    return text or None


def _xp_text(value: Any) -> str | None:
    """Windows XP* tags: UTF-16LE stored as BYTE values."""
    if isinstance(value, (tuple, list)):
        try:
            value = bytes(value)
        except (TypeError, ValueError):
            return None
    if not isinstance(value, bytes):
        return _text(value)
    if len(value) % 2:
        value = value[:-1]
    text = value.decode("utf-16-le", errors="replace").rstrip("\x00").strip()
    return text or None


def _tiff_byte_order(exif_bytes: bytes | None) -> str | None:
    if not exif_bytes:
        return None
    head = exif_bytes[6:8] if exif_bytes.startswith(b"Exif\x00\x00") else exif_bytes[:2]
    return {b"MM": "be", b"II": "le"}.get(head)


def _info(location: str, field: str, value: str, note: str, **data: Any) -> Evidence:
    return Evidence(READER, location, field, truncate(value), Implication.INFO, 0.0, note=note, data=data)


# ----- reader ----------------------------------------------------------------------------------

# Screen grabbers that fill Make/Model/Software like a camera would: game consoles' and GPU vendors'
# screenshot features, and capture tools. Their pixels are a render on a screen, so Make/Model is
# no camera evidence; IPTC's screenCapture term says the same (how it was grabbed, not what it shows).
_SCREEN_CAPTURE = [
    ("Nintendo Switch", re.compile(r"\bnintendo\s+switch\b", re.IGNORECASE)),  # not the 3DS: it has cameras
    ("PlayStation", re.compile(r"\bplaystation\b|\bsony\s+interactive\s+entertainment\b", re.IGNORECASE)),
    ("Xbox", re.compile(r"\bxbox\b", re.IGNORECASE)),
    ("NVIDIA Ansel / ShadowPlay", re.compile(r"\bansel\b|\bshadowplay\b|\bgeforce\s+experience\b|\bnvidia\s+app\b",
                                             re.IGNORECASE)),
    ("ReShade", re.compile(r"\breshade\b", re.IGNORECASE)),
    ("Steam", re.compile(r"\bsteam\b", re.IGNORECASE)),
    ("screenshot tool", re.compile(r"\bscreen\s*shot\b|\bscreen\s*capture\b|\bsnipping\s+tool\b", re.IGNORECASE)),
]
# Make/Model holding a generator's JSON (ComfyUI's WebP savers) is not a camera either.
_NOT_A_DEVICE = re.compile(r"^\s*(?:\w{1,20}\s*:\s*)?[\[{]")


def screen_capture_evidence(tags: dict[int, Any], location: str, byte_order: str | None = None) -> Evidence | None:
    """INFO evidence naming a console / GPU / tool screenshot, from Make, Model, Software or UserComment."""
    fields = [("Make", _text(tags.get(TAG_MAKE))), ("Model", _text(tags.get(TAG_MODEL))),
              ("Software", _text(tags.get(TAG_SOFTWARE)))]
    if tags.get(TAG_USER_COMMENT) not in (None, b"", ""):
        comment = decode_user_comment(tags[TAG_USER_COMMENT], byte_order)
        if comment and len(comment) < 100:  # macOS writes just "Screenshot"
            fields.append(("UserComment", comment))
    for field, text in fields:
        if not text or _NOT_A_DEVICE.match(text):
            continue
        tool = next((name for name, pattern in _SCREEN_CAPTURE if pattern.search(text)), None)
        if tool:
            return Evidence(READER, location, field, truncate(text, 200), Implication.INFO, 0.0,
                            note=f"screen capture ({tool}): a render on a screen, not a camera capture",
                            data={"screen_capture": tool, "digital_source_type": "screenCapture"})
    return None


def camera_evidence(tags: dict[int, Any], location: str) -> Evidence | None:
    """CAMERA evidence from Make/Model, stronger when capture-time tags back it up."""
    make, model = _text(tags.get(TAG_MAKE)), _text(tags.get(TAG_MODEL))
    make = None if make and _NOT_A_DEVICE.match(make) else make
    model = None if model and _NOT_A_DEVICE.match(model) else model
    if not make and not model:
        return None
    label = " ".join(p for p in (make, model) if p)
    if model and make and model.lower().startswith(make.lower()):
        label = model  # "Canon" + "Canon EOS R5" reads better as the model alone
    corroborating = sorted(name for tag, name in _CAPTURE_TAGS.items() if tags.get(tag) not in (None, "", b""))
    strength = min(_CAMERA_MAX_STRENGTH, CAMERA_BASE_STRENGTH + _CAPTURE_TAG_BONUS * len(corroborating))
    data: dict[str, Any] = {"make": make, "model": model, "capture_tags": corroborating}
    lens = _text(tags.get(TAG_LENS_MODEL))
    if lens:
        data["lens"] = lens
    note = f"camera {label}" + (f", with {', '.join(corroborating)}" if corroborating else
                                 " (Make/Model only: easily copied)")
    return Evidence(READER, location, "Make/Model", label, Implication.CAMERA, round(strength, 3),
                    note=note, data=data)


def software_evidence(tags: dict[int, Any], location: str) -> Evidence | None:
    software = _text(tags.get(TAG_SOFTWARE))
    if not software:
        return None
    tool = match_ai_tool(software)
    if tool:
        return Evidence(READER, location, "Software", truncate(software, 500), Implication.AI_GENERATED,
                        AI_SOFTWARE_STRENGTH, generator=tool, note=f"Software names the AI generator {tool}",
                        data={"software": software})
    kind = "image editor" if _EDITOR_PATTERN.search(software) else "software"
    return _info(location, "Software", software, f"{kind}: {truncate(software, 80)}", software=software)


def _make_model_ai_evidence(tags: dict[int, Any], location: str) -> Evidence | None:
    # A few generators put their name in Make/Model instead of Software.
    for tag, field in ((TAG_MAKE, "Make"), (TAG_MODEL, "Model")):
        text = _text(tags.get(tag))
        tool = match_ai_tool(text) if text else None
        if tool:
            return Evidence(READER, location, field, truncate(text, 500), Implication.AI_GENERATED,
                            AI_SOFTWARE_STRENGTH, generator=tool, note=f"{field} names the AI generator {tool}")
    return None


def read_exif_tags(tags: dict[int, Any], location: str, byte_order: str | None = None) -> list[Evidence]:
    """Evidence from a merged IFD0 + Exif tag mapping (pure; the reader's core)."""
    evidence: list[Evidence] = []
    ai_make = _make_model_ai_evidence(tags, location)
    screen = None if ai_make else screen_capture_evidence(tags, location, byte_order)
    if ai_make:
        evidence.append(ai_make)
    elif screen:
        evidence.append(screen)
    else:
        camera = camera_evidence(tags, location)
        if camera:
            evidence.append(camera)
    software = software_evidence(tags, location)
    if software:
        evidence.append(software)
    for tag, field in ((TAG_ARTIST, "Artist"), (TAG_COPYRIGHT, "Copyright")):
        text = _text(tags.get(tag))
        if text:
            evidence.append(_info(location, field, text, f"{field.lower()}: {truncate(text, 80)}",
                                  **{field.lower(): text}))
    description = _text(tags.get(TAG_IMAGE_DESCRIPTION))
    if description:
        evidence.append(_info(location, "ImageDescription", description, "image description",
                              text=truncate(description)))
    if tags.get(TAG_USER_COMMENT) not in (None, b"", ""):
        comment = decode_user_comment(tags[TAG_USER_COMMENT], byte_order)
        if comment:
            evidence.append(_info(location, "UserComment", comment, "user comment", text=truncate(comment)))
    for tag, field in ((TAG_XP_COMMENT, "XPComment"), (TAG_XP_AUTHOR, "XPAuthor")):
        text = _xp_text(tags.get(tag)) if tags.get(tag) is not None else None
        if text:
            evidence.append(_info(location, field, text, f"Windows {field[2:].lower()}", text=truncate(text)))
    return evidence


@register_reader("exif", applies=lambda s: s.exif_bytes is not None, formats=EXIF_CONTAINERS)
def read_exif(source: ImageSource) -> Iterable[Evidence]:
    """EXIF: camera make/model, software (AI tools), artist, copyright, descriptions."""
    location = source.exif_location or f"{source.format} EXIF"
    try:
        tags = source.exif()
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for corrupt IFDs
        raise SignalError(f"unreadable EXIF in {location}: {type(exc).__name__}: {exc}") from exc
    return read_exif_tags(tags, location, _tiff_byte_order(source.exif_bytes))
