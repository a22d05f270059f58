"""The Ray backend of a consent-filter run (optional extra: ``pip install 'artlineage[ray]'``)."""

from __future__ import annotations

from typing import Callable, Iterable

import pyarrow as pa

from .._workers import drain_bounded
from .config import FilterConfig
from .shards import process_shard


def run_on_ray(shards: Iterable[tuple[int, pa.Table]], cfg: FilterConfig, out: str,
             finished: Callable[[dict], None]) -> None:
    import ray  # optional extra: pip install 'artlineage[ray]'

    if not ray.is_initialized():
        # address="local": a fresh in-process cluster, never whichever Ray cluster runs on this machine.
        ray.init(address="local", num_cpus=max(cfg.workers, 1), include_dashboard=False, log_to_driver=False)
    remote = ray.remote(process_shard)
    cfg_ref = ray.put(cfg)
    drain_bounded((remote.remote(table, i, cfg_ref, out) for i, table in shards), max(cfg.workers, 1) * 2, finished)
