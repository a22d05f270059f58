"""``artlineage filter``: drop dataset rows whose rights-holders reserved AI use.

Pipeline, per shard of the manifest (img2dataset-style reader -> workers -> writer):

1. Site files (robots.txt, tdmrep.json, ai.txt) once per origin: an in-run task per origin plus
   the on-disk :class:`FetchCache` (SQLite, TTL) shared by every shard, worker and rerun.
2. Per URL: HEAD (response headers: X-Robots-Tag, tdm-*), the head of HTML pages for meta tags,
   and image bytes only when in-file signals (C2PA, IPTC DataMining) are asked for.
3. :func:`decide_consent` per row; a row is excluded when any of ``exclude_uses`` is reserved.

Each finished shard writes ``kept``/``excluded`` Parquet and stats atomically (temp + rename) and
then a done-marker, so a run killed anywhere resumes without losing or duplicating a row; the
final files are the concatenation of the shards in order.
"""

from __future__ import annotations

import asyncio
import base64
import html as html_lib
import io
import json
import os
import re
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq

from .._files import write_text_atomic
from .._inspect import inspect_bytes
from ..signals._base import Evidence, Implication
from ..signals._iptc_vocab import ALL_USES
from ..signals.web import (SITE_FILES, FetchCache, SafeFetcher, SiteSignals, UrlEvaluator, ai_agents,
                           build_site_signals, fetch_site_signals, fetch_url_signals, html_meta, origin_of)
from ..verdicts.consent import ConsentVerdict, decide_consent
from .manifest import open_manifest, read_local_image, write_parquet_atomic
from ..errors import ShardFailure  # noqa: F401  (re-exported: its old home)

RegistryHook = Callable[[Mapping[str, Any]], Iterable[Mapping[str, Any]] | None]


@dataclass
class FilterConfig:
    shard_size: int = 10_000  # img2dataset's shard size; per-shard costs (files, queries) amortise
    workers: int = 1
    backend: str = "local"  # local | ray
    agents: tuple[str, ...] | None = None
    # C2PA / IPTC consent inside the image bytes. None (default): read it for local files, which
    # costs a file read, but download no web image; True: download web images too; False: never.
    in_file: bool | None = None
    head: bool = True  # per-URL response headers
    html: bool = True  # meta tags of HTML pages
    allow_private: bool = False
    url_col: str = "url"
    exclude_uses: tuple[str, ...] = ALL_USES
    cache_path: str | None = None  # default: OUT/signals-cache.sqlite
    cache_ttl: float = 86_400.0
    concurrency: int = 64
    per_host_concurrency: int = 4
    per_host_delay: float = 0.0
    timeout: float = 10.0
    retries: int = 2
    max_image_bytes: int = 32 * 1024 * 1024
    registry_terms: RegistryHook | None = None
    fail_after_shards: int | None = None  # tests: stop the run after this many shards
    fetch_options: dict[str, Any] = field(default_factory=dict)  # resolver / transport (tests)


@dataclass
class FilterSummary:
    input_rows: int = 0
    kept: int = 0
    excluded: int = 0
    shards: int = 0
    shards_resumed: int = 0
    seconds: float = 0.0
    excluded_by_reason: dict[str, int] = field(default_factory=dict)
    excluded_by_host: dict[str, int] = field(default_factory=dict)
    rows_by_host: dict[str, int] = field(default_factory=dict)
    signal_errors: int = 0
    requests: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.input_rows / self.seconds if self.seconds > 0 else 0.0


# ---------------------------------------------------------------- per-row evaluation
_ORIGIN = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


def _host(url: str | None) -> str:
    return urlsplit(url).netloc.lower() if url else "(local)"


def _origin(url: str) -> str:
    """``scheme://netloc`` lower-cased, like :func:`origin_of` but a regex (this runs once per row)."""
    m = _ORIGIN.match(url)
    return m.group(0).lower() if m else origin_of(url)


def _is_web(url: Any) -> bool:
    return isinstance(url, str) and url.startswith(("http://", "https://"))


@dataclass(frozen=True)
class RowOutcome:
    """What the output columns need from one decision; computed once per distinct decision."""

    excluded: bool
    decision: str  # reserved / allowed / unknown
    consent_json: str  # per-use decisions (excluded rows)
    reason: str | None
    rule: str | None
    evidence_json: str


class Decider:
    """:func:`decide_consent` memoised on the identity of the evidence (and on the registry terms).

    Web evidence objects are shared by every row a rule covers (:class:`UrlEvaluator`), so a shard
    of thousands of rows has a handful of distinct decisions; each is decided, explained and turned
    into JSON once. The memo keeps the evidence objects alive, so their ids cannot be reused.
    """

    def __init__(self, exclude_uses: Iterable[str]) -> None:
        self.exclude_uses = tuple(exclude_uses)
        self._memo: dict[tuple, tuple[tuple[Evidence, ...], RowOutcome]] = {}

    def outcome(self, evidence: Iterable[Evidence], terms: list[Mapping[str, Any]] | None = None) -> RowOutcome:
        evidence = tuple(evidence)
        key = (tuple(map(id, evidence)), json.dumps(terms, sort_keys=True, default=str) if terms else "")
        hit = self._memo.get(key)
        if hit is not None:
            return hit[1]
        verdict = decide_consent(evidence, registry_terms=terms or ())
        reason = _reason(verdict, self.exclude_uses)
        outcome = RowOutcome(
            excluded=reason is not None, decision=verdict.decision.value,
            consent_json=json.dumps({u: d.decision.value for u, d in verdict.uses.items()}),
            reason=reason[0] if reason else None, rule=reason[1] if reason else None,
            evidence_json=json.dumps([e.to_dict() for e in verdict.evidence], default=str))
        self._memo[key] = (evidence, outcome)
        return outcome


def _reason(verdict: ConsentVerdict, exclude_uses: Iterable[str]) -> tuple[str, str] | None:
    for use in exclude_uses:
        d = verdict.uses.get(use)
        if d is not None and d.decision.value == "reserved":
            return (d.evidence.reader if d.evidence else "unknown"), d.rule
    return None


def _signal_headers(headers_json: str, memo: dict[str, tuple[tuple[str, str], ...]]) -> tuple[tuple[str, str], ...]:
    """The opt-out-relevant headers of a cached response; most responses have none (no JSON parse)."""
    if '"x-robots-tag"' not in headers_json and '"tdm-' not in headers_json and "html" not in headers_json:
        return ()
    got = memo.get(headers_json)
    if got is None:
        got = memo[headers_json] = tuple(
            (k, v) for k, v in json.loads(headers_json)
            if k == "x-robots-tag" or k.startswith("tdm-") or k == "content-type")
    return got


def _html_headers(headers: tuple[tuple[str, str], ...]) -> bool:
    ctype = ",".join(v for k, v in headers if k == "content-type").lower()
    return "text/html" in ctype or "application/xhtml" in ctype


@dataclass
class _RunContext:
    """What one worker process keeps between shards of a run: compiled site signals (so an origin's
    robots.txt/ai.txt/tdmrep.json are parsed once per process, not once per shard), the evaluator's
    and decider's memos. Bounded: it starts afresh past ``MAX_CONTEXT_ORIGINS`` origins."""

    evaluator: UrlEvaluator
    decider: Decider
    sites: dict[str, SiteSignals] = field(default_factory=dict)


MAX_CONTEXT_ORIGINS = 50_000
_CONTEXTS: dict[tuple, _RunContext] = {}


def _context(cfg: FilterConfig, cache_path: str) -> _RunContext:
    agents = ai_agents(cfg.agents) if cfg.agents is None else tuple(cfg.agents)
    key = (cache_path, cfg.cache_ttl, agents, tuple(cfg.exclude_uses))
    ctx = _CONTEXTS.get(key)
    if ctx is None or len(ctx.sites) > MAX_CONTEXT_ORIGINS:
        _CONTEXTS.clear()
        ctx = _CONTEXTS[key] = _RunContext(UrlEvaluator(agents), Decider(cfg.exclude_uses))
    return ctx


def evaluate_cached(urls: list[Any], cfg: FilterConfig, cache: FetchCache, evaluator: UrlEvaluator,
                    sites: dict[str, SiteSignals] | None = None) -> list[tuple[list[Evidence], list[str]] | None]:
    """Web evidence for every row whose signals are all in the cache, without asyncio or HTTP.

    Per shard: the site files of every origin and the HEAD responses of every URL come out of
    the cache in bulk queries, host-level rules are compiled once per origin, and per-row work is
    the rule matching itself. A row needing anything not cached (or image bytes for ``in_file``)
    comes back as None, for :func:`_evaluate_rows` to fetch.
    """
    sites = {} if sites is None else sites
    origins = [(_origin(u) if _is_web(u) else None) for u in urls]
    distinct = [o for o in dict.fromkeys(origins) if o is not None and o not in sites]
    site_urls = {o + path: (o, name) for o in distinct for name, path in SITE_FILES.items()}
    fetched: dict[str, dict[str, Any]] = {}
    for url, result in cache.get_many("GET", list(site_urls)).items():
        origin, name = site_urls[url]
        fetched.setdefault(origin, {})[name] = result
    for o, f in fetched.items():
        if len(f) == len(SITE_FILES):
            sites[o] = build_site_signals(o, f, evaluator.agents)
    site_errors = {o: [f"{k}: {v}" for k, v in sites[o].errors.items()] for o in dict.fromkeys(origins)
                   if o is not None and o in sites}

    out: list[tuple[list[Evidence], list[str]] | None] = [None] * len(urls)
    pending: list[tuple[int, str, SiteSignals, list[Evidence]]] = []
    for i, (url, origin) in enumerate(zip(urls, origins)):
        if origin is None:
            if cfg.in_file is False:
                out[i] = ([], [])
            continue
        site = sites.get(origin)
        if site is None or cfg.in_file is True:
            continue
        site_ev = evaluator.site_evidence(url, site)
        if not cfg.head or any(e.data.get("own_agent_blocked") for e in site_ev):
            # Politeness: a URL robots.txt forbids to artlineage itself is not fetched at all.
            out[i] = (evaluator.evaluate(url, site, site_evidence=site_ev), site_errors[origin])
        else:
            pending.append((i, url, site, site_ev))
    if not pending:
        return out

    heads = cache.get_raw_many("HEAD", [p[1] for p in pending])
    header_memo: dict[str, tuple[tuple[str, str], ...]] = {}
    need_page: list[tuple[int, str, SiteSignals, list[Evidence], tuple, list[str]]] = []
    for i, url, site, site_ev in pending:
        head = heads.get(url)
        if head is None:
            continue
        status, headers_json, error = head
        if error is None and status in (405, 501):
            continue  # HEAD refused: the GET fallback is the fetching path's business
        headers = _signal_headers(headers_json, header_memo) if error is None else ()
        errors = site_errors[site.origin] + ([f"response: {error}"] if error else [])
        if cfg.html and error is None and status is not None and 200 <= status < 300 and _html_headers(headers):
            need_page.append((i, url, site, site_ev, headers, errors))
            continue
        out[i] = (evaluator.evaluate(url, site, headers, site_evidence=site_ev), errors)
    if need_page:
        pages = cache.get_many("GET", [p[1] for p in need_page])
        for i, url, site, site_ev, headers, errors in need_page:
            page = pages.get(url)
            if page is None:
                continue
            metas = html_meta(page.body) if page.ok else []
            out[i] = (evaluator.evaluate(url, site, headers, metas, site_evidence=site_ev), errors)
    return out


async def _evaluate_rows(rows: list[dict], cfg: FilterConfig, cache: FetchCache,
                         evaluator: UrlEvaluator) -> tuple[list[tuple[list[Evidence], list[str]]], int]:
    """Evidence and signal errors per row, fetching what the cache lacks (the network path)."""
    agents = evaluator.agents
    sites: dict[str, asyncio.Task[SiteSignals]] = {}
    limit = asyncio.Semaphore(cfg.concurrency)
    async with SafeFetcher(allow_private=cfg.allow_private, timeout=cfg.timeout, retries=cfg.retries,
                           per_host_concurrency=cfg.per_host_concurrency, per_host_delay=cfg.per_host_delay,
                           max_connections=max(cfg.concurrency, 1), cache=cache, **cfg.fetch_options) as fetcher:

        def site_for(url: str) -> asyncio.Task[SiteSignals]:
            origin = origin_of(url)
            task = sites.get(origin)
            if task is None:
                task = sites[origin] = asyncio.ensure_future(fetch_site_signals(fetcher, origin, agents))
            return task

        async def one(row: dict) -> tuple[list[Evidence], list[str]]:
            url = row.get(cfg.url_col)
            evidence: list[Evidence] = []
            errors: list[str] = []
            web = _is_web(url)
            async with limit:
                if web:
                    site = await site_for(url)
                    errors += [f"{k}: {v}" for k, v in site.errors.items()]
                    site_ev = evaluator.site_evidence(url, site)
                    evidence = evaluator.evaluate(url, site, site_evidence=site_ev)
                    # Politeness: a URL robots.txt forbids to artlineage itself is not fetched at all.
                    forbidden = any(e.data.get("own_agent_blocked") for e in site_ev)
                    if cfg.head and not forbidden:
                        head, metas = await fetch_url_signals(fetcher, url, html=cfg.html)
                        if head.error:
                            errors.append(f"response: {head.error}")
                        evidence = evaluator.evaluate(url, site, head.headers, metas, site_evidence=site_ev)
                if (cfg.in_file is True) if web else (cfg.in_file is not False):
                    data = None
                    if web and not any(e.data.get("own_agent_blocked") for e in evidence):
                        got = await fetcher.fetch(url, max_bytes=cfg.max_image_bytes, use_cache=False)
                        data = got.body if got.ok and not got.truncated else None
                        if got.error:
                            errors.append(f"image: {got.error}")
                        elif got.truncated:
                            errors.append(f"image: larger than {cfg.max_image_bytes} bytes, not read")
                    elif not web:
                        try:
                            data = read_local_image(row, cfg.max_image_bytes)
                        except (OSError, KeyError) as exc:
                            errors.append(f"image: {exc}")
                    if data:
                        report = await asyncio.to_thread(inspect_bytes, data, name=url or row.get("path"),
                                                         pixels=False)
                        evidence += [e for e in report.evidence
                                     if e.implies in (Implication.CONSENT_RESERVED, Implication.CONSENT_ALLOWED)]
                        errors += report.warnings[:5]
            return evidence, errors

        results = await asyncio.gather(*(one(r) for r in rows))
        requests = fetcher.requests_sent
    return list(results), requests


def _string_column(values: list[str | None]) -> pa.Array:
    return pa.array(values, type=pa.string())


def process_shard(table: pa.Table, index: int, cfg: FilterConfig, out_dir: str) -> dict:
    """Evaluate one shard and write its outputs atomically, done-marker last. Returns its stats.

    Rows whose signals are all cached are evaluated synchronously in bulk (:func:`evaluate_cached`);
    only the rest go through the async fetching path.
    """
    shard_dir = Path(out_dir) / "shards"
    urls = table.column(cfg.url_col).to_pylist() if cfg.url_col in table.column_names else [None] * table.num_rows
    cache_path = cfg.cache_path or str(Path(out_dir) / "signals-cache.sqlite")
    ctx = _context(cfg, cache_path)
    evaluator = ctx.evaluator
    cache = FetchCache(cache_path, cfg.cache_ttl)
    requests = 0
    try:
        results = evaluate_cached(urls, cfg, cache, evaluator, ctx.sites)
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:
            rows = table.take(pa.array(missing, type=pa.int64())).to_pylist()
            fetched, requests = asyncio.run(_evaluate_rows(rows, cfg, cache, evaluator))
            for i, r in zip(missing, fetched):
                results[i] = r
    finally:
        cache.close()
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


# ---------------------------------------------------------------- the run
def filter_manifest(manifest_path: str | os.PathLike[str], out_dir: str | os.PathLike[str],
                    config: FilterConfig | None = None,
                    progress: Callable[[int, int], None] | None = None) -> FilterSummary:
    """Filter a manifest into ``out_dir`` (kept.parquet, excluded.parquet, report.json, report.html)."""
    cfg = config or FilterConfig()
    out = Path(out_dir)
    (out / "shards").mkdir(parents=True, exist_ok=True)
    _check_plan(out, str(manifest_path), cfg)
    manifest = open_manifest(manifest_path, url_col=cfg.url_col)
    _CONTEXTS.clear()  # a new run reads site signals afresh (they may have been refetched since)
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
        if progress:
            progress(rows_now, total_rows if total_rows is not None else -1)
        if cfg.fail_after_shards is not None and done_now >= cfg.fail_after_shards:
            raise ShardFailure(f"stopping after {done_now} shard(s) (fail_after_shards)")

    pending_shards = ((i, t) for i, t in enumerate(manifest.iter_shards(cfg.shard_size))
                      if not _shard_done(out, i))
    if cfg.backend == "ray":
        _run_ray(pending_shards, cfg, str(out), finished)
    elif cfg.workers > 1:
        with ProcessPoolExecutor(max_workers=cfg.workers) as pool:
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


def _run_ray(shards: Iterable[tuple[int, pa.Table]], cfg: FilterConfig, out: str,
             finished: Callable[[dict], None]) -> None:
    import ray  # optional extra: pip install 'artlineage[ray]'

    if not ray.is_initialized():
        ray.init(num_cpus=max(cfg.workers, 1), include_dashboard=False, log_to_driver=False)
    remote = ray.remote(process_shard)
    cfg_ref = ray.put(cfg)
    in_flight: list = []
    for i, table in shards:
        in_flight.append(remote.remote(table, i, cfg_ref, out))
        if len(in_flight) >= max(cfg.workers, 1) * 2:
            ready, in_flight = ray.wait(in_flight, num_returns=1)
            for r in ready:
                finished(ray.get(r))
    while in_flight:
        ready, in_flight = ray.wait(in_flight, num_returns=1)
        for r in ready:
            finished(ray.get(r))


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


# ---------------------------------------------------------------- audit report
def _svg_bars(title: str, data: dict[str, float]) -> str:
    """Horizontal bar chart as inline SVG (used when matplotlib is not installed)."""
    items = list(data.items())[:20]
    width, bar_h = 640, 22
    height = 30 + bar_h * max(len(items), 1)
    top = max((v for _, v in items), default=1) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{html_lib.escape(title)}"><text x="4" y="18" font-weight="bold">{html_lib.escape(title)}</text>']
    for n, (label, value) in enumerate(items):
        y = 28 + n * bar_h
        w = int(360 * value / top)
        parts.append(f'<text x="4" y="{y + 15}" font-size="12">{html_lib.escape(label[:40])}</text>'
                     f'<rect x="230" y="{y + 3}" width="{w}" height="{bar_h - 6}" fill="#c0392b"/>'
                     f'<text x="{236 + w}" y="{y + 15}" font-size="12">{value:.1%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _chart(title: str, data: dict[str, float]) -> str:
    """A bar chart as an embedded PNG when matplotlib is installed (``health`` extra), else inline SVG."""
    if not any(data.values()):
        return "<p>None: no row was excluded.</p>"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import PercentFormatter
    except ImportError:
        return _svg_bars(title, data)
    items = list(data.items())[:20]
    if len(data) > len(items):
        title = f"{title} (top {len(items)} of {len(data)})"
    labels = [k if len(k) <= 40 else k[:39] + "…" for k, _ in items][::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * max(len(items), 1) + 1.2))
    bars = ax.barh(labels, [v for _, v in items][::-1], color="#c0392b")
    ax.bar_label(bars, labels=[f"{v:.1%}" for _, v in items][::-1], padding=3, fontsize=9)
    ax.set_title(title)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, max((v for _, v in items), default=0) * 1.15 or 1)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return f'<img alt="{html_lib.escape(title)}" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def write_report(out: Path, summary: FilterSummary, *, extra: dict[str, Any] | None = None,
                 extra_sections: Sequence[str] = ()) -> None:
    """report.json and report.html; ``extra`` / ``extra_sections`` add other parts of the audit (health)."""
    total = max(summary.input_rows, 1)
    report = asdict(summary) | {"rows_per_second": round(summary.rows_per_second, 1),
                                "excluded_share": summary.excluded / total} | (extra or {})
    write_text_atomic(json.dumps(report, indent=2, default=str), out / "report.json")
    by_reason = {k: v / total for k, v in summary.excluded_by_reason.items()}
    by_host = {h: summary.excluded_by_host.get(h, 0) / n for h, n in summary.rows_by_host.items() if n}
    by_host = dict(sorted(by_host.items(), key=lambda kv: -kv[1]))
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>artlineage filter report</title>
<style>body{{font-family:sans-serif;max-width:760px;margin:2em auto}}td,th{{padding:2px 8px;text-align:left}}</style>
</head><body><h1>Consent filter report</h1>
<p>{summary.input_rows} rows: {summary.kept} kept, {summary.excluded} excluded
({summary.excluded / total:.1%}); {summary.signal_errors} rows with a signal error;
{summary.shards} shards; {summary.requests} HTTP requests this run.</p>
<h2>Excluded by reason (share of all rows)</h2>{_chart("excluded by reason", by_reason)}
<h2>Excluded share by host</h2>{_chart("excluded share by host", by_host)}
<table><tr><th>host</th><th>rows</th><th>excluded</th></tr>
{''.join(f"<tr><td>{html_lib.escape(h)}</td><td>{n}</td><td>{summary.excluded_by_host.get(h, 0)}</td></tr>"
         for h, n in list(summary.rows_by_host.items())[:200])}
</table>{''.join(extra_sections)}</body></html>"""
    write_text_atomic(page, out / "report.html")
