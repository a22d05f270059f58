"""Web consent signals for the audit's rows, through the consent filter's evaluation and host cache.

The filter's two paths are reused as they are: rows whose site files and response headers are in
the on-disk cache are evaluated in bulk without any request, the rest go through the polite async
fetcher (per-host limits, robots.txt honoured for artlineage itself). The audit reads in-file
signals from the bytes it already holds, so the filter is told never to fetch image bytes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pyarrow as pa

from ..signals._base import Evidence


def web_evidence(urls: list[str | None], cfg: Any) -> list[tuple[list[Evidence], list[str]]]:
    """(web evidence, signal errors) per URL; rows without a web URL get nothing."""
    from .consent_filter.fetching import _context, _evaluate_rows, evaluate_cached
    from ..signals.web import FetchCache

    fcfg = cfg.filter_config()
    if not any(isinstance(u, str) and u.startswith(("http://", "https://")) for u in urls):
        return [([], []) for _ in urls]
    cache_path = cfg.cache_file()
    ctx = _context(fcfg, cache_path)
    cache = FetchCache(cache_path, fcfg.cache_ttl)
    try:
        results = evaluate_cached(list(urls), fcfg, cache, ctx.evaluator, ctx.sites)
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:
            rows = pa.table({fcfg.url_col: pa.array([urls[i] for i in missing], pa.string())}).to_pylist()
            fetched, _requests = asyncio.run(_evaluate_rows(rows, fcfg, cache, ctx.evaluator))
            for i, r in zip(missing, fetched):
                results[i] = r
    finally:
        cache.close()
    return [r if r is not None else ([], []) for r in results]
