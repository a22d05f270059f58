"""Account life cycle beyond signing in (``auth``): one-time mail tokens (e-mail verification,
password reset), setting a new password, and deleting an account with everything it owns. (The
ceilings on API keys are the operator's ``RateLimits``, applied by ``app.mint_api_key``.)"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ...errors import PlatformError
from ...registry.models import Artist, Work
from . import auth
from .models import ApiKey, ArtistProfile, IdentityClaim, LoginSession, MailToken, User, WorkReport, utcnow

TOKEN_HOURS = {"reset": 2, "verify": 72}


class AccountError(PlatformError, ValueError):
    """A refused account action, with a message for the person."""


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(s: Session, user: User, purpose: str) -> str:
    """A fresh one-time token (only its sha256 is stored); earlier unused ones of that purpose go."""
    s.execute(delete(MailToken).where(MailToken.user_id == user.id, MailToken.purpose == purpose))
    token = secrets.token_urlsafe(32)
    s.add(MailToken(token_sha256=_sha(token), user_id=user.id, purpose=purpose,
                    expires_at=utcnow() + dt.timedelta(hours=TOKEN_HOURS[purpose]), used=False))
    s.flush()
    return token


def consume_token(s: Session, token: str, purpose: str) -> User | None:
    """The token's user, marking it used; None when unknown, used, expired or of another purpose."""
    if not token or len(token) > 200:
        return None
    row = s.get(MailToken, _sha(token))
    if row is None or row.used or row.purpose != purpose:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.timezone.utc)
    if expires < utcnow():
        return None
    row.used = True
    s.flush()
    return s.get(User, row.user_id)


def peek_token(s: Session, token: str, purpose: str) -> bool:
    row = s.get(MailToken, _sha(token)) if token and len(token) <= 200 else None
    if row is None or row.used or row.purpose != purpose:
        return False
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.timezone.utc)
    return expires >= utcnow()


def set_password(s: Session, user: User, password: str) -> None:
    """New password; every session of the account is signed out."""
    auth.check_password_policy(password, user.email)  # AuthError saying what to change
    user.password_hash = auth.hash_password(password)
    s.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    s.flush()


def delete_account(s: Session, platform, user: User) -> int:  # type: ignore[no-untyped-def]
    """Delete the account and its data: works (files' renditions too), terms, profile, claims, keys,
    sessions, tokens, and the artist record when no other account owns it. Returns works deleted."""
    artist_id = user.artist_id
    deleted = 0
    if artist_id is not None:
        for work_id in list(s.scalars(select(Work.id).where(Work.artist_id == artist_id))):
            platform.delete_work(s, user, work_id)
            deleted += 1
        s.execute(delete(IdentityClaim).where(IdentityClaim.artist_id == artist_id))
        s.execute(delete(ArtistProfile).where(ArtistProfile.artist_id == artist_id))
        others = s.scalar(select(func.count(User.id)).where(User.artist_id == artist_id, User.id != user.id))
        if not others:  # terms, names and influences go with it (ON DELETE CASCADE in the registry schema)
            s.execute(delete(Artist).where(Artist.id == artist_id))
    for model, column in ((ApiKey, ApiKey.user_id), (LoginSession, LoginSession.user_id),
                          (MailToken, MailToken.user_id), (IdentityClaim, IdentityClaim.user_id)):
        s.execute(delete(model).where(column == user.id))
    s.execute(WorkReport.__table__.update().where(WorkReport.reporter_user_id == user.id)
              .values(reporter_user_id=None))
    s.delete(user)
    s.flush()
    platform.changed()
    return deleted
