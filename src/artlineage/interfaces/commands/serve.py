"""``artlineage serve``: the web platform (needs the ``server`` extra)."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from pathlib import Path
from typing import List, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)


def serve_cmd(
    db: str = typer.Option("artlineage-platform.sqlite", "--db", help="SQLite file or postgresql:// URL."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    media: Optional[Path] = typer.Option(None, "--media", help="Folder for uploads (default: next to the db)."),
    copies: Optional[Path] = typer.Option(None, "--copies", help="Folder of the copy index (default: next to a "
                                          "SQLite db, else MEDIA/copies; kept up to date incrementally)."),
    example: bool = typer.Option(False, "--example", help="Seed the bundled example artists and works."),
    workers: int = typer.Option(1, "--workers", min=1, help="uvicorn worker processes (about one per core)."),
    anonymous_rate: int = typer.Option(600, "--anonymous-rate", min=0,
                                       help="API calls per minute per address without a key, shared by the workers (0: off)."),
    pixels: bool = typer.Option(True, "--pixels/--no-pixels", help="Run pixel readers (watermarks) on uploads."),
    inspect_processes: int = typer.Option(0, "--inspect-processes", min=0,
                                          help="Run /v1/verdict in this many processes (0: threads)."),
    public_url: Optional[str] = typer.Option(None, "--public-url",
                                             help="The site's address as visitors see it (https://art.example.org); "
                                                  "absolute URLs are built from it, never from the Host header "
                                                  "(default: http://HOST:PORT)."),
    session_rate: int = typer.Option(600, "--session-rate", min=1, help="API calls per minute per signed-in account."),
    upload_rate: int = typer.Option(20, "--upload-rate", min=1,
                                    help="Uploads (POST /upload) per minute per account, or per address signed out."),
    signin_rate: int = typer.Option(20, "--signin-rate", min=1, help="Sign-in/sign-up attempts per minute per address."),
    signin_account_rate: int = typer.Option(6, "--signin-account-rate", min=1,
                                            help="Sign-in attempts per minute at one account, from anywhere."),
    max_key_rate: int = typer.Option(6000, "--max-key-rate", min=1, help="Highest rate_per_minute an API key may have."),
    max_keys: int = typer.Option(20, "--max-keys-per-account", min=1, help="Active API keys per account."),
    key_mints: int = typer.Option(5, "--key-mints-per-minute", min=1, help="New API keys per minute per account."),
    detector: Optional[List[Path]] = typer.Option(
        None, "--detector", help="Run this learned detector on uploads and /v1/verdict (model card; repeatable). "
                                 "Off by default; results are shown as a model's estimate, never as evidence."),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Start the platform: gallery, artist pages, upload and the /v1 API (OpenAPI at /docs)."""
    try:
        import uvicorn

        from ..web.app import create_app
        from ..web.ratelimit import RateLimits
    except ImportError as exc:
        typer.echo(f"the platform needs the server extra: pip install 'artlineage[server]' ({exc})", err=True)
        raise typer.Exit(2) from None
    # One secret for every worker: a cookie signed by one worker must verify in the others.
    secret = os.environ.get("ARTLINEAGE_SECRET_KEY") or secrets.token_hex(32)
    public_url = public_url or os.environ.get("ARTLINEAGE_PUBLIC_URL") or f"http://{host}:{port}"
    limits = RateLimits(session_per_minute=session_rate, uploads_per_minute=upload_rate,
                        signin_per_address=signin_rate, signin_per_account=signin_account_rate,
                        key_mints_per_minute=key_mints, max_key_rate=max_key_rate, max_keys_per_account=max_keys)
    # Migrate (and seed) once, here; the workers then open the database without migrating.
    app = create_app(db, media, secret_key=secret, anonymous_rate_per_minute=anonymous_rate or None, pixels=pixels,
                     inspect_processes=inspect_processes, public_url=public_url, rate_limits=limits,
                     detectors=[str(d.resolve()) for d in detector or []], freeze_gc=True,
                     copies_dir=copies)
    platform = app.state.platform
    if example:
        from ..web.seed import example_seed_path, seed
        path = example_seed_path()
        if path is None:
            typer.echo("example data not found (examples/platform/seed.json)", err=True)
        else:
            counts = seed(platform, path)
            typer.echo(f"example data: {counts['artists']} new artist(s), {counts['works']} work(s); "
                       "sign in as mira@example.org / example-password")
    typer.echo(f"artlineage platform on http://{host}:{port}/  (API docs: /docs), {workers} worker(s)")
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=log_level == "debug")
        return
    platform.engine.dispose()  # no pooled connections inherited by the workers
    os.environ.update({"ARTLINEAGE_DB": db, "ARTLINEAGE_MEDIA": str(platform.media_dir),
                       "ARTLINEAGE_PLATFORM_COPIES": str(platform.copies_dir),
                       "ARTLINEAGE_SECRET_KEY": secret, "ARTLINEAGE_ANONYMOUS_RATE": str(anonymous_rate),
                       "ARTLINEAGE_PIXELS": "1" if pixels else "0",
                       "ARTLINEAGE_INSPECT_PROCESSES": str(inspect_processes), "ARTLINEAGE_UPGRADE": "0",
                       "ARTLINEAGE_DETECTORS": ",".join(str(d.resolve()) for d in detector or []),
                       "ARTLINEAGE_PUBLIC_URL": app.state.public_url,
                       "ARTLINEAGE_RATE_LIMITS": json.dumps(dataclasses.asdict(limits))})
    # An import string and a factory: uvicorn spawns the workers, each builds its own app.
    uvicorn.run("artlineage.interfaces.web.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, access_log=log_level == "debug")
