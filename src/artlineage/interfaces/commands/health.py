"""``artlineage health`` and ``artlineage collapse simulate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.console import Console
from rich.table import Table


def register(app: typer.Typer) -> None:
    app.command("health")(health_cmd)
    collapse = typer.Typer(help="Model-collapse simulator (Shumailov, Gerstgrasser, Bertrand).", no_args_is_help=True)
    collapse.command("simulate")(collapse_simulate_cmd)
    app.add_typer(collapse, name="collapse")


def health_cmd(
    target: Path = typer.Argument(..., exists=True, help="Scan database (from `artlineage scan`) or dataset folder."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write report.json and report.html into DIR."),
    min_real_share: Optional[float] = typer.Option(
        None, "--min-real-share", min=0.0, max=1.0,
        help="Keep a subset whose verified-human share is at least this (drops synthetic, then unknown)."),
    keep_list: Path = typer.Option(Path("kept.txt"), "--keep-list",
                                   help="Where the guard writes kept paths (.parquet or a text list)."),
    no_pixels: bool = typer.Option(False, "--no-pixels", help="Provenance shares only: no duplicates or diversity."),
    embedder: str = typer.Option("statistics", "--embedder",
                                 help="statistics | onnx:MODEL.onnx | open_clip:MODEL:CHECKPOINT"),
    max_distance: int = typer.Option(8, "--max-distance", min=0, max=32, help="pHash Hamming distance for duplicates."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Processes for the pixel pass."),
    save_embeddings: Optional[Path] = typer.Option(None, "--save-embeddings",
                                                   help="Save embeddings (.npy) for `collapse simulate --from`."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Dataset health: synthetic share, near duplicates, diversity (Vendi), real-data guard."""
    from ...health.embeddings import embedder_from_spec
    from ...health.guard import GuardError, guard_real_share, write_kept
    from ...health.pixels import compute_pixel_features
    from ...health.report import build_health_report, write_health_report
    from ...pipelines.health import load_records

    err = Console(stderr=True)
    records = load_records(target, pixels=not no_pixels)
    guard = None
    if min_real_share is not None:
        try:
            guard = guard_real_share(records, min_real_share)
        except GuardError as exc:
            err.print(f"[bold red]refused:[/bold red] {escape(str(exc))}")
            raise typer.Exit(2)
        out = write_kept(guard, keep_list)
        err.print(f"guard: kept {len(guard.kept)} of {len(records)} item(s) "
                  f"(verified-human share {guard.real_share:.2%} ≥ {min_real_share:.2%}) -> {out}")
    features = None
    emb = None
    if not no_pixels:
        emb = embedder_from_spec(embedder)
        readable = [r.path for r in records if r.origin != "error"]
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("[bold]hashing and embedding"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=err, disable=as_json) as bar:
            task = bar.add_task("features", total=len(readable))
            features = compute_pixel_features(readable, emb, workers=workers,
                                              progress=lambda done, total: bar.update(task, completed=done))
        if save_embeddings:
            import numpy as np

            np.save(save_embeddings, features.embeddings[features.ok])
    data = build_health_report(records, pixels=not no_pixels, embedder=emb, max_distance=max_distance,
                               guard=guard, features=features, source=str(target)).to_dict()
    if report:
        jpath, hpath = write_health_report(report, data)
        err.print(f"report: {jpath} {hpath}")
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    _print_summary(Console(), data)


def _print_summary(console: Console, data: dict) -> None:
    prov = data["provenance"]
    t = Table(title=f"{data['items']} item(s): provenance")
    t.add_column("class")
    t.add_column("share", justify="right")
    for label, key in (("synthetic (ai_generated + ai_edited)", "synthetic_share"),
                       ("verified human (camera + human_declared)", "verified_human_share"),
                       ("unknown (not counted as human)", "unknown_share"), ("algorithmic", "algorithmic_share")):
        t.add_row(label, f"{prov[key]:.2%}")
    if prov["errors"]:
        t.add_row("unreadable (excluded)", str(prov["errors"]))
    console.print(t)
    if prov["by_generator"]:
        console.print("generators: " + ", ".join(f"{k} ({v})" for k, v in prov["by_generator"].items()))
    if "duplicates" in data:
        d = data["duplicates"]
        console.print(f"near duplicates: {d['clusters']} cluster(s), {d['redundant_files']} redundant file(s), "
                      f"duplicate rate {d['duplicate_rate']:.2%} (Hamming ≤ {d['max_distance']})")
    if "diversity" in data:
        o = data["diversity"]["overall"]
        console.print(f"diversity: Vendi {o.get('vendi')} over {o['n']} item(s) ({data['diversity']['embedder']})")
    for r in data["recommendations"]:
        console.print(f"- {escape(r)}")


def collapse_simulate_cmd(
    report: Path = typer.Option(Path("collapse-report"), "--report", help="Output folder (report.json/html, PNGs)."),
    n: int = typer.Option(100, "--n", min=2, help="Samples per generation (single Gaussian)."),
    generations: int = typer.Option(100, "--generations", "-g", min=1),
    runs: int = typer.Option(200, "--runs", min=1, help="Independent chains (single Gaussian)."),
    lambdas: str = typer.Option("0,0.02,0.05,0.1,0.25,0.5", "--lambdas", help="Real-data fractions to sweep."),
    seed: int = typer.Option(0, "--seed"),
    no_mixture: bool = typer.Option(False, "--no-mixture", help="Skip the EM mixture experiment."),
    from_: Optional[Path] = typer.Option(None, "--from", exists=True,
                                         help="Embeddings (.npy), a scan database or a dataset folder to start from."),
    embedding_generations: int = typer.Option(10, "--embedding-generations", min=1),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Simulate model collapse: Gaussian (replace vs accumulate), real-data fraction λ, EM mixture, your data."""
    import numpy as np

    from ...health.collapse_report import build_collapse_report, write_collapse_report

    try:
        lam = [float(x) for x in lambdas.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter("--lambdas must be comma-separated numbers") from None
    if any(not 0 <= x <= 1 for x in lam):
        raise typer.BadParameter("every λ must be within [0, 1]")
    embeddings = None
    if from_ is not None:
        if from_.suffix == ".npy":
            embeddings = np.load(from_, allow_pickle=False)
        else:
            from ...health.pixels import compute_pixel_features
            from ...pipelines.health import load_records

            records = load_records(from_, pixels=False)
            feats = compute_pixel_features([r.path for r in records if r.origin != "error"])
            embeddings = feats.embeddings[feats.ok]
    data, figs = build_collapse_report(n=n, generations=generations, runs=runs, lambdas=lam, seed=seed,
                                       mixture=not no_mixture, embeddings=embeddings,
                                       embedding_generations=embedding_generations)
    jpath, hpath = write_collapse_report(report, data, figs)
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    console = Console()
    g = data["gaussian"]
    console.print(f"single Gaussian, n={n}, {generations} generations, {runs} runs, seed {seed}:")
    for mode, v in g.items():
        console.print(f"  {mode:10s} mean σ² {v['final_variance_mean']:.4g} (theory for replace: "
                      f"{v['theory_variance_replace_lambda0']:.4g}), mean W₂ {v['final_w2_mean']:.4g}")
    console.print("real-data fraction λ -> mean W₂ at generation 1 / last:")
    for k, v in data["real_fraction"].items():
        console.print(f"  λ={k:6s} {v['w2_first']:.4f} / {v['w2_final']:.4f}")
    for k, v in data.get("embeddings", {}).items():
        console.print(f"embeddings, {k}: precision {v['precision'][0]:.3f}->{v['precision'][-1]:.3f}, recall "
                      f"{v['recall'][0]:.3f}->{v['recall'][-1]:.3f}, tail coverage "
                      f"{v['tail_coverage'][0]:.3f}->{v['tail_coverage'][-1]:.3f}")
    console.print(f"report: {jpath} {hpath}")
