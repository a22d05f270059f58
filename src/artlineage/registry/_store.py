"""Registry operations on an open SQLAlchemy ``Session``: artists, names, works, hashes, consent terms,
influence edges. Private: the one public API is ``Registry`` (``api.py``), which runs these in a session
of its own per call, or in the caller's session (``Registry.in_session``, the HTTP platform's way).
The caller of these functions owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .models import (SCOPES, Artist, ArtistInfluence, ArtistName, ConsentTerms, NameKind, Permission, Work,
                     WorkInfluence, phash_from_db, phash_to_db, utcnow)
from .names import clean_name, normalize_name
# Their old home: re-exported (the "as" form marks them as such for type checkers).
from ..errors import AmbiguousArtistError as AmbiguousArtistError
from ..errors import NotFoundError as NotFoundError
from ..errors import RegistryError as RegistryError
from ..errors import TermsConflict as TermsConflict

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_LINKS = 100
MAX_TEXT = 2048
ARTIST_FIELDS = ("name", "sort_name", "links", "living", "birth_year", "death_year")


ArtistRef = int | str | Artist


# ---------------------------------------------------------------- artists and names

def _bounded(text: str | None, what: str, limit: int = MAX_TEXT) -> str | None:
    if text is None:
        return None
    text = str(text)
    if len(text) > limit:
        raise RegistryError(f"{what} longer than {limit} characters")
    return text


def _year(value: int | None, what: str) -> int | None:
    if value is None:
        return None
    year = int(value)
    if not -10000 <= year <= 3000:
        raise RegistryError(f"{what} {year} out of range")
    return year


def _name_entries(aliases: Iterable[str | tuple[str, str] | Mapping[str, str]]) -> list[tuple[str, str]]:
    out = []
    for a in aliases:
        if isinstance(a, Mapping):
            name, kind = a["name"], a.get("kind", NameKind.ALIAS.value)
        elif isinstance(a, tuple):
            name, kind = a
        else:
            name, kind = a, NameKind.ALIAS.value
        try:
            kind = NameKind(kind).value
        except ValueError:
            raise RegistryError(f"unknown name kind {kind!r}; use one of {[k.value for k in NameKind]}") from None
        try:
            out.append((clean_name(name), kind))
        except ValueError as exc:
            raise RegistryError(str(exc)) from None
    return out


def add_artist(session: Session, name: str, *, aliases: Iterable[str | tuple[str, str] | Mapping[str, str]] = (),
               sort_name: str | None = None, links: Iterable[str] = (), living: bool | None = None,
               birth_year: int | None = None, death_year: int | None = None) -> Artist:
    """Create an artist. ``aliases`` are names or ``(name, kind)`` pairs (kind: alias, spelling,
    transliteration, misspelling). Two artists may share a name (they are told apart by id)."""
    try:
        name = clean_name(name)
    except ValueError as exc:
        raise RegistryError(str(exc)) from None
    links = [str(_bounded(link, "link")) for link in links]
    if len(links) > MAX_LINKS:
        raise RegistryError(f"more than {MAX_LINKS} links")
    artist = Artist(name=name, normalized=normalize_name(name), sort_name=_bounded(sort_name, "sort name", 512),
                    links=links, living=living, birth_year=_year(birth_year, "birth year"),
                    death_year=_year(death_year, "death year"))
    if artist.death_year is not None and artist.living:
        raise RegistryError("a living artist has no death year")
    session.add(artist)
    for alias, kind in _name_entries(aliases):
        add_name(session, artist, alias, kind)
    session.flush()
    return artist


def add_name(session: Session, artist: ArtistRef, name: str, kind: str = NameKind.ALIAS.value) -> ArtistName:
    """Attach another name to an artist; adding the same (normalised) name and kind twice is a no-op."""
    a = resolve_artist(session, artist)
    [(name, kind)] = _name_entries([(name, kind)])
    norm = normalize_name(name)
    for existing in a.names:
        if existing.normalized == norm and existing.kind == kind:
            return existing
    entry = ArtistName(name=name, kind=kind, normalized=norm)
    a.names.append(entry)
    a.updated_at = utcnow()
    session.flush()
    return entry


def get_artist(session: Session, artist_id: int) -> Artist:
    artist = session.get(Artist, artist_id)
    if artist is None:
        raise NotFoundError(f"no artist #{artist_id}")
    return artist


def find_artists(session: Session, name: str) -> list[Artist]:
    """Artists whose name or any other name matches ``name`` ignoring case, accents and punctuation;
    those matched on their main name come first."""
    norm = normalize_name(name)
    if not norm:
        return []
    by_alias = select(ArtistName.artist_id).where(ArtistName.normalized == norm)
    rows = session.scalars(select(Artist).where(or_(Artist.normalized == norm, Artist.id.in_(by_alias)))
                           .order_by(Artist.id)).all()
    return sorted(rows, key=lambda a: a.normalized != norm)


def find_artist(session: Session, name: str) -> Artist | None:
    """The artist called ``name`` (or with that alias): main-name matches win; None if unknown."""
    found = find_artists(session, name)
    return found[0] if found else None


def resolve_artist(session: Session, ref: ArtistRef) -> Artist:
    """An Artist from an Artist, an id, a name/alias, or ``"#12"``. Raises NotFoundError or
    AmbiguousArtistError (two artists with the same main name)."""
    if isinstance(ref, Artist):
        return ref
    if isinstance(ref, int):
        return get_artist(session, ref)
    text = str(ref).strip()
    if text.startswith("#") and text[1:].isdigit():
        return get_artist(session, int(text[1:]))
    found = find_artists(session, text)
    norm = normalize_name(text)
    main = [a for a in found if a.normalized == norm]
    if len(main) > 1 or (not main and len(found) > 1):
        raise AmbiguousArtistError(text, main or found)
    if found:
        return found[0]
    if text.isdigit():
        return get_artist(session, int(text))
    partial = _word_matches(session, norm)
    if len(partial) == 1:  # "van gogh" for "Vincent van Gogh", when nothing matches exactly
        return partial[0]
    if partial:
        raise AmbiguousArtistError(text, partial)
    raise NotFoundError(f"no artist named {text!r}")


def _word_matches(session: Session, norm: str, limit: int = 20) -> list[Artist]:
    """Artists with a name containing ``norm`` as whole words. ``norm`` is normalised, so it holds
    no LIKE wildcards (``%`` and ``_`` are turned into spaces)."""
    if not norm:
        return []
    pattern = f"%{norm}%"
    by_alias = select(ArtistName.artist_id).where(ArtistName.normalized.like(pattern))
    rows = session.scalars(select(Artist).where(or_(Artist.normalized.like(pattern), Artist.id.in_(by_alias)))
                           .order_by(Artist.id).limit(limit)).all()
    padded = f" {norm} "
    return [a for a in rows
            if padded in f" {a.normalized} " or any(padded in f" {n.normalized} " for n in a.names)]


def update_artist(session: Session, artist: ArtistRef, changes: Mapping[str, Any]) -> Artist:
    """Change an artist's main name, sort name, links, living flag or years (keys of ``changes``, see
    ``ARTIST_FIELDS``), validated as :func:`add_artist` validates them."""
    a = resolve_artist(session, artist)
    unknown = set(changes) - set(ARTIST_FIELDS)
    if unknown:
        raise RegistryError(f"unknown artist field(s) {sorted(unknown)}; use {list(ARTIST_FIELDS)}")
    if "name" in changes:
        try:
            a.name = clean_name(changes["name"])
        except ValueError as exc:
            raise RegistryError(str(exc)) from None
        a.normalized = normalize_name(a.name)
    if "sort_name" in changes:
        a.sort_name = _bounded(changes["sort_name"], "sort name", 512)
    if "links" in changes:
        links = [str(x) for x in (changes["links"] or [])]
        if len(links) > MAX_LINKS or any(len(x) > MAX_TEXT for x in links):
            raise RegistryError(f"at most {MAX_LINKS} links of {MAX_TEXT} characters")
        a.links = links
    if "living" in changes:
        a.living = None if changes["living"] is None else bool(changes["living"])
    for key in ("birth_year", "death_year"):
        if key in changes:
            setattr(a, key, _year(changes[key], key.replace("_", " ")))
    a.updated_at = utcnow()
    session.flush()
    return a


def list_artists(session: Session) -> list[Artist]:
    return list(session.scalars(select(Artist).order_by(Artist.sort_name.is_(None), Artist.sort_name,
                                                        Artist.normalized, Artist.id)))


def all_artist_names(session: Session) -> Iterator[tuple[int, str, str]]:
    """Every ``(artist_id, name, kind)``: main names with kind ``"name"``, then every other name.
    This is what the prompt guard indexes."""
    for artist_id, name in session.execute(select(Artist.id, Artist.name).order_by(Artist.id)):
        yield artist_id, name, "name"
    for artist_id, name, kind in session.execute(
            select(ArtistName.artist_id, ArtistName.name, ArtistName.kind).order_by(ArtistName.id)):
        yield artist_id, name, kind


# ---------------------------------------------------------------- works and hashes

def _pdq_hex(value: str | bytes | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        if len(value) != 32:
            raise RegistryError("pdq256 bytes must be 32 long")
        return bytes(value).hex()
    text = str(value).strip().lower()
    if not _HEX64.match(text):
        raise RegistryError("pdq256 must be 64 hex characters")
    return text


def _sha256(value: str | None) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    if not _HEX64.match(text):
        raise RegistryError("sha256 must be 64 hex characters")
    return text


def _phash(value: int | None) -> int | None:
    try:
        return phash_to_db(None if value is None else int(value))
    except ValueError as exc:
        raise RegistryError(str(exc)) from None


def add_work(session: Session, artist: ArtistRef, *, title: str | None = None, location: str | None = None,
             sha256: str | None = None, phash64: int | None = None, pdq256: str | bytes | None = None,
             origin: str | None = None, verdict: dict[str, Any] | None = None) -> Work:
    """Register a work (``location`` is a file path or URL). ``phash64`` is the *unsigned* 64-bit
    hash. A work with the same sha256 under the same artist is returned instead of duplicated."""
    a = resolve_artist(session, artist)
    digest = _sha256(sha256)
    if digest is not None:
        existing = session.scalar(select(Work).where(Work.artist_id == a.id, Work.sha256 == digest))
        if existing is not None:
            return existing
    work = Work(artist_id=a.id, title=_bounded(title, "title", 1024), location=_bounded(location, "location", 4096),
                sha256=digest, phash64=_phash(phash64), pdq256=_pdq_hex(pdq256),
                origin=_bounded(origin, "origin", 32), verdict=verdict)
    session.add(work)
    session.flush()
    return work


_UNCHANGED: Any = object()  # an argument left out (None means "clear it")


def get_work(session: Session, work_id: int) -> Work:
    work = session.get(Work, work_id)
    if work is None:
        raise NotFoundError(f"no work #{work_id}")
    return work


def list_works(session: Session, artist: ArtistRef | None = None) -> list[Work]:
    q = select(Work).order_by(Work.id)
    if artist is not None:
        q = q.where(Work.artist_id == resolve_artist(session, artist).id)
    return list(session.scalars(q))


def update_work(session: Session, work_id: int, *, title: str | None = _UNCHANGED) -> Work:
    """Change a work's title (``None`` clears it)."""
    w = get_work(session, work_id)
    if title is not _UNCHANGED:
        w.title = _bounded(title, "title", 1024)
    session.flush()
    return w


def find_works_by_sha256(session: Session, sha256: str) -> list[Work]:
    return list(session.scalars(select(Work).where(Work.sha256 == _sha256(sha256)).order_by(Work.id)))


def set_work_hashes(session: Session, work_id: int, *, phash64: int | None = _UNCHANGED,
                    pdq256: str | bytes | None = _UNCHANGED) -> Work:
    """Store perceptual hashes of a work (used by ``artlineage.matching``). ``phash64`` is the
    unsigned 64-bit value (stored signed, see models); ``pdq256`` 64 hex chars or 32 bytes.
    An argument left out keeps its stored value; ``None`` clears it."""
    work = get_work(session, work_id)
    if phash64 is not _UNCHANGED:
        work.phash64 = _phash(phash64)
    if pdq256 is not _UNCHANGED:
        work.pdq256 = _pdq_hex(pdq256)
    session.flush()
    return work


def set_work_provenance(session: Session, work_id: int, origin: str | None,
                        verdict: dict[str, Any] | None) -> Work:
    """Attach a provenance result (``ProvenanceVerdict.origin.value`` and ``.to_dict()``) to a work."""
    work = get_work(session, work_id)
    work.origin = _bounded(origin, "origin", 32)
    work.verdict = verdict
    session.flush()
    return work


@dataclass(frozen=True)
class WorkHashes:
    work_id: int
    artist_id: int
    phash64: int | None  # unsigned
    pdq256: str | None


def works_with_hashes(session: Session) -> Iterator[WorkHashes]:
    """Every work that has at least one perceptual hash, for building a match index."""
    q = (select(Work.id, Work.artist_id, Work.phash64, Work.pdq256)
         .where(or_(Work.phash64.is_not(None), Work.pdq256.is_not(None))).order_by(Work.id))
    for wid, aid, ph, pdq in session.execute(q).yield_per(5000):
        yield WorkHashes(wid, aid, phash_from_db(ph), pdq)


def work_hash_stats(session: Session) -> tuple[int, int]:
    """(number of works with a pHash, their largest id): what a persisted match index is checked
    against to tell whether it is stale."""
    count, top = session.execute(select(func.count(Work.id), func.max(Work.id))
                                 .where(Work.phash64.is_not(None))).one()
    return int(count or 0), int(top or 0)


# ---------------------------------------------------------------- consent terms

def parse_permission(value: Any) -> str | None:
    """``Permission``/str -> stored value; None, "", "unknown", "unset" -> None (unknown)."""
    if value is None or isinstance(value, Permission):
        return value.value if value is not None else None
    text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if text in ("", "unknown", "unset", "none"):
        return None
    try:
        return Permission(text).value
    except ValueError:
        raise RegistryError(f"unknown permission {value!r}; use one of "
                            f"{[p.value for p in Permission] + ['unknown']}") from None


def _as_date(value: dt.date | dt.datetime | str | None, default: dt.date | None = None) -> dt.date:
    if value is None:
        if default is None:
            return dt.datetime.now(dt.timezone.utc).date()
        return default
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RegistryError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _terms_query(artist_id: int, work_id: int | None):  # type: ignore[no-untyped-def]
    q = select(ConsentTerms).where(ConsentTerms.artist_id == artist_id)
    return q.where(ConsentTerms.work_id.is_(None) if work_id is None else ConsentTerms.work_id == work_id)


def _work_of(session: Session, artist: Artist, work: int | Work | None) -> Work | None:
    if work is None:
        return None
    w = work if isinstance(work, Work) else get_work(session, int(work))
    if w.artist_id != artist.id:
        raise RegistryError(f"work #{w.id} belongs to artist #{w.artist_id}, not #{artist.id}")
    return w


def set_terms(session: Session, artist: ArtistRef, work: int | Work | None = None, *,
              valid_from: dt.date | str | None = None, note: str | None = None, source: str | None = None,
              inherit: bool = True, **scopes: Any) -> ConsentTerms:
    """Record new consent terms for an artist (or one of their works) from ``valid_from`` (default
    today). The open period is closed at ``valid_from`` rather than overwritten. Scopes: ai_training,
    generative_training, data_mining, style_imitation = allowed | not_allowed | allowed_with_credit |
    None/"unknown". With ``inherit`` (default) scopes not passed keep their previous value."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise RegistryError(f"unknown consent scope(s) {sorted(unknown)}; use {list(SCOPES)}")
    a = resolve_artist(session, artist)
    w = _work_of(session, a, work)
    start = _as_date(valid_from)
    values = {s: parse_permission(v) for s, v in scopes.items()}
    previous = session.scalars(_terms_query(a.id, w.id if w else None)
                               .where(ConsentTerms.valid_to.is_(None)).order_by(ConsentTerms.id)).all()
    for prev in previous:
        if start < prev.valid_from:
            raise RegistryError(f"terms since {prev.valid_from} are already recorded; "
                                f"new terms cannot start earlier ({start})")
    if inherit and previous:
        values = {**previous[-1].scopes(), **values}
    for prev in previous:
        prev.valid_to = start
    row = ConsentTerms(artist_id=a.id, work_id=w.id if w else None, valid_from=start,
                       note=_bounded(note, "note", 10000), source=_bounded(source, "source"),
                       **{s: values.get(s) for s in SCOPES})
    session.add(row)
    session.flush()
    return row


def withdraw_terms(session: Session, artist: ArtistRef, work: int | Work | None, terms_id: int, *,
                   now: dt.datetime | None = None, grace: dt.timedelta = dt.timedelta(days=1)) -> ConsentTerms:
    """Delete the latest terms entry of an artist (or of one of their works) and reopen the one it
    closed, so a mistaken entry (a wrong date, a wrong choice) can be corrected. Only the latest entry,
    and only while it is not yet in force or within ``grace`` of being stated: terms that have been
    public for longer are evidence, and new terms supersede them instead (``TermsConflict``)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    a = resolve_artist(session, artist)
    w = _work_of(session, a, work)
    work_id = w.id if w else None
    row = session.get(ConsentTerms, terms_id)
    if row is None or row.artist_id != a.id or row.work_id != work_id:
        raise NotFoundError(f"no terms entry #{terms_id} here")
    level = (ConsentTerms.artist_id == a.id,
             ConsentTerms.work_id.is_(None) if work_id is None else ConsentTerms.work_id == work_id)
    newest = session.scalar(select(ConsentTerms.id).where(*level).order_by(ConsentTerms.id.desc()).limit(1))
    if newest != row.id or row.valid_to is not None:
        raise TermsConflict(f"terms entry #{terms_id} is not the latest; only the latest can be withdrawn")
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.timezone.utc)
    if row.valid_from <= now.date() and now - created > grace:
        raise TermsConflict(f"terms entry #{terms_id} has been in force since {row.valid_from}; "
                            "state new terms to change it")
    previous = session.scalar(select(ConsentTerms).where(*level, ConsentTerms.id < row.id,
                                                         ConsentTerms.valid_to == row.valid_from)
                              .order_by(ConsentTerms.id.desc()).limit(1))
    if previous is not None:
        previous.valid_to = None
    session.delete(row)
    session.flush()
    return row


def terms_at(session: Session, artist_id: int, work_id: int | None, at: dt.date) -> ConsentTerms | None:
    """The terms row in force on day ``at`` (``valid_from <= at < valid_to``)."""
    q = (_terms_query(artist_id, work_id).where(ConsentTerms.valid_from <= at)
         .where(or_(ConsentTerms.valid_to.is_(None), ConsentTerms.valid_to > at))
         .order_by(ConsentTerms.valid_from.desc(), ConsentTerms.id.desc()).limit(1))
    return session.scalar(q)


@dataclass(frozen=True)
class ScopeTerm:
    scope: str
    value: str | None  # None = unknown
    terms_id: int | None  # the consent_terms row it came from
    level: str | None  # "work", "artist" or None when unknown


@dataclass(frozen=True)
class ResolvedTerms:
    artist_id: int
    work_id: int | None
    at: dt.date
    scopes: dict[str, ScopeTerm] = field(default_factory=dict)

    def value(self, scope: str) -> str | None:
        return self.scopes[scope].value

    def to_dict(self) -> dict[str, Any]:
        return {"artist_id": self.artist_id, "work_id": self.work_id, "at": self.at.isoformat(),
                "scopes": {s: {"value": t.value, "terms_id": t.terms_id, "level": t.level}
                           for s, t in self.scopes.items()}}


def current_terms(session: Session, artist: ArtistRef, work: int | Work | None = None,
                  at: dt.date | str | None = None) -> ResolvedTerms:
    """Terms in force on day ``at`` (default today). Work terms override the artist's scope by scope;
    a scope the work leaves unknown falls back to the artist's. Each scope says which row it came from."""
    a = resolve_artist(session, artist)
    w = _work_of(session, a, work)
    day = _as_date(at)
    artist_row = terms_at(session, a.id, None, day)
    work_row = terms_at(session, a.id, w.id, day) if w else None
    resolved = {}
    for scope in SCOPES:
        if work_row is not None and getattr(work_row, scope) is not None:
            resolved[scope] = ScopeTerm(scope, getattr(work_row, scope), work_row.id, "work")
        elif artist_row is not None and getattr(artist_row, scope) is not None:
            resolved[scope] = ScopeTerm(scope, getattr(artist_row, scope), artist_row.id, "artist")
        else:
            resolved[scope] = ScopeTerm(scope, None, None, None)
    return ResolvedTerms(a.id, w.id if w else None, day, resolved)


def terms_history(session: Session, artist: ArtistRef, work: int | Work | None = None,
                  all_levels: bool = False) -> list[ConsentTerms]:
    """Every terms row, oldest first: the artist's (or the given work's); ``all_levels`` gives the
    artist's rows and all of their works' rows."""
    a = resolve_artist(session, artist)
    if all_levels:
        q = select(ConsentTerms).where(ConsentTerms.artist_id == a.id)
    else:
        w = _work_of(session, a, work)
        q = _terms_query(a.id, w.id if w else None)
    return list(session.scalars(q.order_by(ConsentTerms.valid_from, ConsentTerms.id)))


# ---------------------------------------------------------------- influence edges

def add_influence(session: Session, source: ArtistRef, target: ArtistRef, *, note: str | None = None,
                  source_of_claim: str | None = None) -> ArtistInfluence:
    """Record that artist ``source`` was influenced by artist ``target``. Repeating an edge updates
    its note/claim instead of duplicating it."""
    s, t = resolve_artist(session, source), resolve_artist(session, target)
    return _add_edge(session, ArtistInfluence, s.id, t.id, note, source_of_claim)


def add_work_influence(session: Session, source_work: int, target_work: int, *, note: str | None = None,
                       source_of_claim: str | None = None) -> WorkInfluence:
    """Record that work ``source_work`` was influenced by work ``target_work``."""
    s, t = get_work(session, int(source_work)), get_work(session, int(target_work))
    return _add_edge(session, WorkInfluence, s.id, t.id, note, source_of_claim)


def _add_edge(session: Session, model: Any, source_id: int, target_id: int, note: str | None,
              claim: str | None) -> Any:
    if source_id == target_id:
        raise RegistryError("an influence edge needs two different ends")
    edge = session.scalar(select(model).where(model.source_id == source_id, model.target_id == target_id))
    if edge is None:
        edge = model(source_id=source_id, target_id=target_id)
        session.add(edge)
    if note is not None:
        edge.note = _bounded(note, "note", 10000)
    if claim is not None:
        edge.source_of_claim = _bounded(claim, "source of claim")
    session.flush()
    return edge
