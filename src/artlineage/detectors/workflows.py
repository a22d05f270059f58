"""Train and evaluate detectors on labelled folders, and write the evaluation report."""

from __future__ import annotations

import html
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._files import write_text_atomic
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


# ----- report ---------------------------------------------------------------------------------------

def _png(fig: Any) -> str:
    import base64

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def evaluation_charts(report: EvaluationReport) -> dict[str, str]:
    """ROC and reliability charts as PNG data URLs (matplotlib's object API: no global backend change)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - the health extra brings matplotlib
        return {}
    roc = Figure(figsize=(4.2, 3.6))
    ax = roc.subplots()
    ax.plot(report.roc["fpr"], report.roc["tpr"], color="#1f5fa8", lw=2, label=f"AUC {report.auc:.3f}")
    ax.plot([0, 1], [0, 1], color="#999", lw=1, ls="--")
    ax.axvline(report.fpr, color="#c0392b", lw=1, label=f"threshold {report.threshold:.3f}: FPR {report.fpr:.1%}")
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_xlim(0, 1)
    ax.set_xlabel("false-positive rate (real images called AI)")
    ax.set_ylabel("true-positive rate")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("ROC")
    rel = Figure(figsize=(4.2, 3.6))
    ax = rel.subplots()
    pred = [r["predicted"] for r in report.reliability]
    obs = [r["observed"] for r in report.reliability]
    ax.plot([0, 1], [0, 1], color="#999", lw=1, ls="--", label="perfect calibration")
    ax.plot(pred, obs, marker="o", color="#1f5fa8", label=f"detector (ECE {report.ece:.3f})")
    ax.set_xlabel("predicted probability of AI")
    ax.set_ylabel("observed share of AI images")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("Reliability")
    return {"roc": _png(roc), "reliability": _png(rel)}


def _pct(v: float | None) -> str:
    return "not measurable (too few real images)" if v is None else f"{v:.1%}"


def render_evaluation_html(report: EvaluationReport, card: ModelCard) -> str:
    charts = evaluation_charts(report)
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(g.group)}</td><td>{e(g.label)}</td><td>{g.n}</td><td>{g.rate:.1%}</td>"
        f"<td>{'' if g.auc is None else f'{g.auc:.3f}'}</td></tr>" for g in report.groups)
    fails = "".join(f"<li>{e(p)}: {e(why)}</li>" for p, why in report.errors[:50])
    img = "".join(f'<img src="{src}" alt="{e(name)} chart" style="max-width:100%">' for name, src in charts.items())
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Detector evaluation: {e(card.label)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}
.note{{background:#fff6e0;padding:.6em 1em;border-left:4px solid #e0a000}}</style></head><body>
<h1>Detector evaluation: {e(card.label)}</h1>
<p class="note">A detector's output is a model's estimate, never proof. These figures hold for the images
evaluated here; re-evaluate when your data or the generators change.</p>
<table>
<tr><th>AI images / real images</th><td>{report.n_ai} / {report.n_real}</td></tr>
<tr><th>ROC AUC</th><td>{report.auc:.4f}</td></tr>
<tr><th>threshold (chosen for ≤ {report.target_fpr:.1%} false positives)</th><td>{report.threshold:.4f}</td></tr>
<tr><th>at that threshold</th><td>false positives {report.fpr:.2%}, true positives {report.tpr:.2%}</td></tr>
<tr><th>true positives at 1 % false positives</th><td>{_pct(report.tpr_at_fpr.get("0.01"))}</td></tr>
<tr><th>true positives at 0.1 % false positives</th><td>{_pct(report.tpr_at_fpr.get("0.001"))}</td></tr>
<tr><th>expected calibration error</th><td>{report.ece:.4f}</td></tr>
</table>
<h2>Charts</h2>{img}
<h2>Where it fails</h2>
<p>Share called AI per group at the threshold: for AI groups the detection rate, for real groups the false-positive rate.</p>
<table><tr><th>group</th><th>label</th><th>images</th><th>called AI</th><th>AUC (mixed groups)</th></tr>{rows}</table>
{f"<h2>Unreadable images ({len(report.errors)})</h2><ul>{fails}</ul>" if report.errors else ""}
</body></html>"""


def write_evaluation(report: EvaluationReport, card: ModelCard, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "evaluation.json", "html": out / "evaluation.html"}
    write_text_atomic(json.dumps(report.to_dict(), indent=2, default=float) + "\n", paths["json"])
    write_text_atomic(render_evaluation_html(report, card), paths["html"])
    return paths
