"""Web opt-out signals for a URL: robots.txt, ai.txt, TDMRep, X-Robots-Tag and meta robots.

Site-wide files (robots.txt, /.well-known/tdmrep.json, /ai.txt) are fetched once per origin and
compiled into a :class:`SiteSignals`; per-URL response headers (HEAD) and, for HTML pages, the
head's meta tags are then checked against it by the pure function :func:`evaluate_url`, which
is what makes a cached rerun fast. Importing this package fetches nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import urlsplit

from ..._aio import run_sync
from .._base import Evidence, SignalError
from ._fetch import (BlockedAddressError, BodyDecodingError, FetchCache, FetchError, FetchResult, MalformedURLError,
                     SafeFetcher, is_public_address, system_resolver, validate_url)
from .agents import DEFAULT_AI_AGENTS, OWN_AGENT_TOKEN, USER_AGENT, ai_agents
from .aitxt import AiTxtPolicy, parse_aitxt
from .robots import RobotsPolicy, parse_robots, robots_evidence
from .tdmrep import TdmRule, location_matches, match_rule, parse_tdmrep_json, tdmrep_evidence
from .xrobots import html_meta, meta_robots_evidence, parse_x_robots_tag, x_robots_evidence

# The site-wide files, by the name their signal is reported under.
SITE_FILES = {"robots.txt": "/robots.txt", "tdmrep.json": "/.well-known/tdmrep.json", "ai.txt": "/ai.txt"}
SITE_FILE_MAX_BYTES = 512 * 1024
HTML_MAX_BYTES = 256 * 1024


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


@dataclass
class SiteSignals:
    """One origin's site-wide opt-out files, parsed and bound to the agent list."""

    origin: str
    robots: RobotsPolicy | None = None
    aitxt: AiTxtPolicy | None = None
    tdmrep: list[TdmRule] | None = None
    errors: dict[str, str] = field(default_factory=dict)  # signal -> why it could not be read


def _absent(result: FetchResult) -> bool:
    """RFC 9309: a 4xx robots.txt means no rules; the same reading is used for ai.txt and tdmrep.json."""
    return result.status is not None and 400 <= result.status < 500


def build_site_signals(origin: str, fetched: dict[str, FetchResult], agents: Iterable[str]) -> SiteSignals:
    """Parse fetched site files; each broken or hostile file becomes an error on its own signal."""
    agents = tuple(agents)
    site = SiteSignals(origin)
    for name, result in fetched.items():
        if result.error is not None:
            site.errors[name] = result.error
            continue
        if _absent(result):
            continue
        if not result.ok:
            site.errors[name] = f"HTTP {result.status}"
            continue
        if result.truncated:
            site.errors[name] = f"{name} is larger than {SITE_FILE_MAX_BYTES} bytes"
            continue
        try:
            if name == "robots.txt":
                site.robots = RobotsPolicy(parse_robots(result.body), agents)
            elif name == "ai.txt":
                site.aitxt = AiTxtPolicy(parse_aitxt(result.body), agents)
            elif name == "tdmrep.json":
                site.tdmrep = parse_tdmrep_json(result.body)
        except SignalError as exc:
            site.errors[name] = str(exc)
        except (RecursionError, MemoryError, ValueError) as exc:
            site.errors[name] = f"{name} could not be read: {type(exc).__name__}"
    return site


class UrlEvaluator:
    """:func:`evaluate_url` for many URLs: the agent list is prepared once and every Evidence is
    memoised on what it depends on (the fired rule, the header values, the meta tags), never on the
    URL. Equal inputs give the *same* Evidence objects, so a caller can memoise whole decisions on
    evidence identity; that is what makes a cached run cost a few microseconds per row.
    """

    def __init__(self, agents: Iterable[str]) -> None:
        self.agents = tuple(agents)
        self._xrobots: dict[tuple[str, ...], tuple[Evidence, ...]] = {}
        self._metas: dict[tuple[tuple[str, str], ...], tuple[Evidence, ...]] = {}
        self._tdm: dict[tuple, tuple[Evidence, ...]] = {}

    def site_evidence(self, url: str, site: SiteSignals | None) -> list[Evidence]:
        """robots.txt and ai.txt evidence (their Evidence objects are memoised by the policies)."""
        out: list[Evidence] = []
        if site is not None:
            if site.robots is not None and site.robots.groups:
                out += site.robots.evidence(url, location=f"{site.origin}/robots.txt")
            if site.aitxt is not None and site.aitxt.groups:
                out += site.aitxt.evidence(url, location=f"{site.origin}/ai.txt")
        return out

    def evaluate(self, url: str, site: SiteSignals | None, headers: Iterable[tuple[str, str]] = (),
                 metas: Iterable[tuple[str, str]] = (), *, site_evidence: list[Evidence] | None = None) -> list[Evidence]:
        """Like :func:`evaluate_url`; pass ``site_evidence`` when :meth:`site_evidence` already ran."""
        headers = tuple(headers)
        metas = tuple(metas)
        out = list(site_evidence) if site_evidence is not None else self.site_evidence(url, site)
        xrt = tuple(v for k, v in headers if k == "x-robots-tag")
        if xrt:
            ev = self._xrobots.get(xrt)
            if ev is None:
                ev = self._xrobots[xrt] = tuple(x_robots_evidence(xrt, self.agents, location="HTTP response"))
            out += ev
        if metas:
            ev = self._metas.get(metas)
            if ev is None:
                ev = self._metas[metas] = tuple(meta_robots_evidence(metas, self.agents, location="HTML head"))
            out += ev
        rule = match_rule(site.tdmrep, url) if site is not None and site.tdmrep else None
        tdm_headers = tuple((k, v) for k, v in headers if k.startswith("tdm-"))
        tdm_metas = tuple((k, v) for k, v in metas if k.startswith("tdm-"))
        if rule is not None or tdm_headers or tdm_metas:
            origin = site.origin if site is not None else ""
            key = (origin, rule, tdm_headers, tdm_metas)
            ev = self._tdm.get(key)
            if ev is None:
                ev = self._tdm[key] = tuple(tdmrep_evidence(
                    url, rules=[rule] if rule is not None else None,
                    rules_location=f"{origin}/.well-known/tdmrep.json", headers=tdm_headers, metas=tdm_metas))
            out += ev
        return out


def evaluate_url(url: str, site: SiteSignals | None, agents: Iterable[str], *,
                 headers: Iterable[tuple[str, str]] = (), metas: Iterable[tuple[str, str]] = ()) -> list[Evidence]:
    """Every web opt-out evidence for ``url``, from already-fetched data (pure and fast)."""
    return UrlEvaluator(agents).evaluate(url, site, headers, metas)


async def fetch_site_signals(fetcher: SafeFetcher, origin: str, agents: Iterable[str]) -> SiteSignals:
    names = list(SITE_FILES)
    results = await asyncio.gather(*(fetcher.fetch(origin + SITE_FILES[n], max_bytes=SITE_FILE_MAX_BYTES)
                                     for n in names))
    return build_site_signals(origin, dict(zip(names, results)), agents)


def is_html(result: FetchResult) -> bool:
    ctype = ",".join(result.header_values("content-type")).lower()
    return "text/html" in ctype or "application/xhtml" in ctype


async def fetch_url_signals(fetcher: SafeFetcher, url: str, *, html: bool = True) -> tuple[FetchResult, list]:
    """HEAD the URL (GET when HEAD is refused); GET the head of HTML pages for their meta tags."""
    head = await fetcher.fetch(url, method="HEAD")
    if head.error is None and head.status in (405, 501):
        head = await fetcher.fetch(url, method="GET", max_bytes=1)
    metas: list[tuple[str, str]] = []
    if html and head.ok and is_html(head):
        page = await fetcher.fetch(url, method="GET", max_bytes=HTML_MAX_BYTES)
        if page.ok:
            metas = html_meta(page.body)
    return head, metas


@dataclass
class WebCheck:
    url: str
    evidence: list[Evidence]
    errors: dict[str, str]


async def check_url_async(url: str, fetcher: SafeFetcher, *, agents: Iterable[str] | None = None,
                          html: bool = True) -> WebCheck:
    agents = ai_agents(agents) if agents is None else tuple(agents)
    try:
        validate_url(url)
    except FetchError as exc:  # nothing to fetch: the URL itself is the error
        return WebCheck(url, [], {"url": str(exc)})
    site = await fetch_site_signals(fetcher, origin_of(url), agents)
    head, metas = await fetch_url_signals(fetcher, url, html=html)
    errors = dict(site.errors)
    if head.error:
        errors["response"] = head.error
    return WebCheck(url, evaluate_url(url, site, agents, headers=head.headers, metas=metas), errors)


def check_url(url: str, *, agents: Iterable[str] | None = None, allow_private: bool = False,
              html: bool = True, **fetch_options) -> WebCheck:
    """Synchronous convenience: every web opt-out signal for one URL. Works inside a running event loop too
    (Jupyter): the check then runs on its own loop in a worker thread; async code awaits
    :func:`check_url_async` instead."""

    async def run() -> WebCheck:
        async with SafeFetcher(allow_private=allow_private, **fetch_options) as fetcher:
            return await check_url_async(url, fetcher, agents=agents, html=html)

    return run_sync(run)


__all__ = [
    "AiTxtPolicy", "BlockedAddressError", "BodyDecodingError", "DEFAULT_AI_AGENTS", "FetchCache", "FetchError",
    "FetchResult", "MalformedURLError", "validate_url",
    "OWN_AGENT_TOKEN", "RobotsPolicy", "SITE_FILES", "SafeFetcher", "SiteSignals", "TdmRule", "USER_AGENT",
    "UrlEvaluator", "WebCheck", "ai_agents", "build_site_signals", "check_url", "check_url_async", "evaluate_url",
    "fetch_site_signals", "fetch_url_signals", "html_meta", "is_public_address", "location_matches",
    "match_rule", "meta_robots_evidence", "origin_of", "parse_aitxt", "parse_robots", "parse_tdmrep_json",
    "parse_x_robots_tag", "robots_evidence", "system_resolver", "tdmrep_evidence", "x_robots_evidence",
]
