"""One shard of a consent-filter run: evaluate, decide, write kept/excluded Parquet and stats atomically
(done-marker last); the run's plan check and the final concatenation of finished shards."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Mapping

import pyarrow as pa
import pyarrow.parquet as pq

from ..._files import write_text_atomic
from ...datasets.manifest import write_parquet_atomic
from .config import FilterConfig, FilterSummary
from .fetching import _host, _is_web, _origin, evaluate_batch


def _string_column(values: list[str | None]) -> pa.Array:
    return pa.array(values, type=pa.string())


def process_shard(table: pa.Table, index: int, cfg: FilterConfig, out_dir: str) -> dict:
    """Evaluate one shard and write its outputs atomically, done-marker last. Returns its stats.
    """
    shard_dir = Path(out_dir) / "shards"
    urls = table.column(cfg.url_col).to_pylist() if cfg.url_col in table.column_names else [None] * table.num_rows
    cache_path = cfg.cache_path or str(Path(out_dir) / "signals-cache.sqlite")
    results, ctx, requests = evaluate_batch(
        urls, lambda idx: table.take(pa.array(idx, type=pa.int64())).to_pylist(), cfg, cache_path)
    terms_of = _registry_terms_for(table, cfg)
    decider = ctx.decider
    outcomes = [decider.outcome(ev, terms_of(i) if terms_of else None) for i, (ev, _errs) in enumerate(results)]
    error_memo: dict[tuple[str, ...], str] = {}
    error_json = [(error_memo.get(t) or error_memo.setdefault(t, json.dumps(errs))) if errs else None
                  for _ev, errs in results for t in (tuple(errs),)]

    hosts = [_origin(u).split("://", 1)[1] if _is_web(u) else _host(u) for u in urls]
    kept_idx = [i for i, o in enumerate(outcomes) if not o.excluded]
    excl_idx = [i for i, o in enumerate(outcomes) if o.excluded]
    kept = table.take(pa.array(kept_idx, type=pa.int64()))
    kept = kept.append_column("consent", _string_column([outcomes[i].decision for i in kept_idx]))
    kept = kept.append_column("signal_errors", _string_column([error_json[i] for i in kept_idx]))
    excluded = table.take(pa.array(excl_idx, type=pa.int64()))
    for name, values in (("consent", [outcomes[i].consent_json for i in excl_idx]),
                         ("reason", [outcomes[i].reason for i in excl_idx]),
                         ("rule", [outcomes[i].rule for i in excl_idx]),
                         ("evidence", [outcomes[i].evidence_json for i in excl_idx]),
                         ("signal_errors", [error_json[i] for i in excl_idx])):
        excluded = excluded.append_column(name, _string_column(values))
    stats = {"index": index, "rows": table.num_rows, "kept": len(kept_idx), "excluded": len(excl_idx),
             "excluded_by_reason": dict(Counter(outcomes[i].reason for i in excl_idx)),
             "excluded_by_host": dict(Counter(hosts[i] for i in excl_idx)),
             "rows_by_host": dict(Counter(hosts)), "signal_errors": sum(e is not None for e in error_json),
             "requests": requests}
    stem = shard_dir / f"shard-{index:06d}"
    write_parquet_atomic(kept, f"{stem}.kept.parquet")
    write_parquet_atomic(excluded, f"{stem}.excluded.parquet")
    write_text_atomic(json.dumps(stats), f"{stem}.stats.json")
    write_text_atomic("done\n", f"{stem}.done")  # last: only a complete shard counts as done
    return stats


def _registry_terms_for(table: pa.Table, cfg: FilterConfig) -> Callable[[int], list[Mapping[str, Any]]] | None:
    """Row index -> registry terms, via ``cfg.registry_terms`` (None when no registry is wired)."""
    hook = cfg.registry_terms
    if hook is None:
        return None
    rows = table.to_pylist()
    return lambda i: list(hook(rows[i]) or [])


def _shard_done(out_dir: Path, index: int) -> bool:
    return (out_dir / "shards" / f"shard-{index:06d}.done").exists()


def _check_plan(out: Path, manifest_path: str, cfg: FilterConfig) -> None:
    plan = {"manifest": str(Path(manifest_path).resolve()), "shard_size": cfg.shard_size, "url_col": cfg.url_col}
    path = out / "plan.json"
    if path.exists():
        old = json.loads(path.read_text())
        if old != plan:
            raise ValueError(f"{out} holds a run with a different plan ({old}); use a new --out folder")
    else:
        write_text_atomic(json.dumps(plan), path)


def _finalize(out: Path, summary: FilterSummary) -> None:
    """Concatenate finished shards (in order) into kept.parquet / excluded.parquet; sum the stats."""
    shard_dir = out / "shards"
    done = sorted(p.name.split(".")[0] for p in shard_dir.glob("shard-*.done"))
    summary.shards = len(done)
    by_reason: Counter[str] = Counter()
    by_host: Counter[str] = Counter()
    rows_by_host: Counter[str] = Counter()
    for kind in ("kept", "excluded"):
        tables = [pq.read_table(shard_dir / f"{stem}.{kind}.parquet") for stem in done]
        if tables:
            write_parquet_atomic(pa.concat_tables(tables, promote_options="permissive"), out / f"{kind}.parquet")
    for stem in done:
        stats = json.loads((shard_dir / f"{stem}.stats.json").read_text())
        summary.input_rows += stats["rows"]
        summary.kept += stats["kept"]
        summary.excluded += stats["excluded"]
        summary.signal_errors += stats["signal_errors"]
        summary.requests += stats["requests"]
        by_reason.update(stats["excluded_by_reason"])
        by_host.update(stats["excluded_by_host"])
        rows_by_host.update(stats["rows_by_host"])
    summary.excluded_by_reason = dict(by_reason.most_common())
    summary.excluded_by_host = dict(by_host.most_common())
    summary.rows_by_host = dict(rows_by_host.most_common())
