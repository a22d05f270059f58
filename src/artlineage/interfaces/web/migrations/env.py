"""Alembic environment of the web platform's own tables (users, sessions, API keys, media); run
through :func:`artlineage.interfaces.web.db.upgrade_platform`."""

from alembic import context

from artlineage._migrate import run_migrations
from artlineage.interfaces.web.db import VERSION_TABLE
from artlineage.interfaces.web.models import PlatformBase

run_migrations(context, PlatformBase.metadata, VERSION_TABLE)
