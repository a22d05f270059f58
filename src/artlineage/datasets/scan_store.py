"""The scan database: one row per scanned file, stored through SQLAlchemy.

SQLite (WAL mode, a commit per batch) by default, any SQLAlchemy URL otherwise. A scan killed
at any point loses at most the uncommitted batch, which the next run simply rescans: rows are
upserted by path, so nothing is lost and nothing is duplicated.

The schema is managed by Alembic (``datasets/migrations``, version table ``artlineage_scan_version``),
like the registry's and the platform's; opening a store brings its database up to date.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from sqlalchemy import JSON, BigInteger, DateTime, Float, Integer, String, Text, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from .._db import make_engine
from .._inspect import FileReport

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "artlineage_scan_version"
INITIAL_REVISION = "s0001_scan_initial"
# The newest revision in migrations/versions (a test checks they agree): opening a store compares
# against it with one query instead of importing Alembic on every CLI start.
HEAD_REVISION = "s0001_scan_initial"


class ScanBase(DeclarativeBase):
    pass


class ScannedFile(ScanBase):
    __tablename__ = "scanned_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(String(4096), unique=True, index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    format: Mapped[str | None] = mapped_column(String(16))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(32), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    generator: Mapped[str | None] = mapped_column(String(128), index=True)
    explanation: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[Any]] = mapped_column(JSON)
    conflicts: Mapped[list[Any]] = mapped_column(JSON)
    generation: Mapped[list[Any]] = mapped_column(JSON)
    warnings: Mapped[list[Any]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    scanned_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


@dataclass
class StoreSummary:
    total: int
    by_origin: dict[str, int]
    by_generator: dict[str, int]
    errors: int


def _stored_revision(engine: Engine) -> str | None:
    """The revision in the version table, or None when there is none (new or pre-Alembic database)."""
    try:
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    except DBAPIError:  # no version table yet
        return None


def upgrade_scan_db(db: str | Path | Engine, revision: str = "head") -> str | None:
    """Run ``alembic upgrade head`` on a scan database; safe to repeat. Returns the new revision.

    A database whose ``scanned_files`` table was made without Alembic (``metadata.create_all``,
    before the scan schema had migrations) is stamped with the initial revision first, so its rows
    are kept and later migrations apply.
    """
    from .._migrate import upgrade_schema

    return upgrade_schema(db, script_location=MIGRATIONS_DIR, version_table=VERSION_TABLE,
                          legacy_tables=[ScannedFile.__tablename__], initial_revision=INITIAL_REVISION,
                          make_engine=make_engine, revision=revision)


class ScanStore:
    """Read and write scan rows. Safe to reopen: the schema is brought up to date on open."""

    def __init__(self, db: str | Path):
        self.engine = make_engine(db)
        self._upsert: Any = None
        if _stored_revision(self.engine) != HEAD_REVISION:
            upgrade_scan_db(self.engine)

    def known_files(self) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) of every stored row, to skip unchanged files on rescan."""
        with Session(self.engine) as s:
            return {p: (size, mt) for p, size, mt in s.execute(
                select(ScannedFile.path, ScannedFile.size, ScannedFile.mtime_ns))}

    def known_paths(self, paths: list[str]) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) for those of ``paths`` already stored (one query per 500 paths)."""
        out: dict[str, tuple[int, int]] = {}
        with Session(self.engine) as s:
            for i in range(0, len(paths), 500):
                out.update({p: (size, mt) for p, size, mt in s.execute(
                    select(ScannedFile.path, ScannedFile.size, ScannedFile.mtime_ns)
                    .where(ScannedFile.path.in_(paths[i:i + 500])))})
        return out

    def upsert(self, rows: Iterable[tuple[FileReport, int]]) -> int:
        """Write (report, mtime_ns) pairs in one transaction, replacing rows with the same path."""
        values = [_row_values(r, mtime) for r, mtime in rows]
        if not values:
            return 0
        with self.engine.begin() as conn:
            # executemany with one cached statement: compiling a multi-VALUES insert per batch
            # cost more than inspecting the files.
            conn.execute(self._upsert_statement(), values)
        return len(values)

    def _upsert_statement(self) -> Any:
        if self._upsert is None:
            if self.engine.dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            stmt = insert(ScannedFile)
            cols = [c.name for c in ScannedFile.__table__.columns if c.name not in ("id", "path")]
            self._upsert = stmt.on_conflict_do_update(index_elements=["path"],
                                                      set_={c: stmt.excluded[c] for c in cols})
        return self._upsert

    def rows(self, origin: str | None = None) -> Iterator[ScannedFile]:
        with Session(self.engine) as s:
            q = select(ScannedFile).order_by(ScannedFile.path)
            if origin:
                q = q.where(ScannedFile.origin == origin)
            for row in s.scalars(q).yield_per(1000):
                yield row

    def summary(self) -> StoreSummary:
        with Session(self.engine) as s:
            by_origin = dict(s.execute(select(ScannedFile.origin, func.count()).where(ScannedFile.error.is_(None))
                                       .group_by(ScannedFile.origin)).all())
            by_gen = dict(s.execute(select(ScannedFile.generator, func.count())
                                    .where(ScannedFile.generator.is_not(None)).group_by(ScannedFile.generator)).all())
            errors = s.scalar(select(func.count()).where(ScannedFile.error.is_not(None))) or 0
            total = s.scalar(select(func.count()).select_from(ScannedFile)) or 0
        return StoreSummary(total, dict(Counter(by_origin).most_common()), dict(Counter(by_gen).most_common()), errors)


def _row_values(report: FileReport, mtime_ns: int) -> dict[str, Any]:
    v = report.verdict
    return {
        "path": report.path, "size": report.size, "mtime_ns": mtime_ns, "sha256": report.sha256,
        "format": report.format, "width": report.width, "height": report.height,
        "origin": v.origin.value if v else "error" if report.error else "unknown",
        "confidence": float(v.confidence) if v else 0.0,
        "generator": v.generator if v else None,
        "explanation": v.explanation if v else None,
        "evidence": [e.to_dict() for e in v.evidence] if v else [],
        "conflicts": list(v.conflicts) if v else [],
        "generation": [g.to_dict() for g in report.generation], "warnings": report.warnings, "error": report.error,
        "scanned_at": dt.datetime.now(dt.timezone.utc),
    }
