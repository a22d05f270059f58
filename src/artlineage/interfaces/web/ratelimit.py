"""Per-key (and per-address) rate limits that hold across worker processes.

A token bucket per key: ``rate`` tokens per minute, up to ``rate`` stored (the burst). The buckets
live in a table every worker sees, and one request costs one atomic upsert
(``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: refill by the time elapsed, take a token if
there is one), so two workers can never both spend the last token.

Why shared storage rather than dividing the configured rate by the worker count: an operator who sets
"120 per minute" for a key means 120 per minute, and a client on a keep-alive connection stays with
one worker, so a divided limit would give it 120/N; per-process buckets give N x 120 to a client that
spreads its requests. Where the buckets live:

* PostgreSQL: the platform database (``platform_rate_buckets``, migration p0002), so several hosts
  share them too; the limiter has its own small autocommit pool (one round trip per request, and a
  request holding a pooled connection can never wait on the pool for its limiter call).
* SQLite: a separate file next to the media folder (``ratelimits.sqlite``, ``synchronous=OFF``: a
  lost bucket after a crash is harmless), so rate-limit writes never take the platform database's
  write lock, which an upload holds while it is hashed and stored.

Measured cost per request (2-core dev box, one thread, 3000 calls): SQLite file ~55 us, PostgreSQL on
loopback ~160 us (one round trip). Building the statement per call had cost ~250 us more.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Float, bindparam, case, create_engine, delete, event
from sqlalchemy.engine import Engine

from ..._db import database_url
from ._asgi import AddHeaders
from .models import RateBucket

IDLE_SECONDS = 120.0  # a bucket untouched for a minute is full again; older rows are dropped
PRUNE_EVERY = 1000  # calls per process between prunes
_TABLE = RateBucket.__table__


def limiter_engine(platform_engine: Engine, media_dir: Path) -> Engine:
    """Where the buckets live (see the module docstring)."""
    if platform_engine.dialect.name == "sqlite":
        Path(media_dir).mkdir(parents=True, exist_ok=True)
        engine = create_engine(database_url(Path(media_dir) / "ratelimits.sqlite"), isolation_level="AUTOCOMMIT",
                               connect_args={"timeout": 10})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=OFF")
            cur.close()

        RateBucket.metadata.create_all(engine, tables=[_TABLE])
        return engine
    return create_engine(platform_engine.url, isolation_level="AUTOCOMMIT", pool_size=2, max_overflow=8)


def _take_token_statement(dialect: str) -> Any:
    """The upsert that refills a bucket by the time elapsed and takes a token if there is one; built
    once with bound parameters (building the expression per call cost more than running it)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    c = _TABLE.c
    now = bindparam("now", type_=Float)
    rate = bindparam("rate", type_=Float)
    per_second = bindparam("per_second", type_=Float)
    elapsed = case((c.updated_at < now, now - c.updated_at), else_=0.0)
    refilled = c.tokens + elapsed * per_second
    available = case((refilled > rate, rate), else_=refilled)
    return (insert(_TABLE).values(key=bindparam("key"), tokens=rate - 1.0, updated_at=now, allowed=True)
            .on_conflict_do_update(index_elements=[c.key], set_={
                "tokens": case((available >= 1.0, available - 1.0), else_=available),
                "allowed": available >= 1.0, "updated_at": now})
            .returning(c.tokens, c.allowed))


@dataclass(frozen=True)
class RateLimits:
    """The operator's ceilings (``artlineage serve`` options). Rates are per minute, token buckets with a
    burst of the same size, shared by the worker processes.

    * ``session_per_minute``: API calls made with a session cookie, per account.
    * ``uploads_per_minute``: ``POST /upload`` (check or save a file), per account or, signed out, per
      client address: each one runs the provenance reader.
    * ``signin_per_address`` / ``signin_per_account``: sign-in and sign-up attempts from one address;
      sign-in attempts at one account from anywhere. Checked before any password is hashed.
    * ``key_mints_per_minute``: new API keys per account.
    * ``max_key_rate``: the highest ``rate_per_minute`` a key may have; a key minting a key may not give
      it more than its own rate.
    * ``max_keys_per_account``: active (not revoked) keys per account.
    """
    session_per_minute: int = 600
    uploads_per_minute: int = 20
    signin_per_address: int = 20
    signin_per_account: int = 6
    key_mints_per_minute: int = 5
    max_key_rate: int = 6000
    max_keys_per_account: int = 20

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"rate limit {name} must be a whole number >= 1, not {value!r}")


@dataclass(frozen=True)
class RateDecision:
    """One bucket's answer, with what the ``RateLimit-*`` response headers say about it."""
    allowed: bool
    limit: int  # the bucket's size (= the rate per minute)
    remaining: int  # whole tokens left after this request
    retry_after: float  # seconds until a token is available (0 when allowed)
    reset: float  # seconds until the bucket is full again

    def headers(self) -> dict[str, str]:
        out = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
               "RateLimit-Reset": str(math.ceil(self.reset))}
        if not self.allowed:
            out["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return out


class SharedRateLimiter:
    """``take(key, rate_per_minute)`` -> ``RateDecision``; ``allow`` -> (allowed, seconds until a token)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._calls = itertools.count()
        self._stmt = _take_token_statement(engine.dialect.name)

    def allow(self, key: str, rate_per_minute: int, now: float | None = None) -> tuple[bool, float]:
        decision = self.take(key, rate_per_minute, now)
        return decision.allowed, decision.retry_after

    def take(self, key: str, rate_per_minute: int, now: float | None = None) -> RateDecision:
        now = time.time() if now is None else now  # wall clock: shared by the processes
        rate = float(rate_per_minute)
        per_second = rate / 60.0
        with self.engine.connect() as conn:
            tokens, allowed = conn.execute(self._stmt, {"key": key[:120], "now": now, "rate": rate,
                                                        "per_second": per_second}).one()
            if next(self._calls) % PRUNE_EVERY == PRUNE_EVERY - 1:
                conn.execute(delete(_TABLE).where(_TABLE.c.updated_at < now - IDLE_SECONDS))
        reset = max(0.0, (rate - tokens) / per_second)
        wait = 0.0 if allowed else (1.0 - tokens) / per_second
        return RateDecision(bool(allowed), int(rate), max(0, int(tokens)), wait, reset)

    def close(self) -> None:
        self.engine.dispose()


RATE_SCOPE_KEY = "artlineage.ratelimit"  # the request's tightest RateDecision, for RateLimitHeaders


def record_decision(scope: dict[str, Any], decision: RateDecision) -> None:
    """Keep the decision with the fewest tokens left of those a request went through."""
    previous = scope.get(RATE_SCOPE_KEY)
    if previous is None or not decision.allowed or (previous.allowed and decision.remaining <= previous.remaining):
        scope[RATE_SCOPE_KEY] = decision


class RateLimitHeaders(AddHeaders):
    """``RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (the IETF draft's fields, in seconds) on every
    response of a rate-limited request, and ``Retry-After`` on its 429."""

    def headers_for(self, scope: Any) -> list[tuple[bytes, bytes]]:
        decision = scope.get(RATE_SCOPE_KEY)
        if decision is None:
            return []
        return [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]
