"""The influence lineage drawn as an inline SVG, laid out on the server.

Layered layout by depth: ancestors (influenced the artist) in columns to the left, descendants to
the right, the artist in the middle; within a column nodes are stacked in the order the breadth-first
walk found them, and each edge goes from a node to the node it was reached through (``via``). Written
by hand because it is ~50 lines and no dependency-free layout library fits a server-side page.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

COL_W, ROW_H, BOX_W, BOX_H, PAD = 190, 44, 160, 30, 16
MAX_PER_COLUMN = 12


def lineage_svg(lin: dict[str, Any], link: str = "/artists/{id}") -> str:
    """SVG markup for a ``Lineage.to_dict()`` (text escaped; links only to numeric ids)."""
    root = lin["root"]
    cols: dict[int, list[dict[str, Any]]] = {0: [{"id": root["id"], "name": root["name"], "via": None}]}
    for side, sign in (("ancestors", -1), ("descendants", 1)):
        for n in lin.get(side, []):
            col = cols.setdefault(sign * n["depth"], [])
            if len(col) < MAX_PER_COLUMN:
                col.append({"id": n["id"], "name": n["name"], "via": n["via"], "side": side})
    order = sorted(cols)
    height = max(len(v) for v in cols.values()) * ROW_H + 2 * PAD
    width = len(order) * COL_W + 2 * PAD
    pos: dict[tuple[int, int], tuple[float, float]] = {}
    for ci, c in enumerate(order):
        nodes = cols[c]
        offset = (height - len(nodes) * ROW_H) / 2
        for ri, n in enumerate(nodes):
            pos[(c, n["id"])] = (PAD + ci * COL_W, offset + ri * ROW_H + (ROW_H - BOX_H) / 2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}"><title>Influence lineage of {escape(str(root["name"]))}</title>',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#666"/></marker></defs>']
    for c in order:
        if c == 0:
            continue
        prev = c + 1 if c < 0 else c - 1
        for n in cols[c]:
            if (prev, n["via"]) not in pos:
                continue
            x1, y1 = pos[(c, n["id"])]
            x2, y2 = pos[(prev, n["via"])]
            # Arrow points from the influence to the influenced: left to right.
            if c < 0:
                a, b = (x1 + BOX_W, y1 + BOX_H / 2), (x2, y2 + BOX_H / 2)
            else:
                a, b = (x2 + BOX_W, y2 + BOX_H / 2), (x1, y1 + BOX_H / 2)
            parts.append(f'<line x1="{a[0]:.0f}" y1="{a[1]:.0f}" x2="{b[0]:.0f}" y2="{b[1]:.0f}" stroke="#666" '
                         'marker-end="url(#arrow)"/>')
    for (c, node_id), (x, y) in pos.items():
        name = next(n["name"] for n in cols[c] if n["id"] == node_id)
        label = escape(name if len(name) <= 22 else name[:21] + "…")
        cls = "root" if c == 0 else ("ancestor" if c < 0 else "descendant")
        href = escape(link.format(id=int(node_id)))
        parts.append(f'<a href="{href}"><rect class="{cls}" x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" '
                     f'rx="6"/><text x="{x + BOX_W / 2:.0f}" y="{y + BOX_H / 2 + 5:.0f}" text-anchor="middle">{label}'
                     f'<title>{escape(name)}</title></text></a>')
    parts.append("</svg>")
    return "".join(parts)
