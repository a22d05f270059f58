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


# ---------------------------------------------------------------- abuse: sessions, uploads, key minting, headers

def _limited_app(tmp_path, **limits):
    from artlineage.interfaces.web import create_app
    from artlineage.interfaces.web.ratelimit import RateLimits
    return create_app(tmp_path / "p.sqlite", tmp_path / "media", secret_key="s", pixels=False,
                      rate_limits=RateLimits(**limits))


def _signed_in_client(app):
    import re

    from fastapi.testclient import TestClient
    c = TestClient(app)
    c.__enter__()
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/signin").text).group(1)
    assert c.post("/signin", data={"csrf": csrf, "email": "a@example.org", "password": "correct horse battery"},
                  follow_redirects=False).status_code == 303
    return c, re.search(r'name="csrf" value="([^"]+)"', c.get("/account").text).group(1)


def test_api_calls_with_a_session_cookie_are_limited(tmp_path):
    app = _limited_app(tmp_path, session_per_minute=3)
    make_user(app, "a@example.org", "Alice Example")
    c, _csrf = _signed_in_client(app)
    try:
        codes = [c.get("/v1/artists").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
    finally:
        c.__exit__(None, None, None)


def test_anonymous_uploads_are_limited_per_address(tmp_path):
    import re

    from fastapi.testclient import TestClient

    from .conftest import png_bytes
    app = _limited_app(tmp_path, uploads_per_minute=2)
    with TestClient(app) as c:
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/upload").text).group(1)
        codes = [c.post("/upload", data={"csrf": csrf}, files={"file": ("a.png", png_bytes(), "image/png")}).status_code
                 for _ in range(3)]
    assert codes == [200, 200, 429]


def test_a_key_cannot_mint_a_faster_key(client, app):
    from sqlalchemy import select

    from artlineage.interfaces.web import auth as A
    from artlineage.interfaces.web.models import User
    make_user(app, "a@example.org", "Alice Example")
    with app.state.platform.session() as s, s.begin():
        slow = A.create_api_key(s, s.scalar(select(User)), "slow", rate_per_minute=60).secret
    h = {"Authorization": f"Bearer {slow}"}
    r = client.post("/v1/keys", json={"name": "fast", "rate_per_minute": 100_000}, headers=h)
    assert r.status_code == 400 and "60" in r.json()["detail"]
    assert client.post("/v1/keys", json={"name": "same", "rate_per_minute": 60}, headers=h).status_code == 201


def test_operator_ceilings_on_key_rate_key_count_and_minting(tmp_path):
    app = _limited_app(tmp_path, max_key_rate=500, max_keys_per_account=3, key_mints_per_minute=100)
    _aid, key = make_user(app, "a@example.org", "Alice Example")  # one key already (rate 1000, minted directly)
    from fastapi.testclient import TestClient
    h = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as c:
        r = c.post("/v1/keys", json={"rate_per_minute": 501}, headers=h)
        assert r.status_code == 400 and "500" in r.json()["detail"]
        ids = [c.post("/v1/keys", json={"rate_per_minute": 500}, headers=h).json()["id"] for _ in range(2)]
        r = c.post("/v1/keys", json={}, headers=h)
        assert r.status_code == 400 and "3" in r.json()["detail"]
        assert c.delete(f"/v1/keys/{ids[0]}", headers=h).status_code == 200  # revoked keys do not count
        assert c.post("/v1/keys", json={}, headers=h).status_code == 201


def test_key_minting_is_rate_limited(tmp_path):
    app = _limited_app(tmp_path, key_mints_per_minute=2)
    _aid, key = make_user(app, "a@example.org", "Alice Example")
    from fastapi.testclient import TestClient
    with TestClient(app) as c:
        codes = [c.post("/v1/keys", json={}, headers={"Authorization": f"Bearer {key}"}).status_code
                 for _ in range(3)]
    assert codes == [201, 201, 429]


def test_account_page_minting_obeys_the_same_ceilings(tmp_path):
    app = _limited_app(tmp_path, max_key_rate=100)
    make_user(app, "a@example.org", "Alice Example")
    c, csrf = _signed_in_client(app)
    try:
        r = c.post("/account/keys", data={"csrf": csrf, "name": "k", "rate_per_minute": "101"})
        assert r.status_code == 400 and "100" in r.text
    finally:
        c.__exit__(None, None, None)


def test_rate_limit_headers(tmp_path):
    from sqlalchemy import select

    from artlineage.interfaces.web import auth as A
    from artlineage.interfaces.web.models import User
    app = _limited_app(tmp_path)
    make_user(app, "a@example.org", "Alice Example")
    with app.state.platform.session() as s, s.begin():
        key = A.create_api_key(s, s.scalar(select(User)), "five", rate_per_minute=5).secret
    from fastapi.testclient import TestClient
    with TestClient(app) as c:
        rs = [c.get("/v1/artists", headers={"Authorization": f"Bearer {key}"}) for _ in range(6)]
    assert [r.headers["ratelimit-limit"] for r in rs] == ["5"] * 6
    assert [r.headers["ratelimit-remaining"] for r in rs] == ["4", "3", "2", "1", "0", "0"]
    assert 0 <= int(rs[0].headers["ratelimit-reset"]) <= 12
    assert rs[-1].status_code == 429 and 1 <= int(rs[-1].headers["retry-after"]) <= 12


def test_worker_processes_read_the_operators_ceilings(monkeypatch):
    from artlineage.interfaces.web.app import rate_limits_from_env
    from artlineage.interfaces.web.ratelimit import RateLimits
    monkeypatch.setenv("ARTLINEAGE_RATE_LIMITS", '{"max_key_rate": 77, "max_keys_per_account": 2}')
    assert rate_limits_from_env() == RateLimits(max_key_rate=77, max_keys_per_account=2)
    with pytest.raises(ValueError, match="max_key_rate"):
        RateLimits(max_key_rate=0)


@pytest.mark.parametrize("error", ["pool", "locked"])
def test_an_overloaded_database_answers_503_not_500(client, app, monkeypatch, error):
    """Under a flood the connection pool runs dry (QueuePool timeout) or SQLite stays locked: the client
    is told to come back (503 + Retry-After), not given a server error."""
    from sqlalchemy.exc import OperationalError, TimeoutError

    def overloaded(*_a, **_k):
        if error == "pool":
            raise TimeoutError("QueuePool limit of size 5 overflow 10 reached, connection timed out")
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setattr(app.state.platform, "session", overloaded)
    r = client.get("/v1/artists")
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
    assert "busy" in r.json()["detail"]
