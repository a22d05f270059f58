"""Accounts, sessions, CSRF tokens, API keys and per-key rate limits.

* Passwords: argon2id (argon2-cffi's ``PasswordHasher`` defaults), rehashed on sign-in when the
  parameters change.
* Sessions: a random token in an ``HttpOnly; SameSite=Lax`` cookie (``Secure`` on https), signed with
  itsdangerous so tampered cookies are rejected before any database read; the server keeps only the
  token's sha256 with an expiry, so signing out revokes it.
* CSRF: signed double-submit. A random ``al_csrf`` cookie (HttpOnly, SameSite=Strict) and, in every
  form, a token that is that value signed with the app secret; a POST is accepted only when the form
  field (or ``X-CSRF-Token`` header for cookie-authenticated API calls) verifies and equals the cookie.
* API keys: ``alk_<prefix>_<secret>``; the secret's sha256 is stored.
* Rate limits: a token bucket per API key (``rate_per_minute`` of the key, burst of the same size)
  and per client address for anonymous API calls, shared by all worker processes (``ratelimit``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .models import ApiKey, LoginSession, User, utcnow
from ...errors import AuthError  # noqa: F401  (re-exported: its old home)

SESSION_COOKIE = "al_session"
CSRF_COOKIE = "al_csrf"
SESSION_DAYS = 14
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
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


# ---------------------------------------------------------------- users

def create_user(session: Session, email: str, password: str, *, artist_id: int | None = None,
                is_admin: bool = False) -> User:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise AuthError("enter a valid e-mail address")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AuthError(f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AuthError("an account with this e-mail already exists")
    user = User(email=email, password_hash=password_hasher().hash(password), artist_id=artist_id,
                is_admin=is_admin)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    from argon2.exceptions import InvalidHashError, VerificationError

    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or len(password) > MAX_PASSWORD:
        password_hasher().hash("x" * MIN_PASSWORD)  # same work either way: no account enumeration by timing
        raise AuthError("wrong e-mail or password")
    try:
        password_hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AuthError("wrong e-mail or password") from None
    if password_hasher().check_needs_rehash(user.password_hash):
        user.password_hash = password_hasher().hash(password)
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

    def csrf_token(self, csrf_cookie: str) -> str:
        return self._csrf.dumps(csrf_cookie)

    def csrf_ok(self, csrf_cookie: str | None, token: str | None, max_age: int = 86400) -> bool:
        from itsdangerous import BadSignature
        if not csrf_cookie or not token or len(token) > 512:
            return False
        try:
            value = self._csrf.loads(token, max_age=max_age)
        except BadSignature:
            return False
        return isinstance(value, str) and hmac.compare_digest(value, csrf_cookie)


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(24)


# ---------------------------------------------------------------- API keys

@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    secret: str  # shown once


def create_api_key(session: Session, user: User, name: str = "", rate_per_minute: int = 120) -> NewApiKey:
    if not 1 <= rate_per_minute <= 100_000:
        raise AuthError("rate_per_minute must be between 1 and 100000")
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
