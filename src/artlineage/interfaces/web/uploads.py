"""Uploads: checking and reading a file, storing the original by content, the registry work and its
media row (one transaction), edits and deletion, the pending files of previews, and the lazily made
renditions."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..._files import write_bytes_atomic
from ..._inspect import FileReport, inspect_bytes
from ...errors import RegistryError
from ...registry import Registry
from ...registry.models import Artist, Work
from .badges import DECLARED_AI_USES, badge_for, decided_by_of
from .media import CheckedImage, check_image, make_renditions
from .models import Media, User
from .urls import RENDITION_TYPES

TRAINING_DATA = ("own", "consented", "unknown", "n/a")
PENDING_TTL_S = 24 * 3600  # a preview's file is kept this long for its "Publish" button
WORK_FIELDS = ("title", "declared_ai_use", "tools", "process", "training_data", "prompt", "credits")


class UploadsMixin:
    media_dir: Path
    max_upload_bytes: int
    max_pixels: int
    pixels: bool
    inspect_processes: int
    _executor: Executor | None
    _lock: threading.Lock
    _similar: Any

    def inspect_upload(self, data: bytes, name: str | None,
                       pixels: bool | None = None) -> tuple[CheckedImage, FileReport]:
        """Check and read an upload. ``pixels=False`` skips the pixel readers (watermarks) even when the
        platform runs them; ``pixels=True`` cannot switch them on where the platform turned them off."""
        checked = check_image(data, max_bytes=self.max_upload_bytes, max_pixels=self.max_pixels)
        return checked, inspect_bytes(data, name=name, pixels=self.pixels and pixels is not False,
                                      detectors=platform_detectors(self.detector_cards))

    def executor(self) -> Executor:
        with self._lock:
            if self._executor is None:
                cores = os.cpu_count() or 1
                if self.inspect_processes > 0:
                    # spawn: forking a process that runs an event loop and threads is unsafe
                    self._executor = ProcessPoolExecutor(self.inspect_processes,
                                                         mp_context=multiprocessing.get_context("spawn"))
                else:
                    self._executor = ThreadPoolExecutor(cores, thread_name_prefix="artlineage-inspect")
            return self._executor

    async def verdict(self, data: bytes, name: str | None, pixels: bool = True) -> dict[str, Any]:
        """The /v1/verdict body for an upload, computed in the pool (see ``executor``)."""
        import asyncio
        return await asyncio.get_running_loop().run_in_executor(
            self.executor(), verdict_report, data, name, self.pixels and pixels, self.max_upload_bytes,
            self.max_pixels, self.detector_cards)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def add_upload(self, s: Session, user: User | None, artist_id: int, data: bytes, *, filename: str | None,
                   title: str | None = None, declared_ai_use: str = "not_stated", tools: str | None = None,
                   process: str | None = None, training_data: str = "unknown", prompt: str | None = None,
                   credits: list[Any] | None = None) -> tuple[Work, Media, FileReport]:
        self.require_artist(user, artist_id)  # type: ignore[attr-defined]
        check_declaration(declared_ai_use, training_data)
        checked, report = self.inspect_upload(data, filename)
        sha = report.sha256 or hashlib.sha256(data).hexdigest()
        path = self.original_path(sha, checked.format)  # type: ignore[attr-defined]
        if not path.exists():
            write_bytes_atomic(data, path)
        origin = report.origin.value
        verdict = report.verdict.to_dict() if report.verdict else None
        work = Registry.in_session(s).add_work(artist_id, title=(title or (Path(filename).stem if filename else sha[:12]))[:1024],
                              location=f"upload:{sha}", sha256=sha, origin=origin, verdict=verdict)
        media = s.get(Media, work.id)
        if media is None:
            gen = report.generation[0].to_dict() if report.generation else {}
            badge, source = badge_for(origin, declared_ai_use, _decided_by(report))
            media = Media(work_id=work.id, artist_id=artist_id, user_id=user.id if user else None,
                          title=work.title or "", sha256=sha, format=checked.format, width=checked.width,
                          height=checked.height, byte_size=len(data), stored_name=path.name, badge=badge,
                          badge_source=source, origin=origin,
                          confidence=report.verdict.confidence if report.verdict else 0.0,
                          generator=(report.verdict.generator if report.verdict else None),
                          report=_json_safe(report.to_dict()), declared_ai_use=declared_ai_use,
                          tools=_clip(tools), process=_clip(process), training_data=training_data,
                          prompt=_clip(prompt) or _clip(gen.get("prompt")), credits=list(credits or [])[:100])
            s.add(media)
            s.flush()
            self._perceptual_hashes(s, work.id, path)
        self.changed()  # type: ignore[attr-defined]
        return work, media, report

    def update_work(self, s: Session, user: User | None, work_id: int, changes: dict[str, Any]) -> Media | None:
        """Edit a work: title, or correct the declaration (AI use, tools, process, training data, prompt,
        credits). The badge is recomputed: a corrected declaration never hides evidence in the file."""
        work = Registry.in_session(s).get_work(work_id)
        self.require_artist(user, work.artist_id)  # type: ignore[attr-defined]
        unknown = set(changes) - set(WORK_FIELDS)
        if unknown:
            raise RegistryError(f"unknown work field(s) {sorted(unknown)}; use {list(WORK_FIELDS)}")
        if "title" in changes:
            Registry.in_session(s).update_work(work_id, title=changes.pop("title"))
        media = s.get(Media, work_id)
        if media is not None:
            check_declaration(changes.get("declared_ai_use", media.declared_ai_use),
                              changes.get("training_data", media.training_data))
            media.title = work.title or ""
            for key, value in changes.items():
                if key == "credits":
                    media.credits = [c for c in list(value or [])[:100]]
                elif key in ("tools", "process", "prompt"):
                    setattr(media, key, _clip(value))
                else:
                    setattr(media, key, value)
            media.badge, media.badge_source = badge_for(media.origin, media.declared_ai_use,
                                                        decided_by_of(media.report))
        s.flush()
        self.changed()  # type: ignore[attr-defined]
        return media

    @staticmethod
    def _perceptual_hashes(s: Session, work_id: int, path: Path) -> None:
        try:  # the matching part is optional; a work without hashes is still a work
            from ...matching.hashing import hash_image_file  # type: ignore[attr-defined]
            result = hash_image_file(str(path))
            phash, pdq = (result.get("phash64"), result.get("pdq256")) if isinstance(result, dict) else result
            Registry.in_session(s).set_work_hashes(work_id, phash64=phash, pdq256=pdq)
        except Exception:  # noqa: BLE001 - missing part or undecodable: no hashes
            pass

    def delete_work(self, s: Session, user: User | None, work_id: int) -> None:
        work = Registry.in_session(s).get_work(work_id)
        self.require_artist(user, work.artist_id)  # type: ignore[attr-defined]
        media = s.get(Media, work_id)
        if media is not None:
            s.delete(media)
        s.delete(work)
        s.flush()
        if self._similar is not None:  # the copy index drops it now (and tombstones it for other workers)
            self._similar.forget(work_id)
        if media is not None:
            self._drop_renditions(s, media.sha256, media.artist_id)
        self.changed()  # type: ignore[attr-defined]

    # -- previews: the file waits here between "Check" and "Publish"
    def _pending_dir(self, user: User) -> Path:
        return self.media_dir / "pending" / f"u{user.id}"

    def stash_pending(self, user: User, data: bytes) -> str:
        """Keep an upload being previewed; returns its token (the sha256). Files older than a day go."""
        folder = self._pending_dir(user)
        folder.mkdir(parents=True, exist_ok=True)
        now = time.time()
        for old in list(folder.iterdir())[:1000]:
            try:
                if now - old.stat().st_mtime > PENDING_TTL_S:
                    old.unlink(missing_ok=True)
            except OSError:
                pass
        token = hashlib.sha256(data).hexdigest()
        write_bytes_atomic(data, folder / token)
        return token

    def take_pending(self, user: User, token: str) -> bytes | None:
        """The previewed file of this user (None when unknown or expired); removed once published."""
        if len(token) != 64 or any(c not in "0123456789abcdef" for c in token):
            return None
        path = self._pending_dir(user) / token
        try:
            data = path.read_bytes()
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() == token else None

    def drop_pending(self, user: User, token: str) -> None:
        if len(token) == 64 and all(c in "0123456789abcdef" for c in token):
            (self._pending_dir(user) / token).unlink(missing_ok=True)

    # -- served renditions (made lazily, named by content, artist and opt-out code; see ``urls``)
    def rendition(self, s: Session, media: Media, kind: str) -> tuple[Path, str]:
        """(file, content type) of the display copy or thumbnail, stamped with the artist's current
        opt-out; made on first request, so terms changes take effect without a batch job."""
        opt = self.optout(s, media.artist_id)  # type: ignore[attr-defined]
        suffix = self.rendition_suffix(kind, media.format)  # type: ignore[attr-defined]
        path = self.rendition_path(media.sha256, media.artist_id, opt.dmi, suffix)  # type: ignore[attr-defined]
        if not path.exists():
            artist = s.get(Artist, media.artist_id)
            original = self.media_dir / "originals" / media.sha256[:2] / media.stored_name
            data = original.read_bytes()
            checked = CheckedImage(media.format, media.width, media.height)
            r = make_renditions(data, checked, opt, creator=artist.name if artist else None,
                                web_statement=f"/artists/{media.artist_id}/terms")
            write_bytes_atomic(r.thumb, self.rendition_path(  # type: ignore[attr-defined]
                media.sha256, media.artist_id, opt.dmi, "thumb.webp"))
            write_bytes_atomic(r.display, self.rendition_path(  # type: ignore[attr-defined]
                media.sha256, media.artist_id, opt.dmi, self.rendition_suffix("display", media.format)))  # type: ignore[attr-defined]
        return path, RENDITION_TYPES[path.suffix]

    def _drop_renditions(self, s: Session, sha256: str, artist_id: int) -> None:
        """A deleted work's renditions go too (unless another work of the artist has the same file):
        their URLs are served without a database lookup."""
        if s.scalar(select(Media.work_id).where(Media.sha256 == sha256, Media.artist_id == artist_id).limit(1)):
            return
        for path in (self.media_dir / "renditions" / sha256[:2]).glob(f"{sha256}-a{artist_id}-*"):
            path.unlink(missing_ok=True)


def check_declaration(declared_ai_use: str, training_data: str) -> None:
    if declared_ai_use not in DECLARED_AI_USES:
        raise RegistryError(f"declared_ai_use must be one of {list(DECLARED_AI_USES)}")
    if training_data not in TRAINING_DATA:
        raise RegistryError(f"training_data must be one of {list(TRAINING_DATA)}")


def platform_detectors(cards: tuple[str, ...]) -> tuple[Any, ...]:
    """The operator's detectors, loaded once per process (threads share them; each pool process loads
    its own). ``create_app`` loads them at start-up, so a bad model card stops the platform there."""
    if not cards:
        return ()
    from ...detectors import load_detectors

    return load_detectors(cards)


def verdict_report(data: bytes, name: str | None, pixels: bool, max_bytes: int, max_pixels: int,
                   detector_cards: tuple[str, ...] = ()) -> dict[str, Any]:
    """Check an upload and read its provenance; a top-level function so a process pool can run it."""
    checked = check_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    # Detectors are passed even when pixels are off: the report then says they were skipped (warnings),
    # as uploads do, rather than leaving them out silently.
    out = inspect_bytes(data, name=name, pixels=pixels, detectors=platform_detectors(detector_cards)).to_dict()
    out["content_type"] = checked.content_type
    return out


def _clip(text: Any, limit: int = 10_000) -> str | None:
    if text is None:
        return None
    text = str(text).strip()
    return text[:limit] or None


def _json_safe(value: Any) -> Any:
    import json
    return json.loads(json.dumps(value, default=str))


def _decided_by(report: FileReport) -> str:
    return report.verdict.decided_by if report.verdict else "none"
