"""``artlineage inspect``, ``artlineage scan`` and ``artlineage readers``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape
from rich.console import Console
from rich.table import Table

from ..._inspect import inspect_file
from ...pipelines.scan import scan_directory
from ...signals._registry import get_readers
from ._render import origin_text, rate_progress, render_report


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect_cmd)
    app.command("scan")(scan_cmd)
    app.command("readers")(readers_cmd)


def inspect_cmd(
    files: List[Path] = typer.Argument(..., help="Image files to inspect."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one object per file, in a list)."),
    no_pixels: bool = typer.Option(False, "--no-pixels", help="Metadata only: skip watermark/stealth readers."),
    reader: Optional[List[str]] = typer.Option(None, "--reader", help="Run only these readers."),
    detector: Optional[List[Path]] = typer.Option(
        None, "--detector", help="Also run this learned detector (model card or model with its card; repeatable). "
                                 "Its result is shown as a model's estimate, never as file evidence."),
) -> None:
    """Show the provenance verdict of each file, with the evidence behind it."""
    detectors = []
    if detector:
        from ...detectors import ModelCardError, load_detector

        try:
            detectors = [load_detector(d) for d in detector]
        except (ModelCardError, ImportError) as exc:
            Console(stderr=True).print(f"[bold red]error:[/bold red] {escape(str(exc))}")
            raise typer.Exit(2)
    reports = [inspect_file(f, pixels=not no_pixels, readers=reader, detectors=detectors) for f in files]
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in reports], indent=2, default=str))
    else:
        console = Console()
        for r in reports:
            render_report(console, r)
    if all(r.error for r in reports):
        raise typer.Exit(1)


def scan_cmd(
    directory: Path = typer.Argument(..., exists=True, help="Folder to scan (recursively)."),
    db: str = typer.Option("scan.sqlite", "--db", help="SQLite file or SQLAlchemy URL for the results."),
    workers: int = typer.Option(0, "--workers", "-w", min=0,
                                help="Worker processes (0: one per core when the scan is big enough)."),
    no_pixels: bool = typer.Option(False, "--no-pixels", help="Metadata-only scan (fastest)."),
    all_files: bool = typer.Option(False, "--all-files", help="Inspect every file, not only image extensions."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    detector: Optional[List[Path]] = typer.Option(
        None, "--detector", help="Also run this learned detector (model card; repeatable); stored as a model's "
                                 "estimate, never as file evidence."),
) -> None:
    """Scan a folder into a database, one row per file; rerun to resume or to pick up changes."""
    cards = tuple(str(d) for d in detector or [])
    if cards:
        from ...detectors import ModelCardError, load_detectors

        try:
            load_detectors(cards)
        except (ModelCardError, ImportError) as exc:
            Console(stderr=True).print(f"[bold red]error:[/bold red] {escape(str(exc))}")
            raise typer.Exit(2)
    progress, on_progress = rate_progress("scanning", quiet or as_json, unit="files/s")
    with progress:
        summary = scan_directory(directory, db, pixels=not no_pixels, workers=workers or None, all_files=all_files,
                                 progress=on_progress, detectors=cards)
    store = summary.store
    assert store is not None
    if as_json:
        typer.echo(json.dumps({
            "scanned": summary.scanned, "skipped_unchanged": summary.skipped_unchanged,
            "errors": summary.errors, "seconds": round(summary.seconds, 3),
            "files_per_second": round(summary.files_per_second, 1), "total_rows": store.total,
            "by_origin": store.by_origin, "by_generator": store.by_generator,
            "error_rows": store.errors, "error_files": summary.error_files,
        }, indent=2))
        return
    out = Console()
    out.print(f"scanned {summary.scanned} file(s), skipped {summary.skipped_unchanged} unchanged, "
              f"{summary.errors} error(s), {summary.seconds:.2f}s ({summary.files_per_second:,.0f} files/s)")
    t = Table(title=f"{db}: {store.total} row(s) by origin")
    t.add_column("origin")
    t.add_column("files", justify="right")
    for origin, n in store.by_origin.items():
        t.add_row(origin_text(origin), str(n))
    if store.errors:
        t.add_row(origin_text("error"), str(store.errors))
    out.print(t)
    if store.by_generator:
        g = Table(title="by generator")
        g.add_column("generator")
        g.add_column("files", justify="right")
        for gen, n in store.by_generator.items():
            g.add_row(escape(gen), str(n))
        out.print(g)
    for path, err in summary.error_files[:20]:
        out.print(f"[red]error[/red] {escape(path)}: {escape(err)}")
    if len(summary.error_files) > 20:
        out.print(f"... and {len(summary.error_files) - 20} more errors (see the database)")


def readers_cmd() -> None:
    """List the registered signal readers."""
    t = Table(title="signal readers")
    for col in ("name", "pixels", "description", "reads from"):
        t.add_column(col)
    for r in get_readers():
        t.add_row(r.name, "yes" if r.needs_pixels else "", r.description, "\n".join(r.formats))
    Console().print(t)
