"""The platform's per-process caches and their invalidation: a data version (this process's write
counter plus a shared file every worker reads), and the per-artist opt-out cache keyed on it."""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..._files import write_bytes_atomic
from ..._lru import remember
from ...errors import RegistryError
from ...registry import Registry
from ...registry.models import Artist
from .optout import OptOut, optout_for


class CachesMixin:
    _lock: threading.Lock
    _generation: int
    _version_file: Path
    _optout_cache: dict[int, tuple[Any, float, OptOut]]
    _memo: OrderedDict[tuple[Any, ...], tuple[Any, Any]]
    reserve_unknown: bool
    memo_entries: int = 256

    def changed(self) -> None:
        """Invalidate every cache, in this process and in the other worker processes sharing
        ``media_dir``: they read the version file on each cached lookup (a few microseconds). A random
        token rather than a counter, so two processes writing at once cannot produce the same value."""
        with self._lock:
            self._generation += 1
            write_bytes_atomic(secrets.token_hex(8).encode(), self._version_file)

    def version(self) -> tuple[int, bytes]:
        """The data version caches are keyed on: this process's write counter plus the shared file."""
        # os.open/os.read rather than Path.read_bytes: this runs on every anonymous request (and a few
        # times per gallery miss); the buffered file object cost ~10 us a call against ~3 us here
        # (measured), and py-spy under wrk load showed the read at ~14% of a worker's samples.
        try:
            fd = os.open(self._version_file, os.O_RDONLY)
        except OSError:
            return self._generation, b""
        try:
            shared = os.read(fd, 64)  # the token is 16 hex characters
        except OSError:
            shared = b""
        finally:
            os.close(fd)
        return self._generation, shared

    def per_version(self, key: tuple[Any, ...], version: Any, make: Callable[[], Any]) -> Any:
        """``make()``, computed once per data version and ``key`` and kept (the ``memo_entries`` most
        recently used): what every page of one version shares, such as the gallery's filter form."""
        hit = self._memo.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = make()
        with self._lock:
            remember(self._memo, key, (version, value), self.memo_entries)
        return value

    # -- opt-out per artist
    def optout(self, s: Session, artist_id: int, work_id: int | None = None, ttl: float = 30.0,
               version: Any = None) -> OptOut:
        if work_id is None:
            hit = self._cached_optout(artist_id, ttl, version)
            if hit is not None:
                return hit
        version = self.version()
        try:
            terms = Registry.in_session(s).current_terms(artist_id, work_id)
            scopes = {k: v.value for k, v in terms.scopes.items()}
        except RegistryError:
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
        with self.session() as s:  # type: ignore[attr-defined]
            return self.optout(s, artist_id)

    def allowed_artist_ids(self, s: Session) -> list[int]:
        """Artists whose terms allow every AI use (for robots.txt / tdmrep.json allowances)."""
        ids = s.scalars(select(Artist.id).order_by(Artist.id).limit(10_000)).all()
        return [i for i in ids if not self.optout(s, i).reserved]
