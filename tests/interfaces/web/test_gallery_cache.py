"""The cached anonymous gallery: invalidated by writes (also from another worker), 304 on ETag and
Last-Modified; the verdict endpoint's metadata-only mode; the worker factory."""

from __future__ import annotations

import re

from .conftest import a1111_png, make_user, png_bytes


def _titles(page: str) -> list[str]:
    """The gallery's tile titles, newest first."""
    return re.findall(r'<a class="title" href="[^"]+">([^<]*)</a>', page)


def _artist_options(page: str) -> list[str]:
    form = page.split('<select name="artist"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="\d+" >([^<]*)</option>', form)


def _upload(client, key, title):
    color = tuple(hash(title) % 251 for _ in range(3))  # distinct bytes: the same file twice is one work
    r = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                    files={"file": ("w.png", png_bytes(color=color), "image/png")}, data={"title": title})
    assert r.status_code == 201, r.text
    return r.json()["work"]["id"]


def test_gallery_cache_is_invalidated_by_writes(client, app):
    _aid, key = make_user(app, "a@example.org", "Alice Example")
    _upload(client, key, "first harbour")
    assert _titles(client.get("/").text) == ["first harbour"]
    work_id = _upload(client, key, "second field")
    assert _titles(client.get("/").text) == ["second field", "first harbour"]  # the upload's commit bumped the version
    r = client.patch(f"/v1/works/{work_id}", headers={"Authorization": f"Bearer {key}"}, json={"title": "renamed"})
    assert r.status_code == 200
    assert _titles(client.get("/").text) == ["renamed", "first harbour"]


def test_filter_form_follows_the_data_version(client, app):
    """The filter form is rendered once per data version and set of filters: a new artist's first
    work shows in the artist options at once, and an unchanged version reuses the same rendering."""
    _aid, key = make_user(app, "a@example.org", "Alice Example")
    _upload(client, key, "a harbour")
    assert _artist_options(client.get("/").text) == ["Alice Example"]
    _bid, key_b = make_user(app, "b@example.org", "Bea Example")
    _upload(client, key_b, "a field")
    first = client.get("/").text
    assert _artist_options(first) == ["Alice Example", "Bea Example"]
    older = client.get("/?before=999999").text  # another page of the same filters: the same form
    assert older.split('<form class="filters"')[1].split("</form>")[0] == first.split('<form class="filters"')[1].split("</form>")[0]
    platform = app.state.platform
    forms = [k for k in platform._memo if k[0] == "filter_form"]
    # human_only's from the start-up pre-warm (an older version by now), then the one both pages used
    assert forms == [("filter_form", "", None, None, True, False), ("filter_form", "", None, None, False, False)]
    assert platform._memo[forms[1]][0] == platform.version()
    selected = client.get(f"/?artist={_bid}").text
    assert f'<option value="{_bid}" selected>Bea Example</option>' in selected
    assert _titles(selected) == ["a field"]


def test_per_version_memo_is_bounded_and_keyed_on_the_version(app):
    platform = app.state.platform
    platform.memo_entries = 3
    made = []
    for i in range(5):
        assert platform.per_version(("k", i), "v1", lambda i=i: made.append(i) or i * 10) == i * 10
    assert list(platform._memo) == [("k", 2), ("k", 3), ("k", 4)]  # the 3 most recently used
    assert platform.per_version(("k", 4), "v1", lambda: 0) == 40 and made == [0, 1, 2, 3, 4]
    assert platform.per_version(("k", 4), "v2", lambda: 41) == 41  # a new version: made again


def test_anonymous_misses_render_inline_and_searches_on_the_render_threads(client, app, monkeypatch):
    """On SQLite a page miss renders on the event loop (bounded: a 24-row index range scan), a search
    on the app's own render threads (2 on SQLite), not Starlette's; the anonymous page does not keep
    the gallery rows besides the rendered page."""
    import threading

    from artlineage.interfaces.web import ui
    _aid, key = make_user(app, "a@example.org", "Alice Example")
    _upload(client, key, "a work")
    threads = []
    real = ui._render_anonymous_gallery

    def spy(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(ui, "_render_anonymous_gallery", spy)
    platform = app.state.platform
    platform._gallery_cache.clear()
    for url in ("/?before=10", "/?artist=1&before=20", "/?q=work", "/?q=nothing"):
        assert client.get(url).status_code == 200
    assert [name.startswith("page-render") for name in threads] == [False, False, True, True]
    assert ui.renders_inline(platform, ui.GalleryQuery(before=10)) is True
    assert ui.renders_inline(platform, ui.GalleryQuery(q="work")) is False
    assert app.state.render_executor._max_workers == ui.render_threads(platform) == 2
    assert platform._gallery_cache == {}


def test_write_in_another_worker_invalidates_the_cache(client, app, tmp_path):
    from artlineage.interfaces.web import create_app
    _aid, key = make_user(app, "a@example.org", "Alice Example")
    _upload(client, key, "before")
    assert _titles(client.get("/").text) == ["before"]
    # A second app on the same database and media folder stands for another uvicorn worker process.
    other = create_app(tmp_path / "p.sqlite", tmp_path / "media", secret_key="test-secret", upgrade=False)
    with other.state.platform.session() as s, s.begin():
        from sqlalchemy import select

        from artlineage.interfaces.web.models import Media
        media = s.scalars(select(Media)).first()
        media.title = "changed elsewhere"
    assert _titles(client.get("/").text) == ["changed elsewhere"]


def test_gallery_answers_304_when_unchanged(client, app):
    _aid, key = make_user(app, "a@example.org", "Alice Example")
    _upload(client, key, "a work")
    r = client.get("/")
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache" and r.headers["tdm-reservation"] == "1"
    not_modified = client.get("/", headers={"If-None-Match": etag})
    assert (not_modified.status_code, not_modified.content, not_modified.headers["etag"]) == (304, b"", etag)
    assert client.get("/", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/?human_only=true", headers={"If-None-Match": etag}).status_code == 200
    _upload(client, key, "another work")
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 200


def test_signed_in_gallery_is_not_the_cached_page(client, app):
    make_user(app, "a@example.org", "Alice Example")
    assert "Sign out" not in client.get("/").text
    import re
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)
    r = client.post("/signin", data={"csrf": csrf, "email": "a@example.org", "password": "correct horse battery"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/")
    assert "Sign out" in page.text and page.headers["cache-control"] == "private, no-store"


def test_verdict_without_pixels(client, app):
    r = client.post("/v1/verdict?pixels=false", files={"file": ("a.png", a1111_png(), "image/png")})
    assert r.status_code == 200 and r.json()["verdict"]["origin"] == "ai_generated"
    r = client.post("/v1/verdict?pixels=false", files={"file": ("x.svg", b"<svg onload=alert(1)>", "image/svg+xml")})
    assert r.status_code == 415


def test_verdict_in_a_process_pool(tmp_path):
    from fastapi.testclient import TestClient

    from artlineage.interfaces.web import create_app
    app = create_app(tmp_path / "p.sqlite", tmp_path / "media", pixels=False, inspect_processes=1)
    with TestClient(app) as c:
        r = c.post("/v1/verdict", files={"file": ("a.png", a1111_png(), "image/png")})
        assert r.status_code == 200 and r.json()["verdict"]["origin"] == "ai_generated"
        r = c.post("/v1/verdict", files={"file": ("t.txt", b"<html>hi</html>", "text/plain")})
        assert r.status_code == 415  # UploadRejected survives the trip back from the worker process


def test_app_from_env(tmp_path, monkeypatch):
    from artlineage.interfaces.web import create_app
    from artlineage.interfaces.web.app import app_from_env
    create_app(tmp_path / "p.sqlite", tmp_path / "media")  # the parent migrates
    monkeypatch.setenv("ARTLINEAGE_DB", str(tmp_path / "p.sqlite"))
    monkeypatch.setenv("ARTLINEAGE_MEDIA", str(tmp_path / "media"))
    monkeypatch.setenv("ARTLINEAGE_ANONYMOUS_RATE", "0")
    monkeypatch.setenv("ARTLINEAGE_PIXELS", "0")
    app = app_from_env()
    assert app.state.anonymous_rate is None and app.state.platform.pixels is False


def test_server_workers_freeze_the_start_up_objects(tmp_path):
    """``freeze_gc`` (serve's workers): after the pre-warm every live object is in the collector's
    permanent generation, so full collections under load walk only what requests made."""
    import gc

    from fastapi.testclient import TestClient

    from artlineage.interfaces.web import create_app
    app = create_app(tmp_path / "p.sqlite", tmp_path / "media", secret_key="k", pixels=False, freeze_gc=True)
    gc.unfreeze()
    try:
        with TestClient(app):
            assert gc.get_freeze_count() > 10_000  # the imported modules' objects, at least
    finally:
        gc.unfreeze()  # the test process goes on collecting as before
    assert gc.get_freeze_count() == 0


def test_worker_start_up_prewarms_the_first_pages_and_optouts(app):
    """The lifespan fills the caches before the first request: the two anonymous first pages are
    in the page cache and every artist's opt-out is loaded, so the first visitors are cache hits."""
    from fastapi.testclient import TestClient
    aid, key = make_user(app, "a@example.org", "Alice Example")
    with TestClient(app) as c:
        _upload(c, key, "warm harbour")
    platform = app.state.platform
    platform._optout_cache.clear()
    app.state.page_cache = None
    with TestClient(app) as c:  # a fresh start-up of the same app (a new worker)
        cache = app.state.page_cache
        version = platform.version()
        from artlineage.interfaces.web.ui import GalleryQuery
        first = cache.get(GalleryQuery().key(), version)
        assert first is not None and _titles(first.body.decode()) == ["warm harbour"]
        human = cache.get(GalleryQuery(human_only=True).key(), version)
        assert human is not None and _titles(human.body.decode()) == []  # the PNG has no evidence of a human maker
        assert list(platform._optout_cache) == [aid]
        assert c.get("/", headers={"If-None-Match": first.etag}).status_code == 304  # served from the warm entry


def test_prewarm_can_be_switched_off(tmp_path):
    from fastapi.testclient import TestClient

    from artlineage.interfaces.web import create_app
    app = create_app(tmp_path / "p.sqlite", tmp_path / "media", secret_key="k", pixels=False, prewarm=False)
    with TestClient(app):
        assert getattr(app.state, "page_cache", None) is None


def test_concurrent_misses_of_one_page_render_it_once(app, monkeypatch):
    """Single flight: 20 anonymous visitors arriving together on an expired page cost one render (a
    search: the misses that go to the render threads; the others render inline, one at a time anyway)."""
    import asyncio
    import time as time_mod

    import httpx

    from artlineage.interfaces.web import ui

    calls = []
    real = ui._render_anonymous_gallery

    def slow_render(*args, **kwargs):
        calls.append(1)
        time_mod.sleep(0.2)  # long enough for every request to arrive during the render
        return real(*args, **kwargs)

    monkeypatch.setattr(ui, "_render_anonymous_gallery", slow_render)

    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await asyncio.gather(*(c.get("/?q=harbour") for _ in range(20)))

    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [200] * 20
    assert len({r.text for r in responses}) == 1
    assert len(calls) == 1


def test_threads_on_a_cold_platform_build_the_prompt_guard_once(app, monkeypatch):
    """Prompt checks run on the thread pool: a cold guard (or one after a write) is built once,
    by one thread, and every thread gets that guard."""
    import threading
    import time

    import artlineage.matching.prompt_guard as prompt_guard

    built = []
    real = prompt_guard.PromptGuard

    class SlowToBuild(real):
        def __init__(self, entries):
            built.append(1)
            time.sleep(0.2)  # a big registry: building takes a while, so the threads overlap
            super().__init__(entries)

    monkeypatch.setattr(prompt_guard, "PromptGuard", SlowToBuild)
    platform = app.state.platform
    barrier = threading.Barrier(8)
    guards = []

    def ask():
        barrier.wait()
        guards.append(platform.prompt_guard())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and len({id(g) for g in guards}) == 1 and isinstance(guards[0], SlowToBuild)


def test_cached_pages_are_answered_before_routing_with_the_same_response(client, app, monkeypatch):
    """CachedPagesFirst: once the handler has answered an exact query string, an anonymous repeat is
    served from the page cache without reaching the handler: same status, body and headers (security
    headers included), 304 on its ETag; a signed-in visitor, a new query string and an invalid one
    still reach the handler."""
    from artlineage.interfaces.web import ui
    _aid, key = make_user(app, "a@example.org", "Alice Example")
    _upload(client, key, "a harbour")
    handled = []
    real = ui._remember_query
    monkeypatch.setattr(ui, "_remember_query", lambda *a, **k: handled.append(a[1]) or real(*a, **k))
    first = client.get("/?human_only=false")
    again = client.get("/?human_only=false")
    assert handled == [b"human_only=false"]  # the second never reached the handler
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert dict(again.headers) == dict(first.headers)
    assert again.headers["x-frame-options"] == "DENY" and again.headers["cache-control"] == "no-cache"
    assert _titles(again.text) == ["a harbour"]
    not_modified = client.get("/?human_only=false", headers={"If-None-Match": first.headers["etag"]})
    assert (not_modified.status_code, handled) == (304, [b"human_only=false"])
    # not anonymous: the handler's per-visitor path (a bad key is refused there; with a session cookie
    # the page is rendered for the visitor, with a CSRF cookie, which the cached page never sets)
    assert client.get("/?human_only=false", headers={"Authorization": "Bearer nope"}).status_code == 401
    client.cookies.clear()
    client.cookies.set("al_session", "x")
    with_cookie = client.get("/?human_only=false")
    client.cookies.clear()
    assert with_cookie.status_code == 200 and "al_csrf=" in with_cookie.headers["set-cookie"]
    assert "set-cookie" not in again.headers
    assert client.get("/?q=" + "x" * 201).status_code == 422  # refused by validation, never remembered
    assert handled == [b"human_only=false"]
    _upload(client, key, "a field")  # a write: the cached page is stale, so the handler renders anew
    assert _titles(client.get("/?human_only=false").text) == ["a field", "a harbour"]
    assert handled == [b"human_only=false"] * 2


def test_inline_misses_never_wait_for_the_shared_pool(client, app):
    """A miss rendered on the event loop reads through the loop's own one-connection pool: with every
    connection of the shared pool held by request threads, the page still renders (the shared pool
    would have made the loop, and so every request of the worker, wait up to its 30 s timeout)."""
    _aid, key = make_user(app, "a@example.org", "Alice Example")
    _upload(client, key, "a work")
    platform = app.state.platform
    pool = platform.engine.pool
    pool._timeout = 0.5  # a wait would fail fast here instead of after 30 s
    held = [platform.engine.connect() for _ in range(pool.size() + pool._max_overflow)]
    try:
        assert _titles(client.get("/?before=999999").text) == ["a work"]
    finally:
        for conn in held:
            conn.close()
    assert platform._loop_engine.pool.size() == 1 and platform._loop_engine.pool._max_overflow == 0
