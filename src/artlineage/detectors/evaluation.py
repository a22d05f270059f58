"""Evaluate and calibrate a detector on the user's own labelled images.

What an operator needs before acting on a detector is its error rates *on data like theirs*:
ROC AUC, the true-positive rate at 1 % and 0.1 % false positives, whether its probabilities mean
what they say (a reliability curve), and where it fails (per source folder or generator). The
decision threshold is chosen here, from the real images' scores, for a target false-positive
rate — never hard-coded — and written into the model card with the rates measured at it.

Metrics come from scikit-learn (``roc_auc_score``, ``roc_curve``, ``calibration_curve``,
``IsotonicRegression``); this module only arranges them.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from ._card import Calibration, Evaluation

DEFAULT_TARGET_FPR = 0.01
REPORTED_FPRS = (0.01, 0.001)


def _sklearn():
    try:
        from sklearn import calibration, isotonic, linear_model, metrics
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("detector training and evaluation need scikit-learn: pip install 'artlineage[detect]'") from exc
    return calibration, isotonic, linear_model, metrics


def fit_calibration(scores: Sequence[float], labels: Sequence[int], method: str = "platt") -> Calibration:
    """Fit a score → probability map on labelled scores (1 = AI)."""
    _, isotonic, linear_model, _ = _sklearn()
    s = np.asarray(scores, np.float64).reshape(-1, 1)
    y = np.asarray(labels, int)
    if len(set(y.tolist())) < 2:
        raise ValueError("calibration needs both AI and real images")
    if method == "platt":
        lr = linear_model.LogisticRegression(C=1e6, max_iter=1000).fit(s, y)
        return Calibration("platt", a=float(lr.coef_[0, 0]), b=float(lr.intercept_[0]))
    if method == "isotonic":
        iso = isotonic.IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(s.ravel(), y)
        x = np.asarray(iso.X_thresholds_, np.float64)
        v = np.asarray(iso.y_thresholds_, np.float64)
        return Calibration("isotonic", x=tuple(float(a) for a in x), y=tuple(float(b) for b in v))
    raise ValueError(f"unknown calibration method {method!r}: platt or isotonic")


def threshold_for_fpr(real_probabilities: Sequence[float], target_fpr: float) -> float:
    """The lowest threshold at which at most ``target_fpr`` of these real images score at or above it."""
    real = np.sort(np.asarray(real_probabilities, np.float64))[::-1]
    if real.size == 0:
        raise ValueError("choosing a threshold needs real (non-AI) images")
    allowed = int(math.floor(target_fpr * real.size + 1e-9))
    if allowed >= real.size:
        return float(real[-1])
    return float(np.nextafter(real[allowed], np.inf))


def tpr_at_fpr(labels: np.ndarray, probabilities: np.ndarray, fpr: float) -> float | None:
    """Highest TPR with FPR ≤ ``fpr`` on the ROC curve; None when too few real images to measure it."""
    n_real = int((labels == 0).sum())
    if n_real * fpr < 1.0:
        return None  # 0.1 % FPR needs at least 1,000 real images to mean anything
    _, _, _, metrics = _sklearn()
    f, t, _ = metrics.roc_curve(labels, probabilities)
    ok = f <= fpr + 1e-12
    return float(t[ok].max()) if ok.any() else 0.0


@dataclass
class GroupResult:
    group: str
    label: str  # "ai", "real" or "mixed"
    n: int
    rate: float  # AI groups: share called AI (TPR); real groups: share called AI (FPR)
    auc: float | None = None


@dataclass
class EvaluationReport:
    model: str
    n_ai: int
    n_real: int
    auc: float
    target_fpr: float
    threshold: float
    fpr: float
    tpr: float
    tpr_at_fpr: dict[str, float | None]
    ece: float  # expected calibration error over the reliability bins
    reliability: list[dict[str, float]]  # per bin: mean predicted, observed AI share, count
    roc: dict[str, list[float]]  # fpr, tpr (thinned) for the chart
    groups: list[GroupResult] = field(default_factory=list)
    calibration: Calibration | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, why) for unreadable images

    def evaluation(self, dataset: str) -> Evaluation:
        """The card entry: threshold and the rates measured at it."""
        return Evaluation(dataset=dataset, n_ai=self.n_ai, n_real=self.n_real, threshold=self.threshold,
                          fpr=self.fpr, tpr=self.tpr, auc=self.auc, target_fpr=self.target_fpr,
                          tpr_at_fpr={k: v for k, v in self.tpr_at_fpr.items() if v is not None},
                          evaluated_at=_dt.date.today().isoformat())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["calibration"] = asdict(self.calibration) if self.calibration else None
        return d


def _reliability(labels: np.ndarray, probs: np.ndarray, bins: int) -> tuple[list[dict[str, float]], float]:
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(probs, edges[1:-1], right=False), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        m = idx == b
        if not m.any():
            continue
        conf, acc, n = float(probs[m].mean()), float(labels[m].mean()), int(m.sum())
        rows.append({"bin_low": float(edges[b]), "bin_high": float(edges[b + 1]), "predicted": conf,
                     "observed": acc, "count": n})
        ece += n / len(labels) * abs(conf - acc)
    return rows, float(ece)


def evaluate_scores(model: str, labels: Sequence[int], probabilities: Sequence[float], *,
                    groups: Sequence[str] | None = None, target_fpr: float = DEFAULT_TARGET_FPR,
                    bins: int = 10, calibration: Calibration | None = None) -> EvaluationReport:
    """Every figure ``detect eval`` reports, from labels (1 = AI) and calibrated probabilities."""
    _, _, _, metrics = _sklearn()
    y = np.asarray(labels, int)
    p = np.asarray(probabilities, np.float64)
    if y.shape != p.shape or y.size == 0:
        raise ValueError("labels and probabilities must be non-empty and of the same length")
    if not ((y == 0).any() and (y == 1).any()):
        raise ValueError("evaluation needs both AI and real images")
    if not 0.0 < target_fpr < 1.0:
        raise ValueError(f"target false-positive rate must be in (0, 1), got {target_fpr}")
    auc = float(metrics.roc_auc_score(y, p))
    threshold = threshold_for_fpr(p[y == 0], target_fpr)
    # Of the thresholds that keep this true-positive rate, take the highest: fewer false positives
    # for the same detections (on separable data: no false positive at all).
    caught = p[(y == 1) & (p >= threshold)]
    if caught.size:
        threshold = float(caught.min())
    called = p >= threshold
    fpr = float(called[y == 0].mean())
    tpr = float(called[y == 1].mean())
    reliability, ece = _reliability(y, p, bins)
    f, t, _ = metrics.roc_curve(y, p)
    keep = np.unique(np.linspace(0, len(f) - 1, min(len(f), 400)).astype(int))
    report = EvaluationReport(model, int((y == 1).sum()), int((y == 0).sum()), auc, target_fpr, threshold, fpr, tpr,
                              {str(r): tpr_at_fpr(y, p, r) for r in REPORTED_FPRS}, ece, reliability,
                              {"fpr": f[keep].tolist(), "tpr": t[keep].tolist()}, calibration=calibration)
    if groups is not None:
        g = np.asarray(list(groups), dtype=object)
        for name in sorted(set(g.tolist())):
            m = g == name
            gy = y[m]
            label = "ai" if gy.all() else ("real" if not gy.any() else "mixed")
            group_auc = float(metrics.roc_auc_score(gy, p[m])) if label == "mixed" else None
            report.groups.append(GroupResult(str(name), label, int(m.sum()), float(called[m].mean()), group_auc))
    return report
