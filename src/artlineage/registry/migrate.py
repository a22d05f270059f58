"""Open registry databases and bring their schema up to date with Alembic, programmatically.

No ``alembic.ini`` is needed: the Config is built here with ``script_location`` pointing at the
``migrations`` folder inside the installed package.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine, make_url

from ..datasets.scan_store import make_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "artlineage_registry_version"
INITIAL_REVISION = "0001_initial"
_INITIAL_TABLES = {"artists", "artist_names", "works", "consent_terms", "artist_influences", "work_influences"}


def registry_url(db: str | Path) -> str:
    """A path means SQLite; ``postgresql://`` URLs are pointed at the psycopg 3 driver."""
    text = str(db)
    if "://" not in text:
        return f"sqlite:///{Path(text)}"
    url = make_url(text)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _sqlite_foreign_keys(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")  # SQLite ignores ON DELETE CASCADE without it
    cur.close()


def make_registry_engine(db: str | Path) -> Engine:
    engine = make_engine(registry_url(db))  # WAL for SQLite, as for the scan store
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_foreign_keys)
    return engine


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade_registry(db: str | Path | Engine, revision: str = "head") -> str | None:
    """Run ``alembic upgrade head`` on a registry database; safe to repeat. Returns the new revision.

    A database whose registry tables were made without Alembic (``metadata.create_all``) is stamped
    with the initial revision first, so its data is kept and later migrations apply.
    """
    engine = db if isinstance(db, Engine) else make_registry_engine(db)
    try:
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            tables = set(inspect(conn).get_table_names())
            if VERSION_TABLE not in tables and _INITIAL_TABLES <= tables:
                command.stamp(cfg, INITIAL_REVISION)
            command.upgrade(cfg, revision)
        return current_revision(engine)
    finally:
        if not isinstance(db, Engine):
            engine.dispose()
