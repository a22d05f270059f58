"""The platform's service layer, shared by the HTTP API and the web pages: uploads, badges, the
gallery query, work cards with the acceptability criteria, opt-out lookups, and guarded access to
the optional parts (prompt guard, consent verdict, safe fetcher).

Registry reads and writes go through ``artlineage.registry.store`` with the request's session, so an
upload (registry work + platform media row) is one transaction.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import secrets
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import event, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..._files import write_bytes_atomic
from ..._inspect import FileReport, inspect_bytes
from ...registry import store
from ...registry.lineage import lineage as artist_lineage
from ...registry.lineage import work_lineage
from ...registry.models import Artist, Work, WorkInfluence
from .media import EXTENSIONS, CheckedImage, check_image, make_renditions
from .models import BADGES, Media, User
from .optout import OptOut, optout_for
from ...errors import PermissionDenied  # noqa: F401  (re-exported: its old home)

ORIGIN_BADGE = {"ai_generated": "ai", "ai_edited": "composite", "camera": "human", "human_declared": "human"}
DECLARED_BADGE = {"none": "human", "medium": "composite", "edited": "composite", "generated": "ai"}
DECLARED_AI_USES = tuple(DECLARED_BADGE)
TRAINING_DATA = ("own", "consented", "unknown", "n/a")
PAGE_SIZE = 24
DISPLAY_EXT = {"JPEG": "jpg", "WEBP": "webp"}  # other formats: PNG display copies
RENDITION_TYPES = {".webp": "image/webp", ".jpg": "image/jpeg", ".png": "image/png"}
# The file name part of a rendition URL: sha256 of the original, opt-out code, kind and extension.
RENDITION_NAME = re.compile(r"^([0-9a-f]{64})-(DMI-[A-Z]{1,20}(?:-[A-Z]{1,30})?)\.(thumb\.webp|display\.(?:jpg|png|webp))$")


def badge_for(origin: str, declared_ai_use: str) -> tuple[str, str]:
    """(badge, source). Evidence in the file decides; the artist's declaration is used only when the
    file says nothing (``unknown``/``algorithmic``), and never hides AI evidence."""
    from_file = ORIGIN_BADGE.get(origin)
    if from_file is not None:
        return from_file, "file"
    declared = DECLARED_BADGE.get(declared_ai_use)
    if declared is not None:
        return declared, "declared"
    return "unknown", "file"


# ---------------------------------------------------------------- optional parts (guarded imports)

def optional_parts() -> dict[str, bool]:
    """Which optional parts are installed; /v1/health reports it."""
    parts = {}
    for name, module in (("prompt_guard", "artlineage.matching.prompt_guard"),
                         ("consent_verdict", "artlineage.verdicts.consent"),
                         ("web_signals", "artlineage.signals.web"),
                         ("perceptual_hash", "artlineage.matching.hashing")):
        try:
            __import__(module)
            parts[name] = True
        except ImportError:
            parts[name] = False
    return parts


class _RegistryView:
    """The three registry reads ``guard_entries_from_registry`` needs, on the platform's engine."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def _s(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def all_artist_names(self) -> Iterator[tuple[int, str, str]]:
        with self._s() as s:
            yield from list(store.all_artist_names(s))

    def list_artists(self) -> list[Artist]:
        with self._s() as s:
            return store.list_artists(s)

    def current_terms(self, artist_id: int) -> store.ResolvedTerms:
        with self._s() as s:
            return store.current_terms(s, artist_id)


# ---------------------------------------------------------------- the platform object

class PlatformSession(Session):
    """Sessions of the platform: a commit that wrote anything bumps the platform's data version (see
    ``Platform.changed``), so every write path invalidates the caches, whether or not its handler
    remembers to, and only once the data is visible to other connections."""


def _mark_written(session: Session, *_args: Any) -> None:
    session.info["wrote"] = True


def _mark_bulk_write(state: Any) -> None:
    if not state.is_select:
        state.session.info["wrote"] = True


def _bump_after_commit(session: Session) -> None:
    if session.info.pop("wrote", False):
        platform = session.info.get("platform")
        if platform is not None:
            platform.changed()


def _forget_writes(session: Session, *_args: Any) -> None:
    session.info.pop("wrote", None)


event.listen(PlatformSession, "after_flush", _mark_written)
event.listen(PlatformSession, "do_orm_execute", _mark_bulk_write)
event.listen(PlatformSession, "after_commit", _bump_after_commit)
event.listen(PlatformSession, "after_rollback", _forget_writes)


@dataclass
class Platform:
    engine: Engine
    media_dir: Path
    reserve_unknown: bool = True
    max_upload_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    pixels: bool = True  # run pixel readers (watermarks) on uploads
    _generation: int = 0  # bumped on every write in this process
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _optout_cache: dict[int, tuple[Any, float, OptOut]] = field(default_factory=dict)
    _gallery_cache: dict[tuple[Any, ...], tuple[Any, float, Any]] = field(default_factory=dict)
    _guard: tuple[Any, Any] | None = None
    _guard_lock: threading.Lock = field(default_factory=threading.Lock)
    _sessions: Any = None
    # Verdicts run in a pool sized to the cores: threads by default (the pixel readers spend most of
    # their time in numpy/Pillow, which release the GIL part of the time), or, with
    # ``inspect_processes > 0``, that many worker processes (no GIL sharing with the event loop).
    inspect_processes: int = 0
    _executor: Executor | None = None

    def __post_init__(self) -> None:
        self.media_dir = Path(self.media_dir)
        for sub in ("originals", "renditions"):
            (self.media_dir / sub).mkdir(parents=True, exist_ok=True)
        self._version_file = self.media_dir / "data-version"
        self._read_sessions = sessionmaker(self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                                           expire_on_commit=False)
        self._sessions = sessionmaker(self.engine, class_=PlatformSession, expire_on_commit=False,
                                      info={"platform": self})

    # -- sessions and cache invalidation
    def session(self) -> Session:
        return self._sessions()  # type: ignore[no-any-return]

    def read_session(self) -> Session:
        """A session for reads only, in autocommit mode: on PostgreSQL each query is one round trip,
        without the BEGIN and ROLLBACK a transaction adds (a third of a cached-gallery miss)."""
        return self._read_sessions()  # type: ignore[no-any-return]

    def changed(self) -> None:
        """Invalidate every cache, in this process and in the other worker processes sharing
        ``media_dir``: they read the version file on each cached lookup (a few microseconds). A random
        token rather than a counter, so two processes writing at once cannot produce the same value."""
        with self._lock:
            self._generation += 1
            write_bytes_atomic(secrets.token_hex(8).encode(), self._version_file)

    def version(self) -> tuple[int, bytes]:
        """The data version caches are keyed on: this process's write counter plus the shared file."""
        try:
            shared = self._version_file.read_bytes()
        except OSError:
            shared = b""
        return self._generation, shared

    # -- permissions
    @staticmethod
    def can_edit_artist(user: User | None, artist_id: int) -> bool:
        return user is not None and (user.is_admin or user.artist_id == artist_id)

    def require_artist(self, user: User | None, artist_id: int) -> None:
        if user is None:
            raise PermissionError("sign in or use an API key")
        if not self.can_edit_artist(user, artist_id):
            raise PermissionDenied(f"you may edit only your own artist record (#{user.artist_id})")

    # -- opt-out per artist
    def optout(self, s: Session, artist_id: int, work_id: int | None = None, ttl: float = 30.0,
               version: Any = None) -> OptOut:
        if work_id is None:
            hit = self._cached_optout(artist_id, ttl, version)
            if hit is not None:
                return hit
        version = self.version()
        try:
            terms = store.current_terms(s, artist_id, work_id)
            scopes = {k: v.value for k, v in terms.scopes.items()}
        except store.RegistryError:
            scopes = {}
        result = optout_for(scopes, reserve_unknown=self.reserve_unknown)
        if work_id is None:
            self._optout_cache[artist_id] = (version, time.monotonic(), result)
        return result

    def _cached_optout(self, artist_id: int, ttl: float = 30.0, version: Any = None) -> OptOut | None:
        hit = self._optout_cache.get(artist_id)
        if hit and hit[0] == (version or self.version()) and time.monotonic() - hit[1] < ttl:
            return hit[2]
        return None

    def artist_optout(self, artist_id: int) -> OptOut:
        """The artist's opt-out from the per-process cache, opening a session only on a miss."""
        hit = self._cached_optout(artist_id)
        if hit is not None:
            return hit
        with self.session() as s:
            return self.optout(s, artist_id)

    def allowed_artist_ids(self, s: Session) -> list[int]:
        """Artists whose terms allow every AI use (for robots.txt / tdmrep.json allowances)."""
        ids = s.scalars(select(Artist.id).order_by(Artist.id).limit(10_000)).all()
        return [i for i in ids if not self.optout(s, i).reserved]

    # -- uploads
    def original_path(self, sha256: str, fmt: str) -> Path:
        return self.media_dir / "originals" / sha256[:2] / f"{sha256}.{EXTENSIONS[fmt].lower()}"

    def inspect_upload(self, data: bytes, name: str | None,
                       pixels: bool | None = None) -> tuple[CheckedImage, FileReport]:
        """Check and read an upload. ``pixels=False`` skips the pixel readers (watermarks) even when the
        platform runs them; ``pixels=True`` cannot switch them on where the platform turned them off."""
        checked = check_image(data, max_bytes=self.max_upload_bytes, max_pixels=self.max_pixels)
        return checked, inspect_bytes(data, name=name, pixels=self.pixels and pixels is not False)

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
            self.max_pixels)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def add_upload(self, s: Session, user: User | None, artist_id: int, data: bytes, *, filename: str | None,
                   title: str | None = None, declared_ai_use: str = "none", tools: str | None = None,
                   process: str | None = None, training_data: str = "unknown", prompt: str | None = None,
                   credits: list[Any] | None = None) -> tuple[Work, Media, FileReport]:
        self.require_artist(user, artist_id)
        if declared_ai_use not in DECLARED_AI_USES:
            raise store.RegistryError(f"declared_ai_use must be one of {list(DECLARED_AI_USES)}")
        if training_data not in TRAINING_DATA:
            raise store.RegistryError(f"training_data must be one of {list(TRAINING_DATA)}")
        checked, report = self.inspect_upload(data, filename)
        sha = report.sha256 or hashlib.sha256(data).hexdigest()
        path = self.original_path(sha, checked.format)
        if not path.exists():
            write_bytes_atomic(data, path)
        origin = report.origin.value
        verdict = report.verdict.to_dict() if report.verdict else None
        work = store.add_work(s, artist_id, title=(title or (Path(filename).stem if filename else sha[:12]))[:1024],
                              location=f"upload:{sha}", sha256=sha, origin=origin, verdict=verdict)
        media = s.get(Media, work.id)
        if media is None:
            gen = report.generation[0].to_dict() if report.generation else {}
            badge, source = badge_for(origin, declared_ai_use)
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
        self.changed()
        return work, media, report

    @staticmethod
    def _perceptual_hashes(s: Session, work_id: int, path: Path) -> None:
        try:  # the matching part is optional; a work without hashes is still a work
            from ...matching.hashing import hash_image_file  # type: ignore[attr-defined]
            result = hash_image_file(str(path))
            phash, pdq = (result.get("phash64"), result.get("pdq256")) if isinstance(result, dict) else result
            store.set_work_hashes(s, work_id, phash64=phash, pdq256=pdq)
        except Exception:  # noqa: BLE001 - missing part or undecodable: no hashes
            pass

    def delete_work(self, s: Session, user: User | None, work_id: int) -> None:
        work = store.get_work(s, work_id)
        self.require_artist(user, work.artist_id)
        media = s.get(Media, work_id)
        if media is not None:
            s.delete(media)
        s.delete(work)
        s.flush()
        if media is not None:
            self._drop_renditions(s, media.sha256, media.artist_id)
        self.changed()

    # -- served renditions (made lazily, named by content, artist and opt-out code)
    #
    # A rendition's bytes are fixed by the original's sha256, the artist and the opt-out code stamped in
    # its XMP, and its file is named by them; the URL carries the same name
    # (``/media/{artist}/{work}/{sha256}-{DMI code}.thumb.webp``), so it can be cached for a year: when the
    # artist's terms change, pages link a new URL. The ``/media/{artist}/`` prefix is kept for the
    # per-artist robots.txt and TDMRep rules.
    def rendition_path(self, sha256: str, artist_id: int, dmi: str, suffix: str) -> Path:
        """``suffix``: ``thumb.webp`` or ``display.{jpg,png,webp}``."""
        return self.media_dir / "renditions" / sha256[:2] / f"{sha256}-a{artist_id}-{dmi}.{suffix}"

    @staticmethod
    def rendition_suffix(kind: str, fmt: str) -> str:
        return "thumb.webp" if kind == "thumb" else f"display.{DISPLAY_EXT.get(fmt, 'png')}"

    @classmethod
    def media_url(cls, artist_id: int, work_id: int, sha256: str, fmt: str, dmi: str, kind: str) -> str:
        return f"/media/{artist_id}/{work_id}/{sha256}-{dmi}.{cls.rendition_suffix(kind, fmt)}"

    def rendition(self, s: Session, media: Media, kind: str) -> tuple[Path, str]:
        """(file, content type) of the display copy or thumbnail, stamped with the artist's current
        opt-out; made on first request, so terms changes take effect without a batch job."""
        opt = self.optout(s, media.artist_id)
        path = self.rendition_path(media.sha256, media.artist_id, opt.dmi, self.rendition_suffix(kind, media.format))
        if not path.exists():
            artist = s.get(Artist, media.artist_id)
            original = self.media_dir / "originals" / media.sha256[:2] / media.stored_name
            data = original.read_bytes()
            checked = CheckedImage(media.format, media.width, media.height)
            r = make_renditions(data, checked, opt, creator=artist.name if artist else None,
                                web_statement=f"/artists/{media.artist_id}/terms")
            write_bytes_atomic(r.thumb, self.rendition_path(media.sha256, media.artist_id, opt.dmi, "thumb.webp"))
            write_bytes_atomic(r.display, self.rendition_path(media.sha256, media.artist_id, opt.dmi,
                                                              self.rendition_suffix("display", media.format)))
        return path, RENDITION_TYPES[path.suffix]

    def _drop_renditions(self, s: Session, sha256: str, artist_id: int) -> None:
        """A deleted work's renditions go too (unless another work of the artist has the same file):
        their URLs are served without a database lookup."""
        if s.scalar(select(Media.work_id).where(Media.sha256 == sha256, Media.artist_id == artist_id).limit(1)):
            return
        for path in (self.media_dir / "renditions" / sha256[:2]).glob(f"{sha256}-a{artist_id}-*"):
            path.unlink(missing_ok=True)

    # -- gallery
    def gallery(self, s: Session, *, human_only: bool = False, q: str | None = None, before: int | None = None,
                artist_id: int | None = None, badge: str | None = None, limit: int = PAGE_SIZE,
                ttl: float = 2.0) -> list[dict[str, Any]]:
        """Newest first, keyset-paginated on work id (``before``), so every page is an index range scan."""
        q = (q or "").strip()[:200] or None
        if badge is not None and badge not in BADGES:
            badge = None
        key = (human_only, q, before, artist_id, badge, limit)
        version = self.version()
        hit = self._gallery_cache.get(key)
        if hit and hit[0] == version and time.monotonic() - hit[1] < ttl:
            return hit[2]  # type: ignore[no-any-return]
        stmt = (select(Media.work_id, Media.artist_id, Media.title, Media.badge, Media.badge_source,
                       Media.width, Media.height, Media.generator, Artist.name, Media.sha256, Media.format)
                .join(Artist, Artist.id == Media.artist_id))
        if human_only or badge:
            stmt = stmt.where(Media.badge == ("human" if human_only else badge))
        if artist_id is not None:
            stmt = stmt.where(Media.artist_id == artist_id)
        if before is not None:
            stmt = stmt.where(Media.work_id < before)
        if q:
            like = f"%{q.lower().replace('%', '').replace('_', '')}%"
            stmt = stmt.where(or_(func.lower(Media.title).like(like), Artist.normalized.like(like)))
        rows = s.execute(stmt.order_by(Media.work_id.desc()).limit(limit)).all()
        dmi = {a: self.optout(s, a, version=version).dmi for a in {r[1] for r in rows}}  # thumbnails carry the artist's opt-out
        items = [{"work_id": r[0], "artist_id": r[1], "title": r[2], "badge": r[3], "badge_source": r[4],
                  "width": r[5], "height": r[6], "generator": r[7], "artist": r[8],
                  "thumb": self.media_url(r[1], r[0], r[9], r[10], dmi[r[1]], "thumb"),
                  "page": f"/artists/{r[1]}/works/{r[0]}"} for r in rows]
        if len(self._gallery_cache) > 1000:
            self._gallery_cache.clear()
        self._gallery_cache[key] = (version, time.monotonic(), items)
        return items

    # -- prompt guard over the registry (rebuilt after writes)
    def prompt_guard(self) -> Any | None:
        try:
            from ...matching.match import guard_entries_from_registry
            from ...matching.prompt_guard import PromptGuard
        except ImportError:
            return None
        gen = self.version()
        guard = self._guard
        if guard is not None and guard[0] == gen:
            return guard[1]
        # One thread builds; the others (prompt checks run on the thread pool) wait for its guard
        # instead of each building their own from the whole registry.
        with self._guard_lock:
            gen = self.version()
            if self._guard is None or self._guard[0] != gen:
                self._guard = (gen, PromptGuard(guard_entries_from_registry(_RegistryView(self.engine))))
            return self._guard[1]

    def check_prompt(self, text: str) -> dict[str, Any] | None:
        guard = self.prompt_guard()
        if guard is None:
            return None
        from ...matching.prompt_guard import overall_decision
        matches = guard.check(text or "")
        return {"decision": overall_decision(matches), "matches": [m.to_dict() for m in matches]}

    # -- work card
    def work_card(self, s: Session, work_id: int) -> dict[str, Any]:
        work = store.get_work(s, work_id)
        artist = store.get_artist(s, work.artist_id)
        media = s.get(Media, work_id)
        terms = store.current_terms(s, artist.id, work.id)
        lin = work_lineage(s, work.id, depth=1)
        credited_works = [{"work_id": n.id, "title": n.name, "note": n.note} for n in lin.ancestors]
        credit_artists = self._credited_artists(s, media, [n.id for n in lin.ancestors])
        report = media.report if media else {"verdict": work.verdict, "generation": []}
        generation = report.get("generation") or []
        prompt = (media.prompt if media else None) or next((g.get("prompt") for g in generation if g.get("prompt")), None)
        named = self.check_prompt(prompt) if prompt else {"decision": "allow", "matches": []}
        verdict = report.get("verdict") or {}
        origin = {
            "badge": media.badge if media else ORIGIN_BADGE.get(work.origin or "", "unknown"),
            "badge_source": media.badge_source if media else "file",
            "origin": work.origin or "unknown", "confidence": verdict.get("confidence"),
            "generator": verdict.get("generator"), "explanation": verdict.get("explanation"),
            "conflicts": verdict.get("conflicts", []),
        }
        declared = {
            "ai_use": media.declared_ai_use if media else None, "tools": media.tools if media else None,
            "process": media.process if media else None, "training_data": media.training_data if media else None,
        }
        criteria = acceptability(origin, declared, named, credit_artists)
        artist_dmi = self.optout(s, artist.id).dmi  # renditions carry the artist's opt-out
        return {
            "work": work.to_dict(), "artist": {"id": artist.id, "name": artist.name},
            "origin": origin, "declared": declared, "tools": _tools(media, generation),
            "generation": generation, "prompt": prompt,
            "training_consent": terms.to_dict(),
            "opt_out": {"dmi": self.optout(s, artist.id, work.id).dmi,
                        "reason": self.optout(s, artist.id, work.id).reason},
            "influences": {"works": credited_works, "artists": credit_artists,
                           "descendants": [{"work_id": n.id, "title": n.name} for n in lin.descendants]},
            "named_artists": named,
            "criteria": criteria, "acceptable": all(c["met"] for c in criteria),
            "evidence": verdict.get("evidence", []), "warnings": report.get("warnings", []),
            "media": {"thumb": self.media_url(artist.id, work.id, media.sha256, media.format, artist_dmi, "thumb"),
                      "display": self.media_url(artist.id, work.id, media.sha256, media.format, artist_dmi, "display"),
                      "format": media.format if media else None, "width": media.width if media else None,
                      "height": media.height if media else None} if media else None,
        }

    @staticmethod
    def _credited_artists(s: Session, media: Media | None, influence_work_ids: list[int]) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for ref in (media.credits if media else []) or []:
            try:
                a = store.resolve_artist(s, int(ref) if str(ref).isdigit() else str(ref))
                out[str(a.id)] = {"artist_id": a.id, "name": a.name, "names": [a.name] + [n.name for n in a.names]}
            except store.RegistryError:
                out[f"name:{ref}"] = {"artist_id": None, "name": str(ref), "names": [str(ref)]}
        if influence_work_ids:
            rows = s.execute(select(Artist).join(Work, Work.artist_id == Artist.id)
                             .where(Work.id.in_(influence_work_ids))).scalars().all()
            for a in rows:
                out.setdefault(str(a.id), {"artist_id": a.id, "name": a.name,
                                           "names": [a.name] + [n.name for n in a.names]})
        return list(out.values())


def verdict_report(data: bytes, name: str | None, pixels: bool, max_bytes: int, max_pixels: int) -> dict[str, Any]:
    """Check an upload and read its provenance; a top-level function so a process pool can run it."""
    checked = check_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    out = inspect_bytes(data, name=name, pixels=pixels).to_dict()
    out["content_type"] = checked.content_type
    return out


def _tools(media: Media | None, generation: list[dict[str, Any]]) -> list[str]:
    tools = [t.strip() for t in (media.tools or "").split(",") if t.strip()] if media else []
    for g in generation:
        for key in ("tool", "model"):
            if g.get(key) and str(g[key]) not in tools:
                tools.append(str(g[key]))
    return tools


def acceptability(origin: dict[str, Any], declared: dict[str, Any], named: dict[str, Any] | None,
                  credited: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The four criteria, each with ``met`` and a reason a person can read."""
    file_ai = origin["badge"] in ("ai", "composite") and origin["badge_source"] == "file"
    declared_ai = (declared.get("ai_use") or "none") != "none"
    uses_ai = file_ai or declared_ai
    out = []
    # 1. consented or own data
    if not uses_ai:
        out.append(_crit("consented_or_own_data", True, "no generative model was used, as far as the file and "
                                                          "the artist say"))
    elif declared.get("training_data") in ("own", "consented"):
        out.append(_crit("consented_or_own_data", True,
                         f"the artist states the model was trained on {declared['training_data']} data"))
    else:
        out.append(_crit("consented_or_own_data", False, "AI was used but its training data is not stated to "
                                                          "be the artist's own or consented"))
    # 2. AI used as a medium
    if not uses_ai:
        out.append(_crit("ai_as_medium", True, "no AI use to assess"))
    elif (declared.get("process") or "").strip():
        out.append(_crit("ai_as_medium", True, "the artist describes their process: "
                         + declared["process"].strip()[:200]))
    else:
        out.append(_crit("ai_as_medium", False, "AI output without a statement of how the artist used it "
                                                "as a medium"))
    # 3. disclosed
    if file_ai and not declared_ai:
        out.append(_crit("disclosed", False, f"the file's metadata shows {origin['origin']} "
                         f"({origin.get('generator') or 'AI'}) but the upload declared no AI use"))
    elif declared_ai:
        agree = " and the file's metadata agrees" if file_ai else ""
        out.append(_crit("disclosed", True, f"AI use declared by the artist ({declared['ai_use']}){agree}"))
    else:
        out.append(_crit("disclosed", True, "no AI use found in the file or declared"))
    # 4. influences credited
    matches = [m for m in (named or {}).get("matches", []) if not m.get("ambiguous")]
    credited_ids = {c["artist_id"] for c in credited if c.get("artist_id") is not None}
    credited_names = {n.lower() for c in credited for n in c.get("names", [])}
    missing = [m["artist"] for m in matches
               if not ((m.get("artist_id") is not None and m["artist_id"] in credited_ids)
                       or m["artist"].lower() in credited_names)]
    blocked = [m["artist"] for m in matches if m.get("decision") == "block"]
    if blocked:
        out.append(_crit("influences_credited", False, "the prompt imitates artists whose terms do not allow "
                         "style imitation: " + ", ".join(sorted(set(blocked)))))
    elif missing:
        out.append(_crit("influences_credited", False, "artists named in the prompt but not credited: "
                         + ", ".join(sorted(set(missing)))))
    elif matches:
        out.append(_crit("influences_credited", True, "every artist named in the prompt is credited"))
    else:
        out.append(_crit("influences_credited", True, f"no artist named in the prompt; {len(credited)} "
                                                      "influence(s) credited"))
    return out


def _crit(name: str, met: bool, reason: str) -> dict[str, Any]:
    return {"criterion": name, "met": met, "reason": reason}


def _clip(text: Any, limit: int = 10_000) -> str | None:
    if text is None:
        return None
    text = str(text).strip()
    return text[:limit] or None


def _json_safe(value: Any) -> Any:
    import json
    return json.loads(json.dumps(value, default=str))


def artist_lineage_dict(s: Session, artist_id: int, depth: int = 2) -> dict[str, Any]:
    return artist_lineage(s, artist_id, depth).to_dict()


__all__ = ["Platform", "PermissionDenied", "badge_for", "acceptability", "optional_parts", "artist_lineage_dict",
           "WorkInfluence"]
