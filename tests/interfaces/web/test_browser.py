"""The platform in headless Chromium (Debian's package, as CI installs it): the artist's whole flow
(sign up → confirm the mail → verify identity → upload → preview → publish → edit → delete), the
visitor's "human-made only" and "evidence-backed only" views, and every page at 1280 and 390 px
checked with axe-core (no serious or critical violation) and for sideways scrolling. Screenshots of
the main pages are written to ``$ARTLINEAGE_TEST_ARTIFACTS`` (default: a temporary folder) as test
artifacts, never into the repository."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from http.server import HTTPServer
from pathlib import Path

import pytest

from .conftest import a1111_png, png_bytes
from .test_accounts import _Inbox
from .test_trust import _photo, _Site

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[3]
WIDTHS = (1280, 390)


def _axe_source() -> str | None:
    for candidate in (os.environ.get("ARTLINEAGE_AXE_JS"), REPO / "node_modules/axe-core/axe.min.js",
                      Path("/usr/lib/node_modules/axe-core/axe.min.js"),
                      Path("/usr/local/lib/node_modules/axe-core/axe.min.js")):
        if candidate and Path(candidate).exists():
            return Path(candidate).read_text()
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A live platform (uvicorn on loopback) with a local SMTP server and an artist's "website"."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (CI installs Debian's chromium)")
    pytest.importorskip("playwright.sync_api")
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    import uvicorn

    from artlineage.interfaces.web import create_app
    from artlineage.interfaces.web.mail import SmtpConfig
    tmp = tmp_path_factory.mktemp("browser")
    inbox = _Inbox()
    smtp_port = _free_port()
    smtp = controller_mod.Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    web = HTTPServer(("127.0.0.1", 0), _Site)
    web_thread = threading.Thread(target=web.serve_forever, daemon=True)
    web_thread.start()
    app = create_app(tmp / "b.sqlite", tmp / "media", secret_key="k", pixels=False, verify_allow_private=True,
                     smtp=SmtpConfig("127.0.0.1", smtp_port), anonymous_rate_per_minute=None)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    artifacts = Path(os.environ.get("ARTLINEAGE_TEST_ARTIFACTS") or tmp / "artifacts")
    artifacts.mkdir(parents=True, exist_ok=True)
    try:
        yield {"base": f"http://127.0.0.1:{port}", "app": app, "inbox": inbox, "tmp": tmp, "artifacts": artifacts,
               "web": f"http://127.0.0.1:{web.server_address[1]}"}
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        web.shutdown()
        web.server_close()
        smtp.stop()


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def _badges(page) -> list[tuple[str, str]]:
    return page.locator(".tile .badge").evaluate_all("els => els.map(e => [e.dataset.badge, e.dataset.source])")


def test_artist_flow_and_visitor_views(site, browser):
    base, tmp = site["base"], site["tmp"]
    files = {"gen.png": a1111_png(), "sketch.png": _photo(11), "plain.png": png_bytes(color=(10, 120, 200))}
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    # sign up, keeping what was typed when the password is too short
    page.goto(base + "/signup")
    page.fill("input[name=artist_name]", "Browser Artist")
    page.fill("input[name=email]", "browser@example.org")
    page.fill("input[name=password]", "correct horse battery")
    page.click("main button:has-text('Sign up')")
    page.wait_for_selector("h1:has-text('Check your e-mail')")
    assert not [c for c in page.context.cookies() if c["name"] == "al_session"]  # sign-up alone never signs in
    # confirm the e-mail address with the link from the mail the local SMTP server received: it signs in
    mail = next(body for to, body in site["inbox"].messages if to == ["browser@example.org"])
    page.goto(base + re.search(r"/verify-email/\S+", mail).group(0))
    page.wait_for_url("**/account?confirmed=1")
    assert "E-mail address confirmed" in page.content() and "✓ confirmed" in page.content()
    # verify identity: the token goes on the artist's website
    page.goto(base + "/account/verify")
    token = re.search(r"artlineage-verify=\S+", page.locator("p.mono").inner_text()).group(0)
    _Site.body = f"<html><body><p>Portfolio of Browser Artist. {token}</p></body></html>".encode()
    page.fill("input[name=url]", site["web"] + "/about")
    page.click("main button:has-text('Check the page')")
    page.wait_for_url("**/artists/*")
    assert "✓ verified artist" in page.content()
    # upload → preview → publish, three times: AI metadata (declared "none"), a sketch declared human, one not stated
    for name, use in (("gen.png", "none"), ("sketch.png", "none"), ("plain.png", "not_stated")):
        page.goto(base + "/upload")
        assert page.locator("select[name=declared_ai_use]").input_value() == "not_stated"
        page.set_input_files("input[name=file]", str(tmp / name))
        page.fill("input[name=title]", name.removesuffix(".png").title())
        page.click("main button:has-text('Check and preview')")
        page.wait_for_selector("h1:has-text('Preview before publishing')")
        assert page.locator("form[action='/upload/publish'] input[name=title]").input_value() == name[:-4].title()
        page.select_option("form[action='/upload/publish'] select[name=declared_ai_use]", use)
        page.click("main button:has-text('Publish')")
        page.wait_for_url("**/works/*?notice=published")
    assert page.locator(".badge").first.get_attribute("data-badge") == "unknown"
    # edit: correct the declaration of the last one
    page.click("a:has-text('Edit or correct')")
    page.select_option("select[name=declared_ai_use]", "generated")
    page.fill("input[name=title]", "Plain, corrected")
    page.click("main button:has-text('Save')")
    page.wait_for_url("**notice=saved")
    assert page.locator("h1").inner_text() == "Plain, corrected"
    assert page.locator(".summary .badge").get_attribute("data-source") == "declared"
    # the visitor's views
    visitor = browser.new_page(viewport={"width": 1280, "height": 900})
    visitor.goto(base + "/")
    assert sorted(_badges(visitor)) == [["ai", "declared"], ["ai", "file"], ["human", "declared"]]
    visitor.check("#human-only")  # the small script submits the filter form
    visitor.wait_for_url("**human_only=true**")
    assert _badges(visitor) == [["human", "declared"]]
    visitor.goto(base + "/?evidence_only=true")
    assert _badges(visitor) == [["ai", "file"]]
    assert visitor.locator("h1").inner_text() == "Evidence-backed works"
    # delete the corrected work (the confirm dialog is accepted)
    page.once("dialog", lambda d: d.accept())
    page.click("main button:has-text('Delete')")
    page.wait_for_url("**/artists/*")
    visitor.goto(base + "/")
    assert len(_badges(visitor)) == 2
    visitor.close()
    page.close()


def _copy_of_an_axe_work() -> bytes:
    """A mirrored, JPEG-recompressed copy of "Axe work 2" (found by the copy detector)."""
    import io

    from PIL import Image
    im = Image.open(io.BytesIO(_photo(13, (480, 260)))).convert("RGB").transpose(Image.FLIP_LEFT_RIGHT)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    return out.getvalue()


def _pages(site) -> dict[str, str]:
    """Every page kind, by name → path (data from the flow test or made here)."""
    from artlineage.interfaces.web import auth
    from artlineage.registry import Registry
    app = site["app"]
    platform = app.state.platform
    with platform.session() as s, s.begin():
        if Registry.in_session(s).find_artist("Axe Artist") is None:
            artist = Registry.in_session(s).add_artist("Axe Artist", living=True)
            user = auth.create_user(s, "axe@example.org", "correct horse battery", artist_id=artist.id, is_admin=True)
            for i, data in enumerate((a1111_png(), _photo(12, (300, 420)), _photo(13, (480, 260)))):
                platform.add_upload(s, user, artist.id, data, filename=f"axe{i}.png", title=f"Axe work {i}",
                                    declared_ai_use="none" if i == 1 else "not_stated")
        artist = Registry.in_session(s).find_artist("Axe Artist")
        work_id = max(w.id for w in Registry.in_session(s).list_works(artist.id))
    return {"gallery": "/", "human-only": "/?human_only=true", "evidence-only": "/?evidence_only=true",
            "artists": "/artists", "artist": f"/artists/{artist.id}", "work": f"/works/{work_id}",
            "upload": "/upload", "find": "/find", "signin": "/signin", "signup": "/signup", "reset": "/reset",
            "about": "/about", "not-found": "/artists/999999", "account": "/account", "verify": "/account/verify",
            "edit": f"/works/{work_id}/edit", "admin": "/admin", "docs": "/docs", "redoc": "/redoc"}


SIGNED_IN = {"account", "verify", "edit", "admin"}
SCREENSHOTS = {"gallery", "work", "artist", "upload", "find", "evidence-only"}


def test_every_page_has_no_serious_axe_violation_and_no_sideways_scroll(site, browser):
    axe = _axe_source()
    if axe is None:
        pytest.skip("axe-core is not installed: npm install --no-save axe-core (CI does)")
    base = site["base"]
    pages = _pages(site)
    problems = []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(base + "/signin")
        page.fill("input[name=email]", "axe@example.org")
        page.fill("input[name=password]", "correct horse battery")
        page.click("main button:has-text('Sign in')")
        page.wait_for_load_state()
        anon = context.browser.new_context(viewport={"width": width, "height": 900}).new_page()
        for name, path in pages.items():
            tab = page if name in SIGNED_IN else anon
            tab.goto(base + path)
            tab.wait_for_load_state("networkidle")
            if name in ("docs", "redoc"):
                tab.wait_for_selector("#swagger-ui .info, #redoc h1, #redoc .api-info", timeout=15_000)
                assert tab.locator("body").inner_text().count("artlineage platform") >= 1, name
            else:
                # evaluated through the DevTools protocol: the page's CSP (script-src 'self') stays on
                tab.evaluate(axe + "\n;window.axe = axe; true")
                result = tab.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
                for v in result["violations"]:
                    if v["impact"] in ("serious", "critical"):
                        problems.append(f"{name}@{width}: {v['id']} ({v['impact']}): "
                                        f"{[n['target'] for n in v['nodes']][:3]}")
                overflow = tab.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 0:
                    problems.append(f"{name}@{width}: {overflow}px sideways scroll")
            if name in SCREENSHOTS or name in ("docs", "admin", "account"):
                tab.screenshot(path=str(site["artifacts"] / f"{name}-{width}.png"), full_page=width == 390)
        # the pages that answer an upload: "find my work" results and the preview, with a copy found
        # (its evidence unfolded, the widest content those pages have)
        for name, tab, path, button in (("find-results", anon, "/find", "Search"),
                                        ("preview", page, "/upload", "Check and preview")):
            tab.goto(base + path)
            tab.set_input_files("main input[type=file]", files=[{"name": "copy.jpg", "mimeType": "image/jpeg",
                                                                "buffer": _copy_of_an_axe_work()}])
            tab.click(f"main button:has-text('{button}')")
            tab.wait_for_load_state("networkidle")
            assert tab.locator(".matches li").count() == 1, name
            tab.click(".matches summary")
            tab.evaluate(axe + "\n;window.axe = axe; true")
            result = tab.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
            problems += [f"{name}@{width}: {v['id']} ({v['impact']})" for v in result["violations"]
                         if v["impact"] in ("serious", "critical")]
            overflow = tab.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                problems.append(f"{name}@{width}: {overflow}px sideways scroll")
            tab.screenshot(path=str(site["artifacts"] / f"{name}-{width}.png"), full_page=True)
        anon.context.close()
        context.close()
    assert not problems, "\n".join(problems)
    assert (site["artifacts"] / "gallery-1280.png").stat().st_size > 10_000
