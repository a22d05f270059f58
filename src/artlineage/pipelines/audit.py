"""One audit report for a filtered dataset: what consent excluded, and the health of what is kept.

``artlineage filter --health`` writes the consent sections (excluded by reason and host) and the
health sections (synthetic share, near duplicates, diversity) into the same report.html and
report.json, so a dataset builder reads one document. Health needs the images: it covers kept
rows that are local files; remote rows are counted and named as not measured.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import pyarrow.parquet as pq

from ..health.report import build_health_report
from ..health.report_html import health_sections
from ..health.synthetic import Record, inspect_record, with_sources
from ..reporting import section
from .health import records_from_scan_db



def kept_local_paths(out_dir: str | os.PathLike[str], path_col: str = "path") -> tuple[list[str], int]:
    """Local files among the kept rows, and how many kept rows are not local files."""
    kept = Path(out_dir) / "kept.parquet"
    if not kept.exists():
        return [], 0
    table = pq.read_table(kept)
    if path_col not in table.column_names:
        return [], table.num_rows
    paths = [p for p in table.column(path_col).to_pylist() if p]
    local = [p for p in paths if os.path.isfile(p)]
    return local, table.num_rows - len(local)


def health_of_kept(out_dir: str | os.PathLike[str], *, scan_db: str | os.PathLike[str] | None = None,
                   pixels: bool = True, workers: int = 1, path_col: str = "path") -> dict[str, Any]:
    """The health report (``artlineage.health``) of the kept rows that are local files.

    Provenance comes from ``scan_db`` rows when given (no re-inspection), otherwise each file is
    inspected here.
    """

    paths, not_local = kept_local_paths(out_dir, path_col)
    known: dict[str, Record] = {}
    if scan_db is not None:
        known = {os.path.abspath(r.path): r for r in records_from_scan_db(scan_db)}
    records: list[Record] = []
    for p in paths:
        rec = known.get(os.path.abspath(p)) or inspect_record(p, pixels=pixels)
        records.append(Record(p, rec.origin, rec.generator, rec.confidence, rec.sha256))
    report = build_health_report(with_sources(records), pixels=pixels, workers=workers,
                                 source=f"kept rows of {out_dir}").to_dict() if records else {}
    report["not_measured_rows"] = not_local
    return report


def health_sections_for_audit(health: dict[str, Any]) -> list[str]:
    """HTML sections for the audit page; says plainly when nothing could be measured."""
    note = ""
    if health.get("not_measured_rows"):
        note = (f"<p>{health['not_measured_rows']} kept row(s) are not local files and are not measured here: "
                "download them (e.g. with img2dataset) and run <code>artlineage health</code> on the folder.</p>")
    if "provenance" not in health:
        return [section("Dataset health", note or "<p>No kept rows to measure.</p>", "health")]
    sections: Sequence[str] = health_sections(health)
    return [section("Dataset health of the kept rows", note, "health"), *sections]
