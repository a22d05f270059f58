"""Real files from other projects' test suites: right/wrong per class, artlineage beside sd-parsers.

    python benchmarks/corpus_runner.py CORPUS_DIR [--expected benchmarks/corpus/expected.csv]
    python benchmarks/corpus_runner.py CORPUS_DIR --materialize MIRRORS_DIR   # rebuild the corpus first

The files are never committed (workplace rule: fetched files stay out of the repository); the
committed ``benchmarks/corpus/expected.csv`` names each one by source repository, commit and path,
with its licence and the expected result, so the corpus can be rebuilt anywhere:
``CORPUS_DIR/<owner>+<name>/<path>`` is ``git -C <clone of owner/name> show <commit>:<path>``.
``--materialize`` does exactly that from local clones found as ``MIRRORS_DIR/<owner>+<name>/repo``
(or ``MIRRORS_DIR/<owner>+<name>``). See ``benchmarks/corpus/SOURCES.md``.

A file is right for artlineage when its origin matches and, where a generator is expected, the
verdict names it (or the file is expected to be unreadable and is reported as an error).
sd-parsers reads generator metadata only, so it is scored on the rows whose class is about
generator metadata; there it is right when it names the same generator family (it knows
AUTOMATIC1111, ComfyUI, Fooocus, InvokeAI and NovelAI; everything A1111-like counts as
AUTOMATIC1111 for it, which is the mislabelling the generator_identity class measures). It has no
notion of an edit, so an ``ai_edited`` row counts as wrong for it.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from artlineage import inspect_file  # noqa: E402

DEFAULT_EXPECTED = Path(__file__).resolve().parent / "corpus" / "expected.csv"
# Classes whose files carry generator metadata, the only ones sd-parsers can be scored on.
GENERATOR_CLASSES = {"generator_metadata", "generator_identity", "generated_vs_edited", "comfyui_exif"}
# sd-parsers' generator names for the tools artlineage names more precisely.
# Generous: the family counts as right (a ComfyUI-based app as ComfyUI, a webui fork as AUTOMATIC1111).
SD_PARSERS_FAMILY = {"Forge": "AUTOMATIC1111", "reForge": "AUTOMATIC1111", "SD.Next": "AUTOMATIC1111",
                     "Civitai": "AUTOMATIC1111", "Yodayo": "AUTOMATIC1111", "Forge Classic": "AUTOMATIC1111",
                     "Forge Neo": "AUTOMATIC1111", "SwarmUI": "ComfyUI", "Stability Matrix": "ComfyUI",
                     "Tensor.Art": "ComfyUI", "RuinedFooocus": "Fooocus"}


@dataclass(frozen=True)
class Row:
    cls: str
    repo: str
    commit: str
    path: str
    licence: str
    origin: str  # ai_generated / ai_edited / camera / algorithmic / human_declared / unknown / error
    generator: str
    note: str

    def local(self, corpus: Path) -> Path:
        return corpus / self.repo.replace("/", "+") / self.path


def load_expected(path: Path) -> list[Row]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["class"] and not r["class"].startswith("#")]
    return [Row(r["class"], r["repo"], r["commit"], r["path"], r["licence"], r["origin"], r["generator"],
                r.get("note", "")) for r in rows]


def materialize(rows: list[Row], corpus: Path, mirrors: Path) -> int:
    """Copy each listed file out of a local clone at the listed commit (data only, bounded count)."""
    made = 0
    for row in rows:
        target = row.local(corpus)
        if target.exists():
            continue
        slug = row.repo.replace("/", "+")
        git_dir = next((p for p in (mirrors / slug / "repo", mirrors / slug) if p.exists()), None)
        if git_dir is None:
            print(f"  no clone of {row.repo} under {mirrors}", file=sys.stderr)
            continue
        blob = subprocess.run(["git", "-C", str(git_dir), "show", f"{row.commit}:{row.path}"],
                              capture_output=True, timeout=60, check=False)
        if blob.returncode != 0:
            print(f"  {row.repo}:{row.path} not at {row.commit[:10]}", file=sys.stderr)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob.stdout)
        made += 1
    return made


def artlineage_result(path: Path) -> tuple[str, str]:
    report = inspect_file(path)
    if report.error:
        return "error", ""
    return report.origin.value, (report.verdict.generator or "") if report.verdict else ""


def artlineage_right(row: Row, origin: str, generator: str) -> bool:
    if origin != row.origin:
        return False
    return not row.generator or generator == row.generator


def sd_parsers_result(path: Path) -> str:
    from sd_parsers import ParserManager

    try:
        info = ParserManager().parse(str(path))
    except Exception as exc:  # noqa: BLE001 - the baseline's own failures are part of its score
        return f"error: {type(exc).__name__}"
    return info.generator.value if info is not None else ""


def sd_parsers_right(row: Row, found: str) -> bool:
    if row.origin == "ai_edited":
        return False  # it has no notion of an edit: it cannot say what the row expects
    if row.origin != "ai_generated":
        return found == ""
    return found == SD_PARSERS_FAMILY.get(row.generator, row.generator)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--expected", type=Path, default=DEFAULT_EXPECTED)
    parser.add_argument("--materialize", type=Path, metavar="MIRRORS_DIR",
                        help="first copy the listed files out of local clones found here")
    parser.add_argument("--no-sd-parsers", action="store_true")
    parser.add_argument("--show-wrong", action="store_true", help="list every file artlineage gets wrong")
    args = parser.parse_args(argv)

    rows = load_expected(args.expected)
    if args.materialize:
        print(f"materialized {materialize(rows, args.corpus, args.materialize)} file(s)")
    try:
        import sd_parsers  # noqa: F401
        use_sd = not args.no_sd_parsers
    except ImportError:
        print("sd-parsers not installed (pip install 'artlineage[bench]'): its column is skipped")
        use_sd = False

    per_class: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # files, ours right, sd scored, sd right
    missing: list[Row] = []
    wrong: list[str] = []
    t_ours = t_sd = 0.0
    for row in rows:
        path = row.local(args.corpus)
        if not path.is_file():
            missing.append(row)
            continue
        start = time.perf_counter()
        origin, generator = artlineage_result(path)
        t_ours += time.perf_counter() - start
        stats = per_class[row.cls]
        stats[0] += 1
        if artlineage_right(row, origin, generator):
            stats[1] += 1
        else:
            wrong.append(f"{row.cls:20} {row.repo}:{row.path}  expected {row.origin}/{row.generator or '-'}, "
                         f"got {origin}/{generator or '-'}")
        if use_sd and row.cls in GENERATOR_CLASSES:
            start = time.perf_counter()
            found = sd_parsers_result(path)
            t_sd += time.perf_counter() - start
            stats[2] += 1
            stats[3] += sd_parsers_right(row, found)

    print(f"{'class':22} {'files':>5}  {'artlineage':>12}  {'sd-parsers':>12}")
    totals = [0, 0, 0, 0]
    for cls in sorted(per_class):
        n, ours, sd_n, sd_ok = per_class[cls]
        totals = [a + b for a, b in zip(totals, per_class[cls])]
        sd_col = f"{sd_ok}/{sd_n}" if sd_n else "n/a"
        print(f"{cls:22} {n:5d}  {f'{ours}/{n}':>12}  {sd_col:>12}")
    n, ours, sd_n, sd_ok = totals
    if n:
        print(f"{'all':22} {n:5d}  {f'{ours}/{n} ({100 * ours / n:.0f}%)':>12}  "
              + (f"{sd_ok}/{sd_n} ({100 * sd_ok / sd_n:.0f}%)" if sd_n else "n/a"))
        print(f"time: artlineage {1000 * t_ours / n:.1f} ms/file" + (
            f", sd-parsers {1000 * t_sd / sd_n:.1f} ms/file (generator classes only)" if sd_n else ""))
    if missing:
        print(f"{len(missing)} listed file(s) missing from {args.corpus} (use --materialize)")
    if args.show_wrong and wrong:
        print("\nwrong:\n" + "\n".join(wrong))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
