"""C2PA Content Credentials: signed provenance manifests embedded in the file (JUMBF).

Parsing and validation are c2pa-python's (the C2PA reference implementation, c2pa-rs);
this module only maps what it reports onto evidence. Three outcomes, by validation:

* ``Trusted`` (signature and hashes valid, signer on a configured trust list): claims are
  evidence at strength ``TRUSTED_STRENGTH`` (0.97).
* ``Valid`` with only ``signingCredential.untrusted`` / ``timeStamp.untrusted`` failures: the
  manifest is intact and was signed by whoever holds the key, but that signer is on no trust
  list we were given. This is the normal state of real-world files here, because no trust list
  is bundled (see :func:`set_trust_anchors`). The claims are kept at the reduced strength
  ``UNTRUSTED_SIGNER_STRENGTH`` (0.8) and the note says so: an AI-generation claim is rarely
  forged, and an intact manifest is still far stronger than unsigned metadata.
* anything else (``Invalid``: hash mismatch, broken signature, revoked or expired credential):
  every claim becomes :attr:`Implication.UNTRUSTED` evidence naming the failing status codes,
  with what the manifest claimed kept in ``data`` — never trusted silently.

Network access is switched off (no remote manifest fetch, no OCSP): a scan must not make
requests chosen by a hostile file.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, BinaryIO, Iterable

import c2pa as c2pa_lib

from ..settings import current as current_settings
from ._ai_tools import match_ai_tool
from ._base import Evidence, Implication, SignalError, truncate
from ._iptc_vocab import lookup_digital_source_type
from ._json import load_json
from ._registry import register_reader
from ._source import ImageSource
from .strengths import strength

TRUSTED_STRENGTH = strength("c2pa_trusted")
UNTRUSTED_SIGNER_STRENGTH = strength("c2pa_untrusted_signer")
MAX_MANIFEST_JSON = 16 * 1024 * 1024  # a manifest store's JSON beyond this is refused as hostile
MAX_ACTIONS = 500  # evidence rows per manifest are bounded; the dataclass keeps the count
TRUST_ANCHORS_ENV = "ARTLINEAGE_C2PA_TRUST_ANCHORS"  # path to a PEM bundle of trusted roots

MIME_OF_FORMAT = {
    "JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
    "TIFF": "image/tiff", "GIF": "image/gif", "AVIF": "image/avif", "HEIF": "image/heif",
    "HEIC": "image/heic", "DNG": "image/x-adobe-dng", "JXL": "image/jxl",
}
# Failures that only say the signer (or timestamp authority) is not on our trust list.
TRUST_LIST_ONLY_CODES = frozenset({"signingCredential.untrusted", "timeStamp.untrusted"})
# CAWG identity assertions (cawg.identity) carry their own signature; c2pa-rs reports its failures
# as cawg.x509.* (credential.untrusted / .invalid, signature.mismatch, ...), cawg.identity.* and
# cawg.ica.* codes, scoped to that assertion: they say nothing about the claim signature
# (c2pa-rs' validation_results.rs keeps them from making the manifest Invalid too).
IDENTITY_CODE_PREFIX = "cawg."
IDENTITY_LABEL = "cawg.identity"
# Adobe's pre-standard AI assertion (Firefly 2023): {"description": "Adobe Firefly", "version": ..., "prompt": ...}.
ADOBE_GENERATIVE_AI_LABEL = "com.adobe.generative-ai"
# Action parameters that carry a source type or name a model in older / vendor manifests.
SOURCE_TYPE_PARAMETERS = ("com.adobe.digitalSourceType", "digitalSourceType")
_MODEL_PARAMETER_WORDS = ("model", "generator", "engine")
ACTIONS_LABELS = ("c2pa.actions", "c2pa.actions.v2")
TRAINING_MINING_LABELS = ("c2pa.training-mining", "cawg.training-mining")
# Actions whose source type describes the asset itself: created, and opened (the asset *is* the
# opened file, e.g. Adobe's c2pa.opened with com.adobe.digitalSourceType trainedAlgorithmicMedia).
CREATED_ACTIONS = frozenset({"c2pa.created", "c2pa.opened"})

# What a source type term means (IPTC's vocabulary plus C2PA's additions) is the shared
# vocabulary's (_iptc_vocab); which content it describes depends on the action (see
# source_type_claim).
_AI_IMPLICATIONS = (Implication.AI_GENERATED, Implication.AI_EDITED)

TRAINING_USE_IMPLICATION = {
    "notallowed": Implication.CONSENT_RESERVED,
    "constrained": Implication.CONSENT_RESERVED,  # reserved unless the stated constraints are met
    "allowed": Implication.CONSENT_ALLOWED,
}


@dataclass
class C2paManifest:
    """The active manifest of a C2PA manifest store, as c2pa-python validated it."""

    active_label: str | None
    claim_generators: list[str] = field(default_factory=list)
    title: str | None = None
    format: str | None = None
    validation_state: str | None = None  # "Trusted", "Valid", "Invalid" (c2pa-rs' words)
    failure_codes: list[str] = field(default_factory=list)  # active manifest's failed checks
    status: list[dict[str, Any]] = field(default_factory=list)  # code/url/explanation of failures
    ingredient_failure_codes: list[str] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)  # from c2pa.actions(.v2), in order
    ingredients: list[dict[str, Any]] = field(default_factory=list)
    assertions: dict[str, Any] = field(default_factory=dict)  # label -> data, every assertion
    training_mining: list[dict[str, Any]] = field(default_factory=list)  # assertion, entry, use
    signature: dict[str, Any] = field(default_factory=dict)  # issuer, common_name, alg, time
    manifest_count: int = 0

    @property
    def claim_failure_codes(self) -> list[str]:
        """Failures of the claim itself (signature, hashes, credential): identity-assertion codes left out."""
        return [c for c in self.failure_codes if not c.startswith(IDENTITY_CODE_PREFIX)]

    @property
    def identity_failure_codes(self) -> list[str]:
        """Failures scoped to CAWG identity assertions (``cawg.x509.credential.untrusted`` and kin)."""
        return [c for c in self.failure_codes if c.startswith(IDENTITY_CODE_PREFIX)]

    @property
    def trust(self) -> str:
        """``"trusted"``, ``"untrusted_signer"`` (intact, signer not on a trust list) or ``"invalid"``.

        Judged on the claim's own failures; a CAWG identity assertion's failures are reported
        separately (see :func:`identity_evidence`) and never throw the claim away.
        """
        state = (self.validation_state or "").lower()
        claim_codes = set(self.claim_failure_codes)
        if state == "trusted" and not claim_codes:
            return "trusted"
        if state in ("valid", "trusted", "") and claim_codes <= TRUST_LIST_ONLY_CODES:
            return "untrusted_signer"
        return "invalid"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()} | {"trust": self.trust}


# Claim generators that sign both camera captures and AI output: they name the vendor's AI only
# when a source type says the content is AI (never on their own).
AI_VENDOR_LIBRARIES = (("Google C2PA Core Generator Library", "Google AI"),)


def vendor_ai_name(claim_generators: list[str]) -> str | None:
    text = " ".join(claim_generators)
    return next((name for library, name in AI_VENDOR_LIBRARIES if library in text), None)


def action_source_type(action: dict[str, Any]) -> tuple[str | None, str]:
    """(digitalSourceType, where it was found) of an action: the standard field, else a parameter
    (``com.adobe.digitalSourceType`` in Adobe's older manifests, ``digitalSourceType`` in v1 ones)."""
    value = action.get("digitalSourceType")
    if isinstance(value, str) and value:
        return value, "digitalSourceType"
    parameters = action.get("parameters")
    if isinstance(parameters, dict):
        for name in SOURCE_TYPE_PARAMETERS:
            value = parameters.get(name)
            if isinstance(value, str) and value:
                return value, f"parameters.{name}"
    return None, "digitalSourceType"


def action_model_names(action: dict[str, Any]) -> list[str]:
    """Model names an action's parameters carry (``"model": "Gemini 2.5 Flash Image"`` and the like)."""
    parameters = action.get("parameters")
    names: list[str] = []
    if isinstance(parameters, dict):
        for key, value in list(parameters.items())[:100]:
            if any(word in key.lower() for word in _MODEL_PARAMETER_WORDS):
                if isinstance(value, str):
                    names.append(truncate(value, 200))
                elif isinstance(value, dict):
                    names += [truncate(str(v), 200) for k, v in value.items()
                              if k in ("name", "version", "identifier") and isinstance(v, (str, int))]
    return names


# ----- trust and context ---------------------------------------------------------------

# Which roots a C2PA signature is checked against, most specific first: the ``trust_anchors`` argument of
# a call, ``SourceOptions.c2pa_trust_anchors`` of an inspection, the default set by set_trust_anchors(),
# then the PEM file named by ARTLINEAGE_C2PA_TRUST_ANCHORS (artlineage.settings), read when used.
_default_trust_anchors: str | None = None


def set_trust_anchors(pem: str | bytes | None) -> None:
    """Set the *default* trust anchors (PEM bundle), used by calls and inspections that pass none.

    Prefer passing them per call (``read_c2pa_manifest(..., trust_anchors=pem)``) or per inspection
    (``inspect_file(path, options=SourceOptions(c2pa_trust_anchors=pem))``): two callers in one process
    can then trust different roots. Without anchors every real signer reads as "signer not on a trust
    list" (strength 0.8).
    """
    global _default_trust_anchors
    _default_trust_anchors = pem.decode("ascii") if isinstance(pem, bytes) else pem


@lru_cache(maxsize=4)
def _anchors_file(path: str, mtime_ns: int) -> str | None:
    try:
        with open(path, encoding="ascii") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as exc:  # a bad setting must not break reading
        warnings.warn(f"{TRUST_ANCHORS_ENV}={path!r} unreadable ({exc}); no C2PA trust anchors set",
                      RuntimeWarning, stacklevel=3)
        return None


def default_trust_anchors() -> str | None:
    """The anchors a call without its own uses: set_trust_anchors(), else the settings' PEM file."""
    if _default_trust_anchors is not None:
        return _default_trust_anchors
    path = current_settings().c2pa_trust_anchors
    if not path:
        return None
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        mtime = -1
    return _anchors_file(path, mtime)


# Extended key usages a C2PA signing certificate may carry (the C2PA trust-list profile). c2pa-rs'
# built-in list lacks c2pa-kp-claimSigning, so real certificates issued for it (OpenAI's, through
# Truepic) failed as "signingCredential.invalid: certificate missing required EKU".
ALLOWED_SIGNING_EKUS = "\n".join([
    "// id-kp-emailProtection", "1.3.6.1.5.5.7.3.4",
    "// id-kp-documentSigning", "1.3.6.1.5.5.7.3.36",
    "// id-kp-timeStamping", "1.3.6.1.5.5.7.3.8",
    "// id-kp-OCSPSigning", "1.3.6.1.5.5.7.3.9",
    "// MS C2PA Signing", "1.3.6.1.4.1.311.76.59.1.9",
    "// c2pa-kp-claimSigning", "1.3.6.1.4.1.62558.2.1",
])


@lru_cache(maxsize=8)
def _context(trust_anchors_pem: str | None) -> c2pa_lib.Context:
    settings: dict[str, Any] = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
                                "trust": {"trust_config": ALLOWED_SIGNING_EKUS}}
    if trust_anchors_pem:
        settings["trust"]["trust_anchors"] = trust_anchors_pem
    return c2pa_lib.Context.from_dict(settings)


# ----- reading -------------------------------------------------------------------------

def embedded_c2pa_location(source: ImageSource) -> str | None:
    """Where the container holds a C2PA JUMBF store, judged cheaply; None when it has none.

    JPEG and PNG have a dedicated place (APP11 JUMBF segments, the caBX chunk) that the
    container parse already lists; other formats get a byte search for the JUMBF box type
    and the C2PA manifest-store label, which c2pa-rs then confirms.
    """
    if source.format in ("JPEG", "MPO"):
        for marker, payload in source.jpeg_segments:
            if marker == 0xEB and payload[:2] == b"JP" and b"jumb" in payload[:64]:
                return "JPEG APP11 JUMBF"
        return None
    if source.format == "PNG":
        return "PNG caBX" if "caBX" in source.png_chunk_types else None
    data = source.data
    if data.find(b"jumb") >= 0 and data.find(b"c2pa") >= 0:
        return f"{source.format} JUMBF"
    return None


def has_c2pa(source: ImageSource) -> bool:
    """Cheap pre-check: files without C2PA never reach the native library."""
    return embedded_c2pa_location(source) is not None


def read_c2pa_manifest(source_or_bytes: ImageSource | bytes | bytearray | memoryview | BinaryIO,
                       mime: str | None = None, *, trust_anchors: str | bytes | None = None) -> C2paManifest | None:
    """Read and validate the active C2PA manifest; None when the file carries no manifest store.

    ``mime`` may be omitted for an :class:`ImageSource` (taken from its format) or left to
    c2pa-rs' own detection. ``trust_anchors`` (PEM) overrides :func:`set_trust_anchors`.
    Raises :class:`SignalError` when a store is present but corrupt or hostile.
    """
    if isinstance(source_or_bytes, ImageSource):
        mime = mime or MIME_OF_FORMAT.get(source_or_bytes.format)
        stream: BinaryIO = io.BytesIO(source_or_bytes.data)
    elif isinstance(source_or_bytes, (bytes, bytearray, memoryview)):
        stream = io.BytesIO(bytes(source_or_bytes))
    else:
        stream = source_or_bytes
    if isinstance(trust_anchors, bytes):
        trust_anchors = trust_anchors.decode("ascii")
    context = _context(trust_anchors if trust_anchors is not None else default_trust_anchors())
    try:
        reader = c2pa_lib.Reader.try_create(mime or None, stream, context=context)
        if reader is None:
            return None
        with reader:
            raw = reader.json()
    except c2pa_lib.C2paError.RemoteManifest as exc:
        raise RemoteManifestError("the C2PA manifest is stored remotely (a URL in the file); it was not "
                                  "fetched: a scan makes no request a file chooses") from exc
    except c2pa_lib.C2paError as exc:
        raise SignalError(f"C2PA manifest store is corrupt or unsupported: {exc}") from exc
    return parse_manifest_store_json(raw)


class RemoteManifestError(SignalError):
    """The file points at a remote C2PA manifest, which is deliberately not fetched."""


def parse_manifest_store_json(raw: str) -> C2paManifest:
    """Turn c2pa-rs' manifest-store JSON into a :class:`C2paManifest` (pure; bounded)."""
    # No fixed depth bound: assertions carry arbitrary CBOR; Python's recursion limit is the guard.
    store = load_json(raw, "C2PA manifest store", max_chars=MAX_MANIFEST_JSON, max_depth=None)
    if not isinstance(store, dict):
        raise SignalError("C2PA manifest store JSON is not an object")
    manifests = store.get("manifests") if isinstance(store.get("manifests"), dict) else {}
    label = store.get("active_manifest")
    active = manifests.get(label) if isinstance(label, str) else None
    if not isinstance(active, dict):
        raise SignalError(f"C2PA manifest store has no readable active manifest (label {label!r})")

    failures, ingredient_failures = _failures(store)
    manifest = C2paManifest(
        active_label=label,
        claim_generators=_claim_generators(active),
        title=_str(active.get("title")),
        format=_str(active.get("format")),
        validation_state=_str(store.get("validation_state")),
        failure_codes=[f["code"] for f in failures],
        status=failures,
        ingredient_failure_codes=ingredient_failures,
        ingredients=[_ingredient(i, manifests) for i in _list(active.get("ingredients"))[:MAX_ACTIONS]],
        signature=active.get("signature_info") if isinstance(active.get("signature_info"), dict) else {},
        manifest_count=len(manifests),
    )
    for assertion in _list(active.get("assertions")):
        if not isinstance(assertion, dict) or not isinstance(assertion.get("label"), str):
            continue
        name = assertion["label"]
        if assertion.get("instance") not in (None, 1):
            name = f"{name}__{assertion['instance']}"
        while name in manifest.assertions:  # repeated labels are legal; keep every one
            name += "+"
        data = assertion.get("data")
        manifest.assertions[name] = data
        if assertion["label"] in ACTIONS_LABELS and isinstance(data, dict):
            manifest.actions.extend(a for a in _list(data.get("actions")) if isinstance(a, dict))
        elif assertion["label"] in TRAINING_MINING_LABELS and isinstance(data, dict):
            entries = data.get("entries")
            for entry, value in (entries.items() if isinstance(entries, dict) else ()):
                if isinstance(value, dict):
                    manifest.training_mining.append({"assertion": assertion["label"], "entry": entry,
                                                     "use": _str(value.get("use")),
                                                     "constraint_info": value.get("constraint_info")})
    return manifest


def _failures(store: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    results = store.get("validation_results")
    if isinstance(results, dict) and isinstance(results.get("activeManifest"), dict):
        raw = _list(results["activeManifest"].get("failure"))
    else:  # older stores only carry the flat list, which holds failures only
        raw = _list(store.get("validation_status"))
    failures = [{"code": str(s.get("code")), "explanation": truncate(str(s.get("explanation", "")), 300),
                 "url": truncate(str(s.get("url", "")), 300)}
                for s in raw if isinstance(s, dict) and s.get("code")]
    ingredient_codes: list[str] = []
    if isinstance(results, dict):
        for delta in _list(results.get("ingredientDeltas")):
            deltas = delta.get("validationDeltas") if isinstance(delta, dict) else None
            if isinstance(deltas, dict):
                ingredient_codes += [str(s.get("code")) for s in _list(deltas.get("failure"))
                                     if isinstance(s, dict)]
    return failures, ingredient_codes


def _claim_generators(manifest: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for info in _list(manifest.get("claim_generator_info")):
        if isinstance(info, dict) and info.get("name"):
            names.append(f"{info['name']}/{info['version']}" if info.get("version") else str(info["name"]))
    if isinstance(manifest.get("claim_generator"), str):  # v1 claims: a user-agent string
        names.append(manifest["claim_generator"])
    return [truncate(n, 200) for n in names]


def _ingredient(ingredient: Any, manifests: dict[str, Any]) -> dict[str, Any]:
    """An ingredient's identity, its validation failures, and the source types its own manifest claims."""
    if not isinstance(ingredient, dict):
        return {}
    keep = ("title", "format", "relationship", "active_manifest", "instance_id", "document_id")
    out = {k: ingredient[k] for k in keep if isinstance(ingredient.get(k), str)}
    results = ingredient.get("validation_results")
    if isinstance(results, dict) and isinstance(results.get("activeManifest"), dict):
        failures = _list(results["activeManifest"].get("failure"))
    else:
        failures = _list(ingredient.get("validation_status"))
    out["failure_codes"] = [str(f.get("code")) for f in failures if isinstance(f, dict) and f.get("code")]
    own = manifests.get(out.get("active_manifest", ""))
    out["source_types"] = []
    for assertion in _list(own.get("assertions")) if isinstance(own, dict) else []:
        if isinstance(assertion, dict) and assertion.get("label") in ACTIONS_LABELS \
                and isinstance(assertion.get("data"), dict):
            out["source_types"] += [{"action": str(a.get("action")), "digitalSourceType": a["digitalSourceType"]}
                                    for a in _list(assertion["data"].get("actions"))[:MAX_ACTIONS]
                                    if isinstance(a, dict) and isinstance(a.get("digitalSourceType"), str)]
    if isinstance(own, dict):
        out["claim_generators"] = _claim_generators(own)
    return out


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# ----- interpretation ------------------------------------------------------------------

def source_type_name(uri: str) -> str:
    """Bare code of a digital source type (``.../trainedAlgorithmicMedia`` -> that).

    The vocabulary's spelling for a known term; for an unknown one, its last path segment.
    """
    term = lookup_digital_source_type(uri)
    return term.code if term else uri.strip().rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def source_type_claim(uri: str, action: str = "c2pa.created") -> tuple[Implication, float]:
    """What a digitalSourceType on ``action`` implies about the asset, and how surely (0..1).

    On ``c2pa.created`` it describes the asset itself. On any other action (edited, placed,
    filtered...) it describes the content that action added: AI-made content added to an asset
    makes it AI-edited, and other kinds of added content do not change the asset's origin.
    The certainty is the vocabulary's (below 1 only for ambiguous terms such as
    compositeSynthetic); it scales the claim's strength. Unknown terms are INFO.
    """
    term = lookup_digital_source_type(uri)
    if term is None:
        return Implication.INFO, 1.0
    if action in CREATED_ACTIONS:
        implies = term.implies
    else:
        implies = Implication.AI_EDITED if term.implies in _AI_IMPLICATIONS else Implication.INFO
    return implies, (term.certainty if implies is not Implication.INFO else 1.0)


def source_type_implication(uri: str, action: str = "c2pa.created") -> Implication:
    """The implication of :func:`source_type_claim` alone."""
    return source_type_claim(uri, action)[0]


def _software_agent(action: dict[str, Any]) -> str | None:
    agent = action.get("softwareAgent")
    if isinstance(agent, dict):
        name, version = agent.get("name"), agent.get("version")
        return f"{name}/{version}" if name and version else (str(name) if name else None)
    return agent if isinstance(agent, str) else None


def manifest_evidence(manifest: C2paManifest, location: str = "C2PA") -> list[Evidence]:
    """Evidence from one validated manifest (see the module docstring for the trust rules)."""
    trust = manifest.trust
    where = f"{location} manifest {manifest.active_label}"
    generator_text = " ".join(manifest.claim_generators)
    claim_tool = match_ai_tool(generator_text)
    common = {"manifest": manifest.active_label, "validation_state": manifest.validation_state,
              "trust": trust, "failure_codes": manifest.failure_codes}
    if trust == "trusted":
        strength, why = TRUSTED_STRENGTH, "signed C2PA claim, signer on the trust list"
    elif trust == "untrusted_signer":
        strength, why = UNTRUSTED_SIGNER_STRENGTH, (
            "signed C2PA claim, manifest intact, but the signer is not on a configured trust list "
            "(signingCredential.untrusted), so kept at reduced strength")
    else:
        strength, why = 0.0, ("UNTRUSTED: C2PA manifest failed validation ("
                              + ", ".join(manifest.claim_failure_codes or ["no validation result"])
                              + "); its claims are not trusted")

    claims: list[Evidence] = []
    for index, action in enumerate(manifest.actions[:MAX_ACTIONS]):
        dst, field_name = action_source_type(action)
        if dst is None:
            continue
        name = str(action.get("action", "?"))
        implies, certainty = source_type_claim(dst, name)
        agent = _software_agent(action)
        models = action_model_names(action)
        # A third-party model named in the parameters (Firefly's partner models) is the generator;
        # the software agent (the app that ran it) comes next, then the claim generator.
        tool = (next((t for t in map(match_ai_tool, models) if t), None) or match_ai_tool(agent) or claim_tool
                or vendor_ai_name(manifest.claim_generators))
        ai = implies in _AI_IMPLICATIONS
        claims.append(Evidence(
            reader="c2pa", location=f"{where} action {index} ({truncate(name, 60)})",
            field=field_name, value=truncate(dst, 300), implies=implies,
            strength=strength * certainty,
            generator=tool if ai else None,
            note=f"{name} with {field_name} {source_type_name(dst)}"
                 + (f" by {agent}" if agent and ai else "") + (f" (model {', '.join(models)})" if models else "")
                 + f": {why}",
            data=common | {"action": _bounded(action), "source_type": source_type_name(dst),
                           "software_agent": agent, "models": models},
        ))
    if any(e.implies is Implication.AI_GENERATED and e.data.get("action", {}).get("action") in CREATED_ACTIONS
           for e in claims):
        # Edits with AI of an asset created by AI (Gemini's own edit steps) leave it wholly AI-made.
        claims = [replace(e, implies=Implication.AI_GENERATED, note=e.note + " (an AI edit of an AI-created asset)")
                  if e.implies is Implication.AI_EDITED else e for e in claims]
    claims += _adobe_generative_ai_evidence(manifest, where, strength, why, common)
    for entry in manifest.training_mining:
        use = entry["use"] or ""
        implies = TRAINING_USE_IMPLICATION.get(use.lower())
        if implies is None:
            continue
        claims.append(Evidence(
            reader="c2pa", location=f"{where} {entry['assertion']}", field=truncate(entry["entry"], 120),
            value=use, implies=implies, strength=strength,
            note=f"{entry['entry']} is {use} by the C2PA {entry['assertion']} assertion: {why}",
            data=common | {"use": use, "purpose": _purpose(entry["entry"]),
                           "constraint_info": _bounded(entry.get("constraint_info"))},
        ))

    claims += _ingredient_evidence(manifest, where, strength, why)
    identity = identity_evidence(manifest, where)

    if trust == "invalid":
        claims = [_as_untrusted(e) for e in claims]
        summary = Evidence(
            reader="c2pa", location=where, field="validation_state",
            # The codes go into the value so the verdict's "ignored as untrusted" line names them.
            value=f"{manifest.validation_state or 'unknown'} ({', '.join(manifest.failure_codes) or 'no codes'})",
            implies=Implication.UNTRUSTED, strength=0.0,
            generator=claim_tool, note=why,
            data=common | {"status": manifest.status, "claimed": {
                "claim_generators": manifest.claim_generators, "title": manifest.title,
                "actions": _bounded(manifest.actions[:MAX_ACTIONS]),
                "training_mining": _bounded(manifest.training_mining)}},
        )
        return [summary] + claims + identity

    info = Evidence(
        reader="c2pa", location=where, field="claim_generator",
        value=truncate(generator_text, 400) or None, implies=Implication.INFO, strength=strength,
        generator=claim_tool,
        note=f"C2PA manifest by {generator_text or 'an unnamed generator'}"
             + (f" (names {claim_tool})" if claim_tool else "") + f"; {why}",
        data=common | {"title": manifest.title, "signature": _bounded(manifest.signature),
                       "ingredients": _bounded(manifest.ingredients),
                       "ingredient_failure_codes": manifest.ingredient_failure_codes,
                       "assertion_labels": list(manifest.assertions)[:MAX_ACTIONS],
                       "manifest_count": manifest.manifest_count},
    )
    return [info] + claims + identity


def _adobe_generative_ai_evidence(manifest: C2paManifest, where: str, strength: float, why: str,
                                  common: dict[str, Any]) -> list[Evidence]:
    """Adobe's legacy ``com.adobe.generative-ai`` assertion: the AI claim of early Firefly files.

    It names the model (``description`` + ``version``) and sometimes the prompt. A file opened
    from a parent ingredient was edited with the model (generative fill); otherwise generated.
    """
    out: list[Evidence] = []
    edited = any(i.get("relationship") == "parentOf" for i in manifest.ingredients)
    for label, data in manifest.assertions.items():
        if label.split("__")[0].rstrip("+") != ADOBE_GENERATIVE_AI_LABEL or not isinstance(data, dict):
            continue
        description = _str(data.get("description")) or ""
        version = _str(data.get("version")) or ""
        named = " ".join(p for p in (description, version) if p).strip()
        tool = match_ai_tool(named) or match_ai_tool(" ".join(manifest.claim_generators)) or (
            truncate(description, 100) or None)
        implies = Implication.AI_EDITED if edited else Implication.AI_GENERATED
        out.append(Evidence(
            reader="c2pa", location=f"{where} {ADOBE_GENERATIVE_AI_LABEL}", field=ADOBE_GENERATIVE_AI_LABEL,
            value=truncate(named, 300) or None, implies=implies, strength=strength, generator=tool,
            note=f"Adobe generative-AI assertion names {named or 'a model'}"
                 + (" on an opened parent (edited)" if edited else "") + f": {why}",
            data=common | {"assertion": _bounded(data), "prompt": truncate(_str(data.get("prompt")) or "", 2000) or None},
        ))
    return out


def identity_evidence(manifest: C2paManifest, where: str) -> list[Evidence]:
    """CAWG identity assertions: who they name, and whether their own credential validated.

    The named identity is context (INFO), never an origin claim; its trust is its own
    (``cawg.*`` failure codes), apart from the claim signature's.
    """
    codes = manifest.identity_failure_codes
    out: list[Evidence] = []
    for label, data in manifest.assertions.items():
        if label.split("__")[0].rstrip("+") != IDENTITY_LABEL or not isinstance(data, dict):
            continue
        info = data.get("signature_info") if isinstance(data.get("signature_info"), dict) else {}
        payload = data.get("signer_payload") if isinstance(data.get("signer_payload"), dict) else {}
        signer = _str(info.get("common_name")) or _str(info.get("issuer"))
        state = "untrusted" if any(c.endswith(".untrusted") or c == "cawg.ica.untrusted_issuer" for c in codes) \
            else ("invalid" if codes else "valid")
        out.append(Evidence(
            reader="c2pa", location=f"{where} {label}", field=IDENTITY_LABEL, value=signer,
            implies=Implication.INFO, strength=0.0,
            note=(f"CAWG identity assertion by {signer or 'an unnamed signer'}: identity evidence {state}"
                  + (f" ({', '.join(codes)})" if codes else "")
                  + "; the C2PA claim signature is judged on its own"),
            data={"manifest": manifest.active_label, "identity_trust": state, "identity_failure_codes": codes,
                  "sig_type": _str(payload.get("sig_type")), "signature": _bounded(info),
                  "claim_trust": manifest.trust},
        ))
    return out


INGREDIENT_DISCOUNT = 0.95  # one step removed: the claim is about what the file was made from


def _ingredient_evidence(manifest: C2paManifest, where: str, strength: float, why: str) -> list[Evidence]:
    """Source types claimed by a parent or component ingredient's own manifest.

    An edit of an AI-generated parent (Photoshop opening a Firefly image) often carries no
    source type of its own; the parent's signed claim is what says the pixels came from a model.
    A parent passes on its implication (AI or not: an edit of a capture is still a capture); an AI
    component (placed into the file) makes it AI-edited.
    """
    out: list[Evidence] = []
    for index, ingredient in enumerate(manifest.ingredients):
        relationship = ingredient.get("relationship")
        if relationship not in ("parentOf", "componentOf"):
            continue
        broken = [c for c in ingredient.get("failure_codes", []) if c not in TRUST_LIST_ONLY_CODES]
        tool = (match_ai_tool(" ".join(ingredient.get("claim_generators", [])))
                or vendor_ai_name(ingredient.get("claim_generators", [])))
        # An AI edit of an asset that was itself AI-created is still wholly AI-made.
        created_by_ai = any(source_type_claim(c["digitalSourceType"], c["action"])[0] is Implication.AI_GENERATED
                            for c in ingredient.get("source_types", []))
        for claim in ingredient.get("source_types", []):
            implies, certainty = source_type_claim(claim["digitalSourceType"], claim["action"])
            if implies is Implication.INFO:
                continue
            if relationship == "componentOf":
                if implies not in _AI_IMPLICATIONS:
                    continue  # a placed photo or drawing does not change what the whole file is
                implies = Implication.AI_EDITED
            elif implies is Implication.AI_EDITED and created_by_ai:
                implies = Implication.AI_GENERATED
            # A parent passes its origin on whatever it is: a colour-corrected capture is still a
            # capture, an adjusted algorithmic render still algorithmic.
            name = source_type_name(claim["digitalSourceType"])
            evidence = Evidence(
                reader="c2pa", location=f"{where} ingredient {index} ({relationship})",
                field="ingredient.digitalSourceType", value=truncate(claim["digitalSourceType"], 300),
                implies=implies, strength=strength * INGREDIENT_DISCOUNT * certainty,
                generator=tool if implies in _AI_IMPLICATIONS else None,
                note=f"{relationship} ingredient {ingredient.get('title', '?')!r} claims {name}: {why}",
                data={"manifest": manifest.active_label, "ingredient": _bounded(ingredient),
                      "source_type": name, "trust": manifest.trust},
            )
            if broken:
                evidence = replace(_as_untrusted(evidence), note=(
                    f"UNTRUSTED: ingredient {ingredient.get('title', '?')!r} failed validation "
                    f"({', '.join(broken)}); it claimed {name}"))
            out.append(evidence)
    return out


def _as_untrusted(e: Evidence) -> Evidence:
    if e.implies is Implication.UNTRUSTED:
        return e
    return replace(e, implies=Implication.UNTRUSTED, strength=0.0,
                   data=e.data | {"claimed_implication": e.implies.value})


def _purpose(entry: str) -> str:
    """``c2pa.ai_generative_training`` -> ``ai_generative_training`` (same for cawg.*)."""
    return entry.split(".", 1)[-1]


def _bounded(value: Any, limit: int = 20_000) -> Any:
    """Keep large assertion payloads out of evidence rows (they stay on the C2paManifest)."""
    text = json.dumps(value, default=str)
    return value if len(text) <= limit else {"truncated": truncate(text, limit)}


@register_reader("c2pa", applies=has_c2pa,
                 description="C2PA Content Credentials: signed actions, source types, training-mining",
                 formats=("JPEG APP11 JUMBF", "PNG caBX", "WebP C2PA chunk", "TIFF/DNG", "GIF",
                          "HEIF/HEIC/AVIF uuid box", "JPEG XL jumb box"))
def read_c2pa(source: ImageSource) -> Iterable[Evidence]:
    """C2PA Content Credentials: signed actions, source types and training/mining assertions."""
    location = embedded_c2pa_location(source)
    if location is None:
        return []
    try:
        manifest = read_c2pa_manifest(source, trust_anchors=source.options.c2pa_trust_anchors)
    except RemoteManifestError as exc:
        # Adobe's cloud-stored Content Credentials: the file only says where the manifest lives.
        return [Evidence(reader="c2pa", location=location, field="remote_manifest", value=None,
                         implies=Implication.INFO, strength=0.0, note=str(exc))]
    if manifest is None:
        if location.startswith(("JPEG", "PNG")):
            # The container has a C2PA box but c2pa-rs finds no store in it: a damaged box.
            raise SignalError(f"{location} box present but no readable C2PA manifest store in it")
        return []  # byte-search false positive in another format
    return manifest_evidence(manifest, location)

