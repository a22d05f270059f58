"""``artlineage match`` (registered works in a dataset) and ``artlineage prompt check|scan``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape
from rich.console import Console
from rich.table import Table

from ._render import rate_progress

from ...matching.artist_names import ArtistEntry, load_artist_names, merge_entries
from ...datasets.paths import open_dataset
from ...matching.match import (DEFAULT_MAX_COMBINED, DEFAULT_MAX_DISTANCE, WorkMatcher, guard_entries_from_registry,
                               match_paths, terms_from_registry)
from ...matching.prompt_guard import PromptGuard, overall_decision

DECISION_STYLE = {"block": "bold red", "credit_required": "bold yellow", "warn": "yellow", "allow": "green"}

def open_registry(db: str | Path):  # type: ignore[no-untyped-def]
    """The artists' registry (imported here: SQLAlchemy loads only for the commands that need it)."""
    from ...registry.api import Registry
    return Registry(db)


prompt_app = typer.Typer(help="Find artist names in text prompts and decide from the artists' terms.",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("match")(match_cmd)
    app.add_typer(prompt_app, name="prompt")


def _existing_registry(registry: str) -> str:
    if "://" not in registry and not Path(registry).is_file():
        raise typer.BadParameter(f"{registry}: no such registry database", param_hint="--registry")
    return registry


def match_cmd(
    dataset: Path = typer.Argument(..., exists=True, help="Image folder, Parquet/CSV manifest with a local path "
                                                          "column, a scan database from `artlineage scan`, or "
                                                          "WebDataset shards (a .tar, or a folder of them)."),
    registry: str = typer.Option(..., "--registry", envvar="ARTLINEAGE_REGISTRY", help="Registry file or URL."),
    index: Optional[Path] = typer.Option(None, "--index", envvar="ARTLINEAGE_REGISTRY_INDEX",
                                         help="Persisted match index folder (default: <registry>.index for a "
                                              "SQLite file; rebuilt when stale)."),
    path_column: Optional[str] = typer.Option(None, "--path-column",
                                              help="Manifest column with local image paths (default: path, "
                                                   "local_path, filepath, ...)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, max=256, help="Matching processes."),
    method: str = typer.Option("copies", "--method",
                               help="copies: crop/mirror/rotation-robust copy detection (window hashes, then ORB + "
                                    "RANSAC verification with the 'copies' extra); hashes: global pHash+PDQ only "
                                    "(faster, misses crops, mirrors and rotations)."),
    copies_index: Optional[Path] = typer.Option(None, "--copies-index", envvar="ARTLINEAGE_COPIES_INDEX",
                                                help="Copy-detection index folder (default: <registry>.copies "
                                                     "next to a SQLite file; updated incrementally)."),
    max_distance: int = typer.Option(DEFAULT_MAX_DISTANCE, "--max-distance", min=0, max=32,
                                     help="Largest pHash Hamming distance (of 64 bits) counted as a match."),
    max_combined: float = typer.Option(DEFAULT_MAX_COMBINED, "--max-combined", min=0.0, max=1.0,
                                       help="Confirmation: pHash distance/64 + PDQ distance/256 at most this."),
    artist: Optional[str] = typer.Option(None, "--artist", help="Only this artist's works."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Find the registry's works in a dataset (resized, recompressed, cropped, mirrored, rotated or framed copies)."""
    if method not in ("copies", "hashes"):
        raise typer.BadParameter("copies or hashes", param_hint="--method")
    if method == "copies":
        return _match_copies(dataset, registry, index, copies_index, path_column, workers, artist, as_json, quiet)
    with open_registry(_existing_registry(registry)) as reg:
        matcher = WorkMatcher.from_registry(reg, index)
        try:
            source = open_dataset(dataset, path_column)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="DATASET") from exc
        progress, on_progress = rate_progress("hashing", quiet or as_json)
        with progress:
            report = match_paths(source, matcher, max_distance=max_distance, max_combined=max_combined,
                                 artist=artist, terms_for=terms_from_registry(reg), progress=on_progress,
                                 workers=workers, total=source.total)
    images = report.hashed + len(report.errors)
    if as_json:
        typer.echo(json.dumps({"registered_works": len(matcher), "index": matcher.how, "images": images,
                               "hashed": report.hashed,
                               "matches": [m.to_dict() for m in report.matches], "errors": report.errors}, indent=2))
        return
    out = Console()
    out.print(f"{report.hashed} image(s) hashed against {len(matcher)} registered work(s): "
              f"{len(report.matches)} match(es), {len(report.errors)} unreadable")
    if report.matches:
        t = Table(title="registered works found")
        for col in ("file", "work", "artist", "distance", "pdq", "style_imitation", "ai_training"):
            t.add_column(col)
        for m in report.matches:
            terms = m.terms or {}
            t.add_row(escape(m.path), escape(f"{m.work_id} {m.title or ''}".strip()), escape(m.artist), str(m.distance),
                      "" if m.pdq_distance is None else str(m.pdq_distance),
                      terms.get("style_imitation") or "unknown", terms.get("ai_training") or "unknown")
        out.print(t)
    for e in report.errors[:20]:
        out.print(f"[red]error[/red] {escape(str(e))}")


def _match_copies(dataset: Path, registry: str, index: Optional[Path], copies_index: Optional[Path],
                  path_column: Optional[str], workers: int, artist: Optional[str], as_json: bool, quiet: bool) -> None:
    from ...datasets.paths import open_dataset_images
    from ...matching.copies import CopyDetector
    from ...pipelines.copies import find_copies_in
    with open_registry(_existing_registry(registry)) as reg:
        detector = CopyDetector.from_registry(reg, copies_index, index)
        try:
            source = open_dataset_images(dataset, path_column)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="DATASET") from exc
        progress, on_progress = rate_progress("matching", quiet or as_json)
        with progress:
            report = find_copies_in(source, detector, artist=artist, terms_for=terms_from_registry(reg),
                                    progress=on_progress, total=source.total, workers=workers)
    images = report.hashed + len(report.errors)
    if as_json:
        typer.echo(json.dumps({"registered_works": len(detector), "method": "copies", "index": detector.how,
                               "verification": "orb+ransac" if detector.verify else "hashes only",
                               "images": images, "hashed": report.hashed,
                               "matches": [m.to_dict() for m in report.matches], "errors": report.errors}, indent=2))
        return
    out = Console()
    out.print(f"{report.hashed} image(s) checked against {len(detector)} registered work(s): "
              f"{len(report.matches)} match(es), {len(report.errors)} unreadable")
    out.print("candidates verified with ORB + RANSAC" if detector.verify else
              "[yellow]hashes only (crops and rotations are missed): install artlineage[copies][/yellow]")
    if report.matches:
        t = Table(title="registered works found")
        for col in ("file", "work", "artist", "score", "evidence", "style_imitation", "ai_training"):
            t.add_column(col)
        for m in report.matches:
            terms, ev = m.terms or {}, m.evidence or {}
            how = f"{ev.get('method')} d={m.distance}"
            if ev.get("inliers") is not None:
                how += f" inliers={ev['inliers']} rot={ev['rotation_deg']}° shown={ev['coverage']:.0%}"
            if ev.get("shared_words") is not None:
                how += f" words={ev['shared_words']}"
            if ev.get("mirrored"):
                how += " mirrored"
            t.add_row(escape(m.path), escape(f"{m.work_id} {m.title or ''}".strip()), escape(m.artist),
                      f"{m.score:.2f}", escape(how), terms.get("style_imitation") or "unknown",
                      terms.get("ai_training") or "unknown")
        out.print(t)
    for e in report.errors[:20]:
        out.print(f"[red]error[/red] {escape(str(e))}")


def _guard(registry: Optional[str], names: Optional[List[Path]], no_starter: bool) -> PromptGuard:
    lists: list[list[ArtistEntry]] = []
    if registry:
        with open_registry(_existing_registry(registry)) as reg:
            lists.append(guard_entries_from_registry(reg, include_starter=False))
    for n in names or []:
        lists.append(load_artist_names(n))
    if not no_starter:
        lists.append(load_artist_names())
    return PromptGuard(merge_entries(*lists))


RegistryOpt = typer.Option(None, "--registry", envvar="ARTLINEAGE_REGISTRY",
                           help="Artists' registry: adds its names and consent terms.")
NamesOpt = typer.Option(None, "--names", help="Extra artist names (CSV with name,aliases,living or JSON).")
NoStarterOpt = typer.Option(False, "--no-starter", help="Do not use the bundled starter list of names.")


@prompt_app.command("check")
def prompt_check_cmd(
    prompts: List[str] = typer.Argument(..., help="Prompt text(s)."),
    registry: Optional[str] = RegistryOpt,
    names: Optional[List[Path]] = NamesOpt,
    no_starter: bool = NoStarterOpt,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check prompts for artist names; exit status 2 when any prompt is blocked."""
    guard = _guard(registry, names, no_starter)
    results = [guard.check(p) for p in prompts]
    if as_json:
        typer.echo(json.dumps([{"prompt": p, "decision": overall_decision(r), "matches": [m.to_dict() for m in r]}
                               for p, r in zip(prompts, results)], indent=2, ensure_ascii=False))
    else:
        out = Console()
        for p, r in zip(prompts, results):
            d = overall_decision(r)
            out.print(f"[{DECISION_STYLE[d]}]{d}[/]  {escape(str(p))}")
            for m in r:
                how = m.matched_as + (f" {m.score:.0f}" if m.matched_as == "fuzzy" else "")
                out.print(f"    [{DECISION_STYLE[m.decision]}]{m.decision}[/] " + escape(
                    f"{m.text!r} -> {m.artist} ({how}{', ' + m.trigger if m.trigger else ''}"
                    f"{f', weight {m.weight}' if m.weight else ''}, confidence {m.confidence:.2f}): {m.reason}"))
    if any(overall_decision(r) == "block" for r in results):
        raise typer.Exit(2)


@prompt_app.command("scan")
def prompt_scan_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Parquet file."),
    column: str = typer.Option("prompt", "--column", help="Text column holding the prompts."),
    registry: Optional[str] = RegistryOpt,
    names: Optional[List[Path]] = NamesOpt,
    no_starter: bool = NoStarterOpt,
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write one JSON line per flagged row."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Scan a Parquet column of prompts, streaming record batches; prints counts by decision and artist."""
    import pyarrow.parquet as pq

    guard = _guard(registry, names, no_starter)
    pf = pq.ParquetFile(file)
    if column not in pf.schema_arrow.names:
        raise typer.BadParameter(f"no column {column!r}; columns: {', '.join(pf.schema_arrow.names)}")
    total = pf.metadata.num_rows
    by_decision: dict[str, int] = {}
    by_artist: dict[str, int] = {}
    row = 0
    t0 = time.perf_counter()
    sink = output.open("w", encoding="utf-8") if output else None
    progress, update = rate_progress("prompts", quiet or as_json, unit="prompts/s")
    try:
        with progress:
            for batch in pf.iter_batches(batch_size=65_536, columns=[column]):
                texts = batch.column(0).to_pylist()
                for text, found in zip(texts, guard.check_many(texts)):
                    d = overall_decision(found)
                    by_decision[d] = by_decision.get(d, 0) + 1
                    for m in found:
                        by_artist[m.artist] = by_artist.get(m.artist, 0) + 1
                    if sink and found:
                        sink.write(json.dumps({"row": row, "decision": d, "prompt": text,
                                               "matches": [m.to_dict() for m in found]}, ensure_ascii=False) + "\n")
                    row += 1
                update(row, total)
    finally:
        if sink:
            sink.close()
    seconds = time.perf_counter() - t0
    top = dict(sorted(by_artist.items(), key=lambda kv: -kv[1])[:25])
    if as_json:
        typer.echo(json.dumps({"rows": row, "seconds": round(seconds, 3), "by_decision": by_decision,
                               "top_artists": top}, indent=2, ensure_ascii=False))
        return
    out = Console()
    out.print(f"{row:,} prompt(s) in {seconds:.1f}s ({row / max(seconds, 1e-9):,.0f}/s)")
    t = Table(title="by decision")
    t.add_column("decision")
    t.add_column("prompts", justify="right")
    for d in ("block", "credit_required", "warn", "allow"):
        if d in by_decision:
            t.add_row(f"[{DECISION_STYLE[d]}]{d}[/]", f"{by_decision[d]:,}")
    out.print(t)
    if top:
        a = Table(title="most mentioned artists")
        a.add_column("artist")
        a.add_column("mentions", justify="right")
        for name, n in top.items():
            a.add_row(escape(name), f"{n:,}")
        out.print(a)
