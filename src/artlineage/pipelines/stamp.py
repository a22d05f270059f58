"""Stamp every image of a folder (``artlineage stamp FOLDER``): resumable through a JSON-lines
journal, one line per file written as soon as that file is done, so a killed run picks up where it
stopped and a file already stamped is never stamped twice.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .._files import iter_image_files
from ..errors import ArtlineageError, InputError
from ..stamping import StampOptions, stamp_file

JOURNAL_NAME = ".artlineage-stamp.jsonl"
STAMPABLE = frozenset({".png", ".jpg", ".jpeg", ".webp", ".avif", ".heic", ".heif"})
MAX_ERRORS_KEPT = 1000


@dataclass
class StampBatchSummary:
    stamped: int = 0
    skipped: int = 0          # done by an earlier run (journal)
    failed: int = 0
    seconds: float = 0.0
    journal: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _signature(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _load_journal(path: Path) -> dict[str, dict]:
    done: dict[str, dict] = {}
    if not path.exists():
        return done
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                row = json.loads(line)
            except ValueError:
                continue          # a line cut by a killed run
            if isinstance(row, dict) and row.get("status") == "ok" and isinstance(row.get("file"), str):
                done[row["file"]] = row
    return done


def stamp_folder(folder: str | os.PathLike[str], options: StampOptions, *, out: str | os.PathLike[str] | None = None,
                 journal: str | os.PathLike[str] | None = None, resume: bool = True, guard=None,
                 on_progress: Callable[[int, int], None] | None = None) -> StampBatchSummary:
    """Stamp the images under ``folder`` into ``out`` (same relative paths) or in place.

    The journal (default: ``<out or folder>/.artlineage-stamp.jsonl``) records each file with the
    size and mtime of its source and of what was written; with ``resume`` a file whose current
    source (or, in place, output) still has a recorded signature is skipped. A file that fails is
    recorded with its error and the run goes on."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder")
    out_root = Path(out) if out is not None else None
    journal_path = Path(journal) if journal else (out_root or root) / JOURNAL_NAME
    journal_path.parent.mkdir(parents=True, exist_ok=True)
    done = _load_journal(journal_path) if resume else {}
    files = sorted(p for p in iter_image_files(root) if p.suffix.lower() in STAMPABLE
                   and not (out_root is not None and out_root.resolve() in p.resolve().parents))
    summary = StampBatchSummary(journal=str(journal_path))
    start = time.perf_counter()
    with journal_path.open("a", encoding="utf-8") as log:
        for n, src in enumerate(files, 1):
            rel = src.relative_to(root).as_posix()
            dst = out_root / rel if out_root is not None else src
            prev = done.get(rel)
            sig = _signature(src)
            if prev and (sig == prev.get("source") or (out_root is None and sig == prev.get("output"))) and (
                    out_root is None or dst.exists()):
                summary.skipped += 1
            else:
                try:
                    stamp_file(src, dst, options, guard=guard)
                    row = {"file": rel, "status": "ok", "source": sig, "output": _signature(dst)}
                    summary.stamped += 1
                except (ArtlineageError, OSError, ValueError) as exc:
                    row = {"file": rel, "status": "error", "error": f"{type(exc).__name__}: {exc}"}
                    summary.failed += 1
                    if len(summary.errors) < MAX_ERRORS_KEPT:
                        summary.errors.append({"file": rel, "error": row["error"]})
                log.write(json.dumps(row) + "\n")
                log.flush()
            if on_progress:
                on_progress(n, len(files))
    summary.seconds = round(time.perf_counter() - start, 3)
    return summary
