"""Train and evaluate detectors on labelled folders, and write the evaluation report."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ._card import ModelCard
from ._folders import LabelledImages, ProgressFn, batched_scores
from .evaluation import DEFAULT_TARGET_FPR, EvaluationReport, evaluate_scores, fit_calibration
from .features import feature_extractor
from .trained import TrainingResult, train_detector


def labelled_folders(ai: Sequence[str | os.PathLike[str]], real: Sequence[str | os.PathLike[str]],
                     by: str = "folder") -> LabelledImages:
    if by not in ("folder", "generator"):
        raise ValueError(f"group by 'folder' or 'generator', not {by!r}")
    images = LabelledImages()
    for d in ai:
        images.add_folder(d, 1, by)
    for d in real:
        images.add_folder(d, 0, by)
    if not images.paths:
        raise ValueError("no images found in the given folders")
    return images


def train_from_folders(ai: Sequence[str | os.PathLike[str]], real: Sequence[str | os.PathLike[str]], *,
                       out: str | os.PathLike[str], name: str, version: str = "1", features: str = "residual",
                       calibration: str = "platt", target_fpr: float = DEFAULT_TARGET_FPR, seed: int = 0,
                       progress: ProgressFn | None = None) -> tuple[TrainingResult, list[tuple[str, str]]]:
    """Fit the trainable detector on ``--ai`` and ``--real`` folders; save its card in ``out``."""
    images = labelled_folders(ai, real)
    extractor = feature_extractor(features)
    ok, rows, errors = batched_scores(images.paths, extractor.features, progress=progress)
    x = np.asarray(rows, np.float32)
    labels = np.asarray([images.labels[i] for i in ok])
    result = train_detector(x[labels == 1], x[labels == 0], name=name, version=version, features=features,
                            calibration=calibration, target_fpr=target_fpr, seed=seed, out=out,
                            dataset=f"hold-out of the training folders ({', '.join(map(str, [*ai, *real]))})")
    return result, errors


@dataclass
class FolderEvaluation:
    report: EvaluationReport
    card: ModelCard  # with the new evaluation (and calibration, when asked)
    scores: list[float]
    paths: list[str]


def evaluate_folders(detector: Any, ai: Sequence[str | os.PathLike[str]], real: Sequence[str | os.PathLike[str]], *,
                     by: str = "folder", target_fpr: float = DEFAULT_TARGET_FPR, calibrate: str | None = None,
                     dataset: str | None = None, progress: ProgressFn | None = None) -> FolderEvaluation:
    """Score every labelled image, optionally re-calibrate, choose the threshold, break results down.

    ``calibrate`` ("platt" or "isotonic") fits the score → probability map on these images; the
    figures are then in-sample for the calibration (say so when reporting them; evaluate again on
    other data for an unbiased estimate).
    """
    images = labelled_folders(ai, real, by)
    ok, scores, errors = batched_scores(images.paths, detector.raw_scores, progress=progress)
    labels = [images.labels[i] for i in ok]
    groups = [images.groups[i] for i in ok]
    calibration = fit_calibration(scores, labels, calibrate) if calibrate else detector.card.calibration
    probs = calibration.apply(scores)
    report = evaluate_scores(detector.card.label, labels, probs, groups=groups, target_fpr=target_fpr,
                             calibration=calibration)
    report.errors = errors
    where = dataset or ", ".join(str(p) for p in [*ai, *real])
    card = detector.card.with_evaluation(report.evaluation(where), calibration)
    return FolderEvaluation(report, card, [float(s) for s in scores], [images.paths[i] for i in ok])


# ----- report (the shared kit: artlineage.reporting) ------------------------------------------------

def evaluation_charts(report: EvaluationReport) -> list[str]:
    """ROC and reliability charts as <img> tags; none without matplotlib (the ``detect`` extra)."""
    from ..reporting import figure_png, img_tag, new_figure

    try:
        fig, (roc, rel) = new_figure(1, 2, figsize=(9, 3.8))
    except ImportError:  # pragma: no cover - the detect extra brings matplotlib
        return []
    roc.plot(report.roc["fpr"], report.roc["tpr"], color="#1f5fa8", lw=2, label=f"AUC {report.auc:.3f}")
    roc.plot([0, 1], [0, 1], color="#999", lw=1, ls="--")
    roc.axvline(report.fpr, color="#c0392b", lw=1, label=f"threshold {report.threshold:.3f}: FPR {report.fpr:.1%}")
    roc.set_xscale("symlog", linthresh=0.01)
    roc.set_xlim(0, 1)
    roc.set_xlabel("false-positive rate (real images called AI)")
    roc.set_ylabel("true-positive rate")
    roc.legend(loc="lower right", fontsize=8)
    roc.set_title("ROC")
    rel.plot([0, 1], [0, 1], color="#999", lw=1, ls="--", label="perfect calibration")
    rel.plot([r["predicted"] for r in report.reliability], [r["observed"] for r in report.reliability],
             marker="o", color="#1f5fa8", label=f"detector (ECE {report.ece:.3f})")
    rel.set_xlabel("predicted probability of AI")
    rel.set_ylabel("observed share of AI images")
    rel.set_xlim(0, 1)
    rel.set_ylim(0, 1)
    rel.legend(loc="upper left", fontsize=8)
    rel.set_title("Reliability")
    return [img_tag(figure_png(fig, dpi=100), "ROC curve and reliability diagram")]


def _pct(v: float | None) -> str:
    return "not measurable (too few real images)" if v is None else f"{v:.1%}"


def evaluation_sections(report: EvaluationReport) -> list[str]:
    from ..reporting import html_table, section

    summary = html_table(["measure", "value"], [
        ("AI images / real images", f"{report.n_ai} / {report.n_real}"),
        ("ROC AUC", f"{report.auc:.4f}"),
        (f"threshold (chosen for ≤ {report.target_fpr:.1%} false positives)", f"{report.threshold:.4f}"),
        ("false / true positives at that threshold", f"{report.fpr:.2%} / {report.tpr:.2%}"),
        ("true positives at 1 % false positives", _pct(report.tpr_at_fpr.get("0.01"))),
        ("true positives at 0.1 % false positives", _pct(report.tpr_at_fpr.get("0.001"))),
        ("expected calibration error", f"{report.ece:.4f}"),
    ])
    note = ("<p><strong>A detector's output is a model's estimate, never proof.</strong> These figures hold for "
            "the images evaluated here; evaluate again when your data or the generators change.</p>")
    groups = html_table(["group", "label", "images", "called AI", "AUC (mixed groups)"],
                        [(g.group, g.label, g.n, f"{g.rate:.1%}", g.auc) for g in report.groups])
    out = [section("Summary", note + summary), section("Charts", "".join(evaluation_charts(report))),
           section("Where it fails", "<p>Share called AI at the threshold, per group: for AI groups the "
                                     "detection rate, for real groups the false-positive rate.</p>" + groups)]
    if report.errors:
        out.append(section(f"Unreadable images ({len(report.errors)})",
                           html_table(["file", "why"], report.errors[:200])))
    return out


def write_evaluation(report: EvaluationReport, card: ModelCard, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """``report.json`` and ``report.html`` (with charts) in ``out_dir``."""
    from ..reporting import write_report

    jpath, hpath = write_report(out_dir, {"model": card.to_dict(), "evaluation": report.to_dict()},
                                evaluation_sections(report), f"Detector evaluation: {card.label}")
    return {"json": jpath, "html": hpath}
