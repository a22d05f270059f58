from __future__ import annotations

import pytest

from .conftest import a1111_png


@pytest.mark.postgres
def test_platform_on_postgresql(fresh_postgres_url, tmp_path):
    from fastapi.testclient import TestClient

    from artlineage.interfaces.web import create_app
    from artlineage.interfaces.web.db import platform_revision

    from .conftest import make_user
    app = create_app(fresh_postgres_url, tmp_path / "media", secret_key="k", pixels=False)
    assert platform_revision(app.state.platform.engine) == "p0003_trust_accounts"
    _aid, key = make_user(app, "pg@example.org", "Pg Artist")
    with TestClient(app) as c:
        # start-up pre-warm: the pool's kept connections are open before the first request
        assert app.state.platform.engine.pool.checkedin() == app.state.platform.engine.pool.size()
        r = c.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                   files={"file": ("g.png", a1111_png(), "image/png")})
        assert r.status_code == 201, r.text
        assert c.get("/v1/works").json()["items"][0]["badge"] == "ai"
        assert "data-badge=\"ai\"" in c.get("/").text
    app.state.platform.engine.dispose()
