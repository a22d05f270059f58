"""``artlineage serve``: the web platform (needs the ``server`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)


def serve_cmd(
    db: str = typer.Option("artlineage-platform.sqlite", "--db", help="SQLite file or postgresql:// URL."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    media: Optional[Path] = typer.Option(None, "--media", help="Folder for uploads (default: next to the db)."),
    example: bool = typer.Option(False, "--example", help="Seed the bundled example artists and works."),
    workers: int = typer.Option(1, "--workers", min=1, help="uvicorn worker processes."),
) -> None:
    """Start the platform: gallery, artist pages, upload and the /v1 API (OpenAPI at /docs)."""
    try:
        import uvicorn

        from ..web.app import create_app
    except ImportError as exc:
        typer.echo(f"the platform needs the server extra: pip install 'artlineage[server]' ({exc})", err=True)
        raise typer.Exit(2) from None
    app = create_app(db, media)
    if example:
        from ..web.seed import example_seed_path, seed
        path = example_seed_path()
        if path is None:
            typer.echo("example data not found (examples/platform/seed.json)", err=True)
        else:
            counts = seed(app.state.platform, path)
            typer.echo(f"example data: {counts['artists']} new artist(s), {counts['works']} work(s); "
                       "sign in as mira@example.org / example-password")
    typer.echo(f"artlineage platform on http://{host}:{port}/  (API docs: /docs)")
    uvicorn.run(app, host=host, port=port, workers=1 if workers == 1 else None, log_level="info")
