"""The gallery query: newest first, keyset-paginated on work id both ways, with the visitor's filters
(human-made only, evidence-backed only, one badge, one artist, a search), cached per data version."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from ...registry.models import Artist
from .models import BADGES, ArtistProfile, Media
from .wording import consent_marker

PAGE_SIZE = 24


_M, _A = Media.__table__.c, Artist.__table__.c


@lru_cache(maxsize=128)
def _gallery_statement(shape: tuple[bool, ...]) -> Any:
    """The gallery query for one combination of filters, built once, with bound parameters: building the
    select on every miss (columns, join, clauses) cost ~40% of the query's time (profiled). Table
    columns rather than ORM attributes: the session then runs it without the ORM's compile step."""
    badge, evidence_only, artist, before, after, search, ascending = shape
    stmt = (select(_M.work_id, _M.artist_id, _M.title, _M.badge, _M.badge_source, _M.width, _M.height,
                   _M.generator, _A.name, _M.sha256, _M.format)
            .join_from(Media.__table__, Artist.__table__, _A.id == _M.artist_id))
    if badge:
        stmt = stmt.where(_M.badge == bindparam("badge"))
    if evidence_only:
        stmt = stmt.where(_M.badge_source == "file")
    if artist:
        stmt = stmt.where(_M.artist_id == bindparam("artist_id"))
    if before:
        stmt = stmt.where(_M.work_id < bindparam("before"))
    if after:
        stmt = stmt.where(_M.work_id > bindparam("after"))
    if search:
        like = bindparam("like")
        stmt = stmt.where(or_(func.lower(_M.title).like(like), _A.normalized.like(like)))
    order = _M.work_id.asc() if ascending else _M.work_id.desc()
    return stmt.order_by(order).limit(bindparam("limit"))


class GalleryMixin:
    _gallery_cache: dict[tuple[Any, ...], tuple[Any, float, Any]]
    _verified_cache: tuple[Any, frozenset[int]] | None
    _artists_cache: tuple[Any, Any] | None

    def verified_artist_ids(self, s: Session, version: Any = None) -> frozenset[int]:
        """Artists whose identity the platform verified (a small set: cached per data version; pass the
        ``version`` the caller already read to save reading it again)."""
        version = self.version() if version is None else version  # type: ignore[attr-defined]
        hit = self._verified_cache
        if hit is not None and hit[0] == version:
            return hit[1]
        ids = frozenset(s.scalars(select(ArtistProfile.artist_id).where(ArtistProfile.verified_at.is_not(None))))
        self._verified_cache = (version, ids)
        return ids

    def gallery_artists(self, s: Session, limit: int = 100, version: Any = None) -> list[Any]:
        """Artists for the gallery's artist filter: the ``limit`` most recently active (cached per version)."""
        version = self.version() if version is None else version  # type: ignore[attr-defined]
        hit = self._artists_cache  # apart from the page cache, which is cleared when it grows
        if hit and hit[0] == (version, limit):
            return hit[1]  # type: ignore[no-any-return]
        recent = (select(Media.artist_id, func.max(Media.work_id).label("last")).group_by(Media.artist_id)
                  .order_by(func.max(Media.work_id).desc()).limit(limit).subquery())
        rows = s.execute(select(Artist.id, Artist.name).join(recent, recent.c.artist_id == Artist.id)
                         .order_by(Artist.normalized)).all()
        self._artists_cache = ((version, limit), rows)
        return rows

    def gallery(self, s: Session, *, human_only: bool = False, evidence_only: bool = False, q: str | None = None,
                before: int | None = None, after: int | None = None, artist_id: int | None = None,
                badge: str | None = None, limit: int = PAGE_SIZE, ttl: float = 2.0,
                version: Any = None, keep: bool = True) -> list[dict[str, Any]]:
        """Newest first. ``before``: works older than that id (next page); ``after``: works newer than
        that id (previous page, still returned newest first). Every page is an index range scan on
        (badge[, badge_source], work_id) or (badge_source, work_id) or (artist_id, work_id). ``version``:
        the data version the caller already read (one read per request instead of one per cache).
        ``keep=False``: the caller keeps what it makes of the rows (the rendered page), so they are not
        kept here as well (fewer long-lived objects for the garbage collector to walk)."""
        q = (q or "").strip()[:200] or None
        if badge is not None and badge not in BADGES:
            badge = None
        if human_only:
            badge = "human"
        key = (evidence_only, q, before, after, artist_id, badge, limit)
        version = self.version() if version is None else version  # type: ignore[attr-defined]
        hit = self._gallery_cache.get(key)
        if hit and hit[0] == version and time.monotonic() - hit[1] < ttl:
            return hit[2]  # type: ignore[no-any-return]
        ascending = after is not None and before is None
        shape = (badge is not None, evidence_only, artist_id is not None, before is not None, after is not None,
                 q is not None, ascending)
        params: dict[str, Any] = {"badge": badge, "artist_id": artist_id, "before": before, "after": after,
                                  "limit": limit}
        if q:
            params["like"] = f"%{q.lower().replace('%', '').replace('_', '')}%"
        rows = s.execute(_gallery_statement(shape), params).all()
        if ascending:
            rows = rows[::-1]  # fetched oldest first, to take the page just above ``after``
        verified = self.verified_artist_ids(s, version)
        opts = {a: self.optout(s, a, version=version) for a in {r[1] for r in rows}}  # type: ignore[attr-defined]
        items = []
        for r in rows:
            opt = opts[r[1]]
            marker, marker_label = consent_marker(opt)
            items.append({"work_id": r[0], "artist_id": r[1], "title": r[2], "badge": r[3], "badge_source": r[4],
                          "width": r[5], "height": r[6], "generator": r[7], "artist": r[8],
                          "verified": r[1] in verified, "consent": marker, "consent_label": marker_label,
                          # thumbnails carry the artist's opt-out
                          "thumb": self.media_url(r[1], r[0], r[9], r[10], opt.dmi, "thumb"),  # type: ignore[attr-defined]
                          "page": f"/artists/{r[1]}/works/{r[0]}"})
        if not keep:
            return items
        if len(self._gallery_cache) > 1000:
            self._gallery_cache.clear()
        self._gallery_cache[key] = (version, time.monotonic(), items)
        return items
