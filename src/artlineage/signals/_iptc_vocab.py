"""Controlled vocabularies shared by the XMP and C2PA readers.

Two vocabularies matter for artlineage:

* IPTC NewsCodes *Digital Source Type* (http://cv.iptc.org/newscodes/digitalsourcetype/), written
  in XMP as ``Iptc4xmpExt:DigitalSourceType`` and in C2PA actions as ``digitalSourceType``. It says
  how the media came into being; each term is mapped here to the :class:`Implication` it carries.
* PLUS *Data Mining* (http://ns.useplus.org/ldf/vocab/DMI-...), written in XMP as
  ``plus:DataMining``. It says whether the rights-holder allows text and data mining / AI training.

C2PA adds two source types of its own under ``http://c2pa.org/digitalsourcetype/``
(``trainedAlgorithmicData``, ``empty``); they are terms here too, so both readers know them. Each
term's implication is what the term says about *the content it describes*; the C2PA reader
decides which content that is (the whole asset on ``c2pa.created``, only the added part on other
actions).

Both are small, fixed lists, so they are tables here rather than a dependency: no Python package
ships them. Lookups accept the full URI, the ``digsrctype:`` QCode or the bare code, in any case.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..vocabulary import ALL_USES, ConsentUse
from ._base import Implication
from .strengths import strength

IPTC_DIGITAL_SOURCE_TYPE_BASE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
C2PA_DIGITAL_SOURCE_TYPE_BASE = "http://c2pa.org/digitalsourcetype/"
PLUS_VOCAB_BASE = "http://ns.useplus.org/ldf/vocab/"

# The three uses a consent statement can reserve or allow (the order is the generality order:
# reserving data mining reserves AI training, which reserves generative AI training).
# The names live in artlineage.vocabulary (one vocabulary for signals, verdicts, registry and filter).
USE_DATA_MINING = ConsentUse.DATA_MINING.value
USE_TRAINING = ConsentUse.TRAINING.value
USE_GENERATIVE_TRAINING = ConsentUse.GENERATIVE_TRAINING.value


@dataclass(frozen=True)
class DigitalSourceTerm:
    code: str  # the IPTC code, e.g. "trainedAlgorithmicMedia"
    name: str  # IPTC's short name
    description: str  # what IPTC says it means, shortened
    implies: Implication
    strength: float  # how strongly an explicit declaration of this term counts
    retired: bool = False
    base: str = IPTC_DIGITAL_SOURCE_TYPE_BASE  # the vocabulary's namespace (IPTC's, or C2PA's own)

    @property
    def uri(self) -> str:
        return self.base + self.code

    @property
    def certainty(self) -> float:
        """How surely the term means its implication, 0..1, apart from who declared it.

        1.0 for unambiguous terms; below 1 for terms that only probably mean it
        (compositeSynthetic); 0 for INFO terms. A signed C2PA claim scales its strength by this:
        the signature vouches for who said it, not for what an ambiguous term means.
        """
        return min(1.0, self.strength / DECLARED_STRENGTH)


# Strength 0.9 is the team's weight for an explicit, unsigned IPTC declaration (it is metadata
# anyone can write, but tools write it on purpose). Terms whose meaning does not pin down an
# origin map to INFO so they are reported but never move a verdict.
DECLARED_STRENGTH = strength("digital_source_type")
_TERMS = [
    # --- captured from real life: the pixels were sampled from the world by a sensor or scanner.
    DigitalSourceTerm("digitalCapture", "Original digital capture sampled from real life",
                      "Captured by a digital camera or sensor from a real-life scene.", Implication.CAMERA, 0.9),
    DigitalSourceTerm("computationalCapture", "Computational capture sampled from real life",
                      "Multi-frame or computational capture (e.g. a smartphone's HDR/night mode); still a "
                      "capture of a real scene, so CAMERA.", Implication.CAMERA, 0.9),
    DigitalSourceTerm("negativeFilm", "Digitised from a negative on film",
                      "Scanned from a transparent negative.", Implication.CAMERA, 0.9),
    DigitalSourceTerm("positiveFilm", "Digitised from a positive on film",
                      "Scanned from a transparency or other transparent positive.", Implication.CAMERA, 0.9),
    DigitalSourceTerm("print", "Digitised from a print on non-transparent medium",
                      "Scanned or photographed from a print; captured, so CAMERA.", Implication.CAMERA, 0.9),
    DigitalSourceTerm("compositeCapture", "Composite of captured elements",
                      "A composite whose elements are all captures of real life: still captured, so CAMERA.",
                      Implication.CAMERA, 0.9),
    # --- made or edited by people with non-generative tools: a human authorship declaration.
    DigitalSourceTerm("humanEdits", "Human-edited media",
                      "Augmented, corrected or enhanced by people using non-generative tools.",
                      Implication.HUMAN_DECLARED, 0.9),
    DigitalSourceTerm("minorHumanEdits", "Original media with minor human edits",
                      "Retired in favour of humanEdits; same meaning.", Implication.HUMAN_DECLARED, 0.9, retired=True),
    DigitalSourceTerm("digitalCreation", "Digital creation",
                      "Created by a person using digital tools (drawing, painting, 3D modelling).",
                      Implication.HUMAN_DECLARED, 0.9),
    DigitalSourceTerm("digitalArt", "Digital art",
                      "Older name of digitalCreation: made by a person with digital tools.",
                      Implication.HUMAN_DECLARED, 0.9, retired=True),
    # --- algorithmic but not learned from sampled content.
    DigitalSourceTerm("algorithmicMedia", "Pure algorithmic media",
                      "Created purely by an algorithm not based on sampled training data (fractals, "
                      "procedural art).", Implication.ALGORITHMIC, 0.9),
    DigitalSourceTerm("dataDrivenMedia", "Data-driven media",
                      "A rendering of data by human programming (charts, telescope composites, "
                      "architectural renders): algorithmic, not captured and not generative AI.",
                      Implication.ALGORITHMIC, 0.9),
    # --- generative AI.
    DigitalSourceTerm("trainedAlgorithmicMedia", "Created using generative AI",
                      "Created by a model trained on sampled content (text-to-image and similar).",
                      Implication.AI_GENERATED, 0.9),
    DigitalSourceTerm("compositeWithTrainedAlgorithmicMedia", "Edited using generative AI",
                      "A composite including generative-AI output (inpainting, outpainting, generative fill).",
                      Implication.AI_EDITED, 0.9),
    # compositeSynthetic: "at least one synthetic element". IPTC's example is an AI-generated or CGI
    # element, and platforms (Google) label it as AI content, so it counts as AI-edited, but below
    # the 0.9 of the unambiguous terms because the synthetic part may be plain CGI.
    # Deliberate choice, for XMP and C2PA alike (C2PA once mapped it to ALGORITHMIC): ALGORITHMIC
    # at full weight would assert "no AI" where the term allows AI, while AI_EDITED at reduced
    # weight says what the declaration most likely means and how unsure that is
    # (``certainty`` 0.78 scales a signed C2PA claim the same way).
    DigitalSourceTerm("compositeSynthetic", "Composite including synthetic elements",
                      "A composite where at least one element is synthetic (generative AI or CGI).",
                      Implication.AI_EDITED, 0.7),
    # --- terms that do not say where the content came from: reported, never weighed.
    # algorithmicallyEnhanced is applied on top of a capture or creation (denoise, upscale, sky
    # replacement); the content's origin is whatever it was before, which this term does not say.
    DigitalSourceTerm("algorithmicallyEnhanced", "Algorithmically enhanced",
                      "Minor augmentation or correction by an algorithm, on top of some other origin.",
                      Implication.INFO, 0.0),
    # screenCapture says how the pixels were grabbed, not what the screen showed.
    DigitalSourceTerm("screenCapture", "Screen capture",
                      "A capture of a computer or phone screen; the content shown may be anything.",
                      Implication.INFO, 0.0),
    # virtualRecording mixes synthetic and captured elements of a live virtual event. (C2PA once
    # read it as ALGORITHMIC; "and/or captured" does not pin that down, so INFO for both readers.)
    DigitalSourceTerm("virtualRecording", "Virtual recording",
                      "Live recording of a virtual event made of synthetic and/or captured elements.",
                      Implication.INFO, 0.0),
    # composite: "any of which may or may not be generative AI" -- says nothing either way.
    DigitalSourceTerm("composite", "Composite of elements",
                      "A mix of several elements, any of which may or may not be generative AI.",
                      Implication.INFO, 0.0),
    # softwareImage (retired) predates generative AI and covered both digital paintings and CGI
    # (human-made or algorithmic: C2PA once said ALGORITHMIC; INFO for both readers).
    DigitalSourceTerm("softwareImage", "Created by software",
                      "Retired 2008-era term for any image made with software (painting or rendering).",
                      Implication.INFO, 0.0, retired=True),
    # --- C2PA's own additions (C2PA 2.x, "http://c2pa.org/digitalsourcetype/...").
    DigitalSourceTerm("trainedAlgorithmicData", "Data created using generative AI",
                      "C2PA's term for non-media output of a trained model; generative AI like "
                      "trainedAlgorithmicMedia.", Implication.AI_GENERATED, 0.9,
                      base=C2PA_DIGITAL_SOURCE_TYPE_BASE),
    DigitalSourceTerm("empty", "No source type",
                      "C2PA's placeholder for an asset with no content of its own yet.",
                      Implication.INFO, 0.0, base=C2PA_DIGITAL_SOURCE_TYPE_BASE),
]

# IPTC's own terms (what ``Iptc4xmpExt:DigitalSourceType`` is defined over); lookups also know C2PA's.
DIGITAL_SOURCE_TYPES: dict[str, DigitalSourceTerm] = {
    t.code: t for t in _TERMS if t.base == IPTC_DIGITAL_SOURCE_TYPE_BASE}
C2PA_DIGITAL_SOURCE_TYPES: dict[str, DigitalSourceTerm] = {
    t.code: t for t in _TERMS if t.base == C2PA_DIGITAL_SOURCE_TYPE_BASE}
_BY_LOWER = {t.code.lower(): t for t in _TERMS}
_ALIASES = {"multiframecomputationalcapture": "computationalcapture"}  # schema.org's name for it

# Prefixes a value may carry before the code (IPTC URI over http or https, C2PA/schema.org forms).
_DST_PREFIXES = (
    "http://cv.iptc.org/newscodes/digitalsourcetype/",
    "https://cv.iptc.org/newscodes/digitalsourcetype/",
    "digsrctype:",
    "http://c2pa.org/digitalsourcetype/",
    "https://c2pa.org/digitalsourcetype/",
    "http://schema.org/",
    "https://schema.org/",
)


def digital_source_code(value: str) -> str:
    """The bare code of a digital source type value (URI, QCode or code), as written."""
    v = value.strip()
    lower = v.lower()
    for prefix in _DST_PREFIXES:
        if lower.startswith(prefix):
            v = v[len(prefix):]
            break
    v = v.strip("/ ")
    if v.lower().endswith("digitalsource") and v.lower() != "digitalsource":  # schema.org enum names
        v = v[: -len("digitalsource")]
    return v


def lookup_digital_source_type(value: str) -> DigitalSourceTerm | None:
    """The vocabulary term for a ``DigitalSourceType`` value, or ``None`` when it is not IPTC's."""
    code = digital_source_code(value).lower()
    code = _ALIASES.get(code, code)
    return _BY_LOWER.get(code)


# ----- PLUS Data Mining ------------------------------------------------------------------------

@dataclass(frozen=True)
class DataMiningTerm:
    code: str  # e.g. "DMI-PROHIBITED-AIMLTRAINING"
    description: str
    implies: Implication  # CONSENT_RESERVED, CONSENT_ALLOWED, or INFO when nothing is stated
    uses: tuple[str, ...]  # which of ALL_USES this term reserves (or allows)
    exceptions: tuple[str, ...] = ()  # uses the reservation explicitly leaves open
    refers_to: str | None = None  # the property that carries the details

    @property
    def uri(self) -> str:
        return PLUS_VOCAB_BASE + self.code


_DMI_TERMS = [
    # No statement: not consent. Absence of a reservation is not permission.
    DataMiningTerm("DMI-UNSPECIFIED", "Unspecified - no prohibition defined", Implication.INFO, ()),
    DataMiningTerm("DMI-ALLOWED", "Allowed", Implication.CONSENT_ALLOWED, ALL_USES),
    # AI/ML training covers generative training too; other data mining is not mentioned, so it is
    # neither reserved nor allowed.
    DataMiningTerm("DMI-PROHIBITED-AIMLTRAINING", "Prohibited for AI/ML training",
                   Implication.CONSENT_RESERVED, (USE_TRAINING, USE_GENERATIVE_TRAINING)),
    DataMiningTerm("DMI-PROHIBITED-GENAIMLTRAINING", "Prohibited for generative AI/ML training",
                   Implication.CONSENT_RESERVED, (USE_GENERATIVE_TRAINING,)),
    # Search indexing is not one of our three uses, so all three are reserved.
    DataMiningTerm("DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING", "Prohibited except for search engine indexing",
                   Implication.CONSENT_RESERVED, ALL_USES, exceptions=("search_engine_indexing",)),
    DataMiningTerm("DMI-PROHIBITED", "Prohibited", Implication.CONSENT_RESERVED, ALL_USES),
    # The "see ..." forms are prohibitions whose exceptions live elsewhere; until a person reads
    # those, every use is treated as reserved (the conservative reading of "prohibited").
    DataMiningTerm("DMI-PROHIBITED-SEECONSTRAINT", "Prohibited, see plus:OtherConstraints",
                   Implication.CONSENT_RESERVED, ALL_USES, refers_to="plus:OtherConstraints"),
    DataMiningTerm("DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR",
                   "Prohibited, see the embedded encoded rights expression",
                   Implication.CONSENT_RESERVED, ALL_USES, refers_to="Iptc4xmpExt:EmbdEncRightsExpr"),
    DataMiningTerm("DMI-PROHIBITED-SEELINKEDRIGHTSEXPR",
                   "Prohibited, see the linked encoded rights expression",
                   Implication.CONSENT_RESERVED, ALL_USES, refers_to="Iptc4xmpExt:LinkedEncRightsExpr"),
]

DATA_MINING_TERMS: dict[str, DataMiningTerm] = {t.code: t for t in _DMI_TERMS}
_DMI_BY_UPPER = {t.code.upper(): t for t in _DMI_TERMS}
_DMI_PREFIXES = ("http://ns.useplus.org/ldf/vocab/", "https://ns.useplus.org/ldf/vocab/", "plus:")


def lookup_data_mining(value: str) -> DataMiningTerm | None:
    """The PLUS term for a ``plus:DataMining`` value (full URI or bare code), or ``None``."""
    v = value.strip()
    for prefix in _DMI_PREFIXES:
        if v.lower().startswith(prefix):
            v = v[len(prefix):]
            break
    return _DMI_BY_UPPER.get(v.strip("/ ").upper())
