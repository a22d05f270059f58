"""Draw docs/img/architecture.png: the import layers (imports only go down) and the data flow of
inspect, scan, filter and match. Run from the repository root: python scripts/draw_architecture.py"""

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

LAYERS = [  # top to bottom: (label, parts, colour)
    ("interfaces", ["CLI (typer + rich)", "web platform (FastAPI)"], "#d9e8fb"),
    ("pipelines", ["scan", "consent filter", "audit", "registry consent", "health records"], "#fde2c8"),
    ("datasets (I/O)", ["manifests + shards", "scan store", "dataset paths"], "#fff3b0"),
    ("detectors", ["learned detectors (estimates)"], "#eadcf5"),
    ("registry | health", ["artists' registry (SQLAlchemy)", "dataset health"], "#d8f0d2"),
    ("matching", ["pHash / PDQ / copies", "Hamming index", "prompt guard"], "#cdeee9"),
    ("verdicts", ["provenance verdict", "consent verdict", "_inspect (one file)"], "#f6d5d5"),
    ("signals", ["C2PA", "IPTC / XMP", "EXIF", "AI-tool metadata", "watermark", "web opt-outs"], "#e6e6e6"),
    ("core", ["errors", "settings", "vocabulary", "reporting", "_files / _db / _aio"], "#f4f4f4"),
]
FLOWS = [  # (label, path through the layers' parts)
    ("inspect", "file → signals readers → evidence → provenance + consent verdicts → FileReport"),
    ("scan", "folder → pipelines.scan (process pool) → inspect each file → datasets scan store (resumable)"),
    ("filter", "manifest shards → web opt-outs (cached) + in-file signals + registry terms → consent verdict → kept/excluded"),
    ("match", "dataset paths → matching hashes / copy detector → registry works → matches with the artist's terms"),
]


def draw(path: Path) -> None:
    fig = Figure(figsize=(12, 9.6))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 12)
    ax.set_ylim(0, 9.6)
    ax.axis("off")
    ax.text(0.3, 9.25, "artlineage: import layers (arrows: every import goes downward; tests/test_layers.py enforces it)",
            fontsize=13, weight="bold")
    top, height, gap = 8.75, 0.62, 0.14
    for i, (name, parts, colour) in enumerate(LAYERS):
        y = top - i * (height + gap)
        ax.add_patch(FancyBboxPatch((0.3, y - height), 11.4, height, boxstyle="round,pad=0.02",
                                    fc=colour, ec="#555555", lw=0.8))
        ax.text(0.45, y - height / 2, name, fontsize=10.5, weight="bold", va="center")
        width = 9.3 / len(parts)
        for j, part in enumerate(parts):
            x = 2.3 + j * width
            ax.add_patch(FancyBboxPatch((x + 0.05, y - height + 0.1), width - 0.15, height - 0.2,
                                        boxstyle="round,pad=0.02", fc="white", ec="#888888", lw=0.6))
            ax.text(x + width / 2, y - height / 2, part, fontsize=8.5, ha="center", va="center")
        if i < len(LAYERS) - 1:
            ax.add_patch(FancyArrowPatch((11.85, y - height + 0.05), (11.85, y - height - gap - 0.05),
                                         arrowstyle="-|>", mutation_scale=10, color="#333333"))
    y0 = top - len(LAYERS) * (height + gap) - 0.2
    ax.text(0.3, y0, "data flow", fontsize=11.5, weight="bold")
    for k, (name, flow) in enumerate(FLOWS):
        ax.text(0.45, y0 - 0.38 * (k + 1), f"{name}:", fontsize=9.5, weight="bold")
        ax.text(1.35, y0 - 0.38 * (k + 1), flow, fontsize=9.5)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    out = Path(__file__).resolve().parents[1] / "docs" / "img" / "architecture.png"
    draw(out)
    print(f"wrote {out}")
