"""Web evidence per row: from the on-disk cache in bulk, else fetched (site files once per origin, HEAD and
the head of HTML pages per URL, image bytes only for in-file signals)."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from ..._aio import run_sync
from ..._inspect import inspect_bytes
from ...datasets.manifest import read_local_image
from ...signals._base import Evidence, Implication
from ...signals.web import (SITE_FILES, FetchCache, FetchError, SafeFetcher, SiteSignals, UrlEvaluator, ai_agents,
                            build_site_signals, fetch_site_signals, fetch_url_signals, html_meta, origin_of,
                            validate_url)
from .config import FilterConfig
from .decide import Decider

_ORIGIN = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


def _host(url: str | None) -> str:
    return urlsplit(url).netloc.lower() if url else "(local)"


def _origin(url: str) -> str:
    """``scheme://netloc`` lower-cased, like :func:`origin_of` but a regex (this runs once per row)."""
    m = _ORIGIN.match(url)
    return m.group(0).lower() if m else origin_of(url)


def _is_web(url: Any) -> bool:
    # "http:host/x" is a malformed web URL (reported as such), not a local path.
    return isinstance(url, str) and url.startswith(("http:", "https:"))


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


def reset_contexts() -> None:
    """Forget compiled site signals: a new run reads them afresh (they may have been refetched since)."""
    _CONTEXTS.clear()


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
            if web:
                try:
                    validate_url(url)
                except FetchError as exc:  # this row's error; nothing to fetch
                    return evidence, [f"url: {exc}"]
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
                        note = getattr(cfg.registry_terms, "note_image", None)
                        if data and note is not None:   # the registry matches copies of its works
                            await asyncio.to_thread(note, url, data)
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


def evaluate_batch(urls: list[Any], rows_at: Callable[[list[int]], list[dict]], cfg: FilterConfig,
                   cache_path: str) -> tuple[list[tuple[list[Evidence], list[str]]], _RunContext, int]:
    """(evidence, signal errors) per row of one batch, the run context that decided it, and the HTTP
    requests sent. Rows whose signals are all cached are evaluated synchronously in bulk
    (:func:`evaluate_cached`); only the rest (``rows_at(indexes)`` gives them) go through the fetching path."""
    ctx = _context(cfg, cache_path)
    cache = FetchCache(cache_path, cfg.cache_ttl)
    requests = 0
    try:
        cached = evaluate_cached(urls, cfg, cache, ctx.evaluator, ctx.sites)
        missing = [i for i, r in enumerate(cached) if r is None]
        if missing:
            rows = rows_at(missing)
            fetched, requests = run_sync(lambda: _evaluate_rows(rows, cfg, cache, ctx.evaluator))
            for i, r in zip(missing, fetched):
                cached[i] = r
    finally:
        cache.close()
    results = [r if r is not None else ([], []) for r in cached]
    return results, ctx, requests
