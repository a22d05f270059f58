"""``Registry``: the artists' registry behind one object, the one registry API.

Two ways to hold it, one set of methods:

- ``Registry("registry.sqlite")`` (or a SQLAlchemy URL) runs each call in a transaction of its own,
  committed when the call returns. Returned ORM objects are detached (``expire_on_commit=False``) with
  their names loaded, so they can be read after the call; to change them, call another method.
- ``Registry.in_session(session)`` runs the same methods inside a session the caller owns, so
  registry changes and the caller's own rows commit or roll back together: the HTTP platform's way
  (one unit of work per request). Nothing is committed by the registry then; each call flushes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from .._files import iter_image_files
from ..matching import work_index
from ..matching.hashing import hash_image_file
from . import _store as store, io, lineage as lineage_mod
from .migrate import make_registry_engine, registry_url, upgrade_registry
from .models import Artist, ArtistInfluence, ArtistName, ConsentTerms, Permission, Work, WorkInfluence
from .names import normalize_name

MAX_FILES = 100_000


def default_match_index_dir(url: str) -> Path | None:
    """``<registry file>.index/`` for a SQLite file registry; None (no persisted index unless one
    is given) for an in-memory or server database."""
    from sqlalchemy.engine import make_url
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:" and "mode=memory" not in url:
        return Path(u.database + ".index")
    return None


def file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def image_files(path: Path, limit: int = MAX_FILES) -> list[Path]:
    """The image files at ``path``: the file itself, or a folder's images recursively, sorted."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise store.NotFoundError(f"{path} does not exist")
    found: list[Path] = []
    for file in iter_image_files(path):
        found.append(file)
        if len(found) > limit:
            raise store.RegistryError(f"more than {limit} images under {path}")
    return found


@dataclass(frozen=True)
class AddedWork:
    work: Work
    created: bool  # False when the same file was already registered for the artist
    warning: str | None = None


class _Unset:
    """A scope not passed to :meth:`Registry.set_terms` (``None`` means "set to unknown")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


class Registry:
    """The artists' registry in a SQLite file (a path) or any SQLAlchemy URL (PostgreSQL:
    ``postgresql://...`` is run through psycopg 3). The schema is migrated on open unless
    ``upgrade=False``. ``match_index`` is the folder of the persisted perceptual-match index
    (default: ``<file>.index`` next to a SQLite file; none for server databases unless given), kept
    current by ``add_work_files`` when ``artlineage.matching`` is installed."""

    _bound: Session | None = None

    def __init__(self, db: str | Path = "registry.sqlite", *, upgrade: bool = True,
                 match_index: str | Path | None = None):
        self.url = registry_url(db)
        self.engine = make_registry_engine(db)
        self.match_index_dir = Path(match_index) if match_index else default_match_index_dir(self.url)
        if upgrade:
            upgrade_registry(self.engine)

    @classmethod
    def in_session(cls, session: Session, *, match_index: str | Path | None = None) -> Registry:
        """The registry inside ``session``, a session the caller opened and will commit or roll back.
        The schema is the caller's business (no migration); ``close`` leaves the caller's engine open."""
        reg = cls.__new__(cls)
        bind = session.get_bind()
        reg.engine = bind if isinstance(bind, Engine) else bind.engine
        reg.url = reg.engine.url.render_as_string(hide_password=True)
        reg.match_index_dir = Path(match_index) if match_index else None
        reg._bound = session
        return reg

    def close(self) -> None:
        if self._bound is None:
            self.engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error. For a registry
        bound with :meth:`in_session`, the caller's session, flushed on success (the caller commits)."""
        if self._bound is not None:
            yield self._bound
            self._bound.flush()
            return
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            yield s

    # -------------------------------------------------------- artists
    def add_artist(self, name: str, *, aliases: Iterable[str | tuple[str, str] | Mapping[str, str]] = (),
                   sort_name: str | None = None, links: Iterable[str] = (), living: bool | None = None,
                   birth_year: int | None = None, death_year: int | None = None) -> Artist:
        """Create an artist. ``aliases`` are names or ``(name, kind)`` pairs (kind: alias, spelling,
        transliteration, misspelling). Names are cleaned and bounded; a bad value raises RegistryError."""
        with self.session() as s:
            return store.add_artist(s, name, aliases=aliases, sort_name=sort_name, links=links, living=living,
                                    birth_year=birth_year, death_year=death_year)

    def add_name(self, artist: store.ArtistRef, name: str, kind: str = "alias") -> ArtistName:
        with self.session() as s:
            return store.add_name(s, artist, name, kind)

    def get_artist(self, artist: store.ArtistRef) -> Artist:
        with self.session() as s:
            return store.resolve_artist(s, artist)

    def find_artist(self, name: str) -> Artist | None:
        with self.session() as s:
            return store.find_artist(s, name)

    def find_artists(self, name: str) -> list[Artist]:
        with self.session() as s:
            return store.find_artists(s, name)

    def suggest_artists(self, text: str, limit: int = 20) -> list[Artist]:
        """Artists with a name containing ``text`` as whole words ("hokusai" finds "Katsushika
        Hokusai"): the fallback when :meth:`find_artists` finds no exact name."""
        with self.session() as s:
            return store._word_matches(s, normalize_name(text), limit=limit)

    def list_artists(self) -> list[Artist]:
        with self.session() as s:
            return store.list_artists(s)

    def update_artist(self, artist: store.ArtistRef, *, name: str | _Unset = UNSET, sort_name: str | None | _Unset = UNSET,
                      links: Iterable[str] | None | _Unset = UNSET, living: bool | None | _Unset = UNSET,
                      birth_year: int | None | _Unset = UNSET, death_year: int | None | _Unset = UNSET) -> Artist:
        """Change an artist's fields; those left out keep their value, ``None`` clears one."""
        changes = {key: value for key, value in (("name", name), ("sort_name", sort_name), ("links", links),
                                                 ("living", living), ("birth_year", birth_year),
                                                 ("death_year", death_year)) if not isinstance(value, _Unset)}
        with self.session() as s:
            return store.update_artist(s, artist, changes)

    def all_artist_names(self) -> Iterator[tuple[int, str, str]]:
        """``(artist_id, name, kind)`` for every main name (kind "name") and other name."""
        with self.session() as s:
            yield from store.all_artist_names(s)

    # -------------------------------------------------------- works
    def add_work(self, artist: store.ArtistRef, *, title: str | None = None, location: str | None = None,
                 sha256: str | None = None, phash64: int | None = None, pdq256: str | bytes | None = None,
                 origin: str | None = None, verdict: dict[str, Any] | None = None) -> Work:
        """Register a work (``location`` is a file path or URL; ``phash64`` the *unsigned* 64-bit hash).
        A work with the same sha256 under the same artist is returned instead of duplicated."""
        with self.session() as s:
            return store.add_work(s, artist, title=title, location=location, sha256=sha256, phash64=phash64,
                                  pdq256=pdq256, origin=origin, verdict=verdict)

    def add_work_files(self, artist: store.ArtistRef, path: str | Path, *, title: str | None = None,
                       inspect: bool = False, perceptual: bool = True) -> list[AddedWork]:
        """Register an image file, or every image under a folder, as works of ``artist``: sha256
        always, pHash/PDQ when ``artlineage.matching`` is available, the provenance verdict
        (metadata only) with ``inspect``."""
        files = image_files(Path(path))
        hasher = hash_image_file if perceptual else None
        added = []
        with self.session() as s:
            a = store.resolve_artist(s, artist)
            for f in files:
                digest = file_sha256(f)
                existing = s.scalar(select(Work).where(Work.artist_id == a.id, Work.sha256 == digest))
                if existing is not None:
                    added.append(AddedWork(existing, False))
                    continue
                phash = pdq = None
                warning = None
                if hasher is not None:
                    try:
                        phash, pdq = hasher(str(f))
                    except Exception as exc:  # noqa: BLE001 - an undecodable image is still a registered work
                        warning = f"{f}: no perceptual hash ({type(exc).__name__}: {exc})"
                origin = verdict = None
                if inspect:
                    from .._inspect import inspect_file
                    report = inspect_file(f, pixels=False)
                    if report.verdict is not None:
                        origin, verdict = report.verdict.origin.value, report.verdict.to_dict()
                work = store.add_work(s, a, title=title if len(files) == 1 and title else f.stem,
                                      location=str(f.resolve()), sha256=digest, phash64=phash, pdq256=pdq,
                                      origin=origin, verdict=verdict)
                added.append(AddedWork(work, True, warning))
        if self.match_index_dir:
            work_index.works_added(self, [a.work for a in added if a.created])
        return added

    def get_work(self, work_id: int) -> Work:
        with self.session() as s:
            return store.get_work(s, work_id)

    def list_works(self, artist: store.ArtistRef | None = None) -> list[Work]:
        with self.session() as s:
            return store.list_works(s, artist)

    def find_works_by_sha256(self, sha256: str) -> list[Work]:
        """Works registered with exactly this file (any artist), oldest first."""
        with self.session() as s:
            return store.find_works_by_sha256(s, sha256)

    def update_work(self, work_id: int, *, title: str | None | _Unset = UNSET) -> Work:
        """Change a work's title (``None`` clears it)."""
        with self.session() as s:
            if isinstance(title, _Unset):
                return store.get_work(s, work_id)
            return store.update_work(s, work_id, title=title)

    def set_work_hashes(self, work_id: int, **hashes: Any) -> Work:
        with self.session() as s:
            work = store.set_work_hashes(s, work_id, **hashes)
        if self.match_index_dir:
            work_index.invalidate(self.match_index_dir)   # a changed hash is invisible to the stale check
        return work

    def set_work_provenance(self, work_id: int, origin: str | None, verdict: dict[str, Any] | None) -> Work:
        with self.session() as s:
            return store.set_work_provenance(s, work_id, origin, verdict)

    def works_with_hashes(self) -> list[store.WorkHashes]:
        with self.session() as s:
            return list(store.works_with_hashes(s))

    def work_hash_stats(self) -> tuple[int, int]:
        """(works with a pHash, largest such work id): the persisted match index's staleness key."""
        with self.session() as s:
            return store.work_hash_stats(s)

    # -------------------------------------------------------- consent
    def set_terms(self, artist: store.ArtistRef, work: int | None = None, *,
                  ai_training: Permission | str | None | _Unset = UNSET,
                  generative_training: Permission | str | None | _Unset = UNSET,
                  data_mining: Permission | str | None | _Unset = UNSET,
                  style_imitation: Permission | str | None | _Unset = UNSET,
                  valid_from: dt.date | str | None = None, note: str | None = None, source: str | None = None,
                  inherit: bool = True) -> ConsentTerms:
        """Record new terms from ``valid_from`` (default today); the open period is closed at
        ``valid_from``, never overwritten. Values: allowed | not_allowed | allowed_with_credit | None.
        A scope left out keeps its previous value (with ``inherit``); ``None`` sets it to unknown."""
        given = {name: value for name, value in (("ai_training", ai_training),
                                                 ("generative_training", generative_training),
                                                 ("data_mining", data_mining), ("style_imitation", style_imitation))
                 if not isinstance(value, _Unset)}
        with self.session() as s:
            return store.set_terms(s, artist, work, valid_from=valid_from, note=note, source=source, inherit=inherit,
                                   **given)

    def current_terms(self, artist: store.ArtistRef, work: int | None = None,
                      at: dt.date | str | None = None) -> store.ResolvedTerms:
        with self.session() as s:
            return store.current_terms(s, artist, work, at)

    def terms_history(self, artist: store.ArtistRef, work: int | None = None,
                      all_levels: bool = False) -> list[ConsentTerms]:
        """Every terms entry, oldest first: the artist's (or one work's); ``all_levels`` adds all of
        the artist's works' entries."""
        with self.session() as s:
            return store.terms_history(s, artist, work, all_levels)

    def withdraw_terms(self, artist: store.ArtistRef, terms_id: int, work: int | None = None, *,
                       now: dt.datetime | None = None, grace: dt.timedelta = dt.timedelta(days=1)) -> ConsentTerms:
        """Withdraw a mistaken latest terms entry and reopen the one it closed: only the latest, and
        only while not yet in force or within ``grace`` of being stated (else ``TermsConflict``)."""
        with self.session() as s:
            return store.withdraw_terms(s, artist, work, terms_id, now=now, grace=grace)

    # -------------------------------------------------------- influence
    def add_influence(self, source: store.ArtistRef, target: store.ArtistRef, *, note: str | None = None,
                      source_of_claim: str | None = None) -> ArtistInfluence:
        """``source`` was influenced by ``target``."""
        with self.session() as s:
            return store.add_influence(s, source, target, note=note, source_of_claim=source_of_claim)

    def add_work_influence(self, source_work: int, target_work: int, *, note: str | None = None,
                           source_of_claim: str | None = None) -> WorkInfluence:
        with self.session() as s:
            return store.add_work_influence(s, source_work, target_work, note=note, source_of_claim=source_of_claim)

    def lineage(self, artist: store.ArtistRef, depth: int = 3) -> lineage_mod.Lineage:
        with self.session() as s:
            return lineage_mod.lineage(s, artist, depth)

    def work_lineage(self, work_id: int, depth: int = 3) -> lineage_mod.Lineage:
        with self.session() as s:
            return lineage_mod.work_lineage(s, work_id, depth)

    # -------------------------------------------------------- import / export
    def export_document(self) -> dict[str, Any]:
        with self.session() as s:
            return io.export_document(s)

    def export_json(self, path: str | Path) -> dict[str, Any]:
        with self.session() as s:
            return io.export_json(s, path)

    def export_csv(self, folder: str | Path) -> dict[str, Any]:
        with self.session() as s:
            return io.export_csv(s, folder)

    def import_document(self, doc: Any) -> dict[str, int]:
        """Add a document's contents in one transaction (nothing is added if any row is invalid)."""
        with self.session() as s:
            return io.import_document(s, doc)

    def import_json(self, path: str | Path) -> dict[str, int]:
        return self.import_document(io.read_json(path))

    def import_csv(self, folder: str | Path) -> dict[str, int]:
        return self.import_document(io.read_csv_folder(folder))
