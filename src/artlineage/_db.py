"""SQLAlchemy engines for every artlineage database (scan store, artists' registry, web platform).

A path means a SQLite file; anything with ``://`` is a SQLAlchemy URL, and ``postgresql://`` is
pointed at the psycopg 3 driver (the ``postgres`` extra), not SQLAlchemy's psycopg2 default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

# Named constraints so that migrations (and SQLite batch mode) can address them by name; shared by
# every schema artlineage keeps.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



def database_url(db: str | Path) -> str:
    """A path means SQLite; ``postgresql://`` URLs are pointed at the psycopg 3 driver."""
    text = str(db)
    if "://" not in text:
        return f"sqlite:///{Path(text)}"
    url = make_url(text)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _sqlite_pragmas(*, foreign_keys: bool):  # type: ignore[no-untyped-def]
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")  # a killed writer never corrupts committed batches
        cur.execute("PRAGMA synchronous=NORMAL")
        if foreign_keys:
            cur.execute("PRAGMA foreign_keys=ON")  # SQLite ignores ON DELETE CASCADE without it
        cur.close()
    return on_connect


def make_engine(db: str | Path, *, foreign_keys: bool = False, **engine_options: Any) -> Engine:
    """Engine for ``db`` (see :func:`database_url`); SQLite runs in WAL mode, with foreign keys if asked.
    ``engine_options`` go to ``create_engine`` (e.g. a pool's size)."""
    engine = create_engine(database_url(db), **engine_options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(foreign_keys=foreign_keys))
    return engine
