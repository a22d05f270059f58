"""Request bodies are refused by Content-Length before any byte is read, and counted while streaming
when there is none; ids past the database's 64-bit range answer 404/422, never 500."""

from __future__ import annotations

import asyncio
import json

import pytest

from .conftest import make_user

MiB = 1024 * 1024


def _call(app, method: str, path: str, *, headers: dict[str, str], chunks: int, chunk: bytes = b"x" * 65536,
          query: str = "", first: bytes | None = None) -> tuple[int, int, bytes]:
    """Drive the ASGI app by hand: a body of ``chunks`` chunks. Returns (status, chunks the app read, body)."""
    read = 0
    sent: list[dict] = []

    async def receive():
        nonlocal read
        if read >= chunks:
            return {"type": "http.disconnect"}
        read += 1
        body = first if read == 1 and first is not None else chunk
        return {"type": "http.request", "body": body, "more_body": read < chunks}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], read, body


MULTIPART = "multipart/form-data; boundary=xyz"
FILE_PART = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n' \
            b"Content-Type: image/png\r\n\r\n" + b"x" * (65536 - 100)


@pytest.mark.parametrize("method,path,ctype", [
    ("POST", "/v1/verdict", MULTIPART), ("POST", "/v1/consent", MULTIPART), ("POST", "/v1/works", MULTIPART),
    ("POST", "/upload", MULTIPART), ("POST", "/v1/prompt", "application/json"),
    ("POST", "/signin", "application/x-www-form-urlencoded"),
])
def test_oversized_content_length_is_refused_before_reading(app, method, path, ctype):
    """A 50 MiB declared body: 413 at once, not one chunk read (before: the whole body was spooled)."""
    status, read, _body = _call(app, method, path, chunks=800,
                                headers={"content-type": ctype, "content-length": str(800 * 65536)})
    assert (status, read) == (413, 0)


@pytest.mark.parametrize("method,path,ctype,limit", [
    ("POST", "/v1/verdict", MULTIPART, 2 * MiB + 256 * 1024), ("POST", "/upload", MULTIPART, 2 * MiB + 256 * 1024),
    ("POST", "/v1/prompt", "application/json", 256 * 1024),
])
def test_body_without_length_is_counted_while_streaming(app, method, path, ctype, limit):
    """Chunked bodies (no Content-Length) stop being read just past the route's ceiling."""
    first = FILE_PART if ctype == MULTIPART else b'{"text": "' + b"y" * (65536 - 10)
    status, read, _body = _call(app, method, path, chunks=800, headers={"content-type": ctype}, first=first)
    assert status == 413
    assert read == limit // 65536 + 1


def test_body_limits_are_configurable_per_route(tmp_path):
    from artlineage.interfaces.web import create_app
    app = create_app(tmp_path / "p.sqlite", tmp_path / "m", secret_key="s", pixels=False, prewarm=False,
                     body_limits={"POST /v1/prompt": 1000}, max_body_bytes=5000)
    body = json.dumps({"text": "y" * 2000}).encode()
    status, _read, _b = _call(app, "POST", "/v1/prompt", chunks=1, chunk=body,
                              headers={"content-type": "application/json", "content-length": str(len(body))})
    assert status == 413
    form = b"x=" + b"y" * 6000
    status, _read, _b = _call(app, "POST", "/signin", chunks=1, chunk=form,
                              headers={"content-type": "application/x-www-form-urlencoded",
                                       "content-length": str(len(form))})
    assert status == 413


def test_small_bodies_still_work(client):
    r = client.post("/v1/prompt", json={"text": "a castle by Alice Nobody"})
    assert r.status_code == 200  # the prompt guard ships in the same wheel: never 501 here
    assert r.json() == {"decision": "allow", "matches": []}


BIG = str(2 ** 63)
HUGE = "9" * 40


# One rule per kind of route: an HTML page whose id in the path cannot exist is a 404 page (a person
# followed a bad link); a query parameter past 64 bits, and every id the JSON API validates, is a 422.
@pytest.mark.parametrize(("path", "status"), [
    (f"/artists/{HUGE}", 404), (f"/artists/{BIG}", 404), (f"/?before={BIG}", 422),
    (f"/artists/1?before={BIG}", 422), (f"/works/{BIG}", 404), (f"/artists/1/works/{BIG}", 404),
    ("/artists/1/terms", 200), (f"/media/{BIG}/{BIG}/thumb", 404),
    (f"/v1/works/{BIG}", 422), (f"/v1/works/{HUGE}/card", 422), (f"/v1/works/{BIG}/terms", 422),
    (f"/v1/works/{BIG}/lineage", 422), (f"/v1/artists/{BIG}", 422), (f"/v1/artists/{BIG}/terms", 422),
    (f"/v1/artists/{BIG}/lineage", 422), (f"/v1/works?before={BIG}", 422), (f"/v1/works?artist_id={BIG}", 422),
])
def test_ids_past_64_bits_are_not_found_or_invalid(client, app, path, status):
    make_user(app, "a@example.org", "Alice Example")
    r = client.get(path, follow_redirects=False)
    assert r.status_code == status, (path, r.status_code, r.text[:200])


def test_ids_past_64_bits_in_writes(client, app):
    aid, key = make_user(app, "a@example.org", "Alice Example")
    h = {"Authorization": f"Bearer {key}"}
    assert client.post(f"/v1/artists/{aid}/influences", json={"target_id": 2 ** 63}, headers=h).status_code == 422
    assert client.patch(f"/v1/works/{BIG}", json={"title": "x"}, headers=h).status_code == 422
    assert client.delete(f"/v1/works/{BIG}", headers=h).status_code == 422
    assert client.delete(f"/v1/keys/{BIG}", headers=h).status_code == 422


@pytest.mark.postgres
def test_ids_past_64_bits_on_postgresql(fresh_postgres_url, tmp_path):
    """PostgreSQL's driver binds a huge int as numeric instead of refusing it: the same statuses as on
    SQLite (404 for an HTML page's path id, 422 for a query parameter or an API id), never 500."""
    from fastapi.testclient import TestClient

    from artlineage.interfaces.web import create_app
    app = create_app(fresh_postgres_url, tmp_path / "m", secret_key="s", pixels=False)
    aid, key = make_user(app, "a@example.org", "Alice Example")
    with TestClient(app, raise_server_exceptions=False) as c:
        for path, status in ((f"/artists/{BIG}", 404), (f"/?before={BIG}", 422), (f"/artists/{aid}?before={BIG}", 422),
                             (f"/works/{BIG}", 404), (f"/artists/{aid}/works/{BIG}", 404),
                             (f"/media/{BIG}/{BIG}/thumb", 404), (f"/v1/works/{BIG}", 422),
                             (f"/v1/works?before={BIG}", 422), (f"/artists/{HUGE}", 404),
                             (f"/v1/works/{2 ** 40}", 404), (f"/artists/{2 ** 40}", 404)):
            assert c.get(path, follow_redirects=False).status_code == status, path
        r = c.post(f"/v1/artists/{aid}/influences", json={"target_id": 2 ** 63},
                   headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 422
    app.state.platform.engine.dispose()


def test_any_route_taking_a_file_gets_the_upload_ceiling(tmp_path):
    """A route added later with an UploadFile parameter (an avatar, a preview) is not held to the small
    JSON/form ceiling, and still refused past the upload one."""
    from fastapi import File

    from artlineage.interfaces.web import create_app
    app = create_app(tmp_path / "p.sqlite", tmp_path / "m", secret_key="s", pixels=False, prewarm=False,
                     max_upload_bytes=2 * MiB)

    async def avatar(item: int, file=File(...)) -> dict:  # noqa: ANN001 - no annotation: this module's are strings
        return {"size": len(await file.read())}
    app.post("/extra/{item}/avatar")(avatar)

    body = FILE_PART[:FILE_PART.index(b"\r\n\r\n") + 4] + b"x" * MiB + b"\r\n--xyz--\r\n"
    status, _read, answer = _call(app, "POST", "/extra/7/avatar", chunks=1, chunk=body,
                                  headers={"content-type": MULTIPART, "content-length": str(len(body))})
    assert (status, answer) == (200, json.dumps({"size": MiB}).replace(" ", "").encode())
    status, read, _answer = _call(app, "POST", "/extra/7/avatar", chunks=800,
                                  headers={"content-type": MULTIPART, "content-length": str(800 * 65536)})
    assert (status, read) == (413, 0)
    form = b"x=" + b"y" * (300 * 1024)  # a form without a file keeps the small ceiling
    status, _read, _answer = _call(app, "POST", "/signin", chunks=1, chunk=form,
                                   headers={"content-type": "application/x-www-form-urlencoded",
                                            "content-length": str(len(form))})
    assert status == 413
