"""Open registry databases and bring their schema up to date with Alembic, programmatically.

No ``alembic.ini`` is needed: the Config is built here with ``script_location`` pointing at the
``migrations`` folder inside the installed package.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

from .. import _migrate
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
    """Alembic Config for the registry's migrations (or another folder)."""
    return _migrate.alembic_config(script_location)


def current_revision(engine: Engine, version_table: str = VERSION_TABLE) -> str | None:
    return _migrate.current_revision(engine, version_table)


def upgrade_registry(db: str | Path | Engine, revision: str = "head") -> str | None:
    """Run ``alembic upgrade head`` on a registry database; safe to repeat. Returns the new revision.

    A database whose registry tables were made without Alembic (``metadata.create_all``) is stamped
    with the initial revision first, so its data is kept and later migrations apply.
    """
    return _migrate.upgrade_schema(db, script_location=MIGRATIONS_DIR, version_table=VERSION_TABLE,
                                   legacy_tables=_INITIAL_TABLES, initial_revision=INITIAL_REVISION,
                                   make_engine=make_registry_engine, revision=revision)
