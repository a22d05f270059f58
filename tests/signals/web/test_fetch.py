"""SSRF safety (after DNS, on every redirect), size caps, retries, the on-disk cache."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from artlineage.signals.web import SafeFetcher, check_url_async, is_public_address
from artlineage.signals.web._fetch import FetchCache
from tests._webserver import LoopbackServer


@pytest.mark.parametrize("ip,public", [("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.1", False),
                                       ("169.254.169.254", False), ("224.0.0.1", False), ("::1", False),
                                       ("fe80::1", False), ("::ffff:127.0.0.1", False), ("0.0.0.0", False),
                                       ("240.0.0.1", False), ("100.64.0.1", False), ("93.184.216.34", True)])
def test_public_address(ip, public):
    assert is_public_address(ip) is public


def run(coro):
    return asyncio.run(coro)


def test_loopback_refused_without_allow_private():
    with LoopbackServer() as s:
        s.route("127.0.0.1", "/x", body="hi")

        async def go(allow):
            async with SafeFetcher(allow_private=allow, retries=0) as f:
                return await f.fetch(s.url("127.0.0.1", "/x"))

        refused = run(go(False))
        assert refused.error and "refused" in refused.error and not s.hits
        assert run(go(True)).body == b"hi"


def test_redirect_from_public_host_to_loopback_is_refused():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.host} {request.headers['host']}")
        return httpx.Response(302, headers={"Location": "http://internal.test/secret"})

    async def resolver(host, port):
        return {"public.test": ["93.184.216.34"], "internal.test": ["127.0.0.1"]}[host]

    async def go():
        async with SafeFetcher(transport=httpx.MockTransport(handler), resolver=resolver, retries=0) as f:
            return await f.fetch("http://public.test/img.jpg")

    result = run(go())
    assert seen == ["93.184.216.34 public.test"]  # pinned IP, original Host header
    assert result.error and "internal.test" in result.error and result.redirects == ["http://public.test/img.jpg"]


def test_redirect_cap_and_size_cap():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/big":
            return httpx.Response(200, content=b"x" * 2_000_000)
        return httpx.Response(301, headers={"Location": "/loop"})

    async def resolver(host, port):
        return ["93.184.216.34"]

    async def go():
        async with SafeFetcher(transport=httpx.MockTransport(handler), resolver=resolver, retries=0,
                               max_redirects=3) as f:
            return await f.fetch("http://p.test/loop"), await f.fetch("http://p.test/big", max_bytes=1000)

    loop, big = run(go())
    assert "redirects" in loop.error and len(loop.redirects) == 4
    assert big.truncated and len(big.body) == 1000


def test_retries_with_backoff_then_success():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(503 if len(calls) < 3 else 200, content=b"ok")

    async def resolver(host, port):
        return ["93.184.216.34"]

    async def go():
        async with SafeFetcher(transport=httpx.MockTransport(handler), resolver=resolver, retries=2,
                               backoff=0.01) as f:
            return await f.fetch("http://p.test/")

    assert run(go()).body == b"ok" and len(calls) == 3


def test_cache_ttl(tmp_path):
    with LoopbackServer() as s:
        s.route("127.0.0.1", "/robots.txt", body="User-agent: *\nDisallow: /\n")
        cache = FetchCache(tmp_path / "c.sqlite", ttl_seconds=3600)

        async def go():
            async with SafeFetcher(allow_private=True, cache=cache) as f:
                a = await f.fetch(s.url("127.0.0.1", "/robots.txt"))
                b = await f.fetch(s.url("127.0.0.1", "/robots.txt"))
                return a, b

        a, b = run(go())
        assert not a.from_cache and b.from_cache and b.body == a.body and len(s.hits) == 1
        cache.ttl = -1
        assert cache.get("GET", s.url("127.0.0.1", "/robots.txt")) is None


def test_check_url_against_live_server_hostile_files():
    with LoopbackServer() as s:
        s.route("127.0.0.1", "/robots.txt", body="User-agent: GPTBot\nDisallow: /\n")
        s.route("127.0.0.1", "/.well-known/tdmrep.json", body="[" * 100_000)
        s.route("127.0.0.1", "/ai.txt", body=b"\xff" * 600_000)
        s.route("127.0.0.1", "/page", headers={"Content-Type": "text/html", "X-Robots-Tag": "otherbot: noai"},
                body='<html><head><meta name="robots" content="noimageai"></head></html>')

        async def go():
            async with SafeFetcher(allow_private=True) as f:
                return await check_url_async(s.url("127.0.0.1", "/page"), f)

        result = run(go())
        assert {e.reader for e in result.evidence} == {"robots", "x-robots-tag", "meta-robots"}
        assert set(result.errors) == {"tdmrep.json", "ai.txt"}


def test_head_and_get_reuse_connections():
    with LoopbackServer() as s:
        s.route("127.0.0.1", "*", headers={"Content-Type": "image/jpeg"}, body=b"\xff\xd8")

        async def go():
            async with SafeFetcher(allow_private=True, per_host_concurrency=2) as f:
                sem = asyncio.Semaphore(2)

                async def one(i):
                    async with sem:
                        return await f.fetch(s.url("127.0.0.1", f"/{i}.jpg"), method="HEAD" if i % 2 else "GET")
                return await asyncio.gather(*(one(i) for i in range(30)))

        results = run(go())
        assert all(r.status == 200 for r in results) and len(s.hits) == 30
        assert s.connections <= 2  # keep-alive: not a TCP connect per request
