"""Find registered works that look like an image: the upload preview's copy check, the public "find
my work" page and ``/v1/consent`` for files that are not byte-identical to a registered work.

Uses the perceptual ``WorkMatcher`` of ``artlineage.matching`` (pHash found through a Hamming index,
confirmed by PDQ). The index is built once per process and then extended with the works added since
(``WorkIndex.add``), so an upload does not rebuild it; deleted works drop out when their hits are
described (the description reads the database). When the crop/mirror-robust detector of
``artlineage.matching`` offers a ``find_copies``-style API, ``_matcher_hits`` is the one place to switch.
"""

from __future__ import annotations

import io
import threading
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...registry import Registry
from ...registry.models import Artist, Work
from .models import Media

MAX_HITS = 12


@dataclass(frozen=True)
class SimilarWork:
    """A registered work an image looks like, and why that matters."""

    work_id: int
    artist_id: int
    artist: str
    title: str
    verified: bool
    badge: str | None           # the registered work's badge (None: registry work without an upload)
    badge_source: str | None
    distance: int                # pHash Hamming distance (of 64 bits)
    pdq_distance: int | None     # PDQ Hamming distance (of 256 bits), when both sides have PDQ
    similarity: float            # 1 - normalised distance, for people (1.0: same picture)
    relation: str                # "own" (the uploader's own work), "other_artist", "known_ai"
    page: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Indexed:
    matcher: Any
    top_id: int


class SimilarMixin:
    _similar_lock: threading.Lock
    _similar: _Indexed | None

    def _matcher(self, s: Session) -> Any | None:
        try:
            from ...matching.match import RegisteredWork, WorkMatcher
            from ...matching.work_index import WorkIndex, WorkRows
        except ImportError:  # the matching part is optional
            return None
        with self._similar_lock:
            current = self._similar
            top = current.top_id if current is not None else 0
            rows = [(w.work_id, w.artist_id, w.phash64, w.pdq256) for w in Registry.in_session(s).works_with_hashes()
                    if w.work_id > top] if current is None else self._hashes_after(s, top)
            if current is None:
                index = WorkIndex(WorkRows.from_hashes(rows))
                matcher = WorkMatcher(index=index, describe=lambda wid: RegisteredWork(wid, None, "", None))
            else:
                matcher = current.matcher
                matcher.index.add(WorkRows.from_hashes(rows))
            top = max([top] + [r[0] for r in rows])
            self._similar = _Indexed(matcher, top)
            return matcher

    @staticmethod
    def _hashes_after(s: Session, top: int) -> list[tuple[int, int, int | None, Any]]:
        from ...registry.models import phash_from_db
        q = (select(Work.id, Work.artist_id, Work.phash64, Work.pdq256)
             .where(Work.id > top, Work.phash64.is_not(None)).order_by(Work.id).limit(100_000))
        return [(w, a, phash_from_db(p), d) for w, a, p, d in s.execute(q)]

    def _matcher_hits(self, s: Session, data: bytes) -> list[tuple[int, int, int | None]]:
        """(work id, pHash distance, PDQ distance) of registered works the image matches."""
        matcher = self._matcher(s)
        if matcher is None:
            return []
        from ...matching.hashing import HashError, hash_image_file, pdq_to_words
        try:
            phash, pdq = hash_image_file(io.BytesIO(data))  # type: ignore[arg-type]
        except HashError:
            return []
        return matcher.index.lookup(phash, pdq_to_words(pdq), 14, 0.48, 8)  # matching's default thresholds

    def similar_works(self, s: Session, data: bytes, *, uploader_artist_id: int | None = None,
                      limit: int = MAX_HITS) -> list[SimilarWork]:
        """Registered works this image is a copy of (resized, recompressed, re-coloured...), closest
        first, each with its artist, verification, badge and distance."""
        hits = sorted(self._matcher_hits(s, data), key=lambda h: (h[1] / 64 + (h[2] or 0) / 256, h[0]))[:limit * 2]
        if not hits:
            return []
        ids = [h[0] for h in hits]
        rows = {r[0]: r for r in s.execute(
            select(Work.id, Work.artist_id, Work.title, Artist.name, Media.badge, Media.badge_source)
            .join(Artist, Artist.id == Work.artist_id).outerjoin(Media, Media.work_id == Work.id)
            .where(Work.id.in_(ids)))}
        verified = self.verified_artist_ids(s)  # type: ignore[attr-defined]
        out = []
        for work_id, d, pd in hits:
            r = rows.get(work_id)
            if r is None:  # deleted since it was indexed
                continue
            _wid, artist_id, title, name, badge, source = r
            if uploader_artist_id is not None and artist_id == uploader_artist_id:
                relation = "own"
            elif badge in ("ai", "composite") and source == "file":
                relation = "known_ai"
            else:
                relation = "other_artist"
            combined = d / 64 + (pd / 256 if pd is not None else d / 64)
            out.append(SimilarWork(work_id, artist_id, name, title or "untitled", artist_id in verified, badge,
                                   source, d, pd, round(max(0.0, 1.0 - combined / 2), 3), relation,
                                   f"/artists/{artist_id}/works/{work_id}"))
        return out[:limit]
