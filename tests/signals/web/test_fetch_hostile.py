"""The fetcher against a hostile server on loopback: every fetch ends with a result, in bounded
time and memory, whatever the server sends.

Each test measures its own fetch: wall time with ``perf_counter`` and the Python heap peak with
``tracemalloc`` (bytes objects, zlib/brotli output and httpx buffers are all on that heap).
"""

from __future__ import annotations

import asyncio
import functools
import time
import tracemalloc
import zlib

import pytest

from artlineage.signals.web import SafeFetcher, check_url_async
from tests._webserver import LoopbackServer

MiB = 1024 * 1024
CAP = 512 * 1024  # the fetcher's default body cap


def deflated_zeros(size: int, wbits: int = 31) -> bytes:
    """A stream that inflates to ``size`` zero bytes, built in milliseconds whatever the size.

    ``wbits``: 31 gzip, 15 zlib-wrapped deflate, -15 raw deflate (zlib's convention).

    After a full flush the compressor has no history, so every further MiB of zeros compresses to
    the same bytes: one block is repeated instead of compressing a GiB. The trailer's CRC is then
    wrong, which does not matter: the fetcher must stop decoding long before reaching it.
    """
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    zeros = bytes(MiB)
    first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    return first + block * (size // MiB - 1) + c.flush()


def gzip(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


@functools.cache
def gib_twice_gzipped() -> bytes:
    return gzip(deflated_zeros(1024 * MiB))  # 1 GiB of zeros, 1.8 kB on the wire


def head(status: int = 200, headers: list[tuple[str, str]] = (), length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers] + ["Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def fixed(body: bytes, headers: list[tuple[str, str]] = (), status: int = 200):
    async def respond(writer):
        writer.write(head(status, headers, len(body)) + body)
    return respond


async def local_resolver(host: str, port: int) -> list[str]:
    if host.endswith(".test"):
        return ["127.0.0.1"]
    raise OSError(f"no such host {host}")


@pytest.fixture(scope="module")
def server():
    with LoopbackServer() as s:
        yield s


def bounded_fetch(url: str, *, seconds: float, heap_bytes: int, **options):
    """Fetch ``url`` and assert the whole call stayed within ``seconds`` and ``heap_bytes``."""

    async def go():
        options.setdefault("retries", 0)
        async with SafeFetcher(allow_private=True, resolver=local_resolver, **options) as fetcher:
            return await fetcher.fetch(url)

    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = asyncio.run(go())
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < seconds, f"fetch took {elapsed:.1f} s"
    assert peak < heap_bytes, f"fetch peaked at {peak / MiB:.1f} MiB of heap"
    return result


# ----- decoded-size cap: counted while decoding, for every encoding and stacked encodings ------

@pytest.mark.parametrize("encoding_headers", [
    [("Content-Encoding", "gzip, gzip")],
    [("Content-Encoding", "gzip"), ("Content-Encoding", "gzip")],  # the same stack as two headers
])
def test_twice_gzipped_gigabyte_is_cut_at_the_cap_as_it_is_decoded(server, encoding_headers):
    server.route_raw("bomb.test", "/gzgz", fixed(gib_twice_gzipped(), encoding_headers))
    result = bounded_fetch(server.url("bomb.test", "/gzgz"), seconds=10, heap_bytes=16 * MiB)
    assert result.error is None and result.status == 200
    assert result.truncated and result.body == bytes(CAP)


@pytest.mark.parametrize("name, wbits", [
    ("deflate", 15),  # zlib-wrapped, as RFC 9110 means it
    ("deflate", -15),  # raw deflate, as some servers send it
    ("x-gzip", 31),
])
def test_single_encoding_bombs_are_cut_at_the_cap(server, name, wbits):
    body = deflated_zeros(1024 * MiB, wbits)
    server.route_raw("bomb.test", f"/{name}{wbits}", fixed(body, [("Content-Encoding", name)]))
    result = bounded_fetch(server.url("bomb.test", f"/{name}{wbits}"), seconds=10, heap_bytes=16 * MiB)
    assert result.error is None and result.truncated and result.body == bytes(CAP)


def _brotli():
    brotli = pytest.importorskip("brotli")
    if not hasattr(brotli.Decompressor, "can_accept_more_data"):
        pytest.skip("this brotli cannot bound its output (needs brotli >= 1.2)")
    return brotli


def test_brotli_bomb_and_brotli_over_gzip_are_cut_at_the_cap(server):
    brotli = _brotli()
    compressor = brotli.Compressor(quality=1)
    zeros = bytes(MiB)
    br = b"".join(compressor.process(zeros) for _ in range(256)) + compressor.finish()
    server.route_raw("bomb.test", "/br", fixed(br, [("Content-Encoding", "br")]))
    server.route_raw("bomb.test", "/gzbr", fixed(brotli.compress(deflated_zeros(256 * MiB)),
                                                 [("Content-Encoding", "gzip, br")]))
    for path in ("/br", "/gzbr"):
        result = bounded_fetch(server.url("bomb.test", path), seconds=10, heap_bytes=16 * MiB)
        assert result.error is None and result.truncated and result.body == bytes(CAP), path


def test_small_encoded_bodies_decode_exactly(server):
    text = b"User-agent: *\nDisallow: /private/\n" * 10
    server.route_raw("ok.test", "/gz", fixed(gzip(gzip(text)), [("Content-Encoding", "gzip, gzip")]))
    server.route_raw("ok.test", "/deflate", fixed(zlib.compress(text), [("Content-Encoding", "deflate")]))
    server.route_raw("ok.test", "/id", fixed(text, [("Content-Encoding", "identity")]))
    for path in ("/gz", "/deflate", "/id"):
        result = bounded_fetch(server.url("ok.test", path), seconds=5, heap_bytes=4 * MiB)
        assert (result.error, result.truncated, result.body) == (None, False, text), path


@pytest.mark.parametrize("encoding, body, reason", [
    ("compress", b"\x1f\x9d\x90data", "unsupported Content-Encoding 'compress'"),
    ("gzip", b"this is not gzip at all", "cannot decode the gzip body"),
    (", ".join(["gzip"] * 6), gzip(b"x"), "6 stacked content encodings (at most 3)"),
])
def test_undecodable_bodies_are_errors_with_a_reason(server, encoding, body, reason):
    server.route_raw("bad.test", "/body", fixed(body, [("Content-Encoding", encoding)]))
    result = bounded_fetch(server.url("bad.test", "/body"), seconds=5, heap_bytes=4 * MiB)
    assert result.error is not None and reason in result.error and result.body == b""


# ----- time: a total deadline per fetch, not only a per-read timeout ------------------------

@pytest.mark.parametrize("what, start, drop", [
    ("body", head(200, [("Content-Type", "text/plain")]), lambda i: b"x"),
    ("headers", b"HTTP/1.1 200 OK\r\n", lambda i: f"X-Slow-{i}: y\r\n".encode()),
])
def test_a_drip_feed_is_stopped_by_the_total_deadline(server, what, start, drop):
    async def drip(writer):
        writer.write(start)
        for i in range(600):  # a drop every 0.2 s: never idle long enough for the read timeout
            writer.write(drop(i))
            await writer.drain()
            await asyncio.sleep(0.2)

    server.route_raw("drip.test", f"/{what}", drip)
    result = bounded_fetch(server.url("drip.test", f"/{what}"), seconds=4, heap_bytes=4 * MiB,
                           timeout=2.0, deadline=1.5)
    assert result.error == "no complete response within the 1.5 s deadline"


def test_the_deadline_covers_retries_too(server):
    async def slow_503(writer):
        await asyncio.sleep(0.6)
        writer.write(head(503, [], 0))

    server.route_raw("drip.test", "/503", slow_503)
    result = bounded_fetch(server.url("drip.test", "/503"), seconds=3, heap_bytes=4 * MiB,
                           retries=10, backoff=0.01, deadline=1.5)
    assert result.error == "no complete response within the 1.5 s deadline"


# ----- size: endless bodies and header floods --------------------------------------------

def test_an_endless_body_is_cut_at_the_cap(server):
    async def endless(writer):
        writer.write(head(200, [("Content-Type", "image/jpeg")]))  # no length: ends at close, never
        chunk = b"\xff" * 65536
        while True:
            writer.write(chunk)
            await writer.drain()

    server.route_raw("endless.test", "/img.jpg", endless)
    result = bounded_fetch(server.url("endless.test", "/img.jpg"), seconds=5, heap_bytes=8 * MiB)
    assert result.error is None and result.truncated and result.body == b"\xff" * CAP


def test_an_endless_header_is_an_error(server):
    async def flood(writer):
        writer.write(b"HTTP/1.1 200 OK\r\n")
        while True:
            writer.write(b"X-Flood: " + b"y" * 4000 + b"\r\n")
            await writer.drain()

    server.route_raw("endless.test", "/headers", flood)
    result = bounded_fetch(server.url("endless.test", "/headers"), seconds=5, heap_bytes=8 * MiB)
    assert result.error is not None and result.status is None


# ----- redirects -----------------------------------------------------------------------

def test_a_redirect_loop_ends_at_the_hop_cap(server):
    server.route("loop.test", "/a", 302, {"Location": "/b"})
    server.route("loop.test", "/b", 301, {"Location": server.url("loop.test", "/a")})
    result = bounded_fetch(server.url("loop.test", "/a"), seconds=5, heap_bytes=4 * MiB, max_redirects=5)
    assert result.error == "more than 5 redirects" and len(result.redirects) == 6


@pytest.mark.parametrize("location, reason", [
    ("http://loop.test:99999/x", "malformed URL 'http://loop.test:99999/x': port 99999 is out of range"),
    ("http://0177.0.0.1/x", "malformed URL 'http://0177.0.0.1/x': Invalid IPv4 address: '0177.0.0.1'"),
    ("http://[::1/x", "malformed URL 'http://[::1/x'"),
    ("http://exa\x7fmple.test/", "malformed URL 'http://exa\\x7fmple.test/'"),
    ("javascript:alert(1)", "refused non-http(s) URL 'javascript:alert(1)'"),
    ("file:///etc/passwd", "refused non-http(s) URL 'file:///etc/passwd'"),
    ("http://:80/x", "malformed URL 'http://:80/x': no host"),
])
def test_a_redirect_to_a_malformed_url_is_an_error_with_a_reason(server, location, reason):
    async def redirect(writer):
        writer.write(head(302, [("Location", location)], 0))

    server.route_raw("loop.test", "/to-bad", redirect)
    result = bounded_fetch(server.url("loop.test", "/to-bad"), seconds=5, heap_bytes=4 * MiB)
    assert result.error is not None and result.error.startswith(reason), result.error
    assert result.redirects == [server.url("loop.test", "/to-bad")]


def test_an_empty_or_scheme_relative_location_is_not_an_error(server):
    server.route("loop.test", "/empty", 302, {"Location": ""})
    server.route("loop.test", "/same-scheme", 302, {"Location": "http:/target"})  # RFC 3986: a path
    server.route("loop.test", "/target", 200, body="here")
    empty = bounded_fetch(server.url("loop.test", "/empty"), seconds=5, heap_bytes=4 * MiB)
    assert (empty.error, empty.status) == (None, 302)
    same = bounded_fetch(server.url("loop.test", "/same-scheme"), seconds=5, heap_bytes=4 * MiB)
    assert (same.error, same.status, same.body) == (None, 200, b"here")


@pytest.mark.parametrize("url, reason", [
    ("http://0177.0.0.1:9/x", "malformed URL 'http://0177.0.0.1:9/x': Invalid IPv4 address"),
    ("http://[::1]:99999/", "malformed URL 'http://[::1]:99999/': port 99999 is out of range"),
    ("http:host/x", "malformed URL 'http:host/x': no host"),
    ("", "malformed URL '': no host"),
    ("   ", "malformed URL '   ': no host"),
])
def test_a_malformed_url_is_an_error_with_a_reason(url, reason):
    result = bounded_fetch(url, seconds=2, heap_bytes=4 * MiB)
    assert result.error is not None and result.error.startswith(reason), result.error


# ----- what a remote caller is told ---------------------------------------------------------

def test_errors_name_the_host_never_the_address_it_resolved_to(server):
    async def resolver(host, port):
        return {"internal.test": ["10.20.30.40"], "closed.test": ["127.0.0.1"]}[host]

    async def go():
        async with SafeFetcher(resolver=resolver, retries=0) as private_refused, \
                SafeFetcher(resolver=resolver, retries=0, allow_private=True) as allowed:
            return (await private_refused.fetch("http://internal.test/x"),
                    await allowed.fetch("http://closed.test:9/x"))

    refused, closed = asyncio.run(go())
    assert refused.error == ("refused internal.test: it resolves only to non-public addresses "
                             "(pass allow_private to fetch private/loopback hosts)")
    assert closed.error is not None and closed.error.startswith("ConnectError")
    assert "10.20.30.40" not in refused.error and "127.0.0.1" not in closed.error


# ----- wrong content types and garbage where a policy file should be -----------------------------

def test_site_files_of_the_wrong_type_are_per_file_errors_or_ignored(server):
    server.route("types.test", "/robots.txt", headers={"Content-Type": "image/png"},
                 body=b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    server.route("types.test", "/.well-known/tdmrep.json", headers={"Content-Type": "text/html"},
                 body="<html><body>not json</body></html>")
    server.route_raw("types.test", "/ai.txt", fixed(b"plain text, not gzip",
                                                    [("Content-Encoding", "gzip"), ("Content-Type", "text/plain")]))
    server.route("types.test", "/page.jpg", headers={"Content-Type": "text/html; charset=utf-8"},
                 body='<html><head><meta name="robots" content="noai"></head></html>')

    async def go():
        async with SafeFetcher(allow_private=True, resolver=local_resolver, retries=0) as fetcher:
            return await check_url_async(server.url("types.test", "/page.jpg"), fetcher)

    check = asyncio.run(go())
    assert [e.reader for e in check.evidence] == ["meta-robots"]
    assert set(check.errors) == {"tdmrep.json", "ai.txt"}
    assert "cannot decode the gzip body" in check.errors["ai.txt"]



def test_fetch_failures_raised_inside_are_typed_under_fetch_error():
    from artlineage.errors import ArtlineageError, FetchError
    from artlineage.signals.web import BodyDecodingError, MalformedURLError, validate_url

    assert issubclass(MalformedURLError, FetchError) and issubclass(BodyDecodingError, ArtlineageError)
    with pytest.raises(MalformedURLError, match="port 70000 is out of range"):
        validate_url("http://a.test:70000/")
    assert validate_url("https://a.test/x?y=1") == "https://a.test/x?y=1"


def test_check_url_of_a_malformed_url_is_an_error_without_a_fetch():
    async def go():
        async with SafeFetcher(resolver=local_resolver, retries=0) as fetcher:
            return await check_url_async("http://[::1/x", fetcher), fetcher.requests_sent

    check, sent = asyncio.run(go())
    assert (check.evidence, sent) == ([], 0)
    assert list(check.errors) == ["url"] and check.errors["url"].startswith("malformed URL 'http://[::1/x'")


def test_optout_against_a_site_of_bombs_and_drips_stays_bounded(server):
    """The reported scenario end to end: ``artlineage optout`` on a site whose robots.txt is a GiB of
    zeros gzipped twice and whose ai.txt drips; it answers, within the deadline and a few MiB."""
    import json

    from typer.testing import CliRunner

    from artlineage.interfaces.cli import app

    async def drip(writer):
        writer.write(head(200, [("Content-Type", "text/plain")]))
        for _ in range(600):
            writer.write(b"#")
            await writer.drain()
            await asyncio.sleep(0.2)

    server.route_raw("127.0.0.1", "/robots.txt", fixed(gib_twice_gzipped(), [("Content-Encoding", "gzip, gzip")]))
    server.route_raw("127.0.0.1", "/ai.txt", drip)
    server.route("127.0.0.1", "/art.jpg", headers={"Content-Type": "image/jpeg", "X-Robots-Tag": "noai"}, body=b"\xff\xd8")
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = CliRunner().invoke(app, ["optout", "--allow-private", "--deadline", "2",
                                          server.url("127.0.0.1", "/art.jpg")])
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [e["reader"] for e in out["evidence"]] == ["x-robots-tag"]
    assert out["errors"]["ai.txt"] == "no complete response within the 2 s deadline"
    assert elapsed < 6 and peak < 32 * MiB, (elapsed, peak / MiB)
