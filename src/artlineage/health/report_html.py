"""HTML sections of a health report (reusable inside other reports, e.g. the consent filter's audit),
drawn with the shared kit (:mod:`artlineage.reporting`)."""

from __future__ import annotations

import html
import os
from typing import Any, Sequence

import numpy as np

from ..reporting import figure_png, html_table, img_tag, new_figure, section

LOW_DIVERSITY_PER_ITEM = 0.35  # a group whose items behave like fewer than 35% as many distinct ones
LOW_DIVERSITY_MIN_ITEMS = 10

_CLASS_COLOURS = {"synthetic": "#d62728", "human": "#2ca02c", "unknown": "#9e9e9e", "algorithmic": "#ff7f0e",
                  "error": "#000000"}


def _shares_chart(prov: dict[str, Any]) -> bytes:
    rows = [("all", prov)] + sorted(prov.get("by_source", {}).items())[:30]
    fig, ax = new_figure(figsize=(8, 0.4 * len(rows) + 1.4))
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
    from matplotlib.ticker import PercentFormatter

    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -1.3 / len(rows)), ncol=4, fontsize=8, frameon=False)
    ax.set_title("Provenance shares by source (unknown is never counted as human)", fontsize=10)
    return figure_png(fig)


def _vendi_chart(div: dict[str, Any]) -> bytes:
    items = [(f"class:{k}", v) for k, v in div.get("by_origin_class", {}).items()]
    items += [(f"gen:{k}", v) for k, v in list(div.get("by_generator", {}).items())[:15]]
    items = [(k, v) for k, v in items if v.get("vendi")]
    fig, ax = new_figure(figsize=(8, 0.4 * max(1, len(items)) + 1.5))
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


def health_sections(report: Any, charts: bool = True) -> list[str]:
    """HTML sections of a health report (a :class:`HealthReport` or its dict; reusable inside other reports)."""
    if hasattr(report, "to_dict"):
        report = report.to_dict()
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
