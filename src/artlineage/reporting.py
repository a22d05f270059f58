"""The one chart-and-report kit: self-contained HTML pages (tables, sections, embedded PNG charts) and
report.json/report.html writing, used by the health report, the collapse report and the consent filter.

Charts are drawn with matplotlib's object-oriented API on a ``Figure`` with its own Agg canvas: no
``pyplot``, no global figure registry and no ``matplotlib.use(...)``, so importing or calling this never
changes the caller's backend (a Jupyter notebook keeps its inline backend). matplotlib is the ``health``
extra; without it :func:`bar_chart` falls back to inline SVG and :func:`new_figure` raises ImportError.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from ._files import write_text_atomic

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["REPORT_CSS", "bar_chart", "figure_png", "fmt", "html_table", "img_tag", "json_default", "new_figure",
           "render_page", "section", "svg_bars", "write_report"]

REPORT_CSS = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
              "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;"
              "text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
              ".key td{text-align:left}.key td:last-child{font-weight:600}img{max-width:100%}"
              ".params{color:#555;font-size:.9em}section{margin-bottom:2em}li{margin:.3em 0}")


# ---------------------------------------------------------------- HTML

def fmt(v: Any) -> str:
    """A table cell: floats to 4 significant digits, None empty."""
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(fmt(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def section(title: str, body: str, anchor: str = "") -> str:
    a = f' id="{html.escape(anchor)}"' if anchor else ""
    return f"<section{a}><h2>{html.escape(title)}</h2>{body}</section>"


def img_tag(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def render_page(title: str, sections: Sequence[str], css: str = REPORT_CSS) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{css}</style></head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>")


def json_default(o: Any) -> Any:
    """``json.dumps(default=...)`` for numpy scalars/arrays, paths and dataclasses with ``to_dict``."""
    to_dict = getattr(o, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if hasattr(o, "item") and hasattr(o, "dtype"):  # numpy scalar or array, without importing numpy
        return o.tolist() if getattr(o, "ndim", 0) else o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON-serialisable: {type(o).__name__}")


def write_report(directory: str | os.PathLike[str], data: Any, sections: Sequence[str], title: str,
                 default: Callable[[Any], Any] = json_default) -> tuple[Path, Path]:
    """Write ``report.json`` (``data``) and ``report.html`` (``sections`` on one page) into ``directory``."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    jpath, hpath = d / "report.json", d / "report.html"
    write_text_atomic(json.dumps(data, indent=2, default=default), jpath)
    write_text_atomic(render_page(title, sections), hpath)
    return jpath, hpath


# ---------------------------------------------------------------- charts

def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] = (8, 4.5)) -> tuple[Figure, Any]:
    """(figure, axes) on a private Agg canvas; axes as ``Figure.subplots`` returns them."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols)


def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def svg_bars(title: str, data: dict[str, float], colour: str = "#c0392b") -> str:
    """Horizontal bar chart of shares as inline SVG (used when matplotlib is not installed)."""
    items = list(data.items())[:20]
    width, bar_h = 640, 22
    height = 30 + bar_h * max(len(items), 1)
    top = max((v for _, v in items), default=1) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{html.escape(title)}"><text x="4" y="18" font-weight="bold">{html.escape(title)}</text>']
    for n, (label, value) in enumerate(items):
        y = 28 + n * bar_h
        w = int(360 * value / top)
        parts.append(f'<text x="4" y="{y + 15}" font-size="12">{html.escape(label[:40])}</text>'
                     f'<rect x="230" y="{y + 3}" width="{w}" height="{bar_h - 6}" fill="{colour}"/>'
                     f'<text x="{236 + w}" y="{y + 15}" font-size="12">{value:.1%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, data: dict[str, float], *, empty: str = "<p>None.</p>", colour: str = "#c0392b",
              limit: int = 20) -> str:
    """Horizontal bars of shares (0..1) as HTML: an embedded PNG with matplotlib, else inline SVG."""
    if not any(data.values()):
        return empty
    try:
        import matplotlib  # noqa: F401  (the ``health`` extra)
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
        from matplotlib.ticker import PercentFormatter
    except ImportError:
        return svg_bars(title, data, colour)
    items = list(data.items())[:limit]
    if len(data) > len(items):
        title = f"{title} (top {len(items)} of {len(data)})"
    labels = [k if len(k) <= 40 else k[:39] + "…" for k, _ in items][::-1]
    fig, ax = new_figure(figsize=(7.5, 0.32 * max(len(items), 1) + 1.2))
    bars = ax.barh(labels, [v for _, v in items][::-1], color=colour)
    ax.bar_label(bars, labels=[f"{v:.1%}" for _, v in items][::-1], padding=3, fontsize=9)
    ax.set_title(title)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, max((v for _, v in items), default=0) * 1.15 or 1)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return img_tag(figure_png(fig, dpi=110), title)
