"""Artist identity: an account proves it is the artist by placing a token on a web page the artist
controls (their website, a profile page); the platform fetches that page through the project's
SSRF-safe fetcher and looks for the token. Pages it cannot read (a social profile behind a login)
go to the operators' verification queue, where an admin decides. Verified artists are shown with a
mark; and where a verified and an unverified artist share a name (or a work), only the verified
artist's terms count (``trusted_terms``, ``trusted_artist_ids``).

Loopback and private addresses are refused unless the platform was created with
``verify_allow_private=True`` (tests run the artist's "website" on 127.0.0.1).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import NotFoundError, PlatformError
from ...registry.models import Artist
from .models import ArtistProfile, IdentityClaim, User, utcnow

TOKEN_PREFIX = "artlineage-verify="
MAX_PAGE_BYTES = 2 * 1024 * 1024


class IdentityError(PlatformError, ValueError):
    """A claim that cannot be made or checked (bad URL, not your artist record)."""


@dataclass(frozen=True)
class ClaimResult:
    claim_id: int
    status: str   # verified | failed | review
    detail: str


def profile(s: Session, artist_id: int) -> ArtistProfile:
    row = s.get(ArtistProfile, artist_id)
    if row is None:
        row = ArtistProfile(artist_id=artist_id)
        s.add(row)
        s.flush()
    return row


def is_verified(s: Session, artist_id: int) -> bool:
    row = s.get(ArtistProfile, artist_id)
    return row is not None and row.verified_at is not None


def open_claim(s: Session, user: User) -> IdentityClaim:
    """The account's open claim (pending, failed or in review), or a new one with a fresh token."""
    if user.artist_id is None:
        raise IdentityError("this account has no artist record to verify")
    claim = s.scalars(select(IdentityClaim).where(IdentityClaim.user_id == user.id,
                                                  IdentityClaim.status.in_(("pending", "failed", "review")))
                      .order_by(IdentityClaim.id.desc()).limit(1)).first()
    if claim is None:
        claim = IdentityClaim(artist_id=user.artist_id, user_id=user.id, url="",
                              token=secrets.token_urlsafe(18), status="pending")
        s.add(claim)
        s.flush()
    return claim


def claim_text(claim: IdentityClaim) -> str:
    """What the artist places on their page (text, an HTML comment or a meta tag all work)."""
    return f"{TOKEN_PREFIX}{claim.token}"


def check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2048:
        raise IdentityError("give the full address of a page you control, starting with https://")
    return url


async def fetch_page(url: str, *, allow_private: bool) -> tuple[str | None, str]:
    """(page text or None, what happened), through ``signals.web.SafeFetcher`` (bounded size and time,
    private and loopback addresses refused unless ``allow_private``)."""
    try:
        from ...signals.web import SafeFetcher
    except ImportError:
        return None, "the web-signals part is not installed: an operator will check the page"
    async with SafeFetcher(allow_private=allow_private, retries=0, timeout=10.0) as fetcher:
        result = await fetcher.fetch(url, max_bytes=MAX_PAGE_BYTES)
    if result.error:
        return None, f"could not read the page: {result.error}"
    if not result.ok:
        return None, f"the page answered HTTP {result.status}"
    return result.body.decode("utf-8", "replace"), "read"


def record_check(s: Session, claim: IdentityClaim, url: str, page: str | None, how: str) -> ClaimResult:
    """Decide a claim from the fetched page: the token found → the artist is verified; the page read
    but no token → failed (try again); the page unreadable → the operators' queue."""
    claim.url = url
    claim.checked_at = utcnow()
    if page is not None and claim_text(claim) in page:
        claim.status, claim.detail = "verified", f"token found on {url}"
        _mark_verified(s, claim.artist_id, url, "website token")
    elif page is not None:
        claim.status, claim.detail = "failed", f"the page was read but the text {claim_text(claim)} is not on it"
    else:
        claim.status, claim.detail = "review", f"{how}; waiting for an operator"
    s.flush()
    return ClaimResult(claim.id, claim.status, claim.detail or "")


def decide_claim(s: Session, admin: User, claim_id: int, approve: bool, note: str | None = None) -> IdentityClaim:
    """An operator's decision on a claim in the queue."""
    if not admin.is_admin:
        raise PermissionError("operators only")
    claim = s.get(IdentityClaim, claim_id)
    if claim is None:
        raise NotFoundError(f"no identity claim #{claim_id}")
    claim.status = "verified" if approve else "rejected"
    claim.detail = (note or ("approved by an operator" if approve else "rejected by an operator"))[:2000]
    claim.checked_at = utcnow()
    if approve:
        _mark_verified(s, claim.artist_id, claim.url or None, "operator")
    s.flush()
    return claim


def _mark_verified(s: Session, artist_id: int, url: str | None, how: str) -> None:
    row = profile(s, artist_id)
    row.verified_at, row.verified_url, row.verified_how = utcnow(), url, how


def claim_queue(s: Session, limit: int = 200) -> list[IdentityClaim]:
    return list(s.scalars(select(IdentityClaim).where(IdentityClaim.status == "review")
                          .order_by(IdentityClaim.id).limit(limit)))


# ---- only the verified artist's terms count where names or works collide

def shadowed_artist_ids(s: Session, verified: Iterable[int]) -> set[int]:
    """Unverified artists who share a (normalised) name with a verified artist: their terms and names
    are ignored wherever terms are looked up by name (the prompt guard)."""
    verified = set(verified)
    if not verified:
        return set()
    names = set(s.scalars(select(Artist.normalized).where(Artist.id.in_(verified))))
    if not names:
        return set()
    rows = s.scalars(select(Artist.id).where(Artist.normalized.in_(names)))
    return {i for i in rows if i not in verified}


def trusted_terms(entries: list[dict[str, Any]], verified: Iterable[int]) -> list[dict[str, Any]]:
    """Registry terms found for one file: when any comes from a verified artist, the unverified
    artists' terms are dropped, so a look-alike account cannot override the real artist's terms."""
    verified = set(verified)
    if any(e.get("artist_id") in verified for e in entries):
        return [e for e in entries if e.get("artist_id") in verified]
    return entries


def expires(days: int) -> dt.datetime:
    return utcnow() + dt.timedelta(days=days)
