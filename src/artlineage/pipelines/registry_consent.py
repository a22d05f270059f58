"""The artists' registry as a consent source for ``artlineage filter --registry REG.sqlite``.

A row matches a registered Work when its URL equals the work's ``location`` or its sha256 (a
``sha256`` column, or the bytes of a folder manifest's file) equals the work's, or when its *image*
is a copy of the work (``CopyDetector``: resized, recompressed, cropped, mirrored, rotated,
bordered, recoloured or overlaid copies) — for local files and WebDataset members always, for web
rows when the filter downloads the image (``--in-file``: the fetcher hands the bytes to
:meth:`RegistryConsent.note_image`); a row matches an artist when its artist column names a
registered artist or alias. Each match contributes that
work's (or artist's) *current* terms, which :func:`decide_consent` reads as registry evidence:
``not_allowed`` for ``ai_training`` reserves training.

:class:`RegistryConsent` is the ``FilterConfig.registry_terms`` hook. It pickles into worker
processes as just the registry location and opens the registry lazily there; lookups are memoised
(works are indexed once per process, terms once per artist/work).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Mapping

from .._lru import remember
from ..registry import AmbiguousArtistError, Registry
from ..vocabulary import REGISTRY_SCOPE_OF_USE

TERMS_SCOPES = tuple(REGISTRY_SCOPE_OF_USE.values())  # the registry scopes consent verdicts read


class RegistryConsent:
    def __init__(self, db: str | Path, *, url_col: str = "url", sha256_col: str = "sha256",
                 artist_col: str | None = "artist", hash_local_files: bool = True, match_images: bool = True,
                 max_image_bytes: int = 32 * 1024 * 1024) -> None:
        self.db = str(db)
        self.url_col = url_col
        self.sha256_col = sha256_col
        self.artist_col = artist_col
        self.hash_local_files = hash_local_files
        self.match_images = match_images
        self.max_image_bytes = max_image_bytes
        with Registry(self.db) as reg:  # migrate (or fail on a bad path) once, here, not in every worker
            if match_images:            # and fingerprint new works once, so workers only load the index
                from ..matching import copy_index
                if copy_index.default_dir(reg) is not None:
                    copy_index.update(reg)
        self._state: dict[str, Any] | None = None
        self._lock = threading.RLock()   # the filter notes web images from worker threads

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_state", "_lock")} | {"_state": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # ------------------------------------------------------------ lazy per-process index
    def _load(self) -> dict[str, Any]:
        if self._state is not None:
            return self._state
        with self._lock:
            return self._load_locked()

    def _load_locked(self) -> dict[str, Any]:
        if self._state is None:
            reg = Registry(self.db, upgrade=False)
            by_location: dict[str, list[tuple[int, int]]] = {}
            by_sha: dict[str, list[tuple[int, int]]] = {}
            for w in reg.list_works():
                if w.location:
                    by_location.setdefault(w.location, []).append((w.artist_id, w.id))
                if w.sha256:
                    by_sha.setdefault(w.sha256.lower(), []).append((w.artist_id, w.id))
            self._state = {"registry": reg, "by_location": by_location, "by_sha": by_sha,
                           "artists": {}, "terms": {}, "detector": None, "noted": OrderedDict()}
        return self._state

    def _artist_id(self, name: str) -> int | None:
        state = self._load()
        key = name.strip()
        if key not in state["artists"]:
            try:
                artist = state["registry"].find_artist(key)
            except AmbiguousArtistError:
                artist = None  # two artists share the name: no terms are better than someone else's
            state["artists"][key] = artist.id if artist else None
        return state["artists"][key]

    def _terms(self, artist_id: int, work_id: int | None, matched_by: str) -> dict[str, Any]:
        state = self._load()
        key = (artist_id, work_id)
        resolved = state["terms"].get(key)
        if resolved is None:
            resolved = state["terms"][key] = state["registry"].current_terms(artist_id, work_id)
        where = f"artists' registry: artist #{artist_id}" + (f", work #{work_id}" if work_id else "")
        terms: dict[str, Any] = {scope: resolved.value(scope) for scope in TERMS_SCOPES}
        return terms | {"source": where, "artist_id": artist_id, "work_id": work_id, "matched_by": matched_by,
                        "at": resolved.at.isoformat()}

    def _row_sha256(self, row: Mapping[str, Any]) -> str | None:
        value = row.get(self.sha256_col)
        if isinstance(value, str) and len(value) == 64:
            return value.lower()
        path = row.get("path")
        if self.hash_local_files and isinstance(path, str) and self._load()["by_sha"]:
            try:
                with open(path, "rb") as fh:
                    return hashlib.file_digest(fh, "sha256").hexdigest()
            except OSError:
                return None
        return None

    def terms_for(self, artist_id: int, work_id: int | None, matched_by: str) -> dict[str, Any]:
        """The current terms of a work (or artist) found some other way, e.g. by copy detection."""
        return self._terms(artist_id, work_id, matched_by)

    # ------------------------------------------------------------ copies of registered works
    def _detector(self):
        state = self._load()
        with self._lock:
            if state["detector"] is None:
                from ..matching.copies import CopyDetector
                state["detector"] = CopyDetector.from_registry(state["registry"])
        return state["detector"]

    def _copies(self, data: bytes) -> list[tuple[int, int, str]]:
        """(artist id, work id, how) of the registered works this image is a copy of; none when unreadable
        (the filter's in-file reading reports unreadable images as the row's signal error)."""
        from ..errors import HashError
        detector = self._detector()
        if not len(detector):
            return []
        try:
            found = detector.find_copies(data)
        except HashError:
            return []
        out = []
        for m in found:
            ev = m.evidence
            how = f"image copy ({ev.method}, window {ev.window}, hash distance {ev.hash_distance}"
            if ev.shared_words is not None:
                how += f", {ev.shared_words} shared visual words"
            how += f", {ev.inliers} inliers)" if ev.inliers is not None else ")"
            if m.artist_id is not None:
                out.append((m.artist_id, m.work_id, how + (" mirrored" if ev.mirrored else "")))
        return out

    NOTED_MAX = 4096   # web images' copy results kept per process (a batch's rows, with room to spare)

    def note_image(self, url: str, data: bytes) -> None:
        """The filter downloaded this web row's image (``--in-file``): remember which works it copies."""
        if not self.match_images or not isinstance(url, str):
            return
        found = self._copies(data)
        noted = self._load()["noted"]
        with self._lock:
            remember(noted, url, found, self.NOTED_MAX)

    def _row_copies(self, row: Mapping[str, Any]) -> list[tuple[int, int, str]]:
        if not self.match_images:
            return []
        url = row.get(self.url_col)
        noted = self._load()["noted"]
        with self._lock:
            hit = noted.get(url) if isinstance(url, str) else None
        if hit is not None:
            return hit
        if not (row.get("path") or (row.get("tar") and row.get("member"))):
            return []
        from ..datasets.manifest import read_local_image
        try:
            data = read_local_image(dict(row), self.max_image_bytes)
        except (OSError, KeyError, ValueError):
            return []
        return self._copies(data) if data else []

    # ------------------------------------------------------------ the hook
    def __call__(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        state = self._load()
        found: dict[tuple[int, int | None], str] = {}
        url = row.get(self.url_col)
        if isinstance(url, str):
            for artist_id, work_id in state["by_location"].get(url, ()):
                found.setdefault((artist_id, work_id), "url")
        sha = self._row_sha256(row)
        if sha:
            for artist_id, work_id in state["by_sha"].get(sha, ()):
                found.setdefault((artist_id, work_id), "sha256")
        for artist_id, work_id, how in self._row_copies(row):
            found.setdefault((artist_id, work_id), how)
        name = row.get(self.artist_col) if self.artist_col else None
        if isinstance(name, str) and name.strip():
            artist_id = self._artist_id(name)
            if artist_id is not None and not any(a == artist_id for a, _w in found):
                found[(artist_id, None)] = "artist"
        return [self._terms(a, w, how) for (a, w), how in found.items()]

    def close(self) -> None:
        if self._state is not None:
            self._state["registry"].close()
            self._state = None
