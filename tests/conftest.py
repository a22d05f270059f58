"""Shared fixtures.

PostgreSQL: tests marked ``@pytest.mark.postgres`` use ``postgres_url`` (the server named by
ARTLINEAGE_TEST_POSTGRES_URL, e.g. from ``bash scripts/start-test-postgres.sh``; skipped when unset)
and ``fresh_postgres_url``, a database created for the one test and dropped after it.
"""

from __future__ import annotations

import os
import uuid

import pytest


def _psycopg_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("ARTLINEAGE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("ARTLINEAGE_TEST_POSTGRES_URL is not set (bash scripts/start-test-postgres.sh)")
    pytest.importorskip("psycopg")
    return _psycopg_url(url)


@pytest.fixture
def fresh_postgres_url(postgres_url: str):
    """A new, empty database on the test server for one test (``postgresql+psycopg://`` URL)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"artl_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
