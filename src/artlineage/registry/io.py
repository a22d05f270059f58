"""Import and export of the whole registry: one JSON document, or four CSV files in a folder
(artists.csv, works.csv, terms.csv, influences.csv).

Ids in a document are the exporting registry's; import maps them to fresh ids, so a document can be
loaded into an empty registry (ids come out the same) or appended to a populated one. Terms rows
are copied as they are, history and all.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import SCOPES, Artist, ArtistInfluence, ConsentTerms, Work, WorkInfluence, phash_to_db
from ._store import RegistryError, _name_entries, _pdq_hex, _sha256, add_artist, parse_permission
from ..errors import RegistryImportError  # noqa: F401  (re-exported: its old home)

FORMAT = "artlineage-registry"
VERSION = 1
MAX_IMPORT_BYTES = 256 * 1024 * 1024
CSV_FILES = ("artists.csv", "works.csv", "terms.csv", "influences.csv")

ARTIST_COLUMNS = ("id", "name", "sort_name", "living", "birth_year", "death_year", "links", "names",
                  "created_at", "updated_at")
WORK_COLUMNS = ("id", "artist_id", "title", "location", "sha256", "phash64", "pdq256", "origin", "verdict",
                "created_at")
TERMS_COLUMNS = ("id", "artist_id", "work_id", *SCOPES, "valid_from", "valid_to", "note", "source", "created_at")
INFLUENCE_COLUMNS = ("level", "id", "source_id", "target_id", "note", "source_of_claim", "created_at")
_JSON_COLUMNS = {"links", "names", "verdict"}


# ---------------------------------------------------------------- export

def export_document(session: Session) -> dict[str, Any]:
    influences = [{"level": "artist", **e.to_dict()}
                  for e in session.scalars(select(ArtistInfluence).order_by(ArtistInfluence.id))]
    influences += [{"level": "work", **e.to_dict()}
                   for e in session.scalars(select(WorkInfluence).order_by(WorkInfluence.id))]
    return {
        "format": FORMAT, "version": VERSION,
        "artists": [a.to_dict() for a in session.scalars(select(Artist).order_by(Artist.id))],
        "works": [w.to_dict() for w in session.scalars(select(Work).order_by(Work.id))],
        "terms": [t.to_dict() for t in session.scalars(select(ConsentTerms).order_by(ConsentTerms.id))],
        "influences": influences,
    }


def export_json(session: Session, path: str | Path) -> dict[str, Any]:
    doc = export_document(session)
    Path(path).write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    return doc


def _cell(value: Any, column: str) -> str:
    if value is None:
        return ""
    if column in _JSON_COLUMNS:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_csv(path: Path, columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> None:
    cols = list(columns)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(cols)
        for row in rows:
            writer.writerow([_cell(row.get(c), c) for c in cols])


def export_csv(session: Session, folder: str | Path) -> dict[str, Any]:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    doc = export_document(session)
    _write_csv(out / "artists.csv", ARTIST_COLUMNS, doc["artists"])
    _write_csv(out / "works.csv", WORK_COLUMNS, doc["works"])
    _write_csv(out / "terms.csv", TERMS_COLUMNS, doc["terms"])
    _write_csv(out / "influences.csv", INFLUENCE_COLUMNS, doc["influences"])
    return doc


# ---------------------------------------------------------------- reading

def read_json(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if p.stat().st_size > MAX_IMPORT_BYTES:
        raise RegistryImportError(f"{p} is larger than {MAX_IMPORT_BYTES // 2**20} MiB")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:
        raise RegistryImportError(f"{p}: not valid JSON ({exc})") from None
    return doc


def _parse_cell(text: str, column: str) -> Any:
    if text == "":
        return None
    if column in _JSON_COLUMNS:
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise RegistryImportError(f"column {column}: not valid JSON") from None
    if column == "living":
        low = text.strip().lower()
        if low not in ("true", "false"):
            raise RegistryImportError(f"column living: expected true/false, got {text!r}")
        return low == "true"
    return text


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    if path.stat().st_size > MAX_IMPORT_BYTES:
        raise RegistryImportError(f"{path} is larger than {MAX_IMPORT_BYTES // 2**20} MiB")
    with path.open(newline="", encoding="utf-8") as fh:
        try:
            reader = csv.DictReader(fh)
            missing = {"id", *columns[:2]} - set(reader.fieldnames or [])
            if missing:
                raise RegistryImportError(f"{path.name}: missing column(s) {sorted(missing)}")
            return [{c: _parse_cell(row.get(c) or "", c) for c in columns} for row in reader]
        except csv.Error as exc:
            raise RegistryImportError(f"{path.name}: {exc}") from None


def read_csv_folder(folder: str | Path) -> dict[str, Any]:
    d = Path(folder)
    if not (d / "artists.csv").exists():
        raise RegistryImportError(f"{d} has no artists.csv")
    return {"format": FORMAT, "version": VERSION,
            "artists": _read_csv(d / "artists.csv", ARTIST_COLUMNS),
            "works": _read_csv(d / "works.csv", WORK_COLUMNS),
            "terms": _read_csv(d / "terms.csv", TERMS_COLUMNS),
            "influences": _read_csv(d / "influences.csv", INFLUENCE_COLUMNS)}


# ---------------------------------------------------------------- import

def _int(value: Any, what: str, optional: bool = False) -> int | None:
    if value is None or value == "":
        if optional:
            return None
        raise RegistryImportError(f"{what} is missing")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RegistryImportError(f"{what}: not an integer: {str(value)[:40]!r}") from None


def _when(value: Any, what: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        t = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise RegistryImportError(f"{what}: not an ISO timestamp: {str(value)[:40]!r}") from None
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)


def _day(value: Any, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RegistryImportError(f"{what}: not a date: {str(value)[:40]!r}") from None


def _rows(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    rows = doc.get(key) or []
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise RegistryImportError(f"{key!r} must be a list of objects")
    return rows


def import_document(session: Session, doc: Any) -> dict[str, int]:
    """Add everything in an exported document; returns counts per kind. All or nothing when the
    caller rolls back on error (``Registry.import_json`` does)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise RegistryImportError(f"not an {FORMAT} document")
    if doc.get("version") != VERSION:
        raise RegistryImportError(f"unsupported document version {doc.get('version')!r}")
    artist_ids: dict[int, int] = {}
    for i, row in enumerate(_rows(doc, "artists")):
        old = _int(row.get("id"), f"artists[{i}].id")
        if old in artist_ids:
            raise RegistryImportError(f"artist id {old} appears twice")
        links = row.get("links") or []
        if not isinstance(links, list):
            raise RegistryImportError(f"artists[{i}].links must be a list")
        names = row.get("names") or []
        if not isinstance(names, list):
            raise RegistryImportError(f"artists[{i}].names must be a list")
        try:
            artist = add_artist(session, row.get("name") or "", aliases=_name_entries(names),
                                sort_name=row.get("sort_name"), links=links, living=row.get("living"),
                                birth_year=_int(row.get("birth_year"), "birth_year", True),
                                death_year=_int(row.get("death_year"), "death_year", True))
        except (RegistryError, KeyError, TypeError) as exc:
            raise RegistryImportError(f"artists[{i}]: {exc}") from None
        artist.created_at = _when(row.get("created_at"), "created_at") or artist.created_at
        artist.updated_at = _when(row.get("updated_at"), "updated_at") or artist.updated_at
        artist_ids[old] = artist.id  # type: ignore[index]

    def artist_of(value: Any, what: str) -> int:
        old = _int(value, what)
        if old not in artist_ids:
            raise RegistryImportError(f"{what} {old} is not an artist in the document")
        return artist_ids[old]  # type: ignore[index]

    work_ids: dict[int, int] = {}
    for i, row in enumerate(_rows(doc, "works")):
        old = _int(row.get("id"), f"works[{i}].id")
        try:
            work = Work(artist_id=artist_of(row.get("artist_id"), f"works[{i}].artist_id"),
                        title=row.get("title"), location=row.get("location"), sha256=_sha256(row.get("sha256")),
                        phash64=phash_to_db(_int(row.get("phash64"), "phash64", True)),
                        pdq256=_pdq_hex(row.get("pdq256")), origin=row.get("origin"), verdict=row.get("verdict"))
        except (RegistryError, ValueError) as exc:
            raise RegistryImportError(f"works[{i}]: {exc}") from None
        work.created_at = _when(row.get("created_at"), "created_at") or work.created_at
        session.add(work)
        session.flush()
        work_ids[old] = work.id  # type: ignore[index]

    def work_of(value: Any, what: str, optional: bool = False) -> int | None:
        old = _int(value, what, optional)
        if old is None:
            return None
        if old not in work_ids:
            raise RegistryImportError(f"{what} {old} is not a work in the document")
        return work_ids[old]

    terms = _rows(doc, "terms")
    for i, row in enumerate(terms):
        try:
            scopes = {s: parse_permission(row.get(s)) for s in SCOPES}
        except RegistryError as exc:
            raise RegistryImportError(f"terms[{i}]: {exc}") from None
        start = _day(row.get("valid_from"), "valid_from")
        if start is None:
            raise RegistryImportError(f"terms[{i}].valid_from is missing")
        t = ConsentTerms(artist_id=artist_of(row.get("artist_id"), f"terms[{i}].artist_id"),
                         work_id=work_of(row.get("work_id"), f"terms[{i}].work_id", optional=True),
                         valid_from=start, valid_to=_day(row.get("valid_to"), "valid_to"),
                         note=row.get("note"), source=row.get("source"), **scopes)
        t.created_at = _when(row.get("created_at"), "created_at") or t.created_at
        session.add(t)

    influences = _rows(doc, "influences")
    for i, row in enumerate(influences):
        level = row.get("level")
        if level == "artist":
            model: Any = ArtistInfluence
            ends = (artist_of(row.get("source_id"), f"influences[{i}].source_id"),
                    artist_of(row.get("target_id"), f"influences[{i}].target_id"))
        elif level == "work":
            model = WorkInfluence
            ends = (work_of(row.get("source_id"), f"influences[{i}].source_id"),
                    work_of(row.get("target_id"), f"influences[{i}].target_id"))
        else:
            raise RegistryImportError(f"influences[{i}].level must be 'artist' or 'work'")
        edge = model(source_id=ends[0], target_id=ends[1], note=row.get("note"),
                     source_of_claim=row.get("source_of_claim"))
        edge.created_at = _when(row.get("created_at"), "created_at") or edge.created_at
        session.add(edge)
    session.flush()
    return {"artists": len(artist_ids), "works": len(work_ids), "terms": len(terms), "influences": len(influences)}


def read_any(path: str | Path) -> dict[str, Any]:
    """A ``.json`` file or a folder of CSV files."""
    p = Path(path)
    return read_csv_folder(p) if p.is_dir() else read_json(p)


__all__ = ["export_document", "export_json", "export_csv", "import_document", "read_json", "read_csv_folder",
           "read_any", "RegistryImportError", "CSV_FILES"]
