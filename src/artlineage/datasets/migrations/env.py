"""Alembic environment of the scan database (table ``scanned_files``).

Run through :func:`artlineage.datasets.scan_store.upgrade_scan_db`, which passes an open connection
in ``config.attributes["connection"]``. The scan schema keeps its own version table so that a scan
can share a database with the artists' registry or the platform, whose histories are separate.
"""

from __future__ import annotations

from alembic import context

from artlineage.datasets.scan_store import VERSION_TABLE, ScanBase

config = context.config


def _include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # Only compare our own tables: other artlineage schemas may live in the same database.
    return type_ != "table" or name in ScanBase.metadata.tables


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(connection=connection, target_metadata=ScanBase.metadata, version_table=VERSION_TABLE,
                      # SQLite cannot ALTER constraints: later migrations rebuild tables in batch mode.
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                      include_object=_include)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
