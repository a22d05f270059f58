"""Alembic, programmatically, for every schema artlineage keeps (scan, registry, platform).

No ``alembic.ini`` is needed: each part passes its own ``migrations`` folder inside the installed
package and its own version table, so the schemas can share one database. Alembic is imported only
when a migration may run, not on every CLI start.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(script_location: Path) -> Config:
    """Alembic Config without an ini file."""
    from alembic.config import Config

    # stdout passed at call time: Config's default is bound when alembic is first imported, which
    # may be inside a captured stream (a CLI test runner) that is closed later.
    cfg = Config(stdout=sys.stdout)
    cfg.set_main_option("script_location", str(script_location))
    return cfg


def current_revision(engine: Engine, version_table: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": version_table}).get_current_revision()


def upgrade_schema(db: str | Path | Engine, *, script_location: Path, version_table: str,
                   legacy_tables: Iterable[str], initial_revision: str,
                   make_engine: Callable[[str | Path], Engine], revision: str = "head") -> str | None:
    """``alembic upgrade`` one schema; safe to repeat. Returns the new revision.

    A database whose ``legacy_tables`` were made without Alembic (``metadata.create_all``) is stamped
    with ``initial_revision`` first, so its rows are kept and later migrations apply. A schema that
    always had migrations passes no legacy tables.
    """
    from alembic import command

    legacy = set(legacy_tables)
    engine = db if isinstance(db, Engine) else make_engine(db)
    try:
        cfg = alembic_config(script_location)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            tables = set(inspect(conn).get_table_names())
            if legacy and version_table not in tables and legacy <= tables:
                command.stamp(cfg, initial_revision)
            command.upgrade(cfg, revision)
        return current_revision(engine, version_table)
    finally:
        if not isinstance(db, Engine):
            engine.dispose()


def run_migrations(context, metadata, version_table: str) -> None:  # type: ignore[no-untyped-def]
    """The body of every artlineage ``migrations/env.py``.

    Online with the connection the upgrade helpers pass in ``config.attributes["connection"]`` (or
    one opened from ``sqlalchemy.url`` when Alembic's own command line runs it), offline as SQL.
    Each schema keeps its own version table and compares only its own tables, so the scan, registry
    and platform schemas can share one database.
    """
    config = context.config

    def include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
        return type_ != "table" or name in metadata.tables

    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                          version_table=version_table, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def configure(connection) -> None:  # type: ignore[no-untyped-def]
        context.configure(connection=connection, target_metadata=metadata, version_table=version_table,
                          # SQLite cannot ALTER constraints: later migrations rebuild tables in batch mode.
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                          include_object=include)
        with context.begin_transaction():
            context.run_migrations()

    connection = config.attributes.get("connection")
    if connection is not None:
        configure(connection)
        return
    from sqlalchemy import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as conn:
            configure(conn)
    finally:
        engine.dispose()
