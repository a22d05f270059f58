"""Open registry databases and bring their schema up to date with Alembic, programmatically.

No ``alembic.ini`` is needed: the Config is built here with ``script_location`` pointing at the
``migrations`` folder inside the installed package.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

from .._db import database_url, make_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "artlineage_registry_version"
INITIAL_REVISION = "0001_initial"
_INITIAL_TABLES = {"artists", "artist_names", "works", "consent_terms", "artist_influences", "work_influences"}

registry_url = database_url  # public name (re-exported by artlineage.registry)


def make_registry_engine(db: str | Path) -> Engine:
    """Engine for a registry database: WAL and foreign keys on SQLite, psycopg 3 on PostgreSQL."""
    return make_engine(db, foreign_keys=True)


def alembic_config(script_location: Path = MIGRATIONS_DIR) -> Config:
    """Alembic Config without an ini file (the platform passes its own migrations folder)."""
    from alembic.config import Config  # imported when migrating, not on every CLI start

    # stdout passed at call time: Config's default is bound when alembic is first imported, which
    # may be inside a captured stream (a CLI test runner) that is closed later.
    cfg = Config(stdout=sys.stdout)
    cfg.set_main_option("script_location", str(script_location))
    return cfg


def current_revision(engine: Engine, version_table: str = VERSION_TABLE) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": version_table}).get_current_revision()


def upgrade_registry(db: str | Path | Engine, revision: str = "head") -> str | None:
    """Run ``alembic upgrade head`` on a registry database; safe to repeat. Returns the new revision.

    A database whose registry tables were made without Alembic (``metadata.create_all``) is stamped
    with the initial revision first, so its data is kept and later migrations apply.
    """
    from alembic import command

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
