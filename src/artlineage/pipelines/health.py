"""Records for a health report from where they live: a scan database (``artlineage scan``) or a folder."""

from __future__ import annotations

import os
from pathlib import Path

from ..datasets.scan_store import ScanStore
from ..health.synthetic import ERROR_ORIGIN, Record, records_from_folder, with_sources


def records_from_scan_db(db: str | os.PathLike[str]) -> list[Record]:
    """Rows of a scan database (``artlineage scan``) as records."""
    if "://" not in str(db) and not Path(db).is_file():
        raise FileNotFoundError(f"no scan database at {db}")
    store = ScanStore(db)
    records = [Record(r.path, ERROR_ORIGIN if r.error else r.origin, r.generator, float(r.confidence or 0.0),
                      r.sha256) for r in store.rows()]
    return with_sources(records)


def load_records(target: str | os.PathLike[str], *, pixels: bool = True) -> list[Record]:
    """A scan database file/URL or a dataset folder."""
    if "://" in str(target) or Path(target).is_file():
        return records_from_scan_db(target)
    if Path(target).is_dir():
        return records_from_folder(target, pixels=pixels)
    raise FileNotFoundError(f"{target} is neither a scan database nor a folder")
