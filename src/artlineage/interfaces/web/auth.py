"""Accounts, sessions, CSRF tokens, API keys and per-key rate limits.

* Passwords: argon2id (argon2-cffi's ``PasswordHasher`` defaults), rehashed on sign-in when the
  parameters change; at least ``MIN_PASSWORD`` characters besides surrounding spaces, ``MIN_DISTINCT``
  different ones, not the e-mail and not one of the most common passwords. Hashing runs through
  ``HASHING`` (a ``HashingGate``): at most half the cores at once (64 MiB and ~50 ms of a core each), a few more
  waiting, the rest refused at once (503), so a sign-in flood cannot take the thread pool, the cores
  or the memory the other pages need.
* Sessions: a random token in an ``HttpOnly; SameSite=Lax`` cookie (``Secure`` on https), signed with
  itsdangerous so tampered cookies are rejected before any database read; the server keeps only the
  token's sha256 with an expiry, so signing out revokes it.
* CSRF: signed double-submit bound to the session. A random ``al_csrf`` cookie (HttpOnly,
  SameSite=Strict) and, in every form, a token that signs that value together with a digest of the
  session cookie; a POST is accepted only when the form field (or ``X-CSRF-Token`` header for
  cookie-authenticated API calls) verifies, equals the cookie and was issued to the same session. A
  cookie pair planted by someone else (a sibling subdomain can set cookies) is therefore worthless
  for another account, and a page's token stops working when its session ends.
* API keys: ``alk_<prefix>_<secret>``; the secret's sha256 is stored.
* Rate limits: a token bucket per API key (``rate_per_minute`` of the key, burst of the same size)
  and per client address for anonymous API calls, shared by all worker processes (``ratelimit``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ...errors import AuthError, PlatformError
from .models import ApiKey, LoginSession, User, utcnow

_T = TypeVar("_T")


class EmailTaken(AuthError):
    """Sign-up with an address an account already uses. The sign-up page never shows this (it answers
    the same as for a new address and mails the owner instead); other callers (seed, scripts) see it."""


class HashingBusy(PlatformError):
    """More password hashes asked for at once than the gate admits: answer 503 and let the client retry."""


class HashingGate:
    """At most ``concurrency`` argon2 computations at once and ``queue`` more waiting (up to
    ``wait_seconds``); anything beyond is refused at once with ``HashingBusy``. Callers are request
    threads of the shared pool, so the bound on waiters is a bound on the pool threads a flood can hold."""

    def __init__(self, concurrency: int = 2, queue: int = 8, wait_seconds: float = 10.0):
        self.concurrency, self.queue, self.wait_seconds = concurrency, queue, wait_seconds
        self._running = threading.BoundedSemaphore(concurrency)
        self._admitted = threading.BoundedSemaphore(concurrency + queue)

    def run(self, fn: Callable[..., _T], *args: Any) -> _T:
        if not self._admitted.acquire(blocking=False):
            raise HashingBusy("too many sign-ins at once; try again in a moment")
        try:
            if not self._running.acquire(timeout=self.wait_seconds):
                raise HashingBusy("too many sign-ins at once; try again in a moment")
            try:
                return fn(*args)
            finally:
                self._running.release()
        finally:
            self._admitted.release()


# Half the cores at most (one on a 2-core box): a flood of sign-ins then leaves the other half to pages.
HASHING = HashingGate(concurrency=max(1, (os.cpu_count() or 2) // 2))

SESSION_COOKIE = "al_session"
CSRF_COOKIE = "al_csrf"
SESSION_DAYS = 14
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
MIN_DISTINCT = 5
# The most common passwords of ten or more characters (public breach-corpus top lists), lower-cased.
# A short list on purpose: length and variety rules do most of the work, this catches the obvious.
COMMON_PASSWORDS = frozenset({
    "1234567890", "0123456789", "12345678910", "123456789a", "1q2w3e4r5t", "1qaz2wsx3edc", "qwertyuiop",
    "qwerty1234", "qwerty12345", "qwerty123456", "password123", "password12", "password1234", "passw0rd123",
    "iloveyou123", "abcdefghij", "abc1234567", "abcd123456", "a1b2c3d4e5", "asdfghjkl1", "asdfghjkl;",
    "zxcvbnm123", "1234567890a", "0987654321", "9876543210", "1234554321", "1122334455", "1111122222",
    "letmein123", "welcome123", "changeme123", "administrator", "admin12345", "superman123", "football123",
    "baseball123", "monkey12345", "dragon12345", "sunshine123", "princess123", "trustno1234", "starwars123",
    "correcthorsebatterystaple", "correct horse battery staple", "password password", "artlineage123",
})
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")


_hasher = None


def password_hasher():  # type: ignore[no-untyped-def]
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher
        _hasher = PasswordHasher()
    return _hasher


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def hash_password(password: str) -> str:
    return HASHING.run(password_hasher().hash, password)


def check_password_policy(password: str, email: str = "") -> None:
    """``AuthError`` saying what to change when ``password`` is too weak to accept."""
    if len(password) > MAX_PASSWORD:
        raise AuthError(f"use at most {MAX_PASSWORD} characters")
    core = password.strip()
    if not core:
        raise AuthError("a password of only spaces is not a password")
    if len(core) < MIN_PASSWORD:
        raise AuthError(f"use at least {MIN_PASSWORD} characters (spaces at the ends do not count)")
    if len(set(core)) < MIN_DISTINCT:
        raise AuthError(f"use at least {MIN_DISTINCT} different characters")
    if core.lower() in COMMON_PASSWORDS:
        raise AuthError("this is one of the most common passwords; choose another")
    if email and core.lower() == email.strip().lower():
        raise AuthError("the password must not be your e-mail address")


# ---------------------------------------------------------------- users

def create_user(session: Session, email: str, password: str, *, artist_id: int | None = None,
                is_admin: bool = False) -> User:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise AuthError("enter a valid e-mail address")
    check_password_policy(password, email)
    password_hash = hash_password(password)  # before the lookup: a taken e-mail costs the same time
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken("an account with this e-mail already exists")
    user = User(email=email, password_hash=password_hash, artist_id=artist_id,
                is_admin=is_admin)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    from argon2.exceptions import InvalidHashError, VerificationError

    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or len(password) > MAX_PASSWORD:
        hash_password("x" * MIN_PASSWORD)  # same work either way: no account enumeration by timing
        raise AuthError("wrong e-mail or password")
    try:
        HASHING.run(password_hasher().verify, user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AuthError("wrong e-mail or password") from None
    if password_hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


# ---------------------------------------------------------------- sessions

def start_session(session: Session, user: User) -> str:
    """A new session token for ``user`` (sign it before putting it in a cookie)."""
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_sha256=_sha256(token), user_id=user.id,
                             expires_at=utcnow() + dt.timedelta(days=SESSION_DAYS)))
    session.flush()
    return token


def session_user(session: Session, token: str) -> User | None:
    row = session.get(LoginSession, _sha256(token))
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.timezone.utc)
    if expires < utcnow():
        session.delete(row)
        return None
    return session.get(User, row.user_id)


def end_session(session: Session, token: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.token_sha256 == _sha256(token)))


# ---------------------------------------------------------------- signing (cookies, CSRF)

class Signer:
    """itsdangerous signing of session cookies and CSRF tokens with the app secret."""

    def __init__(self, secret: str):
        from itsdangerous import URLSafeTimedSerializer
        self._session = URLSafeTimedSerializer(secret, salt="artlineage-session")
        self._csrf = URLSafeTimedSerializer(secret, salt="artlineage-csrf")

    def sign_session(self, token: str) -> str:
        return self._session.dumps(token)

    def unsign_session(self, cookie: str | None) -> str | None:
        from itsdangerous import BadSignature
        if not cookie or len(cookie) > 512:
            return None
        try:
            value = self._session.loads(cookie, max_age=SESSION_DAYS * 86400)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def csrf_token(self, csrf_cookie: str, session_cookie: str | None = None) -> str:
        """The form token for ``csrf_cookie`` in the session of ``session_cookie`` (None: signed out)."""
        return self._csrf.dumps([csrf_cookie, _session_binding(session_cookie)])

    def csrf_ok(self, csrf_cookie: str | None, token: str | None, session_cookie: str | None = None,
                max_age: int = 86400) -> bool:
        from itsdangerous import BadSignature
        if not csrf_cookie or not token or len(token) > 512:
            return False
        try:
            value = self._csrf.loads(token, max_age=max_age)
        except BadSignature:
            return False
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            return False
        return hmac.compare_digest(value[0], csrf_cookie) and \
            hmac.compare_digest(value[1], _session_binding(session_cookie))


def _session_binding(session_cookie: str | None) -> str:
    """What a CSRF token carries of the session: a digest, so the token never reveals the cookie."""
    return _sha256(f"csrf-session:{session_cookie or ''}")[:32]


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(24)


# ---------------------------------------------------------------- API keys

@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    secret: str  # shown once


def create_api_key(session: Session, user: User, name: str = "", rate_per_minute: int = 120, *,
                   max_rate: int = 100_000, max_keys: int | None = None) -> NewApiKey:
    """A new key for ``user``: ``rate_per_minute`` at most ``max_rate``, and at most ``max_keys`` keys
    not revoked on the account (the operator's ceilings; see ``ratelimit.RateLimits``)."""
    if not 1 <= rate_per_minute <= max_rate:
        raise AuthError(f"rate_per_minute must be between 1 and {max_rate}")
    if max_keys is not None:
        active = session.scalar(select(func.count()).select_from(ApiKey)
                                .where(ApiKey.user_id == user.id, ApiKey.revoked.is_(False)))
        if (active or 0) >= max_keys:
            raise AuthError(f"this account has {active} active API keys, the most allowed is {max_keys}; "
                            "revoke one first")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(prefix=prefix, secret_sha256=_sha256(secret), user_id=user.id, name=name[:200],
                 rate_per_minute=rate_per_minute)
    session.add(key)
    session.flush()
    return NewApiKey(key, f"alk_{prefix}_{secret}")


def api_key_user(session: Session, presented: str) -> tuple[ApiKey, User] | None:
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != "alk" or len(presented) > 200:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or key.revoked or not hmac.compare_digest(key.secret_sha256, _sha256(parts[2])):
        return None
    user = session.get(User, key.user_id)
    return (key, user) if user is not None else None


def list_api_keys(session: Session, user: User) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.id)))


def revoke_api_key(session: Session, user: User, key_id: int) -> ApiKey:
    """Mark one of ``user``'s keys revoked (admins: anyone's). Keys are looked up on every request, so
    the next request with it gets 401. ``LookupError`` for a key that is not the user's: the same
    answer as for a key that does not exist, so ids of other accounts' keys cannot be probed."""
    key = session.get(ApiKey, key_id)
    if key is None or not (user.is_admin or key.user_id == user.id):
        raise LookupError(f"no API key #{key_id} on this account")
    key.revoked = True
    session.flush()
    return key
