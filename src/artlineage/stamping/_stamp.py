"""Stamp a generated (or AI-edited) image at the source: IPTC digital source type in XMP, a signed
C2PA manifest, optionally the dwtDct invisible watermark.

Order: watermark (the only step that touches pixels), then XMP (container slots only), then the
C2PA manifest, whose hard binding covers everything before it. Without credentials the file gets
XMP only and the result says it is unsigned.
"""

from __future__ import annotations

import io
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import ArtlineageError, InputError
from .._files import write_bytes_atomic
from ._certs import SigningCredentials, read_limited
from ._xmp import PNG_SIG, XmpFields, _png_chunks, container_of, read_container_xmp, write_container_xmp

CREATED = "trainedAlgorithmicMedia"
EDITED = "compositeWithTrainedAlgorithmicMedia"
IPTC_DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"
INFLUENCES_LABEL = "org.artlineage.influences"
# The file's own training / data-mining terms (C2PA 2.x entry names). Default: a generated image
# is not offered for training generative models (feeding outputs back in is how models collapse).
DEFAULT_TRAINING_MINING = {
    "c2pa.ai_generative_training": "notAllowed",
    "c2pa.ai_training": "notAllowed",
    "c2pa.data_mining": "allowed",
    "c2pa.ai_inference": "allowed",
}
TDM_USES = ("allowed", "notAllowed", "constrained")
DMI_PROHIBITED_AI_TRAINING = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"
MAX_STAMP_BYTES = 512 * 1024 * 1024
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "avif": "image/avif", "heif": "image/heif"}


class StampError(ArtlineageError):
    """A file that could not be stamped (the reason says which step)."""


@dataclass(frozen=True)
class Influence:
    """An artist the prompt credits, with the terms that applied when the image was made."""

    name: str
    registry_id: int | None
    matched_text: str
    matched_as: str
    confidence: float
    decision: str
    style_imitation: str | None
    living: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def influences_from_prompt(prompt: str | None, guard=None) -> list[Influence]:
    """Artists named in the prompt (prompt guard; registry terms when the guard was built from a
    registry), one per artist, ambiguous mentions ("Rembrandt lighting") left out."""
    if not prompt:
        return []
    from ..matching.prompt_guard import default_guard

    g = guard or default_guard()
    seen: dict[str, Influence] = {}
    for m in g.check(prompt):
        if m.ambiguous or m.artist in seen:
            continue
        entry = g.entry_named(m.artist)
        entry_terms = entry.style_imitation if entry is not None else None
        seen[m.artist] = Influence(m.artist, m.artist_id, m.text, m.matched_as, m.confidence, m.decision,
                                   entry_terms, m.living)
    return list(seen.values())


@dataclass(frozen=True)
class StampOptions:
    """What a stamp says. ``generator`` names the AI system (model or service) that made the image."""

    generator: str
    generator_version: str | None = None
    edited: bool = False                          # an edit of input images -> compositeWithTrainedAlgorithmicMedia
    # The edited inputs (C2PA ingredients): paths, or encoded images as bytes (a generator's init image).
    ingredients: tuple[str | os.PathLike[str] | bytes, ...] = ()
    prompt: str | None = None                     # checked for artists credited as influences
    include_prompt: bool = False                  # also write the prompt itself (XMP + C2PA)
    influences: tuple[Influence, ...] | None = None   # None: found in ``prompt`` by the guard
    training_mining: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TRAINING_MINING))
    credentials: SigningCredentials | None = None     # None: ARTLINEAGE_STAMP_CERT / _KEY, else unsigned
    sign: bool = True
    watermark: bool = False
    extra_assertions: tuple[dict[str, Any], ...] = ()

    def __post_init__(self):
        if not self.generator or not self.generator.strip():
            raise InputError("stamp: the generator (AI system) must be named")
        for use in self.training_mining.values():
            if use not in TDM_USES:
                raise InputError(f"training-mining use {use!r}: expected one of {', '.join(TDM_USES)}")
        if self.ingredients and not self.edited:
            raise InputError("stamp: ingredients are the inputs of an edit; pass edited=True")

    @property
    def digital_source_type(self) -> str:
        return IPTC_DST + (EDITED if self.edited else CREATED)


@dataclass
class StampResult:
    path: str | None
    container: str
    digital_source_type: str
    xmp: bool
    signed: bool
    test_certificate: bool
    watermarked: bool
    influences: list[dict[str, Any]]
    bytes_in: int
    bytes_out: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- watermark ------------------------------------------------------------------------------------
def _watermark(data: bytes, kind: str) -> bytes:
    """The image with the dwtDct payload embedded; metadata kept (PNG: every chunk but the image
    data; JPEG / WebP: EXIF and ICC carried into the re-encoded file; XMP / C2PA are written after)."""
    from PIL import Image

    from ..signals.watermark import KNOWN_WATERMARKS, embed_dwtdct
    import numpy as np

    with Image.open(io.BytesIO(data)) as im:
        im.load()
        alpha = im.getchannel("A") if "A" in im.getbands() else None
        rgb = np.asarray(im.convert("RGB"))
        exif, icc = im.info.get("exif"), im.info.get("icc_profile")
    try:
        marked = Image.fromarray(embed_dwtdct(rgb, KNOWN_WATERMARKS["artlineage"].bits))
    except ValueError as exc:
        raise StampError(f"watermark: {exc}") from exc
    if alpha is not None:
        marked.putalpha(alpha)
    buf = io.BytesIO()
    if kind == "png":
        marked.save(buf, "PNG")
        fresh = {ctype: [] for ctype in (b"IHDR", b"IDAT")}
        for ctype, _body, raw in _png_chunks(buf.getvalue()):
            if ctype in fresh:
                fresh[ctype].append(raw)
        out = [PNG_SIG]
        for ctype, _body, raw in _png_chunks(data):
            if ctype == b"IHDR":
                out += fresh[b"IHDR"]
            elif ctype == b"IDAT":
                out += fresh[b"IDAT"]
                fresh[b"IDAT"] = []
            elif ctype not in (b"PLTE", b"tRNS", b"sBIT", b"bKGD", b"hIST"):   # tied to the old pixel format
                out.append(raw)
        return b"".join(out)
    kwargs: dict[str, Any] = {k: v for k, v in (("exif", exif), ("icc_profile", icc)) if v}
    if kind == "jpeg":
        marked.save(buf, "JPEG", quality=95, subsampling=0, **kwargs)
    else:
        marked.save(buf, "WEBP", lossless=True, **kwargs)
    return buf.getvalue()


# ---- C2PA -----------------------------------------------------------------------------------------
def manifest_definition(options: StampOptions, influences: Sequence[Influence], title: str) -> dict[str, Any]:
    agent: dict[str, Any] = {"name": options.generator}
    if options.generator_version:
        agent["version"] = options.generator_version
    action: dict[str, Any] = {"action": "c2pa.edited" if options.edited else "c2pa.created",
                              "digitalSourceType": options.digital_source_type, "softwareAgent": agent}
    if options.edited:
        action["description"] = "edited with a generative AI model"
    actions = [action]
    if options.edited and options.ingredients:
        # C2PA 2.x: an asset made from a parent starts with c2pa.opened on that parent.
        actions.insert(0, {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent-0"]}})
    assertions: list[dict[str, Any]] = [
        {"label": "c2pa.actions.v2", "data": {"actions": actions}},
        {"label": "c2pa.training-mining",
         "data": {"entries": {k: {"use": v} for k, v in options.training_mining.items()}}},
    ]
    if influences or options.prompt:
        data: dict[str, Any] = {"artists": [i.to_dict() for i in influences],
                                "checked_with": f"artlineage {_package_version()} prompt guard"}
        if options.include_prompt and options.prompt:
            data["prompt"] = options.prompt
        assertions.append({"label": INFLUENCES_LABEL, "data": data})
    assertions.extend(options.extra_assertions)
    return {"claim_generator_info": [{"name": options.generator, **({"version": options.generator_version}
                                                                    if options.generator_version else {})}],
            "title": title, "assertions": assertions}


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("artlineage")
    except PackageNotFoundError:
        return "unknown"


def _sign(data: bytes, kind: str, manifest: dict[str, Any], creds: SigningCredentials,
          ingredients: Sequence[str | os.PathLike[str] | bytes]) -> bytes:
    import c2pa

    alg = getattr(c2pa.C2paSigningAlg, creds.alg.upper())
    info = c2pa.C2paSignerInfo(alg=alg, sign_cert=creds.chain_pem, private_key=creds.key_pem, ta_url=creds.tsa_url)
    context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    out = io.BytesIO()
    try:
        with c2pa.Builder(manifest, context=context) as builder, c2pa.Signer.from_info(info) as signer:
            for n, ing in enumerate(ingredients):
                if isinstance(ing, bytes):
                    raw, name = ing, f"input-{n}"
                else:
                    raw, name = _read_bounded(Path(ing)), Path(ing).name
                ikind = container_of(raw)
                builder.add_ingredient({"title": name, "relationship": "parentOf" if n == 0 else "componentOf",
                                        "label": f"parent-{n}" if n == 0 else f"component-{n}"},
                                       MIME.get(ikind, f"image/{ikind}"), io.BytesIO(raw))
            builder.sign(signer, MIME.get(kind, f"image/{kind}"), io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise StampError(f"C2PA signing failed: {exc}") from exc
    return out.getvalue()


def _read_bounded(path: Path) -> bytes:
    return read_limited(path, MAX_STAMP_BYTES, "image")


# ---- public ---------------------------------------------------------------------------------------
def stamp_bytes(data: bytes, options: StampOptions, *, guard=None, title: str = "generated image"
                ) -> tuple[bytes, StampResult]:
    """Stamp one image held in memory; returns the new bytes and what was written."""
    if len(data) > MAX_STAMP_BYTES:
        raise InputError(f"image larger than {MAX_STAMP_BYTES} bytes")
    kind = container_of(data)
    out = data
    watermarked = False
    original_xmp = read_container_xmp(data) if kind in ("png", "jpeg", "webp") else None
    if options.watermark:
        if kind not in ("png", "jpeg", "webp"):
            raise StampError(f"watermarking {kind.upper()} is not supported")
        out = _watermark(out, kind)
        watermarked = True
    influences = list(options.influences) if options.influences is not None else influences_from_prompt(
        options.prompt, guard)
    wrote_xmp = False
    if kind in ("png", "jpeg", "webp"):
        tm = options.training_mining
        prohibits = tm.get("c2pa.ai_training") == "notAllowed" or tm.get("c2pa.ai_generative_training") == "notAllowed"
        out = write_container_xmp(out, XmpFields(
            digital_source_type=options.digital_source_type, ai_system=options.generator,
            ai_system_version=options.generator_version,
            prompt=options.prompt if options.include_prompt else None,
            creator_tool=options.generator + (f" {options.generator_version}" if options.generator_version else ""),
            data_mining=DMI_PROHIBITED_AI_TRAINING if prohibits else None), base=original_xmp)
        wrote_xmp = True
    creds = options.credentials if options.credentials is not None else (
        SigningCredentials.from_env() if options.sign else None)
    signed = False
    if options.sign and creds is not None:
        out = _sign(out, kind, manifest_definition(options, influences, title), creds, options.ingredients)
        signed = True
    elif not wrote_xmp:
        raise StampError(f"{kind.upper()}: XMP is not written into this container and no signing credentials "
                         "were given, so nothing would be stamped")
    return out, StampResult(path=None, container=kind, digital_source_type=options.digital_source_type,
                            xmp=wrote_xmp, signed=signed, test_certificate=bool(signed and creds.is_test_chain),
                            watermarked=watermarked, influences=[i.to_dict() for i in influences],
                            bytes_in=len(data), bytes_out=len(out))


def stamp_file(src: str | os.PathLike[str], dst: str | os.PathLike[str] | None = None,
               options: StampOptions | None = None, *, guard=None, **kwargs: Any) -> StampResult:
    """Stamp ``src`` into ``dst`` (default: in place, replaced atomically). ``kwargs`` build the
    StampOptions when none are given: ``stamp_file("out.png", generator="My Model 2", prompt=...)``."""
    options = options or StampOptions(**kwargs)
    src_p = Path(src)
    data = _read_bounded(src_p)
    out, result = stamp_bytes(data, options, guard=guard, title=src_p.name)
    dst_p = Path(dst) if dst is not None else src_p
    dst_p.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out, dst_p)
    result.path = str(dst_p)
    return result


def stamp_image(image, path: str | os.PathLike[str], options: StampOptions, *, guard=None,
                pnginfo=None, format: str | None = None, **save_kwargs: Any) -> StampResult:
    """Save a PIL image (as a generator holds it) and stamp the saved file: the one call a service
    or a node pack needs after generation. ``pnginfo`` keeps e.g. a ComfyUI graph in PNG text chunks."""
    buf = io.BytesIO()
    fmt = format or {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}.get(Path(path).suffix.lower(), "PNG")
    if fmt == "PNG" and pnginfo is not None:
        save_kwargs["pnginfo"] = pnginfo
    image.save(buf, fmt, **save_kwargs)
    out, result = stamp_bytes(buf.getvalue(), options, guard=guard, title=Path(path).name)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out, p)
    result.path = str(p)
    return result


def describe(result: StampResult) -> str:
    parts = [result.container.upper(), result.digital_source_type.rsplit("/", 1)[-1]]
    parts.append("XMP" if result.xmp else "no XMP")
    parts.append(("C2PA signed" + (" (TEST certificate, NOT TRUSTED)" if result.test_certificate else ""))
                 if result.signed else "unsigned")
    if result.watermarked:
        parts.append("watermark")
    if result.influences:
        parts.append("influences: " + ", ".join(i["name"] for i in result.influences))
    return ", ".join(parts)

