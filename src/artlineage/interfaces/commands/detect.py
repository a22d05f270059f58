"""``artlineage detect train | eval | run``: learned detectors, evaluated on your own data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._render import rate_progress


def register(app: typer.Typer) -> None:
    detect = typer.Typer(help="Learned detectors as evidence: train, evaluate on your data, run.",
                         no_args_is_help=True)
    detect.command("train")(train_cmd)
    detect.command("eval")(eval_cmd)
    detect.command("run")(run_cmd)
    app.add_typer(detect, name="detect")


def _fail(message: str) -> None:
    Console(stderr=True).print(f"[bold red]error:[/bold red] {escape(message)}")
    raise typer.Exit(2)


def _print_summary(console: Console, report, title: str) -> None:
    t = Table(title=escape(title))
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("AI / real images", f"{report.n_ai} / {report.n_real}")
    t.add_row("ROC AUC", f"{report.auc:.4f}")
    t.add_row(f"threshold for ≤ {report.target_fpr:.1%} false positives", f"{report.threshold:.4f}")
    t.add_row("false / true positives at it", f"{report.fpr:.2%} / {report.tpr:.2%}")
    for k, v in report.tpr_at_fpr.items():
        t.add_row(f"true positives at {float(k):.1%} false positives",
                  "too few real images" if v is None else f"{v:.2%}")
    t.add_row("expected calibration error", f"{report.ece:.4f}")
    console.print(t)
    if report.groups:
        g = Table(title="called AI per group (AI groups: detection rate; real groups: false positives)")
        for col in ("group", "images", "called AI"):
            g.add_column(col)
        for row in report.groups:
            g.add_row(escape(row.group), str(row.n), f"{row.rate:.1%}")
        console.print(g)


def train_cmd(
    ai: List[Path] = typer.Option(..., "--ai", exists=True, file_okay=False, help="Folder of AI-made images (repeatable)."),
    real: List[Path] = typer.Option(..., "--real", exists=True, file_okay=False, help="Folder of real images (repeatable)."),
    out: Path = typer.Option(..., "--out", help="Folder for the model card (detector.card.json)."),
    name: str = typer.Option("artlineage-residual", "--name", help="Model name shown in evidence."),
    version: str = typer.Option("1", "--version", help="Model version shown in evidence."),
    embedder: str = typer.Option("residual", "--embedder",
                                 help="Features: residual (noise/frequency statistics, no weights) or onnx:MODEL.onnx."),
    calibration: str = typer.Option("platt", "--calibration", help="platt or isotonic."),
    target_fpr: float = typer.Option(0.01, "--target-fpr", min=1e-6, max=0.5,
                                     help="False-positive rate the hold-out threshold is chosen for."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Fit a light classifier (scikit-learn) on your labelled folders and save it with its model card."""
    from ...detectors import train_from_folders

    progress, update = rate_progress("features", quiet)
    try:
        with progress:
            result, errors = train_from_folders(ai, real, out=out, name=name, version=version, features=embedder,
                                                calibration=calibration, target_fpr=target_fpr, progress=update)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        _fail(str(exc))
    console = Console()
    _print_summary(console, result.holdout, f"{name} {version}: hold-out of the training folders")
    for path, why in errors[:20]:
        console.print(f"[yellow]skipped[/yellow] {escape(path)}: {escape(why)}")
    console.print(f"model card: {escape(str(result.card_path))}. Evaluate it on data like yours before use: "
                  f"artlineage detect eval {escape(str(out))} --ai ... --real ...")


def eval_cmd(
    model: Path = typer.Argument(..., exists=True, help="Model card, its folder, or a model file with its card beside it."),
    ai: List[Path] = typer.Option(..., "--ai", exists=True, file_okay=False, help="Folder of AI-made images (repeatable)."),
    real: List[Path] = typer.Option(..., "--real", exists=True, file_okay=False, help="Folder of real images (repeatable)."),
    report: Path = typer.Option(Path("detector-eval"), "--report", help="Folder for report.json and report.html (with charts)."),
    by: str = typer.Option("folder", "--by", help="Break results down by sub-folder or by generator (metadata)."),
    target_fpr: float = typer.Option(0.01, "--target-fpr", min=1e-6, max=0.5,
                                     help="False-positive rate the threshold is chosen for."),
    calibrate: Optional[str] = typer.Option(None, "--calibrate", help="Refit calibration on these images: platt or isotonic."),
    save_card: Optional[Path] = typer.Option(None, "--save-card",
                                             help="Write the card with this evaluation's threshold and rates here."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="How evidence names this data set."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """ROC AUC, true positives at 1 % and 0.1 % false positives, reliability, per-group failures."""
    from ...detectors import ModelCardError, evaluate_folders, load_detector, write_evaluation

    progress, update = rate_progress("scoring", quiet)
    try:
        detector = load_detector(model)
        with progress:
            ev = evaluate_folders(detector, ai, real, by=by, target_fpr=target_fpr, calibrate=calibrate,
                                  dataset=dataset, progress=update)
    except (ModelCardError, ValueError, FileNotFoundError, ImportError) as exc:
        _fail(str(exc))
    paths = write_evaluation(ev.report, ev.card, report)
    console = Console()
    _print_summary(console, ev.report, f"{ev.card.label} on your data")
    if calibrate:
        console.print("[yellow]calibration was fitted on these images: the figures are in-sample; "
                      "evaluate on other images for an unbiased estimate[/yellow]")
    if ev.report.errors:
        console.print(f"[yellow]{len(ev.report.errors)} unreadable image(s)[/yellow], listed in {escape(str(paths['html']))}")
    if save_card:
        ev.card.save(save_card)
        console.print(f"card with this threshold: {escape(str(save_card))}")
    console.print(f"report: {escape(str(paths['html']))}")


def run_cmd(
    model: Path = typer.Argument(..., exists=True, help="Model card, its folder, or a model file with its card beside it."),
    files: List[Path] = typer.Argument(..., help="Images to score."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score images with one detector (a model's estimate, with its evaluated error rate)."""
    from ...detectors import ModelCardError, load_detector
    from ...detectors._folders import open_image

    try:
        detector = load_detector(model)
    except (ModelCardError, ImportError) as exc:
        _fail(str(exc))
    rows = []
    for f in files:
        try:
            [result] = detector.detect([open_image(str(f))])
            rows.append({"path": str(f), "probability": result.probability, "score": result.score,
                         "says_ai": result.says_ai, "threshold": result.threshold, "note": result.describe()})
        except Exception as exc:  # noqa: BLE001 - one bad file is a per-file error
            rows.append({"path": str(f), "error": f"{type(exc).__name__}: {exc}"})
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    console = Console()
    for row in rows:
        if "error" in row:
            console.print(f"[red]error[/red] {escape(row['path'])}: {escape(row['error'])}")
        else:
            console.print(f"{escape(row['path'])}: {escape(row['note'])}")
