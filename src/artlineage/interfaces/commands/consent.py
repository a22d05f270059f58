"""``artlineage filter`` (drop rows whose rights-holders reserved AI use) and ``artlineage optout``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from ...errors import ConfigurationError
from ...vocabulary import ALL_USES


def register(app: typer.Typer) -> None:
    app.command("filter")(filter_cmd)
    app.command("optout")(optout_cmd)


def _agents(agent: Optional[List[str]], agents_file: Optional[Path]) -> tuple[str, ...] | None:
    replace = None
    if agents_file is not None:
        replace = [ln.strip() for ln in agents_file.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    if replace is None and not agent:
        return None
    from ...signals.web import ai_agents

    return ai_agents(replace, extra_agents=agent or ())


def filter_cmd(
    manifest: Path = typer.Argument(..., exists=True, help="Parquet/CSV/TSV/TXT manifest, folder of them, "
                                    "WebDataset .tar (or folder of .tar), or a folder of images."),
    out: Path = typer.Option(..., "--out", help="Output folder (kept.parquet, excluded.parquet, report.*)."),
    url_col: str = typer.Option("url", "--url-col", help="URL column (img2dataset convention: url)."),
    in_file: Optional[bool] = typer.Option(None, "--in-file/--no-in-file", help="Read C2PA/IPTC consent "
                                           "inside the images. Default: for local files only; --in-file also "
                                           "downloads web images."),
    no_head: bool = typer.Option(False, "--no-head", help="Skip per-URL headers (site files only)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Worker processes (one shard each)."),
    backend: str = typer.Option("local", "--backend", help="local or ray."),
    shard_size: int = typer.Option(10_000, "--shard-size", min=1, help="Rows per shard (the unit of resume)."),
    agent: Optional[List[str]] = typer.Option(None, "--agent", help="Extra AI agent token to honour."),
    agents_file: Optional[Path] = typer.Option(None, "--agents-file", help="Replace the AI agent list (one a line)."),
    allow_private: bool = typer.Option(False, "--allow-private", help="Allow private/loopback addresses."),
    concurrency: int = typer.Option(64, "--concurrency"),
    per_host: int = typer.Option(4, "--per-host", help="Concurrent requests per host."),
    delay: float = typer.Option(0.0, "--delay", help="Seconds between requests to one host."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="SQLite signal cache (default OUT/signals-cache.sqlite)."),
    ttl: float = typer.Option(86400.0, "--cache-ttl", help="Cache lifetime, seconds."),
    use: Optional[List[str]] = typer.Option(None, "--use", help=f"Exclude when one of these uses is reserved "
                                            f"(default all: {', '.join(ALL_USES)})."),
    registry: Optional[Path] = typer.Option(None, "--registry", help="Artists' registry (SQLite file or URL): "
                                            "rows matching a registered work (URL, sha256, or an image that is a "
                                            "copy of it: local files, shards, web rows with --in-file) or "
                                            "artist get its terms."),
    registry_images: bool = typer.Option(True, "--registry-images/--no-registry-images",
                                         help="With --registry: also match images against registered works "
                                              "(copy detection)."),
    artist_col: str = typer.Option("artist", "--artist-col", help="Column naming the artist (with --registry)."),
    sha256_col: str = typer.Option("sha256", "--sha256-col", help="Column with the image sha256 (with --registry)."),
    health: bool = typer.Option(False, "--health", help="Add dataset health of the kept local files (synthetic "
                                "share, near duplicates, diversity) to the same report."),
    scan_db: Optional[Path] = typer.Option(None, "--scan-db", help="With --health: take provenance from this "
                                           "`artlineage scan` database instead of inspecting the files."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Filter a dataset manifest: keep rows whose rights-holders did not reserve AI use."""
    # Imported here so that `artlineage --help` and the other commands do not load httpx/pyarrow.
    from ...pipelines.consent_filter import FilterConfig, filter_manifest
    from ...pipelines.registry_consent import RegistryConsent

    try:  # FilterConfig validates uses (registry scope names accepted) and the backend
        cfg = FilterConfig(shard_size=shard_size, workers=workers, backend=backend,
                           agents=_agents(agent, agents_file), in_file=in_file, head=not no_head,
                           allow_private=allow_private, url_col=url_col, exclude_uses=tuple(use or ALL_USES),
                           cache_path=str(cache) if cache else None, cache_ttl=ttl, concurrency=concurrency,
                           per_host_concurrency=per_host, per_host_delay=delay,
                           registry_terms=RegistryConsent(registry, url_col=url_col, sha256_col=sha256_col,
                                                          artist_col=artist_col, match_images=registry_images)
                           if registry else None)
    except ConfigurationError as exc:
        raise typer.BadParameter(str(exc)) from None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]filtering"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
                   TimeElapsedColumn(), console=Console(stderr=True), disable=as_json)
    with bar:
        task = bar.add_task("filter", total=None)

        def on_progress(rows: int, total: int) -> None:
            bar.update(task, completed=rows, total=total if total >= 0 else None)

        summary = filter_manifest(manifest, out, cfg, progress=on_progress)
    if health:
        from ...pipelines.audit import health_of_kept, health_sections_for_audit
        from ...pipelines.consent_filter import write_report

        report = health_of_kept(out, scan_db=scan_db, workers=workers)
        write_report(out, summary, extra={"health": report}, extra_sections=health_sections_for_audit(report))
    if as_json:
        typer.echo((out / "report.json").read_text())
        return
    c = Console()
    c.print(f"{summary.input_rows} rows: [green]{summary.kept} kept[/green], [red]{summary.excluded} excluded[/red] "
            f"in {summary.seconds:.1f}s ({summary.rows_per_second:,.0f} rows/s); report: {out / 'report.html'}")
    for reason, n in summary.excluded_by_reason.items():
        c.print(f"  {reason}: {n}")


def optout_cmd(
    url: str = typer.Argument(..., help="URL to check."),
    agent: Optional[List[str]] = typer.Option(None, "--agent"),
    allow_private: bool = typer.Option(False, "--allow-private"),
    deadline: float = typer.Option(30.0, "--deadline", min=0.1, help="Seconds one fetch may take in all "
                                   "(redirects and retries included)."),
) -> None:
    """Show every web opt-out signal for one URL, with the rule that fired."""
    from ...signals.web import check_url

    result = check_url(url, agents=_agents(agent, None), allow_private=allow_private, deadline=deadline)
    if "url" in result.errors:  # the URL itself is malformed: nothing was fetched
        typer.echo(f"error: {result.errors['url']}", err=True)
        raise typer.Exit(2)
    typer.echo(json.dumps({"url": url, "evidence": [e.to_dict() for e in result.evidence],
                           "errors": result.errors}, indent=2, default=str))
