"""The consent-filter run: shards of a manifest through local workers, a process pool or Ray; resumable."""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Callable

from ...datasets.manifest import open_manifest
from ...errors import ShardFailure
from . import fetching
from .config import FilterConfig, FilterSummary
from .ray_backend import run_on_ray
from .._workers import die_with_parent
from .report import write_report
from .shards import _check_plan, _finalize, _shard_done, process_shard

log = logging.getLogger(__name__)


def filter_manifest(manifest_path: str | os.PathLike[str], out_dir: str | os.PathLike[str],
                    config: FilterConfig | None = None,
                    progress: Callable[[int, int], None] | None = None) -> FilterSummary:
    """Filter a manifest into ``out_dir`` (kept.parquet, excluded.parquet, report.json, report.html)."""
    cfg = config or FilterConfig()
    out = Path(out_dir)
    (out / "shards").mkdir(parents=True, exist_ok=True)
    _check_plan(out, str(manifest_path), cfg)
    manifest = open_manifest(manifest_path, url_col=cfg.url_col)
    fetching.reset_contexts()  # a new run reads site signals afresh (they may have been refetched since)
    start = time.perf_counter()
    summary = FilterSummary()
    done_now = rows_now = 0
    total_rows = manifest.known_rows()

    def finished(stats: dict) -> None:
        """``progress(rows done this run, rows in the manifest or -1 when unknown)`` after each shard."""
        nonlocal done_now, rows_now
        done_now += 1
        rows_now += stats.get("rows", 0)
        summary.shards += 1
        log.info("shard %s done: %s rows, %s excluded", stats.get("index"), stats.get("rows"), stats.get("excluded"))
        if progress:
            progress(rows_now, total_rows if total_rows is not None else -1)
        if cfg.fail_after_shards is not None and done_now >= cfg.fail_after_shards:
            raise ShardFailure(f"stopping after {done_now} shard(s) (fail_after_shards)")

    pending_shards = ((i, t) for i, t in enumerate(manifest.iter_shards(cfg.shard_size))
                      if not _shard_done(out, i))
    if cfg.backend == "ray":
        run_on_ray(pending_shards, cfg, str(out), finished)
    elif cfg.workers > 1:
        with ProcessPoolExecutor(max_workers=cfg.workers, initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool:
            in_flight: set = set()
            try:
                for i, table in pending_shards:
                    in_flight.add(pool.submit(process_shard, table, i, cfg, str(out)))
                    if len(in_flight) >= cfg.workers * 2:
                        done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                        for f in done:
                            finished(f.result())
                for f in list(in_flight):
                    in_flight.discard(f)
                    finished(f.result())
            except BaseException:
                for f in in_flight:
                    f.cancel()
                raise
    else:
        for i, table in pending_shards:
            finished(process_shard(table, i, cfg, str(out)))
    _finalize(out, summary)
    summary.seconds = time.perf_counter() - start
    write_report(out, summary)
    return summary
