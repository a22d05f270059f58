"""report.json and report.html of a consent-filter run."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

from ..._files import write_text_atomic
from ...reporting import bar_chart, html_table, render_page, section
from .config import FilterSummary


def _chart(title: str, data: dict[str, float]) -> str:
    return bar_chart(title, data, empty="<p>None: no row was excluded.</p>")


def write_report(out: Path, summary: FilterSummary, *, extra: dict[str, Any] | None = None,
                 extra_sections: Sequence[str] = ()) -> None:
    """report.json and report.html; ``extra`` / ``extra_sections`` add other parts of the audit (health)."""
    total = max(summary.input_rows, 1)
    report = asdict(summary) | {"rows_per_second": round(summary.rows_per_second, 1),
                                "excluded_share": summary.excluded / total} | (extra or {})
    write_text_atomic(json.dumps(report, indent=2, default=str), out / "report.json")
    by_reason = {k: v / total for k, v in summary.excluded_by_reason.items()}
    by_host = {h: summary.excluded_by_host.get(h, 0) / n for h, n in summary.rows_by_host.items() if n}
    by_host = dict(sorted(by_host.items(), key=lambda kv: -kv[1]))
    summary_html = (f"<p>{summary.input_rows} rows: {summary.kept} kept, {summary.excluded} excluded "
                    f"({summary.excluded / total:.1%}); {summary.signal_errors} rows with a signal error; "
                    f"{summary.shards} shards; {summary.requests} HTTP requests this run.</p>")
    hosts = html_table(["host", "rows", "excluded"], [(h, n, summary.excluded_by_host.get(h, 0))
                                                      for h, n in list(summary.rows_by_host.items())[:200]])
    sections = [summary_html,
                section("Excluded by reason (share of all rows)", _chart("excluded by reason", by_reason), "reasons"),
                section("Excluded share by host", _chart("excluded share by host", by_host) + hosts, "hosts"),
                *extra_sections]
    write_text_atomic(render_page("Consent filter report", sections), out / "report.html")
