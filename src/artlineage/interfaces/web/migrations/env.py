"""Alembic environment of the web platform's own tables (users, sessions, API keys, media).

Run through :func:`artlineage.interfaces.web.db.upgrade_platform`, which passes an open connection
in ``config.attributes["connection"]``. The platform keeps its own version table so it can share a
database with the artists' registry, whose history is separate.
"""

from __future__ import annotations

from alembic import context

from artlineage.interfaces.web.models import PlatformBase

VERSION_TABLE = "artlineage_platform_version"

config = context.config


def _include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # Only compare our own tables: the registry's live in the same database.
    return type_ != "table" or name in PlatformBase.metadata.tables


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(connection=connection, target_metadata=PlatformBase.metadata, version_table=VERSION_TABLE,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                      include_object=_include)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
