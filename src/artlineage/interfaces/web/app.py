"""FastAPI application factory for the artlineage platform.

``create_app(db_url, media_dir)`` opens (and migrates) the database, mounts the JSON API under
``/v1`` (OpenAPI at ``/docs``), the server-rendered pages, the media files and the opt-out files
(``/robots.txt``, ``/.well-known/tdmrep.json``). Server dependencies (the ``server`` extra) are
imported here, never from ``import artlineage``.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from ...errors import ConfigurationError, NotFoundError, RegistryError
from ...settings import Settings
from . import auth
from ._asgi import AddHeaders
from .db import open_platform_engine
from .limits import DEFAULT_BODY_BYTES, BodyLimit, body_limits_for
from .media import UploadRejected
from .models import ApiKey, Media, User
from .optout import PLATFORM_DEFAULT, optout_headers, robots_txt, tdmrep_rules
from .platform import RENDITION_NAME, RENDITION_TYPES, PermissionDenied, Platform
from .ratelimit import RateLimitHeaders, RateLimits, SharedRateLimiter, limiter_engine, record_decision

HERE = Path(__file__).parent
log = logging.getLogger(__name__)
IMMUTABLE = "public, max-age=31536000, immutable"


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag in tags or "*" in tags


def create_app(db_url: str | Path = "artlineage-platform.sqlite", media_dir: str | Path | None = None, *,
               secret_key: str | None = None, reserve_unknown: bool = True, anonymous_rate_per_minute: int | None = 600,
               max_upload_bytes: int = 20 * 1024 * 1024, max_pixels: int = 40_000_000, pixels: bool = True,
               upgrade: bool = True, inspect_processes: int = 0, prewarm: bool = True,
               max_body_bytes: int = DEFAULT_BODY_BYTES, body_limits: dict[str, int] | None = None,
               public_url: str | None = None, rate_limits: RateLimits | None = None,
               smtp: Any = None, verify_allow_private: bool = False,
               detectors: Sequence[str] | None = None, freeze_gc: bool = False,
               copies_dir: str | Path | None = None) -> FastAPI:
    """The platform app. ``secret_key`` signs cookies and CSRF tokens (default: ``ARTLINEAGE_SECRET_KEY``,
    else random per process, which signs everyone out on restart). ``anonymous_rate_per_minute``: token
    bucket per client address for API calls without a key (None: no limit). ``inspect_processes``:
    run /v1/verdict in a pool of that many processes (0: a thread pool sized to the cores). ``prewarm``:
    at start-up (lifespan), open the PostgreSQL pool and fill the opt-out and first-page caches
    (``ui.prewarm``) before the first request arrives. ``max_body_bytes``: ceiling on request bodies (JSON,
    forms) outside the upload routes, which get ``max_upload_bytes`` plus the form around the file;
    ``body_limits`` sets a route's own (``{"POST /v1/prompt": 65536}``); see ``limits``. ``public_url``: the
    site's address as visitors see it (``https://art.example.org``; default ``ARTLINEAGE_PUBLIC_URL``, else
    ``http://127.0.0.1:8000``): every absolute URL the platform writes is built from it, never from the
    request's Host header, which a client chooses and shared caches keep. ``rate_limits``: the operator's
    ceilings on sessions, uploads, sign-ins and API keys (``RateLimits``; default: ``ARTLINEAGE_RATE_LIMITS``,
    a JSON object of its fields, else its defaults). ``smtp``: a ``mail.SmtpConfig`` for verification and
    password-reset mail (default: ``SmtpConfig.from_env()``). ``verify_allow_private``: let identity checks
    fetch loopback/private addresses (tests only). ``detectors``: model cards of learned detectors run on
    every upload and /v1/verdict (default ``ARTLINEAGE_DETECTORS``; none: off); each is loaded here, so a
    bad card stops start-up, and its results are shown as a model's estimate, never as file evidence.
    ``freeze_gc``: once started (after the pre-warm), move every live object into the garbage collector's
    permanent generation (``gc.freeze``), so the full collections that requests trigger walk only what
    requests created; for server processes (``artlineage serve``), not for apps built in tests.
    ``copies_dir``: folder of the copy index that answers "is this image a copy of a registered work"
    (default ``ARTLINEAGE_PLATFORM_COPIES``, else ``<db>.copies`` next to a SQLite file, else
    ``<media_dir>/copies``; see ``copy_store``)."""
    env = Settings.from_env()
    base_url = public_base_url(public_url or env.public_url or LOCAL_PUBLIC_URL)
    detector_cards = tuple(str(d) for d in (detectors if detectors is not None else env.detectors or ()))
    from .uploads import platform_detectors
    platform_detectors(detector_cards)  # load now: a bad model card is a start-up error, not a failed upload
    engine = open_platform_engine(db_url, upgrade=upgrade)
    if media_dir is None:
        media_dir = Path(str(db_url)).with_suffix(".media") if "://" not in str(db_url) else Path("platform-media")
    if copies_dir is None:
        copies_dir = env.platform_copies or (Path(str(db_url)).with_suffix(".copies") if "://" not in str(db_url)
                                             else Path(media_dir) / "copies")
    platform = Platform(engine, Path(media_dir), reserve_unknown=reserve_unknown, max_upload_bytes=max_upload_bytes,
                        max_pixels=max_pixels, pixels=pixels, inspect_processes=inspect_processes,
                        verify_allow_private=verify_allow_private, detector_cards=detector_cards,
                        copies_dir=Path(copies_dir))

    @asynccontextmanager
    async def lifespan(app_: FastAPI):  # type: ignore[no-untyped-def]
        if prewarm:
            from fastapi.concurrency import run_in_threadpool

            from .ui import prewarm as prewarm_caches
            try:
                await run_in_threadpool(prewarm_caches, app_)
            except Exception as exc:  # noqa: BLE001 - a cold cache is slower, not wrong: serve anyway
                log.warning("start-up pre-warm failed (%s); serving with cold caches", exc)
            try:  # open the copy index now: at 100k works the first open (load + compare) takes 1-3 s
                await run_in_threadpool(platform.prewarm_copy_index)
            except Exception as exc:  # noqa: BLE001 - the first copy check opens it instead
                log.warning("copy index pre-warm failed (%s); the first copy check opens it", exc)
        if freeze_gc:
            # Measured (bench_platform --server-timing, 2 workers, 50 clients, 20k works): under gallery
            # load each worker ran ~5 full collections per 8 s, each walking the ~130 k objects alive after
            # start-up (FastAPI, SQLAlchemy, Jinja, the caches): the longest paused a worker 90-490 ms on a
            # busy box, after this 7-50 ms. Python's documented pattern: collect, then freeze what is left.
            gc.collect()
            gc.freeze()
        yield
        executor = getattr(app_.state, "render_executor", None)  # ui's page-miss threads, if started
        if executor is not None:
            app_.state.render_executor = None  # a later start-up (tests) makes a new one
            executor.shutdown(wait=False)
        platform.close()
        limiter.close()

    app = FastAPI(title="artlineage platform", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Origin, consent and lineage of images, shown before the image.")
    from .docs_pages import install_docs
    from .error_pages import install_error_pages
    from .mail import SmtpConfig
    app.state.smtp = smtp if smtp is not None else SmtpConfig.from_env()
    install_docs(app)  # /docs and /redoc from the package's assets, under the CSP
    app.state.platform = platform
    app.state.signer = auth.Signer(secret_key or Settings.from_env().secret_key or secrets.token_hex(32))
    limiter = SharedRateLimiter(limiter_engine(engine, platform.media_dir))
    app.state.limiter = limiter
    app.state.anonymous_rate = anonymous_rate_per_minute
    app.state.public_url = base_url
    app.state.rate_limits = rate_limits or rate_limits_from_env()

    @app.exception_handler(NotFoundError)
    async def _not_found(_r: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(RegistryError)
    async def _bad(_r: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(PermissionDenied)
    async def _denied(_r: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(PermissionError)
    async def _unauth(_r: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=401)

    @app.exception_handler(UploadRejected)
    async def _rejected(_r: Request, exc: UploadRejected) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @app.exception_handler(auth.HashingBusy)
    async def _busy(_r: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "2"})

    @app.exception_handler(OverflowError)
    async def _out_of_range(_r: Request, exc: Exception) -> JSONResponse:
        # An id past 64 bits (``/artists/<40 digits>``, ``?before=2**63``) cannot name a row; the
        # database driver refuses to bind it (OverflowError), which is a 404, not a server error.
        return JSONResponse({"detail": "not found (number out of range)"}, status_code=404)

    @app.exception_handler(PoolTimeout)
    async def _pool_dry(_r: Request, exc: Exception) -> JSONResponse:
        # Every pooled connection is taken (a flood): tell the client to come back rather than fail.
        return JSONResponse({"detail": "the server is busy; try again shortly"}, status_code=503,
                            headers={"Retry-After": "2"})

    @app.exception_handler(OperationalError)
    async def _db_busy(r: Request, exc: OperationalError) -> JSONResponse:
        if "locked" in str(exc.orig) or "busy" in str(exc.orig):  # SQLite's write lock held past its timeout
            return await _pool_dry(r, exc)
        log.error("database error on %s: %s", r.url.path, exc.orig)
        return JSONResponse({"detail": "database unavailable"}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(DataError)
    async def _bad_value(_r: Request, exc: DataError) -> JSONResponse:
        # PostgreSQL binds a huge id and then refuses it (SQLSTATE 22003, numeric out of range; ids are
        # 32-bit there): no row can have it, so 404. Other data errors are a value the client sent.
        if getattr(exc.orig, "sqlstate", None) == "22003":
            return JSONResponse({"detail": "not found (number out of range)"}, status_code=404)
        return JSONResponse({"detail": "invalid value"}, status_code=400)

    from .ui import CachedPagesFirst
    app.add_middleware(CachedPagesFirst)  # innermost: cached anonymous gallery pages before routing
    app.add_middleware(BodyLimit, limits=body_limits_for(max_upload_bytes, max_body_bytes, body_limits))
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(SecurityHeaders)  # outermost: a 413 from BodyLimit gets the headers too

    @app.get("/robots.txt", include_in_schema=False)
    def robots(s: Session = Depends(db_session, scope="function")) -> PlainTextResponse:
        allowed = platform.allowed_artist_ids(s)
        paths = [p for a in allowed for p in (f"/artists/{a}", f"/media/{a}/")]
        return PlainTextResponse(robots_txt(paths), headers={"Cache-Control": "public, max-age=300"})

    @app.get("/.well-known/tdmrep.json", include_in_schema=False)
    def tdmrep(s: Session = Depends(db_session, scope="function")) -> JSONResponse:
        allowed = platform.allowed_artist_ids(s)
        locs = [p for a in allowed for p in (f"/artists/{a}", f"/artists/{a}/*", f"/media/{a}/*")]
        policy = f"{base_url}/.well-known/tdm-policy.json"
        return JSONResponse(tdmrep_rules(locs, policy), headers={"Cache-Control": "public, max-age=300"})

    @app.get("/.well-known/tdm-policy.json", name="tdm_policy", include_in_schema=False)
    def tdm_policy() -> JSONResponse:
        return JSONResponse({"@context": ["http://www.w3.org/ns/odrl.jsonld"], "@type": "Offer",
                             "profile": "http://www.w3.org/ns/tdmrep",
                             "note": "Text and data mining and AI training are reserved unless an artist's "
                                     "published terms (/artists/{id}/terms) allow them. Contact the artist."},
                            headers=optout_headers(PLATFORM_DEFAULT))

    @app.get("/media/{artist_id}/{work_id}/{name}", include_in_schema=False)
    def media_file(request: Request, artist_id: int, work_id: int, name: str) -> Response:
        """A rendition under its versioned name: immutable, ETag / 304, and no database read when the
        file exists and the artist's opt-out is in the process cache. Unversioned ``thumb``/``display``
        (old links) and versions whose opt-out code is no longer the artist's redirect to the current one."""
        if name in ("thumb", "display"):
            return _redirect_to_current(artist_id, work_id, name)
        m = RENDITION_NAME.match(name)
        if m is None:
            raise HTTPException(404)
        sha, dmi, suffix = m.groups()
        opt = platform.artist_optout(artist_id)
        if opt.dmi != dmi:
            return _redirect_to_current(artist_id, work_id, suffix.split(".")[0])
        headers = {"Cache-Control": IMMUTABLE, "ETag": f'"{sha[:32]}-{dmi}-{suffix}"',
                   "X-Content-Type-Options": "nosniff", "Content-Disposition": "inline",
                   **optout_headers(opt, f"/artists/{artist_id}/terms")}
        path = platform.rendition_path(sha, artist_id, dmi, suffix)
        if not path.exists():  # first request for this version: check the work, then make it
            with platform.session() as s:
                media = s.get(Media, work_id)
                if media is None or media.artist_id != artist_id or media.sha256 != sha \
                        or platform.rendition_suffix(suffix.split(".")[0], media.format) != suffix:
                    raise HTTPException(404)
                path, _ctype = platform.rendition(s, media, suffix.split(".")[0])
        if _etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        return FileResponse(path, media_type=RENDITION_TYPES[path.suffix], headers=headers)

    def _redirect_to_current(artist_id: int, work_id: int, kind: str) -> Response:
        with platform.session() as s:
            media = s.get(Media, work_id)
            if media is None or media.artist_id != artist_id:
                raise HTTPException(404)
            url = platform.media_url(artist_id, work_id, media.sha256, media.format,
                                     platform.optout(s, artist_id).dmi, kind)
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    from .api_v1 import router as api_router
    from .ui import router as ui_router
    app.include_router(api_router)
    app.include_router(ui_router)
    install_error_pages(app)  # last: wraps every handler above (HTML pages for browsers, JSON for the API)
    return app


LOCAL_PUBLIC_URL = "http://127.0.0.1:8000"


def public_base_url(url: str) -> str:
    """``url`` checked and without its trailing slash: http(s), a host, no query or fragment."""
    from urllib.parse import urlsplit
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"public URL {url!r}: use http(s)://host[:port][/path], e.g. https://art.example.org")
    return parts.geturl().rstrip("/")


def rate_limits_from_env() -> RateLimits:
    raw = Settings.from_env().rate_limits
    try:
        return RateLimits(**json.loads(raw)) if raw else RateLimits()
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"ARTLINEAGE_RATE_LIMITS={raw!r}: {exc}") from None


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory`` / ``artlineage serve --workers N``: each worker process
    builds its app from ``ARTLINEAGE_DB``, ``ARTLINEAGE_MEDIA``, ``ARTLINEAGE_SECRET_KEY`` (must be
    shared, or a cookie signed by one worker is refused by the next), ``ARTLINEAGE_ANONYMOUS_RATE``
    (0: off), ``ARTLINEAGE_PIXELS`` (0: metadata only), ``ARTLINEAGE_INSPECT_PROCESSES`` and
    ``ARTLINEAGE_PUBLIC_URL`` and ``ARTLINEAGE_RATE_LIMITS`` (read by ``create_app``). The parent
    has run the migrations, so workers do not race to."""
    s = Settings.from_env()  # artlineage.settings: every ARTLINEAGE_* variable, validated
    return create_app(s.db, s.media, anonymous_rate_per_minute=s.anonymous_rate or None, pixels=s.pixels,
                      inspect_processes=s.inspect_processes, upgrade=s.upgrade, freeze_gc=True)


# ---------------------------------------------------------------- dependencies

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                 b"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
)


class SecurityHeaders(AddHeaders):
    """Adds the security headers a response does not set itself."""

    def headers_for(self, scope: Any) -> tuple[tuple[bytes, bytes], ...]:
        return SECURITY_HEADERS


def get_platform(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error. Used as
    ``Depends(db_session, scope="function")``, so the commit happens before the response is sent: a
    client that got 201 can read its write back, and a failed commit is an error, not a lost 201."""
    s = request.app.state.platform.session()
    try:
        yield s
        s.commit()
    except BaseException:
        s.rollback()
        raise
    finally:
        s.close()


def session_token(request: Request) -> str | None:
    return request.app.state.signer.unsign_session(request.cookies.get(auth.SESSION_COOKIE))


def current_user(request: Request, s: Session = Depends(db_session, scope="function")) -> User | None:
    """The user from an API key (``Authorization: Bearer alk_...``) or the session cookie; API
    requests are rate limited here (per key, or per client address without one)."""
    header = request.headers.get("authorization", "")
    is_api = request.url.path.startswith("/v1/")
    if header.lower().startswith("bearer "):
        found = auth.api_key_user(s, header[7:].strip())
        if found is None:
            raise HTTPException(401, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"})
        key, user = found
        _rate_limit(request, f"key:{key.id}", key.rate_per_minute)
        request.state.api_key = key
        request.state.via = "api_key"
        return user
    token = session_token(request)
    user = auth.session_user(s, token) if token else None
    request.state.via = "session" if user else None
    if is_api and user is not None:
        _rate_limit(request, f"user:{user.id}", request.app.state.rate_limits.session_per_minute)
    if is_api and user is None and request.app.state.anonymous_rate:
        _rate_limit(request, f"ip:{client_address(request)}", request.app.state.anonymous_rate)
    return user


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def throttle_account_form(request: Request, email: str | None = None) -> None:
    """Before any password is hashed: one attempt from this client address, and (sign-in) one at
    this account from anywhere, or 429. The account's bucket is keyed by the normalised e-mail whether
    or not it is registered, so a throttled answer says nothing about which e-mails exist."""
    limits: RateLimits = request.app.state.rate_limits
    _rate_limit(request, f"signin-ip:{client_address(request)}", limits.signin_per_address)
    if email is not None:
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        _rate_limit(request, f"signin-account:{digest}", limits.signin_per_account)


def limit_uploads(request: Request, user: User | None) -> None:
    """One upload (each runs the provenance reader) from this account, or signed out, this address."""
    bucket = f"upload-user:{user.id}" if user is not None else f"upload-ip:{client_address(request)}"
    _rate_limit(request, bucket, request.app.state.rate_limits.uploads_per_minute)


def mint_api_key(request: Request, s: Session, user: User, name: str, rate_per_minute: int) -> auth.NewApiKey:
    """A new key within the operator's ceilings (``RateLimits``): minting rate, keys per account, the
    highest key rate, and never faster than the key that asks for it."""
    limits: RateLimits = request.app.state.rate_limits
    _rate_limit(request, f"mint:{user.id}", limits.key_mints_per_minute)
    max_rate = limits.max_key_rate
    parent = getattr(request.state, "api_key", None)
    if parent is not None:
        max_rate = min(max_rate, parent.rate_per_minute)
    return auth.create_api_key(s, user, name, rate_per_minute, max_rate=max_rate,
                               max_keys=limits.max_keys_per_account)


def csrf_token_for(request: Request, csrf_cookie: str) -> str:
    """The CSRF token for forms on this request's page, bound to its session (see ``auth``)."""
    return request.app.state.signer.csrf_token(csrf_cookie, request.cookies.get(auth.SESSION_COOKIE))  # type: ignore[no-any-return]


def csrf_valid(request: Request, token: str | None) -> bool:
    return request.app.state.signer.csrf_ok(request.cookies.get(auth.CSRF_COOKIE), token,  # type: ignore[no-any-return]
                                            request.cookies.get(auth.SESSION_COOKIE))


def _rate_limit(request: Request, bucket: str, rate: int) -> None:
    decision = request.app.state.limiter.take(bucket, rate)
    record_decision(request.scope, decision)
    if not decision.allowed:
        raise HTTPException(429, "rate limit exceeded", headers=decision.headers())


def require_user(request: Request, user: User | None = Depends(current_user)) -> User:
    """A signed-in user for a write. Cookie-authenticated writes also need the CSRF header, since a
    browser attaches cookies to cross-site requests; API-key requests carry no ambient authority."""
    if user is None:
        raise HTTPException(401, "sign in or use an API key", headers={"WWW-Authenticate": "Bearer"})
    if getattr(request.state, "via", None) == "session" and request.method not in ("GET", "HEAD", "OPTIONS"):
        if not csrf_valid(request, request.headers.get("x-csrf-token")):
            raise HTTPException(403, "missing or invalid X-CSRF-Token header")
    return user


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)


__all__ = ["create_app", "app_from_env", "db_session", "current_user", "require_user", "get_platform", "ApiKey"]
