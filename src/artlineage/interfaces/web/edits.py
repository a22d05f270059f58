"""Registry edits the platform needs that ``artlineage.registry`` does not offer (yet): updating an
artist's profile fields and a work's title. Kept here so the registry package stays untouched; they
reuse its validation helpers and normalisation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ...registry import store
from ...registry.models import Artist, Work, utcnow
from ...registry.names import clean_name, normalize_name

ARTIST_FIELDS = ("name", "sort_name", "links", "living", "birth_year", "death_year")


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
