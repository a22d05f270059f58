"""Server-rendered pages (Jinja2, plain HTML forms, one small first-party script): gallery with
badges and the "human-made only" filter, search, work pages (origin, consent and lineage *before*
the image), artist pages (portfolio, terms, lineage graph), upload, sign up / sign in, API keys.

Every form carries a CSRF token checked against the ``al_csrf`` cookie (see ``auth``); pages of an
artist carry that artist's opt-out headers and ``<meta name="robots">``.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy.orm import Session

from ..._lru import remember
from ...errors import RegistryError
from ...registry import Registry
from . import auth
from .app import csrf_token_for, csrf_valid, current_user, db_session, get_platform, limit_uploads
from .lineage_svg import lineage_svg
from .media import UploadRejected
from .media import check_image
from .models import ArtistProfile, Media, User, WorkReport
from .profiles import avatar_url
from .similar import window_words
from .optout import PLATFORM_DEFAULT, OptOut, optout_headers
from .platform import DECLARED_AI_USES, PAGE_SIZE, TRAINING_DATA, Platform, badge_for
from .wording import (BADGE_LABEL, CRITERION_WORDS, DECLARED_WORDS, ORIGIN_WORDS, SCOPE_WORDS, SOURCE_LABEL, TERM_WORDS,
                      TRAINING_WORDS, consent_marker, estimate_note, optout_words, summary)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
# Templates are compiled once per process and kept (Jinja2's own cache); without auto_reload a render
# does not stat every template file, which mattered: the grid includes _badge.html once per card.
templates.env.auto_reload = False
templates.env.globals.update(BADGE_LABEL=BADGE_LABEL, SOURCE_LABEL=SOURCE_LABEL, TERM_WORDS=TERM_WORDS,
                             SCOPE_WORDS=SCOPE_WORDS, CRITERION_WORDS=CRITERION_WORDS, DECLARED_WORDS=DECLARED_WORDS,
                             TRAINING_WORDS=TRAINING_WORDS, ORIGIN_WORDS=ORIGIN_WORDS, window_words=window_words)


def render(request: Request, name: str, ctx: dict[str, Any], *, user: User | None, optout: OptOut = PLATFORM_DEFAULT,
           policy_url: str | None = "/.well-known/tdm-policy.json", status: int = 200) -> HTMLResponse:
    csrf_cookie = request.cookies.get(auth.CSRF_COOKIE) or auth.new_csrf_cookie()
    ctx = {"request": request, "user": user, "csrf": csrf_token_for(request, csrf_cookie), "optout": optout, **ctx}
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    for k, v in optout_headers(optout, policy_url).items():
        response.headers[k] = v
    response.headers["Cache-Control"] = "private, no-store" if user else "no-cache"
    if request.cookies.get(auth.CSRF_COOKIE) != csrf_cookie:
        response.set_cookie(auth.CSRF_COOKIE, csrf_cookie, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
    return response


def check_csrf(request: Request, token: str | None) -> None:
    if not csrf_valid(request, token):
        raise HTTPException(403, "the form expired or came from another site; reload the page and try again")


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ---------------------------------------------------------------- gallery

@dataclass(frozen=True)
class CachedPage:
    """A rendered page with its validators; ``response`` answers 304 when the client has it."""
    body: bytes
    etag: str
    last_modified: str
    modified_at: float
    headers: dict[str, str]

    def response(self, request: Request) -> Response:
        headers = {**self.headers, "ETag": self.etag, "Last-Modified": self.last_modified}
        if _not_modified(request, self.etag, self.modified_at):
            return Response(status_code=304, headers=headers)
        return Response(self.body, media_type="text/html; charset=utf-8", headers=headers)


def _not_modified(request: Request, etag: str, modified_at: float) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:  # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
        return etag in {t.strip() for t in match.split(",")} or match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return int(modified_at) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False


class PageCache:
    """Rendered anonymous pages, keyed by their parameters and the platform's data version (bumped by
    every committed write, in any worker process), so an entry is never served after a write. The TTL
    bounds staleness only where the version file is not shared (several hosts on one PostgreSQL)."""

    def __init__(self, max_entries: int = 2000, ttl: float = 60.0):
        self._pages: OrderedDict[tuple[Any, ...], tuple[Any, CachedPage]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries, self.ttl = max_entries, ttl

    def get(self, key: tuple[Any, ...], version: Any) -> CachedPage | None:
        hit = self._pages.get(key)
        if hit is None or hit[0] != version or time.time() - hit[1].modified_at > self.ttl:
            return None
        return hit[1]

    def put(self, key: tuple[Any, ...], version: Any, body: bytes, headers: dict[str, str]) -> CachedPage:
        now = time.time()
        page = CachedPage(body, f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"',
                          formatdate(now, usegmt=True), now, headers)
        with self._lock:
            remember(self._pages, key, (version, page), self.max_entries)
        return page


def page_cache_for(app: Any) -> PageCache:
    cache = getattr(app.state, "page_cache", None)
    if cache is None:
        cache = app.state.page_cache = PageCache()
    return cache  # type: ignore[no-any-return]


def page_cache(request: Request) -> PageCache:
    return page_cache_for(request.app)


def _is_anonymous(request: Request) -> bool:
    """No session cookie and no API key: the page is the same for every such visitor."""
    return not request.cookies.get(auth.SESSION_COOKIE) and "authorization" not in request.headers


def _thumb_size(width: int, height: int, side: int = 320) -> tuple[int, int]:
    """The thumbnail's size (``make_renditions`` fits it in ``side`` without enlarging): the tile's
    width/height attributes, so the browser keeps the image's shape before it loads."""
    scale = min(1.0, side / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


@dataclass(frozen=True)
class GalleryQuery:
    """The visitor's gallery filters and page, as read from the URL (bounded)."""
    q: str = ""
    human_only: bool = False
    evidence_only: bool = False
    badge: str | None = None
    artist: int | None = None
    before: int | None = None
    after: int | None = None

    def key(self) -> tuple[Any, ...]:
        return ("gallery", self.q, self.human_only, self.evidence_only, self.badge, self.artist, self.before, self.after)

    def url(self, **change: Any) -> str:
        params = {"q": self.q or None, "human_only": "true" if self.human_only else None,
                  "evidence_only": "true" if self.evidence_only else None, "badge": self.badge,
                  "artist": self.artist, "before": None, "after": None, **change}
        return "/?" + urlencode({k: v for k, v in params.items() if v not in (None, "")}) if any(
            v not in (None, "") for v in params.values()) else "/"


def _gallery_ctx(platform: Platform, s: Session, gq: GalleryQuery, version: Any = None,
                 keep: bool = True) -> dict[str, Any]:
    """The gallery page's context. ``version``: the data version the caller read (the anonymous page's
    cache key), so the query, the artists and the filter form are all keyed on that one read. ``keep``:
    whether the platform keeps the rows too (not for the anonymous page, which is cached rendered)."""
    version = platform.version() if version is None else version
    items = platform.gallery(s, human_only=gq.human_only, evidence_only=gq.evidence_only, q=gq.q, badge=gq.badge,
                             artist_id=gq.artist, before=gq.before, after=gq.after, version=version, keep=keep)
    for it in items:
        it["tw"], it["th"] = _thumb_size(it["width"], it["height"])
    full = len(items) == PAGE_SIZE
    newer = (gq.before is not None) or (gq.after is not None and full)
    older = full or gq.after is not None
    artists = platform.gallery_artists(s, version=version)
    heading = "Gallery"
    if gq.artist is not None:
        heading = "Works by " + next((a.name for a in artists if a.id == gq.artist), f"artist #{gq.artist}")
    elif gq.human_only and gq.evidence_only:
        heading = "Human-made works, evidence-backed"
    elif gq.human_only:
        heading = "Human-made works"
    elif gq.evidence_only:
        heading = "Evidence-backed works"
    elif gq.badge:
        heading = BADGE_LABEL.get(gq.badge, "Gallery") + " works"
    # Rendered once per data version and set of filters: every page of one filter (?before=, ?after=)
    # has the same form, and its 100 artist options were half of a page miss's render.
    form = {"q": gq.q, "badge": gq.badge, "artist": gq.artist, "human_only": gq.human_only,
            "evidence_only": gq.evidence_only, "artists": artists}
    filter_form = platform.per_version(("filter_form", gq.q, gq.badge, gq.artist, gq.human_only, gq.evidence_only),
                                       version, lambda: Markup(templates.get_template("_filters.html").render(form)))
    return {"items": items, "q": gq.q, "human_only": gq.human_only, "evidence_only": gq.evidence_only,
            "badge": gq.badge, "artist": gq.artist, "artists": artists, "heading": heading, "filter_form": filter_form,
            "filtered": gq != GalleryQuery(), "detectors_on": bool(platform.detector_cards),
            "newer_url": gq.url(after=items[0]["work_id"]) if newer and items else (
                gq.url() if gq.after is not None or gq.before is not None else None),
            "older_url": gq.url(before=items[-1]["work_id"]) if older and items else None,
            # kept for API clients of the old context name
            "next_before": items[-1]["work_id"] if full else None}


def _render_anonymous_gallery(platform: Platform, gq: GalleryQuery, version: Any = None,
                              on_loop: bool = False) -> tuple[bytes, dict[str, str]]:
    """The anonymous gallery page; ``on_loop``: rendered on the event loop's thread (its own connection)."""
    with (platform.loop_read_session() if on_loop else platform.read_session()) as s:
        ctx = _gallery_ctx(platform, s, gq, version, keep=False)
    # No request, user or CSRF token in the context: the anonymous page has no form that posts.
    ctx = {"request": None, "user": None, "csrf": "", "optout": PLATFORM_DEFAULT, **ctx}
    body = templates.get_template("gallery.html").render(ctx).encode()
    headers = {**optout_headers(PLATFORM_DEFAULT, "/.well-known/tdm-policy.json"), "Cache-Control": "no-cache"}
    return body, headers


def _gallery_signed_in(request: Request, gq: GalleryQuery) -> HTMLResponse:
    platform: Platform = request.app.state.platform
    with platform.session() as s:
        user = current_user(request, s)
        ctx = _gallery_ctx(platform, s, gq)
        s.commit()  # an expired session row may have been deleted
    return render(request, "gallery.html", ctx, user=user)


@router.get("/", response_class=HTMLResponse)
async def gallery(request: Request, q: str | None = Query(default=None, max_length=200), human_only: bool = False,
                  evidence_only: bool = False, badge: str | None = Query(default=None, max_length=16),
                  artist: str | None = Query(default=None, max_length=20),
                  before: int | None = Query(default=None, ge=0, le=2**62),
                  after: int | None = Query(default=None, ge=0, le=2**62)) -> Response:
    """Anonymous visitors get a cached rendering (ETag / Last-Modified, 304 when unchanged) straight
    from the event loop; only a cache miss or a signed-in visitor costs a thread hop and a query."""
    gq = GalleryQuery((q or "").strip()[:200], human_only, evidence_only, badge if badge in BADGE_LABEL else None,
                      int(artist) if artist and artist.isdigit() and len(artist) < 19 else None, before, after)
    if not _is_anonymous(request):
        return await run_in_threadpool(_gallery_signed_in, request, gq)
    platform: Platform = request.app.state.platform
    cache = page_cache(request)
    key = gq.key()
    _remember_query(request.app, request.scope.get("query_string", b""), key)
    version = platform.version()
    page = cache.get(key, version)
    if page is None:
        inline = renders_inline(platform, gq)

        def render() -> CachedPage:
            return _put_rendered(cache, key, version, _render_anonymous_gallery(platform, gq, version, inline))
        page = render() if inline else await _render_once(request.app, (key, version), render)
    return page.response(request)


def renders_inline(platform: Platform, gq: GalleryQuery) -> bool:
    """Whether a page miss is rendered right on the event loop: on SQLite, every page but a search.

    Such a miss is bounded work, all CPU: an index range scan of 24 rows in-process and a ~0.5 ms render
    (~0.7 ms in all). Sent to threads instead, it waited for the GIL: each time the render thread let go
    of it (SQLite's step, hashing the body) it had to win it back from the event loop serving cache hits,
    and under 50 clients the clients piled up in those slow misses. Measured with ``bench_platform
    --server-timing`` (2 workers, 50 clients, 20k works, alternating runs, load average 4.5-5.3): misses
    in-app p50 11-24 ms, p99 136-147 ms on the threads, 1.0 ms and 10-13 ms inline; wrk's p99 118-130 ms
    on the threads, 58-106 ms inline. A search (``q``: a LIKE scan, 15 ms over 20k works when nothing
    matches) and PostgreSQL's queries (a network round trip) still go to the render threads."""
    return not gq.q and platform.engine.dialect.name == "sqlite"


def _remember_query(app: Any, query_string: bytes, key: tuple[Any, ...], limit: int = 4096) -> None:
    """Note which page an exact query string asked for, once the handler has validated it, so the next
    anonymous request with the same string can be answered by ``CachedPagesFirst``."""
    known: dict[bytes, tuple[Any, ...]] | None = getattr(app.state, "gallery_queries", None)
    if known is None:
        known = app.state.gallery_queries = {}
    if len(known) >= limit:
        known.clear()
    known[query_string] = key


class CachedPagesFirst:
    """ASGI middleware, innermost (inside the security, rate-limit and body-limit middlewares): answers an
    anonymous ``GET /`` from the page cache before FastAPI's routing and parameter validation, when the
    handler has already seen that exact query string (so it was valid, and its page key is known) and
    the page for the current data version is cached; anything else goes on to the handler unchanged.

    Why: with the misses made cheap, a cached page's request spent ~20% of a worker's CPU in route
    matching and solving the handler's seven query parameters (py-spy under the benchmark's load), for
    an answer that is a dictionary lookup."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/" and scope["method"] == "GET":
            page = self._cached(scope)
            if page is not None:
                await page.response(Request(scope))(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _cached(scope: Any) -> CachedPage | None:
        state = scope["app"].state
        key = getattr(state, "gallery_queries", {}).get(scope.get("query_string", b""))
        cache: PageCache | None = getattr(state, "page_cache", None)
        if key is None or cache is None:
            return None
        for name, value in scope["headers"]:  # anonymous only; any session cookie at all: the handler decides
            if name == b"authorization" or (name == b"cookie" and _SESSION_COOKIE_NAME in value):
                return None
        return cache.get(key, state.platform.version())


_SESSION_COOKIE_NAME = auth.SESSION_COOKIE.encode()


def _put_rendered(cache: PageCache, key: tuple[Any, ...], version: Any,
                  rendered: tuple[bytes, dict[str, str]]) -> CachedPage:
    return cache.put(key, version, *rendered)


def render_threads(platform: Platform) -> int:
    """Threads per worker for the page misses not rendered inline: 2 on SQLite (searches: one slow
    search does not hold up the next), 4 on PostgreSQL (a query waits on the network, so a few overlap)."""
    return 2 if platform.engine.dialect.name == "sqlite" else 4


async def _in_render_threads(app: Any, render: Any) -> Any:
    """Run a page miss on the worker's own small pool of render threads, first come first served.

    Not Starlette's shared thread pool (40 threads): under 50 clients up to ~20 misses per worker ran
    at once there, every one needing the GIL, so they took turns in no order and a miss could wait
    behind many later ones (measured in-app: misses p50 16-53 ms, p99 184-233 ms, for ~1 ms of work;
    on 2 threads p99 110-158 ms). See ``renders_inline`` for the misses that do not come here."""
    executor = getattr(app.state, "render_executor", None)
    if executor is None:  # one event loop per worker: no race between the check and the set
        executor = app.state.render_executor = ThreadPoolExecutor(render_threads(app.state.platform),
                                                                  thread_name_prefix="page-render")
    return await asyncio.get_running_loop().run_in_executor(executor, render)


async def _render_once(app: Any, flight_key: tuple[Any, ...], render: Any) -> CachedPage:
    """Single flight: concurrent misses of one page (a page just expired, or a write bumped the
    version) wait for one render instead of each rendering it — without this, up to ~25 requests per
    worker rendered the same page at once. A failed render is not shared: waiters then render alone."""
    flights: dict[tuple[Any, ...], asyncio.Future[CachedPage]] | None = getattr(app.state, "gallery_flights", None)
    if flights is None:  # one event loop per worker: no race between the check and the set
        flights = app.state.gallery_flights = {}
    pending = flights.get(flight_key)
    if pending is not None:
        try:
            return await asyncio.shield(pending)
        except Exception:  # noqa: BLE001 - the leader failed: render ourselves
            return await _in_render_threads(app, render)
    future: asyncio.Future[CachedPage] = asyncio.get_running_loop().create_future()
    flights[flight_key] = future
    try:
        page = await _in_render_threads(app, render)
        future.set_result(page)
        return page
    except BaseException as exc:
        future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("render cancelled"))
        future.exception()  # retrieved here: no "never retrieved" warning when nobody waits
        raise
    finally:
        flights.pop(flight_key, None)


def prewarm(app: Any, *, max_artists: int = 5000) -> dict[str, int]:
    """Worker start-up, before the first request: fill what the first seconds of traffic would
    otherwise fill all at once. Measured (PostgreSQL, 2 workers, 50 wrk clients, 100k works): the first
    2 s of a cold server ran at 623 req/s with p99 1278 ms, the later 2 s windows at 2300-3200 req/s
    with p99 117-176 ms, because 50 connections arrived together on empty caches: every request for
    ``/`` missed and rendered (25 renders per worker at once), each opening a pool connection (a
    PostgreSQL fork and handshake) and filling the per-artist opt-out cache one query at a time.

    So: open the pool's kept connections once (PostgreSQL only), load the newest ``max_artists``
    artists' opt-outs, and render the two anonymous first pages into the page cache (which also
    compiles the templates). Returns what it did, for the log and the tests."""
    from sqlalchemy import select

    from ...registry.models import Artist
    platform: Platform = app.state.platform
    engine = platform.engine
    opened = 0
    if engine.dialect.name == "postgresql":
        connections = []
        try:
            for _ in range(engine.pool.size()):  # held together, so each one is a new connection
                connections.append(engine.connect())
            opened = len(connections)
        finally:
            for conn in connections:
                conn.close()  # back to the pool, kept
    version = platform.version()
    with platform.read_session() as s:
        ids = s.scalars(select(Artist.id).order_by(Artist.id.desc()).limit(max_artists)).all()
        for artist_id in ids:
            platform.optout(s, artist_id, version=version)
    cache = page_cache_for(app)
    for gq in (GalleryQuery(), GalleryQuery(human_only=True)):
        body, headers = _render_anonymous_gallery(platform, gq, version)
        cache.put(gq.key(), version, body, headers)
    return {"connections": opened, "optouts": len(ids), "pages": 2}


# ---------------------------------------------------------------- artists and works

@router.get("/artists", response_class=HTMLResponse)
def artists(request: Request, s: Session = Depends(db_session, scope="function"), platform: Platform = Depends(get_platform),
            user: User | None = Depends(current_user)) -> HTMLResponse:
    return render(request, "artists.html", {"artists": Registry.in_session(s).list_artists()[:1000],
                                            "verified": platform.verified_artist_ids(s)}, user=user)


@router.get("/artists/{artist_id}", response_class=HTMLResponse)
def artist_page(request: Request, artist_id: int, before: int | None = Query(default=None, ge=0, le=2**62),
                s: Session = Depends(db_session, scope="function"),
                platform: Platform = Depends(get_platform), user: User | None = Depends(current_user)) -> HTMLResponse:
    reg = Registry.in_session(s)
    artist = reg.get_artist(artist_id)
    lin = reg.lineage(artist_id, 2).to_dict()
    prof = s.get(ArtistProfile, artist_id)
    items = platform.gallery(s, artist_id=artist_id, before=before)
    for it in items:
        it["tw"], it["th"] = _thumb_size(it["width"], it["height"])
    opt = platform.optout(s, artist_id)
    marker, marker_label = consent_marker(opt)
    can_edit = platform.can_edit_artist(user, artist_id)
    ctx = {"artist": artist, "terms": reg.current_terms(artist_id).to_dict(),
           "history": [t.to_dict() for t in reg.terms_history(artist_id)],
           "lineage": lin, "lineage_svg": Markup(lineage_svg(lin)), "items": items,
           "older_url": f"/artists/{artist_id}?before={items[-1]['work_id']}" if len(items) == PAGE_SIZE else None,
           "can_edit": can_edit, "opt": opt, "marker": marker, "marker_label": marker_label,
           "optout_words": optout_words(opt), "verified": bool(prof and prof.verified_at),
           "verified_url": prof.verified_url if prof else None, "bio": prof.bio if prof else None,
           "avatar_url": avatar_url(prof), "filtered": False,
           "others": [a for a in reg.list_artists()[:500] if a.id != artist_id] if can_edit else []}
    return render(request, "artist.html", ctx, user=user, optout=opt, policy_url=f"/artists/{artist_id}/terms")


@router.get("/artists/{artist_id}/terms")
def artist_terms_json(artist_id: int, s: Session = Depends(db_session, scope="function"),
                      platform: Platform = Depends(get_platform)) -> JSONResponse:
    """The artist's terms as JSON: the ``tdm-policy`` URL of their pages and images."""
    opt = platform.optout(s, artist_id)
    body = {"artist_id": artist_id, "terms": Registry.in_session(s).current_terms(artist_id).to_dict(), "data_mining": opt.dmi_uri,
            "reason": opt.reason}
    return JSONResponse(body, headers=optout_headers(opt))


@router.post("/artists/{artist_id}/terms")
def artist_terms_form(request: Request, artist_id: int, csrf: str = Form(""), ai_training: str = Form("unknown"),
                      generative_training: str = Form("unknown"), data_mining: str = Form("unknown"),
                      style_imitation: str = Form("unknown"), note: str = Form("", max_length=10_000),
                      s: Session = Depends(db_session, scope="function"), platform: Platform = Depends(get_platform),
                      user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    platform.require_artist(user, artist_id)
    Registry.in_session(s).set_terms(artist_id, None, note=note or None, ai_training=ai_training,
                    generative_training=generative_training, data_mining=data_mining, style_imitation=style_imitation)
    platform.changed()
    return _redirect(f"/artists/{artist_id}")


@router.post("/artists/{artist_id}/influences")
def artist_influence_form(request: Request, artist_id: int, csrf: str = Form(""), target_id: int = Form(...),
                          note: str = Form("", max_length=10_000), s: Session = Depends(db_session, scope="function"),
                          platform: Platform = Depends(get_platform),
                          user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    platform.require_artist(user, artist_id)
    Registry.in_session(s).add_influence(artist_id, target_id, note=note or None, source_of_claim="artist statement")
    platform.changed()
    return _redirect(f"/artists/{artist_id}")


@router.get("/artists/{artist_id}/works/{work_id}", response_class=HTMLResponse)
def work_page(request: Request, artist_id: int, work_id: int, notice: str | None = Query(default=None, max_length=40),
              s: Session = Depends(db_session, scope="function"),
              platform: Platform = Depends(get_platform), user: User | None = Depends(current_user)) -> HTMLResponse:
    card = platform.work_card(s, work_id)
    if card["artist"]["id"] != artist_id:
        raise HTTPException(404)
    ctx = {"card": card, "can_edit": platform.can_edit_artist(user, artist_id),
           "base_url": request.app.state.public_url, "notice": NOTICES.get(notice or "")}
    return render(request, "work.html", ctx, user=user, optout=platform.optout(s, artist_id, work_id),
                  policy_url=f"/artists/{artist_id}/terms")


NOTICES = {"published": "Published.", "saved": "Saved.", "reported": "Thank you: the report is in the operators' queue."}


@router.get("/works/{work_id}")
def work_short(work_id: int, s: Session = Depends(db_session, scope="function")) -> Response:
    w = Registry.in_session(s).get_work(work_id)
    return _redirect(f"/artists/{w.artist_id}/works/{w.id}")


def _work_form(media: Media | None, title: str | None) -> dict[str, Any]:
    if media is None:
        return {"title": title}
    return {"title": title, "declared_ai_use": media.declared_ai_use, "tools": media.tools, "process": media.process,
            "training_data": media.training_data, "prompt": media.prompt,
            "credits": ", ".join(str(c) for c in media.credits or [])}


@router.get("/works/{work_id}/edit", response_class=HTMLResponse)
def work_edit_form(request: Request, work_id: int, s: Session = Depends(db_session, scope="function"),
                   platform: Platform = Depends(get_platform), user: User | None = Depends(current_user)) -> Response:
    work = Registry.in_session(s).get_work(work_id)
    if user is None:
        return _redirect("/signin")
    platform.require_artist(user, work.artist_id)
    return render(request, "work_edit.html", {"form": _work_form(s.get(Media, work_id), work.title), "work_id": work_id,
                                              "uses": DECLARED_AI_USES, "training": TRAINING_DATA, "error": None,
                                              "back": f"/artists/{work.artist_id}/works/{work_id}"}, user=user)


@router.post("/works/{work_id}/edit", response_class=HTMLResponse)
def work_edit(request: Request, work_id: int, csrf: str = Form(""), title: str = Form("", max_length=1024),
              declared_ai_use: str = Form("not_stated"), tools: str = Form("", max_length=10_000),
              process: str = Form("", max_length=10_000), training_data: str = Form("unknown"),
              prompt: str = Form("", max_length=10_000), credits: str = Form("", max_length=10_000),
              s: Session = Depends(db_session, scope="function"), platform: Platform = Depends(get_platform),
              user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    work = Registry.in_session(s).get_work(work_id)
    form = {"title": title, "declared_ai_use": declared_ai_use, "tools": tools, "process": process,
            "training_data": training_data, "prompt": prompt, "credits": credits}
    try:
        platform.update_work(s, user, work_id, {**form, "title": title or work.title, "credits": _credit_list(credits)})
    except RegistryError as exc:
        s.rollback()
        return render(request, "work_edit.html", {"form": form, "work_id": work_id, "uses": DECLARED_AI_USES,
                                                  "training": TRAINING_DATA, "error": str(exc),
                                                  "back": f"/artists/{work.artist_id}/works/{work_id}"},
                      user=user, status=400)
    return _redirect(f"/artists/{work.artist_id}/works/{work_id}?notice=saved")


@router.post("/works/{work_id}/delete")
def work_delete(request: Request, work_id: int, csrf: str = Form(""), s: Session = Depends(db_session, scope="function"),
                platform: Platform = Depends(get_platform), user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    work = Registry.in_session(s).get_work(work_id)
    artist_id = work.artist_id
    platform.delete_work(s, user, work_id)
    return _redirect(f"/artists/{artist_id}")


@router.post("/works/{work_id}/report")
def work_report(request: Request, work_id: int, csrf: str = Form(""), reason: str = Form("other", max_length=32),
                note: str = Form("", max_length=2000), s: Session = Depends(db_session, scope="function"),
                user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    work = Registry.in_session(s).get_work(work_id)
    s.add(WorkReport(work_id=work_id, reporter_user_id=user.id if user else None,
                     reason=reason if reason in ("copy", "mislabelled", "other") else "other", note=note or None))
    return _redirect(f"/artists/{work.artist_id}/works/{work_id}?notice=reported")


# ---------------------------------------------------------------- upload: check, preview, publish

def _credit_list(credits: str) -> list[str]:
    return [c.strip() for c in (credits or "").split(",") if c.strip()][:100]


def _preview_data_uri(data: bytes, side: int = 480) -> tuple[str, int, int]:
    """A small re-encoded copy of a checked upload for the preview page (``data:`` is allowed by the
    CSP's img-src): never the uploaded bytes themselves."""
    import base64
    import io

    from PIL import Image
    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", (side, side))
        im = im.convert("RGB")
        im.thumbnail((side, side))
        out = io.BytesIO()
        im.save(out, "WEBP", quality=80)
        return "data:image/webp;base64," + base64.b64encode(out.getvalue()).decode(), im.width, im.height


def _preview_ctx(platform: Platform, s: Session, user: User | None, data: bytes, filename: str | None,
                 form: dict[str, Any]) -> dict[str, Any]:
    _checked, report = platform.inspect_upload(data, filename)
    rep = report.to_dict()
    verdict = rep.get("verdict") or {}
    badge, source = badge_for(report.origin.value, form.get("declared_ai_use") or "not_stated",
                              verdict.get("decided_by") or "none")
    origin = {"badge": badge, "badge_source": source, "origin": report.origin.value,
              "generator": verdict.get("generator"), "estimate": estimate_note(verdict)}
    uploader = user.artist_id if user else None
    search = platform.find_similar(s, data, uploader_artist_id=uploader)
    copies = search.matches
    generation = rep.get("generation") or []
    prompt = form.get("prompt") or next((g.get("prompt") for g in generation if g.get("prompt")), None)
    named = platform.check_prompt(prompt) if prompt else None
    warnings = list(rep.get("warnings") or [])
    for c in copies:
        if c.relation == "other_artist":
            warnings.append(f"This image looks like “{c.title}” by {c.artist}, registered on the platform.")
        elif c.relation == "known_ai":
            warnings.append(f"This image looks like “{c.title}”, a registered work known to be AI-generated.")
    for m in (named or {}).get("matches", []):
        if m.get("decision") == "block":
            warnings.append(f"The prompt names {m['artist']}, who does not allow imitation of their style.")
    uri, pw, ph = _preview_data_uri(data)
    return {"badge": badge, "badge_source": source, "summary": summary(origin, form), "copies": copies,
            "copy_index": search.index,
            "named": named, "warnings": warnings, "evidence": verdict.get("evidence", []), "preview_src": uri,
            "pw": pw, "ph": ph, "form": form, "uses": DECLARED_AI_USES, "training": TRAINING_DATA,
            "filename": (filename or "")[:200], "error": None}


@router.get("/upload", response_class=HTMLResponse)
def upload_form(request: Request, user: User | None = Depends(current_user)) -> HTMLResponse:
    return render(request, "upload.html", {"error": None, "uses": DECLARED_AI_USES, "training": TRAINING_DATA,
                                           "form": {}}, user=user)


@router.post("/upload", response_class=HTMLResponse)
async def upload_post(request: Request, file: UploadFile, csrf: str = Form(""), title: str = Form("", max_length=1024),
                      declared_ai_use: str = Form("not_stated"), tools: str = Form("", max_length=10_000),
                      process: str = Form("", max_length=10_000), training_data: str = Form("unknown"),
                      prompt: str = Form("", max_length=10_000), credits: str = Form("", max_length=10_000),
                      s: Session = Depends(db_session, scope="function"),
                      platform: Platform = Depends(get_platform), user: User | None = Depends(current_user)) -> Response:
    """Step one: read the file, look for registered works it copies and artists its prompt names, and
    show the preview. An artist's file waits (``stash_pending``) for the Publish button; a visitor
    just sees the findings."""
    check_csrf(request, csrf)
    limit_uploads(request, user)
    data = await file.read(platform.max_upload_bytes + 1)
    form = {"title": title, "declared_ai_use": declared_ai_use if declared_ai_use in DECLARED_AI_USES else "not_stated",
            "tools": tools, "process": process, "training_data": training_data if training_data in TRAINING_DATA
            else "unknown", "prompt": prompt, "credits": credits}
    try:
        if len(data) > platform.max_upload_bytes:
            raise UploadRejected(413, f"file is larger than {platform.max_upload_bytes} bytes")
        ctx = await run_in_threadpool(_preview_ctx, platform, s, user, data, file.filename, form)
    except UploadRejected as exc:
        return render(request, "upload.html", {"error": f"Refused: {exc.message}", "uses": DECLARED_AI_USES,
                                               "training": TRAINING_DATA, "form": form}, user=user, status=exc.status)
    can_publish = user is not None and user.artist_id is not None
    if can_publish:
        ctx["pending"] = await run_in_threadpool(platform.stash_pending, user, data)
        if not form["title"] and file.filename:
            ctx["form"]["title"] = Path(file.filename).stem[:1024]
    return render(request, "preview.html", {**ctx, "can_publish": can_publish}, user=user)


@router.post("/upload/publish", response_class=HTMLResponse)
async def upload_publish(request: Request, csrf: str = Form(""), pending: str = Form("", max_length=64),
                         filename: str = Form("", max_length=200), title: str = Form("", max_length=1024),
                         declared_ai_use: str = Form("not_stated"), tools: str = Form("", max_length=10_000),
                         process: str = Form("", max_length=10_000), training_data: str = Form("unknown"),
                         prompt: str = Form("", max_length=10_000), credits: str = Form("", max_length=10_000),
                         s: Session = Depends(db_session, scope="function"), platform: Platform = Depends(get_platform),
                         user: User | None = Depends(current_user)) -> Response:
    """Step two: publish the previewed file with the (possibly corrected) details."""
    check_csrf(request, csrf)
    if user is None or user.artist_id is None:
        return _redirect("/signin")
    data = await run_in_threadpool(platform.take_pending, user, pending)
    form = {"title": title, "declared_ai_use": declared_ai_use, "tools": tools, "process": process,
            "training_data": training_data, "prompt": prompt, "credits": credits}
    if data is None:
        return render(request, "upload.html", {"error": "The preview expired: choose the file again.",
                                               "uses": DECLARED_AI_USES, "training": TRAINING_DATA, "form": form},
                      user=user, status=410)
    try:
        work, _m, _r = await run_in_threadpool(
            lambda: platform.add_upload(s, user, user.artist_id, data, filename=filename or None,  # type: ignore[arg-type]
                                        title=title or None, declared_ai_use=declared_ai_use, tools=tools or None,
                                        process=process or None, training_data=training_data,
                                        prompt=prompt or None, credits=_credit_list(credits)))
    except (RegistryError, UploadRejected) as exc:
        s.rollback()
        ctx = await run_in_threadpool(_preview_ctx, platform, s, user, data, filename, form)
        ctx["error"] = exc.message if isinstance(exc, UploadRejected) else str(exc)
        return render(request, "preview.html", {**ctx, "pending": pending, "can_publish": True}, user=user,
                      status=400)
    platform.drop_pending(user, pending)
    return _redirect(f"/artists/{work.artist_id}/works/{work.id}?notice=published")


# ---------------------------------------------------------------- find my work

@router.get("/find", response_class=HTMLResponse)
def find_form(request: Request, user: User | None = Depends(current_user)) -> HTMLResponse:
    return render(request, "find.html", {"searched": False, "copies": [], "error": None}, user=user)


@router.post("/find", response_class=HTMLResponse)
async def find_post(request: Request, file: UploadFile, csrf: str = Form(""),
                    s: Session = Depends(db_session, scope="function"), platform: Platform = Depends(get_platform),
                    user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    limit_uploads(request, user)
    data = await file.read(platform.max_upload_bytes + 1)
    try:
        if len(data) > platform.max_upload_bytes:
            raise UploadRejected(413, f"file is larger than {platform.max_upload_bytes} bytes")
        await run_in_threadpool(check_image, data, max_bytes=platform.max_upload_bytes, max_pixels=platform.max_pixels)
    except UploadRejected as exc:
        return render(request, "find.html", {"searched": False, "copies": [], "error": f"Refused: {exc.message}"},
                      user=user, status=exc.status)
    search = await run_in_threadpool(platform.find_similar, s, data,
                                     uploader_artist_id=user.artist_id if user else None)
    return render(request, "find.html", {"searched": True, "copies": search.matches, "copy_index": search.index,
                                         "error": search.error}, user=user)


# ---------------------------------------------------------------- about, and the account pages

@router.get("/about", response_class=HTMLResponse)
def about(request: Request, user: User | None = Depends(current_user)) -> HTMLResponse:
    return render(request, "about.html", {"detectors_on": bool(request.app.state.platform.detector_cards)}, user=user)


from .ui_accounts import router as _accounts_router  # noqa: E402 - it imports render() and friends from here

router.include_router(_accounts_router)

__all__ = ["router", "Media", "render", "templates"]
