from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from .conftest import a1111_png, png_bytes


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
def test_browser_signup_upload_badge_filter_screenshot(tmp_path):
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium is not installed")
    playwright = pytest.importorskip("playwright.sync_api")
    import uvicorn

    from artlineage.interfaces.web import create_app
    app = create_app(tmp_path / "b.sqlite", tmp_path / "media", secret_key="k", pixels=False)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    ai_file, human_file = tmp_path / "gen.png", tmp_path / "sketch.png"
    ai_file.write_bytes(a1111_png())
    human_file.write_bytes(png_bytes(color=(10, 120, 200)))
    base = f"http://127.0.0.1:{port}"
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                              "--disable-component-update", "--disable-sync"])
            page = browser.new_page()
            page.goto(base + "/signup")
            page.fill("input[name=artist_name]", "Browser Artist")
            page.fill("input[name=email]", "browser@example.org")
            page.fill("input[name=password]", "correct horse battery")
            page.click("button:has-text('Sign up')")
            page.wait_for_url("**/artists/*")
            for f, use in ((ai_file, "none"), (human_file, "none")):
                page.goto(base + "/upload")
                page.set_input_files("input[name=file]", str(f))
                page.select_option("select[name=declared_ai_use]", use)
                page.click("button:has-text('Upload')")
                page.wait_for_url("**/works/*")
            assert page.locator(".badge-human").count() >= 1
            page.goto(base + "/")
            badges = page.locator(".card .badge").evaluate_all("els => els.map(e => e.dataset.badge)")
            assert sorted(badges) == ["ai", "human"]
            page.check("#human-only")  # the small script submits the filter form
            page.wait_for_url("**human_only=true**")
            badges = page.locator(".card .badge").evaluate_all("els => els.map(e => e.dataset.badge)")
            assert badges == ["human"]
            shot = tmp_path / "gallery.png"
            page.screenshot(path=str(shot), full_page=True)
            browser.close()
        assert shot.stat().st_size > 5_000
    finally:
        server.should_exit = True
        thread.join(timeout=10)
