"""``artlineage stamp`` (mark generated images at the source), ``artlineage stamp-test-cert`` and
``artlineage integrations`` (install the ComfyUI node pack / the AUTOMATIC1111-Forge extension)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ...errors import ArtlineageError
from ...stamping import SigningCredentials, StampOptions, describe, make_test_chain, stamp_file
from ...stamping._certs import TEST_MARK
from .matching import NamesOpt, RegistryOpt, _guard

integrations_app = typer.Typer(help="Install artlineage into the tools people generate with.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("stamp")(stamp_cmd)
    app.command("stamp-test-cert")(test_cert_cmd)
    app.add_typer(integrations_app, name="integrations")


def _fail(message: str) -> None:
    Console(stderr=True).print(f"[red]error[/red] {escape(message)}")
    raise typer.Exit(2)


def stamp_cmd(
    paths: List[Path] = typer.Argument(..., help="Image files, or one folder (stamped as a batch, resumable)."),
    generator: str = typer.Option(..., "--generator", "-g", help="The AI system that made the image(s)."),
    generator_version: Optional[str] = typer.Option(None, "--generator-version"),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Write stamped copies here (a folder); default: stamp in place."),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="The prompt: artists it credits become influences."),
    include_prompt: bool = typer.Option(False, "--include-prompt", help="Also write the prompt itself."),
    edited: bool = typer.Option(False, "--edited", help="An AI edit of existing images (composite source type)."),
    ingredient: Optional[List[Path]] = typer.Option(None, "--ingredient", help="An input image of the edit."),
    cert: Optional[Path] = typer.Option(None, "--cert", envvar="ARTLINEAGE_STAMP_CERT",
                                        help="PEM certificate chain (signing certificate first)."),
    key: Optional[Path] = typer.Option(None, "--key", envvar="ARTLINEAGE_STAMP_KEY", help="PEM private key."),
    no_sign: bool = typer.Option(False, "--no-sign", help="XMP only, no C2PA manifest."),
    watermark: bool = typer.Option(False, "--watermark", help="Also embed the dwtDct invisible watermark."),
    allow_training: bool = typer.Option(False, "--allow-training",
                                        help="Say AI training on this image is allowed (default: not allowed)."),
    no_resume: bool = typer.Option(False, "--no-resume", help="Folder: ignore the journal of earlier runs."),
    registry: Optional[str] = RegistryOpt,
    names: Optional[List[Path]] = NamesOpt,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Mark generated images: IPTC DigitalSourceType in XMP, a signed C2PA manifest, optionally a watermark."""
    console = Console(stderr=as_json)
    try:
        creds = None
        if not no_sign and (cert or key):
            if not (cert and key):
                _fail("--cert and --key go together")
            creds = SigningCredentials.from_files(cert, key)
        if not no_sign and creds is None:
            console.print("[yellow]no signing certificate (--cert/--key or ARTLINEAGE_STAMP_CERT/_KEY): "
                          "writing XMP only; `artlineage stamp-test-cert DIR` makes a test chain[/yellow]")
        training = {"c2pa.ai_generative_training": "allowed" if allow_training else "notAllowed",
                    "c2pa.ai_training": "allowed" if allow_training else "notAllowed",
                    "c2pa.data_mining": "allowed", "c2pa.ai_inference": "allowed"}
        options = StampOptions(generator=generator, generator_version=generator_version, edited=edited,
                               ingredients=tuple(ingredient or ()), prompt=prompt, include_prompt=include_prompt,
                               training_mining=training, credentials=creds, sign=not no_sign and creds is not None,
                               watermark=watermark)
        guard = _guard(registry, names, False) if (prompt and (registry or names)) else None
        if len(paths) == 1 and paths[0].is_dir():
            _stamp_folder(paths[0], options, out, not no_resume, guard, as_json, quiet, console)
            return
        results = []
        for p in paths:
            dst = (out / p.name) if out else None
            try:
                results.append(stamp_file(p, dst, options, guard=guard).to_dict())
            except ArtlineageError as exc:
                results.append({"path": str(p), "error": str(exc)})
    except ArtlineageError as exc:
        _fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        for r in results:
            if "error" in r:
                console.print(f"[red]error[/red] {escape(r['path'])}: {escape(r['error'])}")
            else:
                from ...stamping import StampResult

                console.print(f"[green]stamped[/green] {escape(r['path'])}: {escape(describe(StampResult(**r)))}")
    if any("error" in r for r in results):
        raise typer.Exit(1)


def _stamp_folder(folder: Path, options: StampOptions, out: Optional[Path], resume: bool, guard, as_json: bool,
                  quiet: bool, console: Console) -> None:
    from ...pipelines.stamp import stamp_folder

    progress = Progress(TextColumn("[bold]stamping"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=console, disable=quiet or as_json)
    with progress:
        task = progress.add_task("stamp", total=None)
        summary = stamp_folder(folder, options, out=out, resume=resume, guard=guard,
                               on_progress=lambda n, total: progress.update(task, completed=n, total=total))
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        rate = summary.stamped / summary.seconds if summary.seconds else 0.0
        console.print(f"{summary.stamped} stamped, {summary.skipped} already done, {summary.failed} failed "
                      f"in {summary.seconds:.1f}s ({rate:.1f} files/s); journal {escape(summary.journal)}")
        for e in summary.errors[:20]:
            console.print(f"[red]error[/red] {escape(e['file'])}: {escape(e['error'])}")
    if summary.failed:
        raise typer.Exit(1)


def test_cert_cmd(directory: Path = typer.Argument(..., help="Folder to write chain.pem, key.pem, ca.pem into."),
                  days: int = typer.Option(365, "--days", min=1, max=3650)) -> None:
    """Make a local test certificate chain for trying `stamp` (NOT TRUSTED by anyone: never publish with it)."""
    files = make_test_chain(directory, days=days)
    console = Console()
    console.print(f"[bold yellow]{TEST_MARK}[/bold yellow]")
    console.print(f"chain {escape(str(files.chain))}\nkey   {escape(str(files.key))}\nroot  {escape(str(files.ca))}")
    console.print(f"use: artlineage stamp IMAGE --generator NAME --cert {escape(str(files.chain))} "
                  f"--key {escape(str(files.key))}")


@integrations_app.command("install-comfyui")
def install_comfyui_cmd(comfyui_dir: Path = typer.Argument(..., help="The ComfyUI folder (holding custom_nodes/).")
                        ) -> None:
    """Install the node pack: "artlineage: check prompt" and "artlineage: save stamped image"."""
    from ..integrations.install import install_comfyui

    try:
        dst = install_comfyui(comfyui_dir)
    except ArtlineageError as exc:
        _fail(str(exc))
    Console().print(f"installed {escape(str(dst))}; install artlineage in ComfyUI's Python too "
                    "(e.g. python -m pip install artlineage) and restart ComfyUI")


@integrations_app.command("install-a1111")
def install_a1111_cmd(webui_dir: Path = typer.Argument(..., help="The AUTOMATIC1111 / Forge folder (holding extensions/).")
                      ) -> None:
    """Install the web UI extension: prompt check before generation, stamp on every saved image."""
    from ..integrations.install import install_a1111

    try:
        dst = install_a1111(webui_dir)
    except ArtlineageError as exc:
        _fail(str(exc))
    Console().print(f"installed {escape(str(dst))}; install artlineage in the web UI's Python too and restart it")
