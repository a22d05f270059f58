"""Registry edits the platform needs that ``artlineage.registry`` does not offer (yet): updating an
artist's profile fields and a work's title. Kept here so the registry package stays untouched; they
reuse its validation helpers and normalisation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import PlatformError
from ...registry import store
from ...registry.models import Artist, ConsentTerms, Work, utcnow
from ...registry.names import clean_name, normalize_name

ARTIST_FIELDS = ("name", "sort_name", "links", "living", "birth_year", "death_year")
# Plausible start dates for terms stated on the platform. Terms may start in the future (an artist
# announcing a change), but not by more than a year: new terms can never start before the latest
# recorded ones, so a typo like 2205 for 2025 would otherwise lock the artist's terms for good.
TERMS_EARLIEST = dt.date(1970, 1, 1)
TERMS_MAX_DAYS_AHEAD = 366
# The latest entry can be withdrawn while it is not yet in force, or within this long of stating it
# (a mistake noticed at once); after that it is part of the record and new terms supersede it.
WITHDRAW_WITHIN = dt.timedelta(days=1)


class TermsConflict(PlatformError):
    """A terms entry that cannot be withdrawn (not the latest, or long in force); answer 409."""


def check_terms_start(day: dt.date, today: dt.date | None = None) -> dt.date:
    """``day`` if it is a plausible start for new terms, else ``ValueError`` saying the allowed range."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    latest = today + dt.timedelta(days=TERMS_MAX_DAYS_AHEAD)
    if not TERMS_EARLIEST <= day <= latest:
        raise ValueError(f"terms must start between {TERMS_EARLIEST} and {latest} (a year from today), not {day}")
    return day


def withdraw_terms(s: Session, artist_id: int, work_id: int | None, terms_id: int,
                   now: dt.datetime | None = None) -> ConsentTerms:
    """Delete the latest terms entry of an artist (or of one of their works) and reopen the one it
    closed, so a mistaken entry (a wrong date, a wrong choice) can be corrected. Only the latest entry,
    and only while it is not yet in force or within ``WITHDRAW_WITHIN`` of being stated: terms that
    have been public for longer are evidence, and new terms supersede them instead."""
    now = now or dt.datetime.now(dt.timezone.utc)
    row = s.get(ConsentTerms, terms_id)
    if row is None or row.artist_id != artist_id or row.work_id != work_id:
        raise store.NotFoundError(f"no terms entry #{terms_id} here")
    level = (ConsentTerms.artist_id == artist_id,
             ConsentTerms.work_id.is_(None) if work_id is None else ConsentTerms.work_id == work_id)
    newest = s.scalar(select(ConsentTerms.id).where(*level).order_by(ConsentTerms.id.desc()).limit(1))
    if newest != row.id or row.valid_to is not None:
        raise TermsConflict(f"terms entry #{terms_id} is not the latest; only the latest can be withdrawn")
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.timezone.utc)
    if row.valid_from <= now.date() and now - created > WITHDRAW_WITHIN:
        raise TermsConflict(f"terms entry #{terms_id} has been in force since {row.valid_from}; "
                            "state new terms to change it")
    previous = s.scalar(select(ConsentTerms).where(*level, ConsentTerms.id < row.id,
                                                   ConsentTerms.valid_to == row.valid_from)
                        .order_by(ConsentTerms.id.desc()).limit(1))
    if previous is not None:
        previous.valid_to = None
    s.delete(row)
    s.flush()
    return row


def update_artist(s: Session, artist_id: int, changes: dict[str, Any]) -> Artist:
    a = store.get_artist(s, artist_id)
    unknown = set(changes) - set(ARTIST_FIELDS)
    if unknown:
        raise store.RegistryError(f"unknown artist field(s) {sorted(unknown)}; use {list(ARTIST_FIELDS)}")
    if "name" in changes:
        try:
            a.name = clean_name(changes["name"])
        except ValueError as exc:
            raise store.RegistryError(str(exc)) from None
        a.normalized = normalize_name(a.name)
    if "sort_name" in changes:
        a.sort_name = store._bounded(changes["sort_name"], "sort name", 512)
    if "links" in changes:
        links = [str(x) for x in (changes["links"] or [])]
        if len(links) > store.MAX_LINKS or any(len(x) > store.MAX_TEXT for x in links):
            raise store.RegistryError(f"at most {store.MAX_LINKS} links of {store.MAX_TEXT} characters")
        a.links = links
    if "living" in changes:
        a.living = None if changes["living"] is None else bool(changes["living"])
    for key in ("birth_year", "death_year"):
        if key in changes:
            setattr(a, key, store._year(changes[key], key.replace("_", " ")))
    a.updated_at = utcnow()
    s.flush()
    return a


def update_work_title(s: Session, work_id: int, title: str | None) -> Work:
    w = store.get_work(s, work_id)
    w.title = store._bounded(title, "title", 1024)
    s.flush()
    return w
