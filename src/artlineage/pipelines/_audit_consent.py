"""Web consent signals for the audit's rows, through the consent filter's evaluation and host cache.

The filter's two paths are reused as they are: rows whose site files and response headers are in
the on-disk cache are evaluated in bulk without any request, the rest go through the polite async
fetcher (per-host limits, robots.txt honoured for artlineage itself). The audit reads in-file
signals from the bytes it already holds, so the filter is told never to fetch image bytes.
"""

from __future__ import annotations

from typing import Any

from ..signals._base import Evidence


def web_evidence(urls: list[str | None], cfg: Any) -> list[tuple[list[Evidence], list[str]]]:
    """(web evidence, signal errors) per URL; rows without a web URL get nothing."""
    from .consent_filter.fetching import evaluate_batch

    fcfg = cfg.filter_config()
    if not any(isinstance(u, str) and u.startswith(("http://", "https://")) for u in urls):
        return [([], []) for _ in urls]
    results, _ctx, _requests = evaluate_batch(list(urls), lambda idx: [{fcfg.url_col: urls[i]} for i in idx], fcfg,
                                              cfg.cache_file())
    return results
