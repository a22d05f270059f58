"""The platform's service layer, shared by the HTTP API and the web pages. ``Platform`` is assembled
from one part per job, each in its own module:

* ``db_hooks``: sessions whose commits invalidate the caches;
* ``caches``: the data version and the per-artist opt-out cache;
* ``permissions``: who may edit what;
* ``uploads``: checking, storing, editing and deleting works, previews' pending files, renditions;
* ``urls``: where renditions live and their versioned URLs;
* ``gallery``: the gallery query with its filters and paging;
* ``similar``: registered works an image is a copy of (previews, "find my work", ``/v1/consent``),
  searched in ``copy_store``, the copy index kept next to the database;
* ``named_artists``: the prompt guard over the registry;
* ``work_cards``: what a work page and ``/v1/works/{id}/card`` say;
* ``badges``, ``acceptability``, ``wording``, ``identity``: the policies (badge from evidence or
  declaration, the four criteria, plain words, verified artists).

Registry reads and writes go through ``Registry.in_session(session)`` with the request's session, so
an upload (registry work + platform media row) is one transaction.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..._db import make_engine
from ...registry import Registry
from ...registry.models import WorkInfluence
from .acceptability import acceptability
from .badges import DECLARED_AI_USES, DECLARED_BADGE, ORIGIN_BADGE, badge_for
from .caches import CachesMixin
from .db_hooks import PlatformSession
from .gallery import PAGE_SIZE, GalleryMixin
from .named_artists import NamedArtistsMixin
from .optout import OptOut
from .permissions import PermissionDenied, PermissionsMixin
from .similar import SimilarMixin, SimilarWork
from .uploads import TRAINING_DATA, UploadsMixin, verdict_report
from .urls import DISPLAY_EXT, RENDITION_NAME, RENDITION_TYPES, UrlsMixin
from .work_cards import WorkCardsMixin


@dataclass
class Platform(CachesMixin, PermissionsMixin, UploadsMixin, UrlsMixin, GalleryMixin, SimilarMixin,
               NamedArtistsMixin, WorkCardsMixin):
    engine: Engine
    media_dir: Path
    reserve_unknown: bool = True
    max_upload_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    pixels: bool = True  # run pixel readers (watermarks) on uploads
    # Identity checks may fetch private/loopback addresses (tests only: the artist's "website" runs on
    # 127.0.0.1); never for a public deployment.
    verify_allow_private: bool = False
    _generation: int = 0  # bumped on every write in this process
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _optout_cache: dict[int, tuple[Any, float, OptOut]] = field(default_factory=dict)
    _gallery_cache: dict[tuple[Any, ...], tuple[Any, float, Any]] = field(default_factory=dict)
    _memo: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = field(default_factory=OrderedDict)
    _verified_cache: tuple[Any, frozenset[int]] | None = None
    _artists_cache: tuple[Any, Any] | None = None
    # The copy index's folder (``copy_store``): next to a SQLite database, else ``<media_dir>/copies``.
    copies_dir: Path | None = None
    _similar: Any = None
    _guard: tuple[Any, Any] | None = None
    _guard_lock: threading.Lock = field(default_factory=threading.Lock)
    _sessions: Any = None
    # Verdicts run in a pool sized to the cores: threads by default (the pixel readers spend most of
    # their time in numpy/Pillow, which release the GIL part of the time), or, with
    # ``inspect_processes > 0``, that many worker processes (no GIL sharing with the event loop).
    inspect_processes: int = 0
    # Learned detectors (model-card paths), off by default: their results are a model's estimate,
    # worded and badged apart from evidence in the file (see artlineage.detectors).
    detector_cards: tuple[str, ...] = ()
    _executor: Executor | None = None
    _loop_engine: Engine | None = None
    _loop_reads: Any = None

    def __post_init__(self) -> None:
        self.media_dir = Path(self.media_dir)
        for sub in ("originals", "renditions"):
            (self.media_dir / sub).mkdir(parents=True, exist_ok=True)
        self._version_file = self.media_dir / "data-version"
        # Autocommit saves PostgreSQL a BEGIN and a ROLLBACK per read; SQLite's driver starts no
        # transaction for a SELECT anyway, and switching its isolation level on every checkout and back
        # cost ~70 us of a ~330 us gallery query (profiled).
        reads = self.engine if self.engine.dialect.name == "sqlite" else self.engine.execution_options(
            isolation_level="AUTOCOMMIT")
        self._read_sessions = sessionmaker(reads, expire_on_commit=False)
        self._sessions = sessionmaker(self.engine, class_=PlatformSession, expire_on_commit=False,
                                      info={"platform": self})

    def session(self) -> Session:
        return self._sessions()  # type: ignore[no-any-return]

    def loop_read_session(self) -> Session:
        """A read session for the event loop's own thread (SQLite page misses rendered inline, see
        ``ui.renders_inline``): its own pool of one connection, used by that thread only, so the loop
        never waits for a connection that request threads hold (the shared pool keeps 5 + 10, and
        Starlette runs up to 40 threads); a wait there would stall every request of the worker."""
        if self._loop_reads is None:
            engine = make_engine(self.engine.url.render_as_string(hide_password=False), foreign_keys=True,
                                 pool_size=1, max_overflow=0)
            self._loop_engine, self._loop_reads = engine, sessionmaker(engine, expire_on_commit=False)
        return self._loop_reads()  # type: ignore[no-any-return]

    def close(self) -> None:
        super().close()  # the verdict pool
        if self._loop_engine is not None:
            self._loop_engine.dispose()
            self._loop_engine = self._loop_reads = None

    def read_session(self) -> Session:
        """A session for reads only, in autocommit mode: on PostgreSQL each query is one round trip,
        without the BEGIN and ROLLBACK a transaction adds (a third of a cached-gallery miss)."""
        return self._read_sessions()  # type: ignore[no-any-return]


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


def artist_lineage_dict(s: Session, artist_id: int, depth: int = 2) -> dict[str, Any]:
    return Registry.in_session(s).lineage(artist_id, depth).to_dict()


__all__ = ["Platform", "PermissionDenied", "badge_for", "acceptability", "optional_parts", "artist_lineage_dict",
           "WorkInfluence", "verdict_report", "SimilarWork", "DECLARED_AI_USES", "DECLARED_BADGE", "ORIGIN_BADGE",
           "TRAINING_DATA", "PAGE_SIZE", "DISPLAY_EXT", "RENDITION_NAME", "RENDITION_TYPES"]
