"""Rate limits shared by worker processes: one bucket per key however many app instances serve it."""

from __future__ import annotations

import pytest

from .conftest import make_user


def _limiter(engine, media_dir):
    from artlineage.interfaces.web.ratelimit import SharedRateLimiter, limiter_engine
    return SharedRateLimiter(limiter_engine(engine, media_dir))


def _bucket_refills(limiter) -> None:
    assert [limiter.allow("k", 60, now=1000.0)[0] for _ in range(60)] == [True] * 60
    ok, wait = limiter.allow("k", 60, now=1000.0)
    assert not ok and 0.9 < wait <= 1.0
    assert limiter.allow("k", 60, now=1001.0)[0]
    assert not limiter.allow("k", 60, now=1001.0)[0]
    assert not limiter.allow("k", 60, now=990.0)[0]  # a clock going back refills nothing
    assert [limiter.allow("k", 60, now=5000.0)[0] for _ in range(61)] == [True] * 60 + [False]  # burst = rate
    assert limiter.allow("other", 1, now=1000.0)[0] and not limiter.allow("other", 1, now=1001.0)[0]


def test_bucket_refills_on_sqlite(tmp_path):
    from artlineage.interfaces.web.db import open_platform_engine
    limiter = _limiter(open_platform_engine(tmp_path / "p.sqlite"), tmp_path / "media")
    _bucket_refills(limiter)
    assert (tmp_path / "media" / "ratelimits.sqlite").exists()  # not the platform database
    limiter.close()


@pytest.mark.postgres
def test_bucket_refills_on_postgresql(fresh_postgres_url, tmp_path):
    from artlineage.interfaces.web.db import open_platform_engine
    engine = open_platform_engine(fresh_postgres_url)
    limiter = _limiter(engine, tmp_path / "media")
    _bucket_refills(limiter)
    limiter.close()
    engine.dispose()


def test_api_key_rate_limit(client, app):
    from sqlalchemy import select

    from artlineage.interfaces.web import auth as A
    from artlineage.interfaces.web.models import User
    make_user(app, "a@example.org", "Alice Example")
    with app.state.platform.session() as s, s.begin():
        slow = A.create_api_key(s, s.scalar(select(User)), "slow", rate_per_minute=3).secret
    codes = [client.get("/v1/artists", headers={"Authorization": f"Bearer {slow}"}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429


def test_two_app_instances_share_one_limit(app, tmp_path):
    """Two apps on the same database and media folder stand for two uvicorn workers."""
    from fastapi.testclient import TestClient

    from artlineage.interfaces.web import create_app
    _aid, _key = make_user(app, "a@example.org", "Alice Example")
    with app.state.platform.session() as s, s.begin():
        from sqlalchemy import select

        from artlineage.interfaces.web import auth as A
        from artlineage.interfaces.web.models import User
        key = A.create_api_key(s, s.scalar(select(User)), "four", rate_per_minute=4).secret
    other = create_app(tmp_path / "p.sqlite", tmp_path / "media", secret_key="test-secret", upgrade=False,
                       anonymous_rate_per_minute=3)
    app.state.anonymous_rate = 3
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as one, TestClient(other) as two:
        codes = [c.get("/v1/artists", headers=headers).status_code for c in (one, two, one, two, one, two)]
        assert codes == [200, 200, 200, 200, 429, 429]
        r = two.get("/v1/artists", headers=headers)
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 15
        # Anonymous calls: one bucket per client address, shared the same way.
        anon = [c.get("/v1/artists").status_code for c in (one, two, one, two)]
        assert anon == [200, 200, 200, 429]
