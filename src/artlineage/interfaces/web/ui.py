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
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy.orm import Session

from ...registry import store
from ...registry.lineage import lineage
from . import auth
from .app import (csrf_token_for, csrf_valid, current_user, db_session, get_platform, limit_uploads, mint_api_key,
                  session_token, throttle_account_form)
from .lineage_svg import lineage_svg
from .media import UploadRejected
from .models import Media, User
from .optout import PLATFORM_DEFAULT, OptOut, optout_headers
from .platform import DECLARED_AI_USES, TRAINING_DATA, Platform

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
# Templates are compiled once per process and kept (Jinja2's own cache); without auto_reload a render
# does not stat every template file, which mattered: the grid includes _badge.html once per card.
templates.env.auto_reload = False
BADGE_LABEL = {"human": "Human-made", "ai": "AI-generated", "composite": "AI composite", "unknown": "Unknown origin"}
templates.env.globals["BADGE_LABEL"] = BADGE_LABEL


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
            self._pages[key] = (version, page)
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)
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


def _gallery_ctx(items: list[dict[str, Any]], q: str | None, human_only: bool) -> dict[str, Any]:
    nxt = items[-1]["work_id"] if len(items) == 24 else None
    return {"items": items, "q": q or "", "human_only": human_only, "next_before": nxt}


def _render_anonymous_gallery(platform: Platform, q: str | None, human_only: bool,
                              before: int | None) -> tuple[bytes, dict[str, str]]:
    with platform.read_session() as s:
        items = platform.gallery(s, human_only=human_only, q=q, before=before)
    # No request, user or CSRF token in the context: the anonymous page has no form that posts.
    ctx = {"request": None, "user": None, "csrf": "", "optout": PLATFORM_DEFAULT, **_gallery_ctx(items, q, human_only)}
    body = templates.get_template("gallery.html").render(ctx).encode()
    headers = {**optout_headers(PLATFORM_DEFAULT, "/.well-known/tdm-policy.json"), "Cache-Control": "no-cache"}
    return body, headers


def _gallery_signed_in(request: Request, q: str | None, human_only: bool, before: int | None) -> HTMLResponse:
    platform: Platform = request.app.state.platform
    with platform.session() as s:
        user = current_user(request, s)
        items = platform.gallery(s, human_only=human_only, q=q, before=before)
        s.commit()  # an expired session row may have been deleted
    return render(request, "gallery.html", _gallery_ctx(items, q, human_only), user=user)


@router.get("/", response_class=HTMLResponse)
async def gallery(request: Request, q: str | None = Query(default=None, max_length=200), human_only: bool = False,
                  before: int | None = None) -> Response:
    """Anonymous visitors get a cached rendering (ETag / Last-Modified, 304 when unchanged) straight
    from the event loop; only a cache miss or a signed-in visitor costs a thread hop and a query."""
    if not _is_anonymous(request):
        return await run_in_threadpool(_gallery_signed_in, request, q, human_only, before)
    platform: Platform = request.app.state.platform
    cache = page_cache(request)
    key = ("gallery", (q or "").strip()[:200], human_only, before)
    version = platform.version()
    page = cache.get(key, version)
    if page is None:
        page = await _render_once(request.app, (key, version), lambda: _put_rendered(
            cache, key, version, _render_anonymous_gallery(platform, q, human_only, before)))
    return page.response(request)


def _put_rendered(cache: PageCache, key: tuple[Any, ...], version: Any,
                  rendered: tuple[bytes, dict[str, str]]) -> CachedPage:
    return cache.put(key, version, *rendered)


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
            return await run_in_threadpool(render)
    future: asyncio.Future[CachedPage] = asyncio.get_running_loop().create_future()
    flights[flight_key] = future
    try:
        page = await run_in_threadpool(render)
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
    for human_only in (False, True):
        body, headers = _render_anonymous_gallery(platform, None, human_only, None)
        cache.put(("gallery", "", human_only, None), version, body, headers)
    return {"connections": opened, "optouts": len(ids), "pages": 2}


# ---------------------------------------------------------------- artists and works

@router.get("/artists", response_class=HTMLResponse)
def artists(request: Request, s: Session = Depends(db_session, scope="function"), user: User | None = Depends(current_user)) -> HTMLResponse:
    return render(request, "artists.html", {"artists": store.list_artists(s)[:1000]}, user=user)


@router.get("/artists/{artist_id}", response_class=HTMLResponse)
def artist_page(request: Request, artist_id: int, before: int | None = None, s: Session = Depends(db_session, scope="function"),
                platform: Platform = Depends(get_platform), user: User | None = Depends(current_user)) -> HTMLResponse:
    artist = store.get_artist(s, artist_id)
    lin = lineage(s, artist_id, 2).to_dict()
    ctx = {"artist": artist, "terms": store.current_terms(s, artist_id).to_dict(),
           "history": [t.to_dict() for t in store.terms_history(s, artist_id)],
           "lineage": lin, "lineage_svg": Markup(lineage_svg(lin)),
           "items": platform.gallery(s, artist_id=artist_id, before=before),
           "can_edit": platform.can_edit_artist(user, artist_id), "opt": platform.optout(s, artist_id),
           "others": [a for a in store.list_artists(s)[:500] if a.id != artist_id]}
    return render(request, "artist.html", ctx, user=user, optout=platform.optout(s, artist_id),
                  policy_url=f"/artists/{artist_id}/terms")


@router.get("/artists/{artist_id}/terms")
def artist_terms_json(artist_id: int, s: Session = Depends(db_session, scope="function"),
                      platform: Platform = Depends(get_platform)) -> JSONResponse:
    """The artist's terms as JSON: the ``tdm-policy`` URL of their pages and images."""
    opt = platform.optout(s, artist_id)
    body = {"artist_id": artist_id, "terms": store.current_terms(s, artist_id).to_dict(), "data_mining": opt.dmi_uri,
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
    store.set_terms(s, artist_id, None, note=note or None, ai_training=ai_training,
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
    store.add_influence(s, artist_id, target_id, note=note or None, source_of_claim="artist statement")
    platform.changed()
    return _redirect(f"/artists/{artist_id}")


@router.get("/artists/{artist_id}/works/{work_id}", response_class=HTMLResponse)
def work_page(request: Request, artist_id: int, work_id: int, s: Session = Depends(db_session, scope="function"),
              platform: Platform = Depends(get_platform), user: User | None = Depends(current_user)) -> HTMLResponse:
    card = platform.work_card(s, work_id)
    if card["artist"]["id"] != artist_id:
        raise HTTPException(404)
    return render(request, "work.html", {"card": card}, user=user, optout=platform.optout(s, artist_id, work_id),
                  policy_url=f"/artists/{artist_id}/terms")


@router.get("/works/{work_id}")
def work_short(work_id: int, s: Session = Depends(db_session, scope="function")) -> Response:
    w = store.get_work(s, work_id)
    return _redirect(f"/artists/{w.artist_id}/works/{w.id}")


# ---------------------------------------------------------------- upload

@router.get("/upload", response_class=HTMLResponse)
def upload_form(request: Request, user: User | None = Depends(current_user)) -> HTMLResponse:
    return render(request, "upload.html", {"report": None, "error": None, "uses": DECLARED_AI_USES,
                                           "training": TRAINING_DATA}, user=user)


@router.post("/upload", response_class=HTMLResponse)
async def upload_post(request: Request, file: UploadFile, csrf: str = Form(""), title: str = Form("", max_length=1024),
                      declared_ai_use: str = Form("none"), tools: str = Form(""), process: str = Form(""),
                      training_data: str = Form("unknown"), prompt: str = Form(""), credits: str = Form(""),
                      save: str = Form(""), s: Session = Depends(db_session, scope="function"),
                      platform: Platform = Depends(get_platform), user: User | None = Depends(current_user)) -> Response:
    """Signed-in artists save the work (then see its page); anyone can check a file: the reader's
    findings are shown in full either way."""
    check_csrf(request, csrf)
    limit_uploads(request, user)
    data = await file.read(platform.max_upload_bytes + 1)
    ctx: dict[str, Any] = {"report": None, "error": None, "uses": DECLARED_AI_USES, "training": TRAINING_DATA}
    try:
        if len(data) > platform.max_upload_bytes:
            raise UploadRejected(413, f"file is larger than {platform.max_upload_bytes} bytes")
        if save and user is not None and user.artist_id is not None:
            work, _m, _r = await run_in_threadpool(
                lambda: platform.add_upload(s, user, user.artist_id, data, filename=file.filename,  # type: ignore[arg-type]
                                            title=title or None, declared_ai_use=declared_ai_use, tools=tools or None,
                                            process=process or None, training_data=training_data,
                                            prompt=prompt or None,
                                            credits=[c.strip() for c in credits.split(",") if c.strip()]))
            return _redirect(f"/artists/{work.artist_id}/works/{work.id}")
        _checked, report = await run_in_threadpool(platform.inspect_upload, data, file.filename)
        ctx["report"] = report.to_dict()
    except UploadRejected as exc:
        ctx["error"] = exc.message
        return render(request, "upload.html", ctx, user=user, status=exc.status)
    except store.RegistryError as exc:
        ctx["error"] = str(exc)
        return render(request, "upload.html", ctx, user=user, status=400)
    return render(request, "upload.html", ctx, user=user)


# ---------------------------------------------------------------- accounts

@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request, user: User | None = Depends(current_user)) -> HTMLResponse:
    return render(request, "signup.html", {"error": None, "mode": "signup"}, user=user)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, user: User | None = Depends(current_user)) -> HTMLResponse:
    return render(request, "signup.html", {"error": None, "mode": "signin"}, user=user)


def _signed_in(request: Request, s: Session, user: User, to: str) -> Response:
    token = auth.start_session(s, user)
    response = _redirect(to)
    response.set_cookie(auth.SESSION_COOKIE, request.app.state.signer.sign_session(token), httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", max_age=auth.SESSION_DAYS * 86400,
                        path="/")
    return response


@router.post("/signup")
def signup(request: Request, csrf: str = Form(""), email: str = Form(..., max_length=320),
           password: str = Form(..., max_length=1024), artist_name: str = Form(..., max_length=512),
           s: Session = Depends(db_session, scope="function"), platform: Platform = Depends(get_platform)) -> Response:
    check_csrf(request, csrf)
    throttle_account_form(request)
    try:
        artist = store.add_artist(s, artist_name, living=True)
        user = auth.create_user(s, email, password, artist_id=artist.id)
    except (auth.AuthError, store.RegistryError) as exc:
        s.rollback()
        return render(request, "signup.html", {"error": str(exc), "mode": "signup"}, user=None, status=400)
    platform.changed()
    return _signed_in(request, s, user, f"/artists/{artist.id}")


@router.post("/signin")
def signin(request: Request, csrf: str = Form(""), email: str = Form(..., max_length=320),
           password: str = Form(..., max_length=1024), s: Session = Depends(db_session, scope="function")) -> Response:
    check_csrf(request, csrf)
    throttle_account_form(request, email)
    try:
        user = auth.authenticate(s, email, password)
    except auth.AuthError as exc:
        return render(request, "signup.html", {"error": str(exc), "mode": "signin"}, user=None, status=401)
    return _signed_in(request, s, user, f"/artists/{user.artist_id}" if user.artist_id else "/")


@router.post("/signout")
def signout(request: Request, csrf: str = Form(""), s: Session = Depends(db_session, scope="function")) -> Response:
    check_csrf(request, csrf)
    token = session_token(request)
    if token:
        auth.end_session(s, token)
    response = _redirect("/")
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, s: Session = Depends(db_session, scope="function"), user: User | None = Depends(current_user)) -> Response:
    if user is None:
        return _redirect("/signin")
    return render(request, "account.html", {"keys": auth.list_api_keys(s, user), "new_key": None}, user=user)


@router.post("/account/keys", response_class=HTMLResponse)
def account_new_key(request: Request, csrf: str = Form(""), name: str = Form("", max_length=200),
                    rate_per_minute: int = Form(120), s: Session = Depends(db_session, scope="function"),
                    user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    if user is None:
        return _redirect("/signin")
    try:
        new = mint_api_key(request, s, user, name, rate_per_minute)
    except auth.AuthError as exc:
        raise HTTPException(400, str(exc)) from None
    return render(request, "account.html", {"keys": auth.list_api_keys(s, user), "new_key": new.secret}, user=user)


@router.post("/account/keys/{key_id}/revoke")
def account_revoke_key(request: Request, key_id: int, csrf: str = Form(""),
                       s: Session = Depends(db_session, scope="function"),
                       user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    if user is None:
        return _redirect("/signin")
    try:
        auth.revoke_api_key(s, user, key_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    return _redirect("/account")


__all__ = ["router", "Media"]
