"""The prompt guard over the registry (artists named in a prompt, with their style-imitation terms),
rebuilt after writes. Unverified artists who share a name with a verified artist are left out, so a
look-alike account cannot change what the real artist's name stands for."""

from __future__ import annotations

import threading
from typing import Any, Iterator

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ...registry import Registry, ResolvedTerms
from ...registry.models import Artist
from .identity import shadowed_artist_ids
from .models import ArtistProfile


class _RegistryView:
    """The three registry reads ``guard_entries_from_registry`` needs, on the platform's engine."""

    def __init__(self, engine: Engine):
        self.engine = engine
        with self._s() as s:
            verified = s.scalars(select(ArtistProfile.artist_id).where(ArtistProfile.verified_at.is_not(None))).all()
            self.hidden = shadowed_artist_ids(s, verified)

    def _s(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def all_artist_names(self) -> Iterator[tuple[int, str, str]]:
        with self._s() as s:
            yield from [row for row in Registry.in_session(s).all_artist_names() if row[0] not in self.hidden]

    def list_artists(self) -> list[Artist]:
        with self._s() as s:
            return [a for a in Registry.in_session(s).list_artists() if a.id not in self.hidden]

    def current_terms(self, artist_id: int) -> ResolvedTerms:
        with self._s() as s:
            return Registry.in_session(s).current_terms(artist_id)


class NamedArtistsMixin:
    engine: Engine
    _guard: tuple[Any, Any] | None
    _guard_lock: threading.Lock

    def prompt_guard(self) -> Any | None:
        try:
            from ...matching.match import guard_entries_from_registry
            from ...matching.prompt_guard import PromptGuard
        except ImportError:
            return None
        gen = self.version()  # type: ignore[attr-defined]
        guard = self._guard
        if guard is not None and guard[0] == gen:
            return guard[1]
        # One thread builds; the others (prompt checks run on the thread pool) wait for its guard
        # instead of each building their own from the whole registry.
        with self._guard_lock:
            gen = self.version()  # type: ignore[attr-defined]
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
