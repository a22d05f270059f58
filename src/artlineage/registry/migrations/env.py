"""Alembic environment of the artists' registry; run through
:func:`artlineage.registry.migrate.upgrade_registry`."""

from alembic import context

from artlineage._migrate import run_migrations
from artlineage.registry.migrate import VERSION_TABLE
from artlineage.registry.models import RegistryBase

run_migrations(context, RegistryBase.metadata, VERSION_TABLE)
