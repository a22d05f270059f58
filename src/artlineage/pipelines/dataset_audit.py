"""``artlineage audit``: one pass over a dataset, one answer per image, filtered shards out.

Input: WebDataset tars, Parquet (URLs, or image bytes as img2dataset writes them) or a folder of
images, local or in object storage (``s3://``, ``gs://``; :mod:`artlineage.datasets.filesystems`).
Per image, in one decode (:mod:`._audit_shard`): provenance verdict, in-file and web consent (the
filter's host cache), registry matches, near-duplicate keys, and embeddings when asked.

Output folder (local or object storage)::

    shards/NNNNNN.tar        kept samples: image + their .json/.txt sidecars + artlineage.json
    kept/NNNNNN.parquet      (URL manifests instead) the kept rows, to download with img2dataset
    excluded/NNNNNN.parquet  excluded rows with reason, rule and evidence
    keys/NNNNNN.parquet      one row per image (verdicts, hashes, embedding) for later passes
    dupkeys/NNNNNN.parquet   the duplicate keys, cut by partition for the global step
    done/NNNNNN.json         the done-manifest: one marker per finished shard, written last
    duplicates.parquet       near-duplicate clusters across all shards (global step)
    report.json, report.html the consent report with the health sections

The unit of work is a shard. Workers write their own outputs; the parent lists shards, hands them
out and reads small stats back. A killed run resumes: shards with a done-marker are skipped, the
others are redone from scratch and overwrite whatever half of them was there (every file is
committed atomically under a name fixed by the shard's index), so no shard is lost or counted twice.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ..datasets.filesystems import Location, open_location
from ._workers import die_with_parent, drain_bounded
from ..datasets.shards import ShardSpec, list_shards
from ..errors import ConfigurationError, PipelineError, ShardFailure
from ..vocabulary import ALL_USES, normalize_uses


@dataclass
class AuditConfig:
    workers: int = 1
    backend: str = "local"  # local (process pool) | ray
    address: str | None = None  # Ray cluster address (ray://..., host:port or "auto")
    pixels: bool = False  # pixel signal readers (invisible watermark, stealth metadata): "full" audit
    hashes: bool = True  # pHash/PDQ: near duplicates and registry matches
    embeddings: bool = False  # diversity embeddings (Vendi in the report)
    embedder: str | None = None  # embedder spec (health.embeddings.embedder_from_spec); default statistics
    web: bool = True  # web opt-outs (robots.txt, ai.txt, TDMRep, X-Robots-Tag) for rows with URLs
    head: bool = True
    html: bool = True
    agents: tuple[str, ...] | None = None
    allow_private: bool = False
    cache_path: str | None = None  # web signal cache (SQLite on each host); default ~/.cache/artlineage
    cache_ttl: float = 86_400.0
    concurrency: int = 64
    per_host_concurrency: int = 4
    timeout: float = 10.0
    exclude_uses: tuple[str, ...] = ALL_USES
    exclude_origins: tuple[str, ...] = ()  # e.g. ("ai_generated",) to drop synthetic images
    registry: str | None = None  # artists' registry: perceptual matches + its terms
    exclude_registered: bool = False  # drop every image matching a registered work, whatever its terms
    dedup: bool = True
    dedup_max_distance: int = 8
    dedup_partitions: int = 16
    shard_size: int = 10_000  # images per shard for folders of files (tars and Parquet files are shards)
    max_image_bytes: int = 64 * 1024 * 1024
    storage_options: dict[str, Any] = field(default_factory=dict)
    fetch_options: dict[str, Any] = field(default_factory=dict)  # resolver / transport (tests)
    fail_after_shards: int | None = None  # tests: stop the run after this many shards

    def __post_init__(self) -> None:
        # One consent-use vocabulary (artlineage.vocabulary): "ai_training" means "training" here too.
        self.exclude_uses = normalize_uses(self.exclude_uses)
        if self.backend not in ("local", "ray"):
            raise ConfigurationError(f"backend must be local or ray, not {self.backend!r}")
        for name in ("workers", "shard_size", "dedup_partitions", "max_image_bytes", "concurrency",
                     "per_host_concurrency"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.dedup_max_distance < 64:
            raise ConfigurationError(f"dedup_max_distance must be in 0..63, got {self.dedup_max_distance}")
        if self.registry and not self.hashes:
            raise ConfigurationError("registry copies need the pixels: hashes=False (metadata only) excludes registry")

    def filter_config(self) -> Any:
        """The consent filter's settings for the web part (in-file signals come from the audit's bytes)."""
        from .consent_filter.config import FilterConfig

        return FilterConfig(agents=self.agents, in_file=False, head=self.head, html=self.html,
                            allow_private=self.allow_private, exclude_uses=self.exclude_uses,
                            cache_path=self.cache_file(), cache_ttl=self.cache_ttl, concurrency=self.concurrency,
                            per_host_concurrency=self.per_host_concurrency, timeout=self.timeout,
                            fetch_options=self.fetch_options)

    def cache_file(self) -> str:
        if self.cache_path:
            return self.cache_path
        root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return os.path.join(root, "artlineage", "signals-cache.sqlite")


@dataclass
class AuditSummary:
    input_rows: int = 0
    kept: int = 0
    excluded: int = 0
    shards: int = 0
    shards_resumed: int = 0
    shards_run: int = 0
    seconds: float = 0.0
    excluded_by_reason: dict[str, int] = field(default_factory=dict)
    by_origin: dict[str, int] = field(default_factory=dict)
    signal_errors: int = 0
    duplicates: dict[str, Any] = field(default_factory=dict)
    nodes: list[str] = field(default_factory=list)
    phase_seconds: dict[str, float] = field(default_factory=dict)  # worker seconds by phase, all shards
    dedup_seconds: float = 0.0
    worker_cpu_seconds: float = 0.0  # CPU the shard workers spent (the per-core cost, whatever the load)

    @property
    def images_per_second(self) -> float:
        return self.input_rows / self.seconds if self.seconds > 0 else 0.0


def _check_plan(out: Location, source: Location, shards: list[ShardSpec], cfg: AuditConfig) -> None:
    """The first run writes plan.json; a rerun must audit the same shards into the same folder."""
    import hashlib

    listing = hashlib.sha256("\n".join(u for s in shards for u in s.urls).encode()).hexdigest()
    plan = {"source": source.url, "shards": len(shards), "listing_sha256": listing,
            "dedup_partitions": cfg.dedup_partitions}
    loc = out.child("plan.json")
    if loc.exists():
        old = json.loads(loc.read_bytes())
        if old != plan:
            raise PipelineError(f"{out.url} holds an audit of different input ({old}); use a new output folder")
    else:
        loc.write_bytes(json.dumps(plan).encode())


def _remove_orphan_temps(out: Location) -> None:
    """Temp files a killed run left (local outputs; object stores have none: an upload is one PUT)."""
    if not out.is_local:
        return
    for sub in OUTPUT_FOLDERS:
        for p in Path(out.path, sub).glob(".*.tmp"):
            p.unlink(missing_ok=True)


OUTPUT_FOLDERS = ("shards", "kept", "excluded", "keys", "dupkeys", "done")


def _done_names(out: Location) -> set[str]:
    return {Path(loc.path).stem for loc in out.child("done").list((".json",))}


def run_audit(source_url: str | os.PathLike[str], out_url: str | os.PathLike[str], config: AuditConfig | None = None,
              progress: Callable[[int, int], None] | None = None) -> AuditSummary:
    """Audit every shard of ``source_url`` into ``out_url`` (see the module docstring)."""
    from ._audit_shard import process_shard

    cfg = config or AuditConfig()
    started = time.perf_counter()
    source = open_location(source_url, cfg.storage_options)
    out = open_location(out_url, cfg.storage_options)
    out.makedirs()
    shards = list_shards(source, shard_size=cfg.shard_size)
    _check_plan(out, source, shards, cfg)
    if cfg.registry:
        from ._audit_shard import open_copy_detector

        open_copy_detector(cfg.registry)  # brings the persisted copy index up to date once, here
    done = _done_names(out)
    pending = [s for s in shards if s.name not in done]
    _remove_orphan_temps(out)
    summary = AuditSummary(shards_resumed=len(shards) - len(pending))
    finished = 0

    def on_done(stats: dict) -> None:
        nonlocal finished
        finished += 1
        summary.shards_run += 1
        if progress:
            progress(len(shards) - len(pending) + finished, len(shards))
        if cfg.fail_after_shards is not None and finished >= cfg.fail_after_shards:
            raise ShardFailure(f"stopping after {finished} shard(s) (fail_after_shards)")

    args = (cfg, out.url, source.url)
    if cfg.backend == "ray":
        _run_ray(pending, cfg, args, on_done)
    elif cfg.workers > 1 and len(pending) > 1:
        _run_pool(pending, cfg, args, on_done)
    else:
        for spec in pending:
            on_done(process_shard(spec, *args))
    _finalize(out, [s.name for s in shards], summary, cfg)
    summary.seconds = time.perf_counter() - started
    write_audit_report(out, summary, cfg)
    return summary


def _run_pool(pending: list[ShardSpec], cfg: AuditConfig, args: tuple, on_done: Callable[[dict], None]) -> None:
    from ._audit_shard import process_shard

    with ProcessPoolExecutor(max_workers=cfg.workers, initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        in_flight: set = set()
        queue = iter(pending)
        try:
            for spec in queue:
                in_flight.add(pool.submit(process_shard, spec, *args))
                if len(in_flight) >= cfg.workers * 2:
                    ready, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    for f in ready:
                        on_done(f.result())
            while in_flight:
                ready, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for f in ready:
                    on_done(f.result())
        except BaseException:
            for f in in_flight:
                f.cancel()
            raise


def _init_ray(cfg: AuditConfig) -> None:
    import ray  # optional extra: pip install 'artlineage[ray]'

    if ray.is_initialized():
        if not cfg.address or cfg.address in ("auto", ray.get_runtime_context().gcs_address):
            return
        ray.shutdown()  # attached to another cluster than the one asked for
    if cfg.address:
        ray.init(address=cfg.address, log_to_driver=False)
    else:
        # address="local": a fresh in-process cluster, never whichever Ray cluster runs on this machine.
        ray.init(address="local", num_cpus=max(cfg.workers, 1), include_dashboard=False, log_to_driver=False)


def _run_ray(pending: list[ShardSpec], cfg: AuditConfig, args: tuple, on_done: Callable[[dict], None]) -> None:
    """One Ray task per shard. Ray Data would cut shards into its own blocks and re-batch rows, which
    breaks the one-shard-one-commit rule that makes resume exact, and adds a block serialisation per
    stage; a task per shard keeps the worker writing its own outputs, as the process pool does."""
    import ray

    from ._audit_shard import process_shard

    _init_ray(cfg)
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    # Shards are I/O plus CPU: deal them round-robin over the alive nodes so every node's network and
    # cores are busy (soft affinity: a busy or lost node's shard runs elsewhere). Ray's SPREAD is the
    # same idea but best-effort, and under load it piled small runs onto the driver's node.
    remote = ray.remote(num_cpus=1, max_retries=2)(process_shard)
    nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU")]
    cfg_ref = ray.put(cfg)
    cap = max(int(ray.cluster_resources().get("CPU", cfg.workers)), 1) * 2

    def strategy(n: int) -> Any:  # shard n on node n mod N
        return NodeAffinitySchedulingStrategy(nodes[n % len(nodes)], soft=True) if nodes else "DEFAULT"

    drain_bounded((remote.options(scheduling_strategy=strategy(n)).remote(spec, cfg_ref, *args[1:])
                   for n, spec in enumerate(pending)), cap, on_done)


def _finalize(out: Location, names: list[str], summary: AuditSummary, cfg: AuditConfig) -> None:
    """Sum the done shards' stats; run the global duplicate step over them."""
    from ._audit_dedup import find_duplicates

    done = sorted(_done_names(out) & set(names))
    reasons: Counter[str] = Counter()
    origins: Counter[str] = Counter()
    nodes: set[str] = set()
    summary.shards = len(done)
    for name in done:
        stats = json.loads(out.child("done", f"{name}.json").read_bytes())
        summary.input_rows += stats["rows"]
        summary.kept += stats["kept"]
        summary.excluded += stats["excluded"]
        summary.signal_errors += stats["signal_errors"]
        reasons.update(stats["excluded_by_reason"])
        origins.update(stats["by_origin"])
        summary.worker_cpu_seconds = round(summary.worker_cpu_seconds + stats.get("cpu_seconds", 0.0), 3)
        for phase, sec in stats.get("phase_seconds", {}).items():
            summary.phase_seconds[phase] = round(summary.phase_seconds.get(phase, 0.0) + sec, 3)
        if stats.get("node"):
            nodes.add(stats["node"])
    summary.excluded_by_reason = dict(reasons.most_common())
    summary.by_origin = dict(origins.most_common())
    summary.nodes = sorted(nodes)
    if cfg.dedup and cfg.hashes and done:
        started = time.perf_counter()
        hashed = sum(n for o, n in origins.items() if o not in ("error", "not_read"))
        dup = find_duplicates(out, done, hashed=hashed, max_distance=cfg.dedup_max_distance,
                              partitions=cfg.dedup_partitions, backend=cfg.backend, workers=cfg.workers)
        summary.duplicates = dup.to_dict()
        summary.dedup_seconds = round(time.perf_counter() - started, 3)


# ---------------------------------------------------------------- report
def health_of_audit(out: Location, summary: AuditSummary, cfg: AuditConfig, *, sample: int = 20_000) -> dict[str, Any]:
    """The health report's dict, from the shards' aggregated counts (no per-image list in the parent):
    provenance shares from the origin counts, near duplicates from the global step, diversity from a
    bounded sample of embeddings read back from the key files."""
    from ..health.report import _vendi_block, recommendations
    from ..health.synthetic import ERROR_ORIGIN, ShareBreakdown, SyntheticShares

    by_origin = {("error" if k == "error" else k): v for k, v in summary.by_origin.items() if k != "not_read"}
    errors = by_origin.pop(ERROR_ORIGIN, 0)
    overall = ShareBreakdown(sum(by_origin.values()) + errors, errors, by_origin)
    generators: Counter[str] = Counter()
    for name in sorted(_done_names(out)):
        generators.update(json.loads(out.child("done", f"{name}.json").read_bytes()).get("by_generator", {}))
    shares = SyntheticShares(overall, {}, dict(generators))
    report: dict[str, Any] = {"kind": "artlineage.health", "version": 1, "source": out.url,
                              "items": overall.total, "provenance": shares.to_dict(),
                              "not_measured_rows": summary.by_origin.get("not_read", 0)}
    if summary.duplicates:
        report["duplicates"] = summary.duplicates
    if cfg.embeddings:
        emb = _embedding_sample(out, sample)
        if len(emb):
            report["diversity"] = {"embedder": cfg.embedder or "statistics", "dim": int(emb.shape[1]),
                                   "overall": _vendi_block(emb, None)}
    report["recommendations"] = recommendations(report)
    return report


def _embedding_sample(out: Location, limit: int) -> Any:
    """Up to ``limit`` embeddings, spread over the shards (the same count from each)."""
    import numpy as np
    import pyarrow.parquet as pq

    names = sorted(_done_names(out))
    per = max(limit // max(len(names), 1), 1)
    rows = []
    for name in names:
        with out.child("keys", f"{name}.parquet").open("rb") as fh:
            col = pq.read_table(fh, columns=["embedding"]).column("embedding").to_pylist()
        rows += [e for e in col if e is not None][:per]
    return np.asarray(rows[:limit], np.float32) if rows else np.zeros((0, 0), np.float32)


def write_audit_report(out: Location, summary: AuditSummary, cfg: AuditConfig) -> dict[str, Any]:
    """report.json and report.html: the consent filter's report with the health sections."""
    import tempfile

    from .audit import health_sections_for_audit
    from .consent_filter.config import FilterSummary
    from .consent_filter.report import write_report

    health = health_of_audit(out, summary, cfg)
    filt = FilterSummary(input_rows=summary.input_rows, kept=summary.kept, excluded=summary.excluded,
                         shards=summary.shards, shards_resumed=summary.shards_resumed, seconds=summary.seconds,
                         excluded_by_reason=summary.excluded_by_reason, signal_errors=summary.signal_errors)
    extra = {"kind": "artlineage.audit", "audit": asdict(summary) | {"images_per_second": round(summary.images_per_second, 1)},
             "health": health}
    with tempfile.TemporaryDirectory(prefix="artlineage-report-") as tmp:
        write_report(Path(tmp), filt, extra=extra, extra_sections=health_sections_for_audit(health))
        for name in ("report.json", "report.html"):
            out.child(name).write_bytes((Path(tmp) / name).read_bytes())
    return extra


def iter_kept(out_url: str, storage_options: dict[str, Any] | None = None) -> Iterable[tuple[str, dict[str, bytes]]]:
    """(key, fields) of every kept sample, shard by shard (for checks and small downstream jobs)."""
    from ..datasets.webdataset import iter_samples

    out = open_location(out_url, storage_options)
    for loc in out.child("shards").list((".tar",)):
        with loc.open("rb") as fh:
            for sample in iter_samples(fh):
                yield sample.key, sample.fields
