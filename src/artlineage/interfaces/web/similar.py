"""Find registered works an image is a copy of: the upload check and preview, the public "find my
work" page and ``/v1/consent``.

First the cheapest answer, a work whose file is byte-identical (sha256). Otherwise the crop, mirror
and rotation-robust ``CopyDetector`` of ``artlineage.matching.copies`` over the platform's copy index
(``copy_store``: a folder next to the platform database, brought up to date incrementally), with the
global pHash/PDQ matcher only for works that have no fingerprint (no readable image, or not yet
fingerprinted). Every hit carries its evidence (window and hash distance, then the verified transform:
inliers, scale, rotation, mirror, share of the work shown) and the same in plain words.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...registry.models import Artist, Work
from .copy_store import CopyIndexState, PlatformCopyIndex
from .models import Media

MAX_HITS = 12


@dataclass(frozen=True)
class SimilarWork:
    """A registered work an image is a copy of, why we think so, and why that matters."""

    work_id: int
    artist_id: int
    artist: str
    title: str
    verified: bool
    badge: str | None           # the registered work's badge (None: registry work without an upload)
    badge_source: str | None
    match: str                  # "identical" (same file, sha256) or "copy"
    method: str                 # "sha256", "orb+ransac", "window-hash" or "phash+pdq"
    score: float                # 0..1: 1 for the same file; inliers / (inliers + 12) when verified; else 1 - d/64
    distance: int               # pHash distance (of 64) of the nearest window of the work (0: same file)
    evidence: dict[str, Any]    # the detector's CopyEvidence (window, hash distance, inliers, scale, ...)
    explanation: str            # the evidence in plain words
    relation: str               # "own" (the uploader's own work), "other_artist", "known_ai"
    page: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SimilarSearch:
    """The hits, and what they were searched in (index size, method, a note when degraded)."""

    matches: list[SimilarWork] = field(default_factory=list)
    index: CopyIndexState | None = None     # None: identical file found (no search), or matching not installed
    error: str | None = None                # the image could not be read for matching

    def to_dict(self) -> dict[str, Any]:
        return {"matches": [m.to_dict() for m in self.matches],
                "index": self.index.to_dict() if self.index else None, "error": self.error}


_WINDOW_WORDS = {"full": "the whole picture", "square-start": "the square at its start (left or top)",
                 "square-centre": "its centre square", "square-end": "the square at its end (right or bottom)"}


def window_words(window: str) -> str:
    """``copies.WINDOWS`` names for people: ``0.85x0.72@0.0,1.0`` is "a part of 85 % x 72 % of it"."""
    base, _, rot = window.partition("@rot")
    if rot:
        return f"{_WINDOW_WORDS.get(base, base)} turned {rot.lstrip('+')}°"
    if window in _WINDOW_WORDS:
        return _WINDOW_WORDS[window]
    size = window.split("@")[0]
    try:
        fx, fy = (float(v) for v in size.split("x"))
    except ValueError:
        return window
    return f"a part of {fx:.0%} x {fy:.0%} of it"


def explain(method: str, ev: dict[str, Any]) -> str:
    """One sentence a person can check against the two pictures."""
    if method == "sha256":
        return "The very same file (identical bytes)."
    mirrored = " mirrored," if ev.get("mirrored") else ""
    if method == "orb+ransac":
        rot = ev.get("rotation_deg") or 0.0
        turned = f" turned {abs(rot):.0f}° {'clockwise' if rot < 0 else 'anticlockwise'}," if abs(rot) >= 1 else ""
        scale = ev.get("scale") or 1.0
        sized = f" at {scale:.2g}x its size," if not 0.9 <= scale <= 1.1 else ""
        return (f"{ev['inliers']} of {ev['matches']} matching details line up in one placement: it shows about "
                f"{ev['coverage']:.0%} of the work,{mirrored}{turned}{sized}").rstrip(",") + "."
    d = ev.get("hash_distance", 0)
    if method == "window-hash":
        return (f"Its picture hash differs in {d} of 64 bits from the hash of {window_words(ev.get('window', 'full'))} "
                f"of the work{',' + mirrored.rstrip(',') if mirrored else ''} (not checked point by point).")
    return f"The whole picture's hash differs in {d} of 64 bits from the work's (a global pHash/PDQ match)."


class SimilarMixin:
    media_dir: Path
    copies_dir: Path | None
    _similar: PlatformCopyIndex | None

    def copy_index(self) -> PlatformCopyIndex:
        """This process's copy index (opened on first use; see ``copy_store``)."""
        if self._similar is None:
            with self._lock:  # type: ignore[attr-defined]
                if self._similar is None:
                    self._similar = PlatformCopyIndex(Path(self.copies_dir or self.media_dir / "copies"),
                                                      self._work_image)
        return self._similar

    def prewarm_copy_index(self) -> CopyIndexState | None:
        """Open (or build the first ``MAX_PER_SYNC`` of) the copy index before the first request."""
        index = self.copy_index()
        try:
            with self.read_session() as s:  # type: ignore[attr-defined]
                index.sync(s, self.version())  # type: ignore[attr-defined]
        except ImportError:  # the matching part is optional
            return None
        return index.state()

    def _work_image(self, location: str | None, sha256: str | None, stored_name: str | None) -> Path | None:
        """The image of a work: the stored original of an upload, or a registry work's local file."""
        if stored_name and sha256:
            return self.media_dir / "originals" / sha256[:2] / stored_name
        if location and "://" not in location and not location.startswith("upload:"):
            path = Path(location)
            return path if path.is_file() else None
        return None

    def find_similar(self, s: Session, data: bytes, *, uploader_artist_id: int | None = None,
                     limit: int = MAX_HITS) -> SimilarSearch:
        """Registered works this image is a copy of, best first: the same file, else copies that are
        resized, recompressed, cropped, mirrored, rotated, re-coloured or overlaid."""
        sha = hashlib.sha256(data).hexdigest()
        same = list(s.scalars(select(Work.id).where(Work.sha256 == sha).order_by(Work.id).limit(limit)))
        if same:
            ev = {"method": "sha256", "sha256": sha}
            return SimilarSearch(self._describe(s, [(w, "identical", "sha256", 1.0, 0, ev) for w in same],
                                                uploader_artist_id))
        try:
            from ...errors import HashError
            index = self.copy_index()
            index.sync(s, self.version())  # type: ignore[attr-defined]
            detector = index.detector()
        except ImportError:  # the matching part is optional
            return SimilarSearch()
        state = index.state()
        try:
            found = detector.find_copies(data)
        except HashError as exc:
            return SimilarSearch([], state, f"the image could not be read for matching: {exc}")
        hits, seen = [], set()
        for m in found:
            if m.work_id in seen:  # a work can have two rows (re-added after a deletion)
                continue
            seen.add(m.work_id)
            ev = asdict(m.evidence)
            hits.append((m.work_id, "copy", m.evidence.method, m.score, m.distance, ev))
        return SimilarSearch(self._describe(s, hits[:limit * 2], uploader_artist_id)[:limit], state)

    def similar_works(self, s: Session, data: bytes, *, uploader_artist_id: int | None = None,
                      limit: int = MAX_HITS) -> list[SimilarWork]:
        return self.find_similar(s, data, uploader_artist_id=uploader_artist_id, limit=limit).matches

    def _describe(self, s: Session, hits: list[tuple[int, str, str, float, int, dict[str, Any]]],
                  uploader_artist_id: int | None) -> list[SimilarWork]:
        if not hits:
            return []
        rows = {r[0]: r for r in s.execute(
            select(Work.id, Work.artist_id, Work.title, Artist.name, Media.badge, Media.badge_source)
            .join(Artist, Artist.id == Work.artist_id).outerjoin(Media, Media.work_id == Work.id)
            .where(Work.id.in_([h[0] for h in hits])))}
        verified = self.verified_artist_ids(s)  # type: ignore[attr-defined]
        out = []
        for work_id, match, method, score, distance, ev in hits:
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
            out.append(SimilarWork(work_id, artist_id, name, title or "untitled", artist_id in verified, badge,
                                   source, match, method, round(float(score), 4), int(distance), ev,
                                   explain(method, ev), relation, f"/artists/{artist_id}/works/{work_id}"))
        return out
