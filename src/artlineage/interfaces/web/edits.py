"""The platform's rules around registry edits: plausible start dates for terms, the grace period for
withdrawing a mistaken entry. The edits themselves are ``Registry`` methods, called through
``Registry.in_session`` with the request's session."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ...errors import TermsConflict as TermsConflict  # answered 409 by the API
from ...registry import Registry
from ...registry.models import ConsentTerms

# Plausible start dates for terms stated on the platform. Terms may start in the future (an artist
# announcing a change), but not by more than a year: new terms can never start before the latest
# recorded ones, so a typo like 2205 for 2025 would otherwise lock the artist's terms for good.
TERMS_EARLIEST = dt.date(1970, 1, 1)
TERMS_MAX_DAYS_AHEAD = 366
# The latest entry can be withdrawn while it is not yet in force, or within this long of stating it
# (a mistake noticed at once); after that it is part of the record and new terms supersede it.
WITHDRAW_WITHIN = dt.timedelta(days=1)


def check_terms_start(day: dt.date, today: dt.date | None = None) -> dt.date:
    """``day`` if it is a plausible start for new terms, else ``ValueError`` saying the allowed range."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    latest = today + dt.timedelta(days=TERMS_MAX_DAYS_AHEAD)
    if not TERMS_EARLIEST <= day <= latest:
        raise ValueError(f"terms must start between {TERMS_EARLIEST} and {latest} (a year from today), not {day}")
    return day


def withdraw_terms(s: Session, artist_id: int, work_id: int | None, terms_id: int,
                   now: dt.datetime | None = None) -> ConsentTerms:
    """Withdraw a mistaken latest terms entry (the registry's rule, with the platform's grace period)."""
    return Registry.in_session(s).withdraw_terms(artist_id, terms_id, work_id, now=now, grace=WITHDRAW_WITHIN)

