"""Alembic environment of the scan database (table ``scanned_files``); run through
:func:`artlineage.datasets.scan_store.upgrade_scan_db`."""

from alembic import context

from artlineage._migrate import run_migrations
from artlineage.datasets.scan_store import VERSION_TABLE, ScanBase

run_migrations(context, ScanBase.metadata, VERSION_TABLE)
