"""Alembic environment of the artists' registry.

Run through :func:`artlineage.registry.migrate.upgrade_registry`, which passes an open connection in
``config.attributes["connection"]``; the registry keeps its own version table so that it can share a
database with other artlineage schemas (the platform).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from artlineage.registry.models import RegistryBase

VERSION_TABLE = "artlineage_registry_version"

config = context.config
target_metadata = RegistryBase.metadata


def _configure(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER constraints: later migrations rebuild tables in batch mode.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _configure(conn)
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      version_table=VERSION_TABLE, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
