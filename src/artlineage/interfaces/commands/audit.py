"""``artlineage audit``: one pass over a dataset (local or object storage) into filtered shards + one report."""

from __future__ import annotations

from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape

from ...signals._iptc_vocab import ALL_USES


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_cmd)


def audit_cmd(
    source: str = typer.Argument(..., help="WebDataset tars, Parquet files (URLs or image bytes) or a folder of "
                                 "images: a local path, s3://bucket/prefix or gs://bucket/prefix."),
    out: str = typer.Option(..., "--out", help="Output folder or prefix (local, s3://, gs://): filtered shards/, "
                            "excluded/, duplicates.parquet, report.html."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Worker processes (one shard each)."),
    backend: str = typer.Option("local", "--backend", help="local (process pool) or ray."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (with --backend ray)."),
    full: bool = typer.Option(False, "--full", help="Also run the pixel signal readers (invisible watermarks, "
                              "stealth metadata): slower, finds more AI images."),
    metadata_only: bool = typer.Option(False, "--metadata-only", help="Decode no pixels: provenance and consent "
                                       "only (no near duplicates, registry copies or embeddings)."),
    embeddings: bool = typer.Option(False, "--embeddings", help="Compute diversity embeddings (Vendi in the report)."),
    embedder: Optional[str] = typer.Option(None, "--embedder", help="Embedder spec (default: image statistics; "
                                           "onnx:model.onnx for a CLIP-style ONNX model)."),
    no_web: bool = typer.Option(False, "--no-web", help="Skip web opt-outs (robots.txt, ai.txt, TDMRep, headers)."),
    no_head: bool = typer.Option(False, "--no-head", help="Site files only, no per-URL request."),
    allow_private: bool = typer.Option(False, "--allow-private", help="Allow private/loopback addresses."),
    cache: Optional[str] = typer.Option(None, "--cache", help="Web signal cache (SQLite on each host)."),
    use: Optional[List[str]] = typer.Option(None, "--use", help=f"Exclude when one of these uses is reserved "
                                            f"(default all: {', '.join(ALL_USES)})."),
    exclude_origin: Optional[List[str]] = typer.Option(None, "--exclude-origin", help="Also exclude images of this "
                                                       "provenance (e.g. ai_generated); repeatable."),
    registry: Optional[str] = typer.Option(None, "--registry", help="Artists' registry (SQLite file or URL): "
                                           "perceptual matches to registered works, and their terms."),
    exclude_registered: bool = typer.Option(False, "--exclude-registered", help="Exclude every registry match."),
    no_dedup: bool = typer.Option(False, "--no-dedup", help="Skip the global near-duplicate step."),
    max_distance: int = typer.Option(8, "--max-distance", min=0, max=63, help="Near duplicates: pHash bits."),
    partitions: int = typer.Option(16, "--partitions", min=1, help="Partitions of the global duplicate step."),
    shard_size: int = typer.Option(10_000, "--shard-size", min=1, help="Images per shard for folders of files."),
    storage_option: Optional[List[str]] = typer.Option(None, "--storage-option", "-s", help="fsspec option "
                                                       "KEY=VALUE for s3:// / gs:// (e.g. endpoint_url=...)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Audit a dataset in one pass: provenance, consent, registry matches, near duplicates; write filtered shards."""
    from ...datasets.filesystems import storage_options_from_pairs
    from ...pipelines.dataset_audit import AuditConfig, run_audit

    if backend not in ("local", "ray"):
        raise typer.BadParameter("--backend must be local or ray")
    if metadata_only and (full or embeddings or registry):
        raise typer.BadParameter("--metadata-only decodes no pixels: it excludes --full, --embeddings and --registry")
    bad = [u for u in (use or []) if u not in ALL_USES]
    if bad:
        raise typer.BadParameter(f"unknown use(s) {bad}; known: {ALL_USES}")
    cfg = AuditConfig(workers=workers, backend=backend, address=address, pixels=full, embeddings=embeddings,
                      hashes=not metadata_only, embedder=embedder, web=not no_web, head=not no_head, allow_private=allow_private,
                      cache_path=cache, exclude_uses=tuple(use or ALL_USES),
                      exclude_origins=tuple(exclude_origin or ()), registry=registry,
                      exclude_registered=exclude_registered, dedup=not (no_dedup or metadata_only), dedup_max_distance=max_distance,
                      dedup_partitions=partitions, shard_size=shard_size,
                      storage_options=storage_options_from_pairs(storage_option))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]auditing"), BarColumn(), MofNCompleteColumn(), TextColumn("shards"),
                   TimeElapsedColumn(), console=Console(stderr=True), disable=as_json)
    with bar:
        task = bar.add_task("audit", total=None)
        summary = run_audit(source, out, cfg, progress=lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        from ...datasets.filesystems import open_location

        typer.echo(open_location(out, cfg.storage_options).child("report.json").read_bytes().decode())
        return
    c = Console()
    dup = summary.duplicates
    c.print(f"{summary.input_rows} images in {summary.shards} shards ({summary.shards_resumed} resumed): "
            f"[green]{summary.kept} kept[/green], [red]{summary.excluded} excluded[/red] in {summary.seconds:.1f}s "
            f"({summary.images_per_second:,.0f} images/s)")
    for reason, n in summary.excluded_by_reason.items():
        c.print(f"  {escape(reason)}: {n}")
    if dup:
        c.print(f"near duplicates: {dup['redundant_files']} redundant copies in {dup['clusters']} clusters "
                f"({dup['cross_shard_clusters']} across shards)")
    c.print(f"report: {escape(out.rstrip('/'))}/report.html")
