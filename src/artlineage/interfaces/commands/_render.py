"""Shared rich rendering for provenance results."""

from __future__ import annotations

import time
from typing import Callable, Optional

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from ..._inspect import FileReport

ORIGIN_STYLE = {
    "consent_reserved": "bold red", "consent_allowed": "green", "untrusted": "bold yellow", "info": "dim",
    "ai_generated": "bold red", "ai_edited": "bold magenta", "camera": "bold green",
    "human_declared": "bold cyan", "algorithmic": "bold yellow", "unknown": "bold white", "error": "bold red",
}


def origin_text(origin: str) -> Text:
    return Text(origin, style=ORIGIN_STYLE.get(origin, ""))


def render_report(console: Console, report: FileReport) -> None:
    console.rule(Text(report.path or "<bytes>", style="bold"))
    if report.error:
        console.print(Text("error: ", style="bold red") + Text(report.error))
        return
    v = report.verdict
    assert v is not None
    head = Text(f"{report.format} {report.width}x{report.height}  origin: ") + origin_text(v.origin.value)
    head += Text(f"  confidence {v.confidence:.2f}")
    if v.generator:
        head += Text(f"  generator: {v.generator}", style="bold")
    console.print(head)
    console.print(Text(v.explanation, style="dim"))
    for c in v.conflicts:
        console.print(Text("conflict: ", style="bold yellow") + Text(c))
    if v.evidence:
        console.print(Text("evidence:", style="bold"))
        for e in sorted(v.evidence, key=lambda e: -e.strength):
            value = e.value if isinstance(e.value, str) else repr(e.value)
            value = value if len(value) < 240 else value[:237] + "..."
            line = Text("  ") + origin_text(e.implies.value) + Text(f" {e.strength:.2f} ")
            if e.data.get("model_estimate"):
                line += Text("model estimate: ", style="bold yellow")
            line += Text(e.reader, style="bold") + Text(f"  {e.field} = ") + Text(value, style="italic")
            console.print(line)
            console.print(Text(f"      at {e.location}" + (f" — {e.note}" if e.note else ""), style="dim"))
    for params in report.generation:
        g = params.to_dict()
        t = Table(title=f"generation parameters ({params.tool})", show_header=False)
        for k, val in g.items():
            if k != "tool":
                t.add_row(k, str(val) if len(str(val)) < 400 else str(val)[:397] + "...")
        console.print(t)
    for w in report.warnings:
        console.print(Text("warning: ", style="yellow") + Text(w))


def rate_progress(label: str, disabled: bool, unit: str = "img/s"
                  ) -> tuple[Progress, Callable[[int, Optional[int]], None]]:
    """A progress bar on stderr with its rate column, and the ``update(done, total)`` callback that the
    library's ``progress=`` hooks take (use the bar as a context manager around the work)."""
    progress = Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                        TimeRemainingColumn(), console=Console(stderr=True), disable=disabled)
    task = progress.add_task(label, total=None, rate="")
    t0 = time.perf_counter()

    def update(done: int, total: Optional[int]) -> None:
        el = time.perf_counter() - t0
        progress.update(task, completed=done, total=total, rate=f"{done / el:,.0f} {unit}" if el else "")

    return progress, update
