"""Dataset-health reports: one function builds a JSON-able dict, others render it as HTML sections.

The split lets other reports (the consent filter's audit, for one) include the same sections: call
``build_health_report`` (or take its dict from report.json) and ``health_sections(d)``, then wrap the
sections with ``render_page``. Charts are PNGs drawn with matplotlib's Agg backend and embedded as
base64, so report.html is one self-contained file.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .._files import write_text_atomic

from .duplicates import DEFAULT_MAX_DISTANCE, find_near_duplicates, phash64
from .embeddings import Embedder, StatisticsEmbedder, load_thumbnail
from .guard import GuardResult
from .synthetic import Record, origin_class, synthetic_shares
from .vendi import vendi_score, vendi_score_sampled

# --------------------------------------------------------------------------- pixel pass


@dataclass
class PixelFeatures:
    """Per-record hashes and embeddings; ``ok[i]`` is False where the image could not be decoded."""

    ok: np.ndarray
    hashes: np.ndarray  # uint64
    embeddings: np.ndarray  # (n, d) float32, zero rows where not ok
    failures: list[tuple[str, str]]


def _features_batch(args: tuple[list[str], Embedder, bool]) -> tuple[list[bool], list[int], np.ndarray, list[tuple[str, str]]]:
    paths, embedder, use_matching_hash = args
    thumbs, ok, hashes, failures = [], [], [], []
    for path in paths:
        try:
            img = load_thumbnail(path)
            img.load()
            if use_matching_hash:
                from .duplicates import hash_image
                h = hash_image(path)
            else:
                h = phash64(img)
            thumbs.append(img)
            ok.append(True)
            hashes.append(h)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop a health pass
            ok.append(False)
            hashes.append(0)
            failures.append((path, f"{type(exc).__name__}: {exc}"))
    emb = embedder.embed(thumbs) if thumbs else None
    return ok, hashes, (emb if emb is not None else np.zeros((0, 0), np.float32)), failures


def _matching_hash_available() -> bool:
    try:
        from ..matching import hashing  # noqa: F401  # type: ignore[attr-defined]
    except ImportError:
        return False
    return hasattr(hashing, "hash_image_file")


def compute_pixel_features(paths: Sequence[str], embedder: Embedder | None = None, *, workers: int = 1,
                           batch_size: int = 64, progress: Callable[[int, int], None] | None = None
                           ) -> PixelFeatures:
    """Decode each image once (bounded thumbnail) for its perceptual hash and its embedding."""
    embedder = embedder or StatisticsEmbedder()
    use_matching = _matching_hash_available()
    batches = [list(paths[i:i + batch_size]) for i in range(0, len(paths), batch_size)]
    # Only the weight-free embedder is sent to worker processes; a model session stays in-process.
    parallel = workers > 1 and isinstance(embedder, StatisticsEmbedder) and len(batches) > 1
    tasks = [(b, embedder, use_matching) for b in batches]
    ok: list[bool] = []
    hashes: list[int] = []
    rows: list[np.ndarray] = []
    failures: list[tuple[str, str]] = []
    pool = ProcessPoolExecutor(workers) if parallel else None
    try:
        results = pool.map(_features_batch, tasks) if pool else map(_features_batch, tasks)
        for b_ok, b_hash, b_emb, b_fail in results:
            ok += b_ok
            hashes += b_hash
            if len(b_emb):
                rows.append(b_emb)
            failures += b_fail
            if progress:
                progress(len(ok), len(paths))
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    ok_arr = np.array(ok, bool)
    dim = rows[0].shape[1] if rows else 0
    emb = np.zeros((len(paths), dim), np.float32)
    if rows:
        emb[ok_arr] = np.concatenate(rows)
    return PixelFeatures(ok_arr, np.array(hashes, np.uint64), emb, failures)


# --------------------------------------------------------------------------- building the report


def _vendi_block(emb: np.ndarray, sample_above: int | None) -> dict[str, Any]:
    if len(emb) == 0:
        return {"n": 0, "vendi": None}
    if sample_above and len(emb) > sample_above:
        s = vendi_score_sampled(emb, sample_size=sample_above)
        return {"n": len(emb), "vendi": round(s.score, 4), "vendi_std": round(s.std, 4), "sampled": s.to_dict(),
                "vendi_per_item": round(s.score / s.sample_size, 6)}
    v = vendi_score(emb)
    return {"n": len(emb), "vendi": round(v, 4), "vendi_per_item": round(v / len(emb), 6)}


def build_health_report(records: Sequence[Record], *, pixels: bool = True, embedder: Embedder | None = None,
                        max_distance: int = DEFAULT_MAX_DISTANCE, workers: int = 1,
                        vendi_sample_above: int | None = 200000, guard: GuardResult | None = None,
                        features: PixelFeatures | None = None, source: str = "") -> dict[str, Any]:
    """The health of a dataset as a JSON-able dict.

    Sections: ``provenance`` (synthetic / verified human / unknown shares, per source and generator),
    ``duplicates`` (near-duplicate clusters and rate), ``diversity`` (Vendi score overall, per origin
    class, per source, per generator), ``guard`` (when a real-data guard ran), ``recommendations``.
    """
    shares = synthetic_shares(records)
    report: dict[str, Any] = {"kind": "artlineage.health", "version": 1, "source": source, "items": len(records),
                              "provenance": shares.to_dict()}
    readable = [i for i, r in enumerate(records) if r.origin != "error"]
    if pixels and readable:
        embedder = embedder or StatisticsEmbedder()
        paths = [records[i].path for i in readable]
        feats = features or compute_pixel_features(paths, embedder, workers=workers)
        ok_idx = np.flatnonzero(feats.ok)
        dup = find_near_duplicates([paths[i] for i in ok_idx], feats.hashes[ok_idx].tolist(),
                                   max_distance=max_distance, sha256=[records[readable[i]].sha256 for i in ok_idx])
        report["duplicates"] = dup.to_dict()
        report["duplicates"]["cluster_sizes"] = [len(c) for c in dup.clusters]
        emb = feats.embeddings[ok_idx]
        recs = [records[readable[i]] for i in ok_idx]
        groups: dict[str, dict[str, list[int]]] = {"origin_class": {}, "source": {}, "generator": {}}
        for j, r in enumerate(recs):
            groups["origin_class"].setdefault(origin_class(r.origin), []).append(j)
            groups["source"].setdefault(r.source or ".", []).append(j)
            if r.generator:
                groups["generator"].setdefault(r.generator, []).append(j)
        report["diversity"] = {
            "embedder": getattr(embedder, "name", type(embedder).__name__),
            "dim": int(emb.shape[1]) if emb.ndim == 2 else 0,
            "overall": _vendi_block(emb, vendi_sample_above),
            **{f"by_{k}": {name: _vendi_block(emb[idx], vendi_sample_above) for name, idx in sorted(v.items())}
               for k, v in groups.items()},
        }
        report["undecodable"] = [{"path": p, "error": e} for p, e in feats.failures[:100]]
        report["undecodable_count"] = len(feats.failures)
    if guard is not None:
        report["guard"] = guard.to_dict()
    report["recommendations"] = recommendations(report)
    return report


# Rules of thumb for the recommendations (stated in the report next to the numbers).
LOW_DIVERSITY_PER_ITEM = 0.35  # a group whose items behave like fewer than 35% as many distinct ones
LOW_DIVERSITY_MIN_ITEMS = 10


def recommendations(report: dict[str, Any]) -> list[str]:
    """Plain-language actions drawn from the numbers (thresholds are rules of thumb, stated as such)."""
    out = []
    prov = report.get("provenance", {})
    syn, unk, hum = prov.get("synthetic_share", 0), prov.get("unknown_share", 0), prov.get("verified_human_share", 0)
    if syn > 0:
        out.append(f"{syn:.1%} of readable items are AI-generated or AI-edited. Retraining on model output without "
                   "enough real data degrades models (Shumailov 2024); consider --min-real-share to cap it.")
    if unk > 0.5:
        out.append(f"{unk:.1%} of items have unknown provenance (no origin evidence). They are not counted as human; "
                   "verified-human share is only {:.1%}.".format(hum))
    dup = report.get("duplicates")
    if dup and dup.get("duplicate_rate", 0) > 0.05:
        out.append(f"{dup['duplicate_rate']:.1%} of items are near-duplicate copies in {dup['clusters']} cluster(s); "
                   "deduplicating reduces memorisation and wasted compute.")
    diversity = report.get("diversity", {})
    div = diversity.get("by_origin_class", {})
    s, h = div.get("synthetic", {}), div.get("human", {})
    if s.get("vendi_per_item") and h.get("vendi_per_item") and s["n"] >= 20 and h["n"] >= 20:
        # Vendi grows with n while Vendi per item shrinks with it, so compare the way that favours the
        # synthetic group: per item when it is the smaller one, in total when it is the larger one.
        less = (s["vendi_per_item"] < 0.8 * h["vendi_per_item"]) if s["n"] <= h["n"] else (s["vendi"] < 0.8 * h["vendi"])
        if less:
            out.append(f"Synthetic items are less diverse than verified-human ones (Vendi {s['vendi']:.1f} over "
                       f"{s['n']} vs {h['vendi']:.1f} over {h['n']}), an early sign of mode collapse in the "
                       "generators used.")
    low = [(f"{kind} '{name}'", v) for kind, key in (("generator", "by_generator"), ("source", "by_source"))
           for name, v in diversity.get(key, {}).items()
           if v.get("vendi") and v["n"] >= LOW_DIVERSITY_MIN_ITEMS and v["vendi"] / v["n"] < LOW_DIVERSITY_PER_ITEM]
    for label, v in sorted(low, key=lambda kv: kv[1]["vendi"] / kv[1]["n"])[:5]:
        out.append(f"{label}: {v['n']} items behave like {v['vendi']:.1f} distinct ones (Vendi per item "
                   f"{v['vendi'] / v['n']:.2f} < {LOW_DIVERSITY_PER_ITEM}); look for repeated prompts, seeds or "
                   "templates and sample it down.")
    if prov.get("errors"):
        out.append(f"{prov['errors']} file(s) could not be read; they are excluded from every share.")
    if not out:
        out.append("No issue above the report's thresholds.")
    return out


# --------------------------------------------------------------------------- HTML rendering


def figure_png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def img_tag(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def section(title: str, body: str, anchor: str = "") -> str:
    a = f' id="{html.escape(anchor)}"' if anchor else ""
    return f"<section{a}><h2>{html.escape(title)}</h2>{body}</section>"


REPORT_CSS = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
        "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.key td{text-align:left}.key td:last-child{font-weight:600}img{max-width:100%}.params{color:#555;font-size:.9em}"
        "section{margin-bottom:2em}li{margin:.3em 0}")


def render_page(title: str, sections: Sequence[str]) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{REPORT_CSS}</style></head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>")


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


_CLASS_COLOURS = {"synthetic": "#d62728", "human": "#2ca02c", "unknown": "#9e9e9e", "algorithmic": "#ff7f0e",
                  "error": "#000000"}


def _shares_chart(prov: dict[str, Any]) -> bytes:
    plt = _plt()
    rows = [("all", prov)] + sorted(prov.get("by_source", {}).items())[:30]
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(rows) + 1.4))
    labels = [f"{name} (n={r['total'] - r.get('errors', 0)})" for name, r in rows]
    left = np.zeros(len(rows))
    for cls, key in (("synthetic", "synthetic_share"), ("verified human", "verified_human_share"),
                     ("algorithmic", "algorithmic_share"), ("unknown", "unknown_share")):
        vals = np.array([r.get(key, 0.0) for _, r in rows])
        ax.barh(labels, vals, left=left, color=_CLASS_COLOURS[cls.split()[-1]], label=cls)
        for i, v in enumerate(vals):
            if v >= 0.06:  # label segments wide enough to hold the text
                ax.text(left[i] + v / 2, i, f"{v:.0%}", ha="center", va="center", fontsize=8, color="white")
        left += vals
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("share of readable items")
    ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -1.3 / len(rows)), ncol=4, fontsize=8, frameon=False)
    ax.set_title("Provenance shares by source (unknown is never counted as human)", fontsize=10)
    return figure_png(fig)


def _vendi_chart(div: dict[str, Any]) -> bytes:
    plt = _plt()
    items = [(f"class:{k}", v) for k, v in div.get("by_origin_class", {}).items()]
    items += [(f"gen:{k}", v) for k, v in list(div.get("by_generator", {}).items())[:15]]
    items = [(k, v) for k, v in items if v.get("vendi")]
    fig, ax = plt.subplots(figsize=(8, 0.4 * max(1, len(items)) + 1.5))
    labels = [k for k, _ in items]
    sizes = [v.get("sampled", {}).get("sample_size", v["n"]) for _, v in items]  # the most Vendi can reach
    ax.barh(labels, sizes, color="#dddddd", label="items scored (the maximum Vendi)")
    ax.barh(labels, [v["vendi"] for _, v in items], color="#1f77b4", label="Vendi (effective distinct items)")
    for i, ((_, v), size) in enumerate(zip(items, sizes)):
        ax.text(size, i, f" {v['vendi']:.1f} of {size} ({v['vendi'] / size:.0%})", va="center", fontsize=8)
    ax.set_xlim(0, max(sizes) * 1.3)
    ax.invert_yaxis()
    ax.set_xlabel("effective number of distinct items")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -1.3 / max(1, len(items))), ncol=2, fontsize=8,
              frameon=False)
    ax.set_title(f"Diversity by group: Vendi score, cosine kernel, q=1; embedder {div.get('embedder')}, "
                 f"d={div.get('dim')}", fontsize=10)
    return figure_png(fig)


def provenance_section(prov: dict[str, Any], charts: bool = True) -> str:
    body = html_table(["class", "share"], [
        ("synthetic (ai_generated + ai_edited)", f"{prov['synthetic_share']:.2%}"),
        ("verified human (camera + human_declared)", f"{prov['verified_human_share']:.2%}"),
        ("unknown (no origin evidence)", f"{prov['unknown_share']:.2%}"),
        ("algorithmic", f"{prov['algorithmic_share']:.2%}"),
        ("unreadable files (excluded)", prov["errors"]),
    ])
    if charts:
        body += img_tag(_shares_chart(prov), "provenance shares")
    body += "<h3>By source</h3>" + html_table(
        ["source", "items", "synthetic", "verified human", "unknown"],
        [(k, v["total"], f"{v['synthetic_share']:.1%}", f"{v['verified_human_share']:.1%}",
          f"{v['unknown_share']:.1%}") for k, v in prov.get("by_source", {}).items()])
    if prov.get("by_generator"):
        body += "<h3>By generator</h3>" + html_table(["generator", "items"], prov["by_generator"].items())
    return section("Provenance", body, "provenance")


def duplicates_section(dup: dict[str, Any]) -> str:
    body = html_table(["measure", "value"], [
        ("near-duplicate clusters", dup["clusters"]), ("files in clusters", dup["files_in_clusters"]),
        ("redundant copies (all but one per cluster)", dup["redundant_files"]),
        ("duplicate rate", f"{dup['duplicate_rate']:.2%}"), ("identical-bytes groups (sha256)", dup["exact_sha256_groups"]),
    ])
    body += f"<p class='params'>perceptual hash 64-bit, clusters join pairs within Hamming distance ≤ {dup['max_distance']}</p>"
    if dup.get("largest_clusters"):
        clusters = dup["largest_clusters"][:10]
        root = _common_folder([p for c in clusters for p in c])
        body += (f"<h3>Largest clusters</h3><p class='params'>keep one file per cluster; paths relative to "
                 f"<code>{html.escape(root)}</code></p><ol>" + "".join(
                     f"<li><b>{len(c)} files</b>: " + html.escape(", ".join(os.path.relpath(p, root) for p in c[:6]))
                     + (f" … (+{len(c) - 6})" if len(c) > 6 else "") + "</li>" for c in clusters) + "</ol>")
    return section("Near duplicates", body, "duplicates")


def _common_folder(paths: Sequence[str]) -> str:
    try:
        root = os.path.commonpath([os.path.dirname(p) for p in paths]) if paths else ""
    except ValueError:  # mixed absolute and relative paths
        root = ""
    return root or "."


def diversity_section(div: dict[str, Any], charts: bool = True) -> str:
    o = div["overall"]
    if o.get("vendi") is None:
        return section("Diversity", "<p>No decodable images.</p>", "diversity")
    scored = o.get("sampled", {}).get("sample_size", o["n"])
    sampled = (f" (mean of {o['sampled']['repeats']} random samples of {scored}, ±{o['vendi_std']:.1f})"
               if o.get("sampled") else "")
    body = (f"<p>The {o['n']} decodable item(s) behave like <b>{o['vendi']:.1f}</b> distinct ones{sampled}: "
            f"Vendi per item <b>{o['vendi'] / scored:.2f}</b> (1 = every item unlike the others, "
            f"1/n = all alike). Groups far below the others are where repeated prompts, seeds or templates "
            f"concentrate; a group under {LOW_DIVERSITY_PER_ITEM} per item (with ≥{LOW_DIVERSITY_MIN_ITEMS} "
            f"items) is listed under “What to do”.</p>"
            f"<p class='params'>Vendi score (Friedman &amp; Dieng 2023), cosine kernel, order q=1; embedder "
            f"<code>{html.escape(str(div['embedder']))}</code>, d={div['dim']}. Scores from different embedders "
            f"are not comparable.</p>")
    if charts and any(v.get("vendi") for v in div.get("by_origin_class", {}).values()):
        body += img_tag(_vendi_chart(div), "diversity by group")
    for key, title in (("by_origin_class", "By origin class"), ("by_source", "By source"),
                       ("by_generator", "By generator")):
        if div.get(key):
            body += f"<h3>{title}</h3>" + html_table(["group", "items", "Vendi", "Vendi / item"], [
                (k, v["n"], v.get("vendi"), v.get("vendi_per_item")) for k, v in div[key].items()])
    return section("Diversity", body, "diversity")


def guard_section(g: dict[str, Any]) -> str:
    body = html_table(["measure", "value"], [
        ("minimum verified-human share", f"{g['min_real_share']:.2%}"), ("kept", g["kept"]), ("dropped", g["dropped"]),
        ("verified-human share after", f"{g['real_share_after']:.2%}"),
    ] + [(f"dropped {k}", v) for k, v in g["dropped_by_origin"].items()])
    body += "<details><summary>decisions</summary><pre>" + html.escape("\n".join(g["log"])) + "</pre></details>"
    return section("Real-data guard", body, "guard")


def key_numbers(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The handful of numbers to read first, as (label, value) rows."""
    prov = report["provenance"]
    rows = [("items", f"{report['items']} ({prov['errors']} unreadable)" if prov["errors"] else str(report["items"])),
            ("synthetic share", f"{prov['synthetic_share']:.1%}"),
            ("verified-human share", f"{prov['verified_human_share']:.1%}"),
            ("unknown provenance", f"{prov['unknown_share']:.1%}")]
    dup = report.get("duplicates")
    if dup:
        rows.append(("near-duplicate rate", f"{dup['duplicate_rate']:.1%} ({dup['redundant_files']} redundant "
                                            f"copies in {dup['clusters']} clusters)"))
    o = report.get("diversity", {}).get("overall", {})
    if o.get("vendi") is not None:
        scored = o.get("sampled", {}).get("sample_size", o["n"])
        rows.append(("diversity (Vendi)", f"{o['vendi']:.1f} effective distinct of {scored} ({o['vendi'] / scored:.0%})"))
    g = report.get("guard")
    if g:
        rows.append(("real-data guard", f"kept {g['kept']}, dropped {g['dropped']}; verified-human share "
                                        f"{g['real_share_after']:.1%} (minimum {g['min_real_share']:.1%})"))
    return rows


def health_sections(report: dict[str, Any], charts: bool = True) -> list[str]:
    """HTML sections of a health report dict (reusable inside other reports)."""
    source = (f"<p class='params'>source: <code>{html.escape(report['source'])}</code></p>"
              if report.get("source") else "")
    out = [section("Key numbers", source + html_table(["measure", "value"], key_numbers(report))
                   .replace("<table>", "<table class='key'>", 1), "summary"),
           section("What to do", "<ul>" + "".join(f"<li>{html.escape(r)}</li>" for r in report["recommendations"])
                   + "</ul>", "actions"),
           provenance_section(report["provenance"], charts)]
    if "duplicates" in report:
        out.append(duplicates_section(report["duplicates"]))
    if "diversity" in report:
        out.append(diversity_section(report["diversity"], charts))
    if "guard" in report:
        out.append(guard_section(report["guard"]))
    return out


def write_report(directory: str | os.PathLike[str], data: dict[str, Any], sections: Sequence[str],
                 title: str) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.html`` into ``directory``."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    jpath, hpath = d / "report.json", d / "report.html"
    write_text_atomic(json.dumps(data, indent=2, default=_json_default), jpath)
    write_text_atomic(render_page(title, sections), hpath)
    return jpath, hpath


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON-serialisable: {type(o).__name__}")


def write_health_report(directory: str | os.PathLike[str], report: dict[str, Any]) -> tuple[Path, Path]:
    return write_report(directory, report, health_sections(report), "Dataset health")


# --------------------------------------------------------------------------- collapse figures


def gaussian_figure(replace: Any, accumulate: Any) -> bytes:
    """Fitted variance per generation: replace vs accumulate, with the theory curve (median and 10–90%)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    t = np.arange(replace.var.shape[1])
    for res, colour, name in ((replace, "#d62728", "replace"), (accumulate, "#2ca02c", "accumulate")):
        q10, q50, q90 = np.quantile(res.var, [0.1, 0.5, 0.9], axis=0)
        ax.fill_between(t, q10, q90, color=colour, alpha=0.2)
        ax.plot(t, q50, color=colour, label=f"{name}: median fitted σ² (band 10–90%)")
        ax.plot(t, res.var.mean(0), color=colour, ls=":", lw=1, label=f"{name}: mean over runs")
    ax.plot(t, replace.theory_variance(), "k--", lw=1, label="theory (replace): σ²₀((n−1)/n)^t")
    ax.set_yscale("log")
    ax.set_xlabel("generation")
    ax.set_ylabel("fitted variance σ²")
    ax.legend(fontsize=8)
    p = replace.params
    ax.set_title("Single Gaussian refitted on its own samples (Shumailov 2024; Gerstgrasser 2024)", fontsize=10)
    fig.text(0.01, -0.02, f"params: n={p.n}, runs={p.runs}, generations={p.generations}, "
             f"N({p.mu0:g}, {p.sigma0:g}²), MLE refit, seed={p.seed}", fontsize=8)
    return figure_png(fig)


def real_fraction_figure(sweep: dict[float, Any]) -> bytes:
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    lams = sorted(sweep)
    cmap = plt.get_cmap("viridis")
    for i, lam in enumerate(lams):
        w2 = sweep[lam].w2.mean(0)
        ax1.plot(np.arange(len(w2)), w2, color=cmap(i / max(1, len(lams) - 1)), label=f"λ={lam:g}")
    ax1.set_xlabel("generation")
    ax1.set_ylabel("mean W₂ to the true Gaussian")
    ax1.legend(fontsize=8)
    ax1.set_title("Error per generation by real-data fraction λ", fontsize=10)
    final = [sweep[lam].w2[:, -1].mean() for lam in lams]
    first = [sweep[lam].w2[:, 1].mean() for lam in lams]
    ax2.plot(lams, final, "o-", label="final generation")
    ax2.plot(lams, first, "s--", label="generation 1")
    ax2.set_xscale("symlog", linthresh=0.01)
    ax2.set_xlabel("real-data fraction λ")
    ax2.set_ylabel("mean W₂")
    ax2.legend(fontsize=8)
    ax2.set_title("Bounded with enough real data (Bertrand 2024)", fontsize=10)
    p = next(iter(sweep.values())).params
    fig.text(0.01, -0.03, f"params: n={p.n}, runs={p.runs}, generations={p.generations}, mode=replace, "
             f"N({p.mu0:g}, {p.sigma0:g}²), seed={p.seed}; λ share of each generation's training set is fresh real "
             "data", fontsize=8)
    return figure_png(fig)


def mixture_figure(replace: Any, accumulate: Any) -> bytes:
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    p = replace.params
    xs = np.linspace(min(replace.samples[0].min(), -6), max(replace.samples[0].max(), 8), 400)
    from scipy.stats import norm

    true_pdf = sum(w * norm.pdf(xs, m, s) for w, m, s in zip(p.weights, p.means, p.stds)) / sum(p.weights)
    for ax, res, name in ((axes[0], replace, "replace"), (axes[1], accumulate, "accumulate")):
        ax.plot(xs, true_pdf, "k--", lw=1, label="true density")
        last = len(res.samples) - 1
        for g, colour in ((last // 3, "#1f77b4"), (last, "#d62728")):
            ax.hist(res.samples[g], bins=60, density=True, alpha=0.45, color=colour, label=f"generation {g}")
        ax.set_title(f"GMM refitted with EM, {name}", fontsize=10)
        ax.set_xlabel("x (sample value)")
        ax.set_ylabel("density")
        ax.legend(fontsize=8)
    g = np.arange(len(replace.tail_mass))
    axes[2].plot(g, replace.tail_mass, color="#d62728", label="tail mass, replace")
    axes[2].plot(g, accumulate.tail_mass, color="#2ca02c", label="tail mass, accumulate")
    axes[2].plot(g, replace.minority_mass, color="#d62728", ls=":", label="minority mode, replace")
    axes[2].plot(g, accumulate.minority_mass, color="#2ca02c", ls=":", label="minority mode, accumulate")
    axes[2].axhline(0.02, color="k", lw=0.8, ls="--")
    axes[2].set_xlabel("generation")
    axes[2].set_ylabel("share of samples")
    axes[2].legend(fontsize=7)
    axes[2].set_title("Tails (beyond true 1%/99%) and minority mode", fontsize=10)
    fig.tight_layout()  # keeps the third panel's y label off the second panel
    fig.text(0.01, -0.03, "params: " + p.label().replace(f"mode={p.mode}, ", ""), fontsize=8)
    return figure_png(fig)


def embedding_figure(results: dict[str, Any]) -> bytes:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    styles = {"precision": "-", "recall": "--", "tail_coverage": ":"}
    colours = ["#d62728", "#2ca02c", "#1f77b4", "#9467bd"]
    for i, (name, res) in enumerate(results.items()):
        for metric, ls in styles.items():
            vals = getattr(res, metric)
            ax.plot(np.arange(len(vals)), vals, ls=ls, color=colours[i % len(colours)], label=f"{name}: {metric}")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("generation (0 = GMM fitted to the real embeddings)")
    ax.set_ylabel("share")
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("Retraining on own samples, from your embeddings", fontsize=10)
    first = next(iter(results.values()))
    fig.text(0.01, -0.03, f"params: n={first.n}, " + first.params.label(), fontsize=8)
    return figure_png(fig)


def collapse_sections(data: dict[str, Any], figures: dict[str, bytes]) -> list[str]:
    out = []
    g = data.get("gaussian")
    if g:
        body = ("<p>A Gaussian refitted by maximum likelihood on n samples of its previous generation loses variance "
                "geometrically in expectation, E[σ²ₜ] = σ²₀((n−1)/n)ᵗ, and almost surely collapses; keeping all "
                "data (accumulate) bounds it.</p>")
        body += html_table(["loop", "mean σ² at last generation", "median", "theory (replace)", "mean W₂"], [
            (k, v["final_variance_mean"], v["final_variance_median"],
             # The closed form holds for the replace loop only; accumulate has no such line.
             v["theory_variance_replace_lambda0"] if k == "replace" else "—",
             v["final_w2_mean"]) for k, v in g.items()])
        if "gaussian" in figures:
            body += img_tag(figures["gaussian"], "gaussian collapse")
        out.append(section("Single Gaussian: replace vs accumulate", body, "gaussian"))
    s = data.get("real_fraction")
    if s:
        body = html_table(["λ (real share per generation)", "W₂ at generation 1", "W₂ at last generation"],
                          [(k, v["w2_first"], v["w2_final"]) for k, v in s.items()])
        if "real_fraction" in figures:
            body += img_tag(figures["real_fraction"], "real fraction sweep")
        out.append(section("Real-data fraction λ", body, "lambda"))
    m = data.get("mixture")
    if m:
        body = html_table(["loop", "tail mass (gen 0 → last)", "minority mode (gen 0 → last)", "W₁ (gen 0 → last)"], [
            (k, f"{v['tail_mass'][0]:.3f} → {v['tail_mass'][-1]:.3f}",
             f"{v['minority_mass'][0]:.3f} → {v['minority_mass'][-1]:.3f}", f"{v['w1'][0]:.3f} → {v['w1'][-1]:.3f}")
            for k, v in m.items()])
        if "mixture" in figures:
            body += img_tag(figures["mixture"], "mixture collapse")
        out.append(section("Gaussian mixture (EM)", body, "mixture"))
    e = data.get("embeddings")
    if e:
        body = html_table(["loop", "precision (0 → last)", "recall (0 → last)", "tail coverage (0 → last)"], [
            (k, f"{v['precision'][0]:.3f} → {v['precision'][-1]:.3f}", f"{v['recall'][0]:.3f} → {v['recall'][-1]:.3f}",
             f"{v['tail_coverage'][0]:.3f} → {v['tail_coverage'][-1]:.3f}") for k, v in e.items()])
        body += ("<p class='params'>precision: share of generated samples inside the real data's k-NN manifold; "
                 "recall: share of real samples inside the generated manifold (Kynkäänniemi et al. 2019); "
                 "tail coverage: share of the real data's sparsest points (largest k-NN radius) whose k-NN ball still "
                 "holds a generated sample.</p>")
        if "embeddings" in figures:
            body += img_tag(figures["embeddings"], "embedding collapse")
        out.append(section("From your embeddings", body, "embeddings"))
    return out


def build_collapse_report(*, n: int = 100, generations: int = 100, runs: int = 200,
                          lambdas: Sequence[float] = (0.0, 0.02, 0.05, 0.1, 0.25, 0.5), seed: int = 0,
                          mixture: bool = True, embeddings: np.ndarray | None = None,
                          embedding_generations: int = 10, embedding_lambda: float = 0.1,
                          figures: bool = True) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Run the collapse experiments; return (JSON-able results, PNG figures by name)."""
    from .collapse import (EmbeddingParams, GaussianParams, MixtureParams, simulate_from_embeddings,
                           simulate_gaussian, simulate_mixture, sweep_real_fraction)

    base = GaussianParams(n=n, generations=generations, runs=runs, seed=seed)
    rep = simulate_gaussian(base, mode="replace")
    acc = simulate_gaussian(base, mode="accumulate")
    sweep = sweep_real_fraction(lambdas, base)
    data: dict[str, Any] = {
        "kind": "artlineage.collapse", "version": 1, "seed": seed,
        "gaussian": {"replace": rep.summary(), "accumulate": acc.summary()},
        "real_fraction": {f"{lam:g}": {"w2_first": float(r.w2[:, 1].mean()), "w2_final": float(r.w2[:, -1].mean()),
                                       "w2_max_mean": float(r.w2.mean(0).max())} for lam, r in sweep.items()},
    }
    figs: dict[str, bytes] = {}
    if figures:
        figs["gaussian"] = gaussian_figure(rep, acc)
        figs["real_fraction"] = real_fraction_figure(sweep)
    if mixture:
        mp = MixtureParams(generations=min(generations, 40), seed=seed)
        m_rep, m_acc = simulate_mixture(mp, mode="replace"), simulate_mixture(mp, mode="accumulate")
        data["mixture"] = {"replace": m_rep.summary(), "accumulate": m_acc.summary()}
        if figures:
            figs["mixture"] = mixture_figure(m_rep, m_acc)
    if embeddings is not None:
        ep = EmbeddingParams(generations=embedding_generations, seed=seed)
        runs_e = {"replace": simulate_from_embeddings(embeddings, ep, mode="replace"),
                  "accumulate": simulate_from_embeddings(embeddings, ep, mode="accumulate"),
                  f"replace, λ={embedding_lambda:g}": simulate_from_embeddings(
                      embeddings, ep, mode="replace", real_fraction=embedding_lambda)}
        data["embeddings"] = {k: v.summary() for k, v in runs_e.items()}
        if figures:
            figs["embeddings"] = embedding_figure(runs_e)
    return data, figs


def write_collapse_report(directory: str | os.PathLike[str], data: dict[str, Any], figs: dict[str, bytes],
                          save_pngs: bool = True) -> tuple[Path, Path]:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    if save_pngs:
        for name, png in figs.items():
            (d / f"collapse_{name}.png").write_bytes(png)
    return write_report(d, data, collapse_sections(data, figs), "Model-collapse simulation")
