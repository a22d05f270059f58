"""A light detector trained on the user's own images: features → standardised logistic regression.

Training needs scikit-learn; using a trained detector needs only numpy. The classifier is saved as
plain numbers in the model card (scaler mean/scale, coefficients, intercept), not as a pickle:
loading a pickled model from someone else runs their code, loading this card cannot.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from ._base import CardDetector
from ._card import ModelCard, ModelCardError, load_card
from .evaluation import DEFAULT_TARGET_FPR, EvaluationReport, _sklearn, evaluate_scores, fit_calibration
from .features import feature_extractor


class TrainedDetector(CardDetector):
    """Logistic regression over ``card.extra["features"]`` features; raw score = the decision logit."""

    def __init__(self, card: ModelCard):
        try:
            w = card.extra["weights"]
            self.mean = np.asarray(w["mean"], np.float64)
            self.scale = np.asarray(w["scale"], np.float64)
            self.coef = np.asarray(w["coef"], np.float64)
            self.intercept = float(w["intercept"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelCardError(f"trained detector card {card.name!r} lacks its weights: {exc}") from None
        if not (self.mean.shape == self.scale.shape == self.coef.shape) or self.coef.ndim != 1:
            raise ModelCardError(f"trained detector card {card.name!r}: weight vectors differ in length")
        self.features = feature_extractor(card.extra.get("features"))
        self.card = card

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "TrainedDetector":
        card = load_card(path)
        if card.kind != "trained":
            raise ModelCardError(f"card {card.name!r} is of kind {card.kind!r}, not trained")
        return cls(card)

    def logits(self, features: np.ndarray) -> np.ndarray:
        if features.shape[1] != self.coef.shape[0]:
            raise ModelCardError(f"features have {features.shape[1]} values, the model expects {self.coef.shape[0]}")
        z = (features.astype(np.float64) - self.mean) / self.scale
        return z @ self.coef + self.intercept

    def raw_scores(self, images: Sequence[Image.Image]) -> list[float]:
        return [float(v) for v in self.logits(self.features.features(list(images)))]


@dataclass
class TrainingResult:
    detector: TrainedDetector
    holdout: EvaluationReport  # on the held-out part of the training images
    card_path: Path | None


def train_detector(ai_features: np.ndarray, real_features: np.ndarray, *, name: str, version: str = "1",
                   features: str = "residual", holdout: float = 0.3, seed: int = 0,
                   calibration: str = "platt", target_fpr: float = DEFAULT_TARGET_FPR,
                   out: str | os.PathLike[str] | None = None, dataset: str = "training hold-out",
                   groups: Sequence[str] | None = None) -> TrainingResult:
    """Fit on features of AI and real images, calibrate and evaluate on a stratified hold-out.

    The hold-out evaluation gives the card a first threshold; evaluate again on data like yours
    (``detect eval``) before acting on it.
    """
    _, _, linear_model, _ = _sklearn()
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x = np.concatenate([ai_features, real_features]).astype(np.float64)
    y = np.concatenate([np.ones(len(ai_features), int), np.zeros(len(real_features), int)])
    if min(len(ai_features), len(real_features)) < 4:
        raise ValueError("training needs at least 4 AI and 4 real images")
    if not np.all(np.isfinite(x)):
        raise ValueError("features contain non-finite values")
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=holdout, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(x[tr])
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    clf = linear_model.LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(
        (x[tr] - scaler.mean_) / scale, y[tr])
    weights = {"mean": scaler.mean_.tolist(), "scale": scale.tolist(), "coef": clf.coef_[0].tolist(),
               "intercept": float(clf.intercept_[0])}
    card = ModelCard(kind="trained", name=name, version=version,
                     description=f"logistic regression on {features} features, trained on "
                                 f"{int(y[tr].sum())} AI and {int((y[tr] == 0).sum())} real images",
                     extra={"features": features, "weights": weights})
    detector = TrainedDetector(card)
    logits = detector.logits(x[te])
    cal = fit_calibration(logits, y[te], calibration)
    report = evaluate_scores(card.label, y[te], cal.apply(logits), target_fpr=target_fpr, calibration=cal,
                             groups=None if groups is None else [groups[i] for i in te])
    card = card.with_evaluation(report.evaluation(dataset), cal)
    detector = TrainedDetector(card)
    path = None
    if out is not None:
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = card.save(out_dir / "detector.card.json")
    return TrainingResult(detector, report, path)
