"""What every detector returns, and how a result becomes evidence.

A learned detector is a *model's estimate*, never proof: it degrades on generators it has not
seen and on data unlike its training set. So its result is evidence of its own kind:

* it names the model (name and version) and the probability it estimates;
* it implies ``ai_generated`` only at or above the threshold chosen from an evaluation on
  labelled data (the model card's); an unevaluated detector's result is information only;
* its strength is the calibrated probability capped at :data:`MODEL_ESTIMATE_MAX_STRENGTH`, and the
  verdict never lets it pick the origin when the file carries origin evidence of its own (see
  ``verdicts.provenance``): it cannot outweigh a signed C2PA claim or a camera capture claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence, runtime_checkable

from PIL import Image

from ..errors import ArtlineageError
from ..signals._base import Evidence, Implication
from ._card import ModelCard
from ..signals.strengths import strength

READER = "detector"
# Below the verdict's AI-override level (0.6) and below every signed or declared claim (0.8-0.97).
MODEL_ESTIMATE_MAX_STRENGTH = strength("model_estimate_max")


class DetectorError(ArtlineageError):
    """A detector could not produce a result for one image (bad model output, remote failure, ...)."""


@dataclass(frozen=True)
class DetectorResult:
    """One detector's estimate for one image."""

    model: str  # model name
    version: str
    score: float  # the model's raw output (logit, probability, remote field)
    probability: float  # calibrated probability that the image is AI-made
    threshold: float | None  # from the card's evaluation; None when the detector was never evaluated
    fpr: float | None = None  # false-positive rate measured at that threshold
    tpr: float | None = None
    dataset: str | None = None  # what the evaluation was run on
    cached: bool = False

    @property
    def says_ai(self) -> bool:
        return self.threshold is not None and self.probability >= self.threshold

    def describe(self) -> str:
        """The sentence shown to people: always worded as a model's estimate."""
        text = f"a detector ({self.model} {self.version}) estimates {self.probability:.0%} likely AI"
        if self.threshold is None:
            return text + "; not evaluated on labelled data, so it does not count towards the verdict"
        where = f" on {self.dataset}" if self.dataset else ""
        text += f"; evaluated at {self.fpr:.1%} false positives{where}" if self.fpr is not None else ""
        if not self.says_ai:
            text += f"; below its threshold {self.threshold:.2f}"
        return text

    def to_evidence(self) -> Evidence:
        implies = Implication.AI_GENERATED if self.says_ai else Implication.INFO
        strength = min(self.probability, MODEL_ESTIMATE_MAX_STRENGTH) if self.says_ai else 0.0
        data: dict[str, Any] = {"model_estimate": True, "model": self.model, "version": self.version,
                                "score": self.score, "probability": self.probability, "threshold": self.threshold,
                                "fpr": self.fpr, "tpr": self.tpr, "dataset": self.dataset}
        return Evidence(READER, "pixels", f"{self.model} {self.version}", round(self.probability, 4), implies,
                        round(strength, 4), note=self.describe(), data=data)


def result_from_card(card: ModelCard, score: float, probability: float, *, cached: bool = False) -> DetectorResult:
    ev = card.evaluation
    return DetectorResult(card.name, card.version, float(score), float(probability),
                          ev.threshold if ev else None, ev.fpr if ev else None, ev.tpr if ev else None,
                          ev.dataset if ev else None, cached)


@runtime_checkable
class Detector(Protocol):
    """Anything that turns pixels into :class:`DetectorResult` objects.

    ``raw_scores`` gives the model's uncalibrated outputs (what ``detect eval`` calibrates);
    ``detect`` applies the card's calibration and threshold.
    """

    card: ModelCard

    def raw_scores(self, images: Sequence[Image.Image]) -> list[float]: ...

    def detect(self, images: Sequence[Image.Image]) -> list[DetectorResult]: ...


class CardDetector:
    """Shared ``detect``: calibrate the raw scores with the card. Adapters implement ``raw_scores``."""

    card: ModelCard

    def raw_scores(self, images: Sequence[Image.Image]) -> list[float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def detect(self, images: Sequence[Image.Image]) -> list[DetectorResult]:
        scores = self.raw_scores(images)
        probs = self.card.calibration.apply(scores) if scores else []
        return [result_from_card(self.card, s, p) for s, p in zip(scores, probs)]

    def evidence_for(self, image: Image.Image) -> Evidence:
        """The evidence for one image (what ``inspect_file(..., detectors=[...])`` calls)."""
        return self.detect([image])[0].to_evidence()

    @property
    def name(self) -> str:
        return self.card.label
