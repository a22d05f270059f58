"""Safe, polite HTTP fetching for web opt-out signals.

Why hand-written on top of httpx rather than httpx alone: httpx resolves names inside its
connection pool, so a check done *before* the request (resolve, vet, then let httpx resolve again)
is open to DNS rebinding. Here a transport resolves the name itself, refuses non-public addresses
(unless ``allow_private``), and connects to the *vetted IP* while keeping the Host header and TLS
SNI/certificate check on the original name. Redirects are followed by hand so every hop goes
through that check, with a hop cap. Bodies are read raw and decoded here (:class:`BodyDecoder`), so
the size cap counts *decoded* bytes as they are produced, through stacked encodings: httpx's own
decoders inflate a whole network chunk at once, and ``Content-Encoding: gzip, gzip`` turned a few
kB into a GiB before any cap could look. Every fetch (hops and retries together) has a total
deadline on top of the per-read timeout, so a server dripping one byte a second cannot hold it.

A :class:`FetchCache` (SQLite, with a TTL) keeps responses on disk so robots.txt, tdmrep.json and
ai.txt are fetched once per host across shards, processes and reruns.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import socket
import sqlite3
import ssl
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from urllib.parse import urljoin, urlsplit

import certifi
import httpx

from .agents import USER_AGENT
from ...errors import (BlockedAddressError, BodyDecodingError, FetchError, FetchTimeout,  # noqa: F401  (re-exported)
                      MalformedURLError, TooManyRedirects)

Resolver = Callable[[str, int], Awaitable[list[str]]]

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
RETRY_CODES = frozenset({429, 500, 502, 503, 504})
DEFAULT_MAX_BYTES = 512 * 1024
DEFAULT_DEADLINE = 30.0  # seconds for one whole fetch: every redirect hop and retry together
MAX_STACKED_ENCODINGS = 3
DECODE_STEP = 64 * 1024  # at most this much decoded output exists per encoding layer at a time


def validate_url(url: object) -> str:
    """``url`` if it can be fetched as written, else :class:`MalformedURLError` or :class:`FetchError`.

    The checks httpx makes when sending (``httpx.InvalidURL``, which is no ``httpx.HTTPError``), done
    up front so a bad row in a manifest, or a bad ``Location``, is that fetch's error with a reason.
    """
    if not isinstance(url, str):
        raise MalformedURLError(f"malformed URL {url!r}: not a string")
    try:
        parts = urlsplit(url)
        parsed = httpx.URL(url)
        port = parsed.port
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise MalformedURLError(f"malformed URL {url!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https", ""):
        raise FetchError(f"refused non-http(s) URL {url!r}")
    if not parsed.host or not parts.hostname:
        raise MalformedURLError(f"malformed URL {url!r}: no host")
    if parsed.scheme not in ("http", "https"):
        raise FetchError(f"refused non-http(s) URL {url!r}")
    if port is not None and not 0 < port < 65536:
        raise MalformedURLError(f"malformed URL {url!r}: port {port} is out of range")
    return url


class _Inflater:
    """gzip / deflate, inflated at most ``step`` bytes per call (zlib's ``max_length``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        # gzip: header and trailer; deflate: zlib-wrapped as RFC 9110 says, raw as some servers send.
        self._wbits = 16 + zlib.MAX_WBITS if name in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._d = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes, step: int) -> Iterator[bytes]:
        if self._d.eof:
            return  # bytes after the end of the stream (a second gzip member, trailing junk): ignored
        try:
            if not self._started and self.name == "deflate":
                self._started = True
                try:
                    first = zlib.decompressobj(zlib.MAX_WBITS)
                    out = first.decompress(data, step)
                    self._d = first
                except zlib.error:
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    out = self._d.decompress(data, step)
                data = self._d.unconsumed_tail
                if out:
                    yield out
                if not data and len(out) < step:
                    return
            while not self._d.eof:
                out = self._d.decompress(data, step)
                data = self._d.unconsumed_tail
                if out:
                    yield out
                if not data and len(out) < step:
                    return  # all input used and no output held back
        except zlib.error as exc:
            raise BodyDecodingError(f"cannot decode the {self.name} body: {exc}") from None


class _Unbrotli:
    """br, decoded at most ``step`` bytes per call (brotli >= 1.2's ``output_buffer_limit``)."""

    name = "br"

    def __init__(self, brotli) -> None:  # type: ignore[no-untyped-def]
        self._brotli = brotli
        self._d = brotli.Decompressor()

    def feed(self, data: bytes, step: int) -> Iterator[bytes]:
        try:
            out = self._d.process(data, output_buffer_limit=step)
            if out:
                yield out
            while not self._d.can_accept_more_data() and not self._d.is_finished():
                out = self._d.process(b"", output_buffer_limit=step)
                if not out:
                    return
                yield out
        except self._brotli.error as exc:
            raise BodyDecodingError(f"cannot decode the br body: {exc}") from None


def _bounded_brotli():  # type: ignore[no-untyped-def]
    try:
        import brotli
    except ImportError:
        return None
    return brotli if hasattr(brotli.Decompressor, "can_accept_more_data") else None


class BodyDecoder:
    """Decodes a body's stacked Content-Encodings step by step, never holding more than a step.

    Hand-written because httpx's decoders (and zlib's one-shot API) inflate a whole network chunk
    in one call: a few kB of ``gzip, gzip`` become a GiB before the caller can count it. Here each
    layer yields at most :data:`DECODE_STEP` bytes before the next layer or the caller sees them,
    so the caller's cap stops the decoding itself. br is supported when a brotli that can bound its
    output (>= 1.2) is installed; other encodings are refused, as is a stack deeper than
    :data:`MAX_STACKED_ENCODINGS` (we ask for ``identity``; anything else is the server's choice).
    """

    def __init__(self, content_encodings: list[str], step: int = DECODE_STEP) -> None:
        names = [n.strip().lower() for v in content_encodings for n in v.split(",")]
        names = [n for n in names if n and n != "identity"]
        if len(names) > MAX_STACKED_ENCODINGS:
            raise BodyDecodingError(f"{len(names)} stacked content encodings (at most {MAX_STACKED_ENCODINGS})")
        layers: list[_Inflater | _Unbrotli] = []
        for name in reversed(names):  # the last encoding applied is the first undone
            if name in ("gzip", "x-gzip", "deflate"):
                layers.append(_Inflater(name))
            elif name == "br" and (brotli := _bounded_brotli()) is not None:
                layers.append(_Unbrotli(brotli))
            else:
                raise BodyDecodingError(f"unsupported Content-Encoding {name!r}")
        self.layers = layers
        self.step = step

    def feed(self, raw: bytes) -> Iterator[bytes]:
        """Decoded pieces of ``raw``, each at most ``step`` bytes; stop iterating to stop decoding."""
        return self._through(0, raw)

    def _through(self, depth: int, data: bytes) -> Iterator[bytes]:
        if depth == len(self.layers):
            if data:
                yield data
            return
        for piece in self.layers[depth].feed(data, self.step):
            yield from self._through(depth + 1, piece)


def is_public_address(ip: str) -> bool:
    """True for globally routable unicast addresses only (IPv4-mapped IPv6 unwrapped first)."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return bool(addr.is_global and not (addr.is_multicast or addr.is_reserved or addr.is_loopback
                                        or addr.is_link_local or addr.is_private or addr.is_unspecified))


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (an IP literal resolves to itself)."""
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


class _Client(httpx.AsyncClient):
    """An httpx client that leaves ``Location`` alone: :meth:`SafeFetcher.fetch` follows it by hand.

    httpx builds the next request of every redirect even with ``follow_redirects=False`` and raises
    ``RemoteProtocolError`` for a Location it cannot parse, before the caller sees the response.
    That error would be retried as a network fault and its message would not name the Location;
    the fetcher's own check (:func:`validate_url`) reports the bad URL with its reason instead.
    """

    def _build_redirect_request(self, request: httpx.Request, response: httpx.Response):  # type: ignore[no-untyped-def]
        try:
            return super()._build_redirect_request(request, response)
        except (httpx.RemoteProtocolError, httpx.InvalidURL, ValueError):
            return None


class PinnedTransport(httpx.AsyncBaseTransport):
    """Resolve, vet, then connect to the vetted IP; Host header and SNI keep the original name."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, resolver: Resolver = system_resolver,
                 allow_private: bool = False) -> None:
        self.inner = inner
        self.resolver = resolver
        self.allow_private = allow_private

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        try:
            addresses = await self.resolver(host, port)
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}", request=request) from exc
        if not addresses:
            raise httpx.ConnectError(f"{host} has no address", request=request)
        vetted = [a for a in addresses if self.allow_private or is_public_address(a)]
        if not vetted:
            # The address is not named: this message reaches remote callers (the platform's API),
            # and what an internal name resolves to is exactly what an SSRF probe wants to learn.
            raise BlockedAddressError(f"refused {host}: it resolves only to non-public addresses "
                                      f"(pass allow_private to fetch private/loopback hosts)")
        request.url = request.url.copy_with(host=vetted[0])
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        try:
            return await self.inner.handle_async_request(request)
        except httpx.TransportError as exc:
            message = str(exc)
            if vetted[0] not in message:
                raise
            # Connection errors name the address connected to ("Connect call failed ('10.0.0.5', 80)").
            raise type(exc)(message.replace(vetted[0], host), request=request) from None

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class FetchResult:
    url: str
    final_url: str
    method: str = "GET"
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)  # lower-cased names, repeats kept
    body: bytes = b""
    truncated: bool = False  # body cut at the size cap
    error: str | None = None
    redirects: list[str] = field(default_factory=list)
    from_cache: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def to_row(self) -> dict:
        return {"final_url": self.final_url, "status": self.status, "headers": json.dumps(self.headers),
                "body": self.body, "truncated": int(self.truncated), "error": self.error,
                "redirects": json.dumps(self.redirects)}


class FetchCache:
    """Responses on disk (SQLite) with a TTL, shared by every shard and worker process."""

    def __init__(self, path: str | Path, ttl_seconds: float = 86_400.0) -> None:
        self.path = str(path)
        self.ttl = ttl_seconds
        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, fetched_at REAL, final_url TEXT,"
            " status INTEGER, headers TEXT, body BLOB, truncated INTEGER, error TEXT, redirects TEXT)")

    def get(self, method: str, url: str) -> FetchResult | None:
        row = self._db.execute("SELECT fetched_at, final_url, status, headers, body, truncated, error, redirects"
                               " FROM responses WHERE key=?", (f"{method} {url}",)).fetchone()
        if row is None or time.time() - row[0] > self.ttl:
            return None
        return FetchResult(url=url, final_url=row[1], method=method, status=row[2],
                           headers=[tuple(h) for h in json.loads(row[3])], body=row[4] or b"",
                           truncated=bool(row[5]), error=row[6], redirects=json.loads(row[7]), from_cache=True)

    def get_many(self, method: str, urls: list[str]) -> dict[str, FetchResult]:
        """Cached results for many URLs at once (one query per 500 keys: reruns stay fast)."""
        out: dict[str, FetchResult] = {}
        now = time.time()
        for i in range(0, len(urls), 500):
            keys = [f"{method} {u}" for u in urls[i:i + 500]]
            q = ("SELECT key, fetched_at, final_url, status, headers, body, truncated, error, redirects FROM responses"
                 f" WHERE key IN ({','.join('?' * len(keys))})")
            for key, at, final, status, headers, body, trunc, error, redirects in self._db.execute(q, keys):
                if now - at <= self.ttl:
                    url = key.split(" ", 1)[1]
                    out[url] = FetchResult(url=url, final_url=final, method=method, status=status,
                                           headers=[tuple(h) for h in json.loads(headers)], body=body or b"",
                                           truncated=bool(trunc), error=error, redirects=json.loads(redirects),
                                           from_cache=True)
        return out

    def get_raw_many(self, method: str, urls: list[str]) -> dict[str, tuple[int | None, str, str | None]]:
        """``url -> (status, headers JSON, error)`` of fresh cached responses, bodies left on disk.

        The per-URL half of a cached filter run: one query per 900 keys (under SQLite's oldest
        bound-variable limit), no FetchResult objects, headers still as their JSON text so callers
        can skip parsing the common case (no opt-out header at all) with a substring test.
        """
        out: dict[str, tuple[int | None, str, str | None]] = {}
        cutoff = time.time() - self.ttl
        prefix = len(method) + 1
        for i in range(0, len(urls), 900):
            keys = [f"{method} {u}" for u in urls[i:i + 900]]
            q = f"SELECT key, status, headers, error FROM responses WHERE fetched_at >= ? AND key IN ({','.join('?' * len(keys))})"
            for key, status, headers, error in self._db.execute(q, [cutoff, *keys]):
                out[key[prefix:]] = (status, headers, error)
        return out

    def put(self, result: FetchResult) -> None:
        row = result.to_row()
        for attempt in range(5):
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO responses VALUES (?,?,?,?,?,?,?,?,?)",
                    (f"{result.method} {result.url}", time.time(), row["final_url"], row["status"], row["headers"],
                     row["body"], row["truncated"], row["error"], row["redirects"]))
                return
            except sqlite3.OperationalError:  # another process holds the write lock a moment
                time.sleep(0.05 * (attempt + 1))

    def close(self) -> None:
        self._db.close()


@dataclass(frozen=True)
class _Request:
    """What a request sends besides its method and URL (a POST body and its headers)."""

    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


class SafeFetcher:
    """Async fetcher: SSRF-safe, per-host concurrency and politeness delay, retries, size caps.

    ``transport`` replaces the network (tests pass an ``httpx.MockTransport``); the address check
    still runs in front of it, using ``resolver``.
    """

    def __init__(self, *, allow_private: bool = False, user_agent: str = USER_AGENT, timeout: float = 10.0,
                 max_redirects: int = 5, retries: int = 2, backoff: float = 0.25, per_host_concurrency: int = 4,
                 per_host_delay: float = 0.0, max_connections: int = 64, resolver: Resolver | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, cache: FetchCache | None = None,
                 deadline: float = DEFAULT_DEADLINE) -> None:
        self.deadline = deadline
        self._resolver = resolver or system_resolver
        self._allow_private = allow_private
        self._client_options = dict(timeout=httpx.Timeout(timeout), follow_redirects=False,
                                    # identity: a gzip bomb cannot expand past the size cap in one chunk.
                                    headers={"User-Agent": user_agent, "Accept-Encoding": "identity"})
        # A given transport (tests: httpx.MockTransport) serves every host through one client.
        self._shared = (_Client(transport=PinnedTransport(transport, resolver=self._resolver,
                                                                    allow_private=allow_private),
                                          **self._client_options) if transport is not None else None)
        # Otherwise one small connection pool per host (LRU-bounded): httpcore scans every pooled
        # connection, with a readability syscall each, for every request it assigns, so one pool of
        # 64 connections fell to ~100 requests/s at 20 ms latency; pools of ``per_host_concurrency``
        # keep that scan short.
        self._clients: OrderedDict[str, httpx.AsyncClient] = OrderedDict()
        self.max_host_clients = max(256, max_connections)
        self._in_flight: dict[str, int] = {}
        self._tls: ssl.SSLContext | None = None
        self.max_redirects = max_redirects
        self.retries = retries
        self.backoff = backoff
        self.per_host_concurrency = per_host_concurrency
        self.per_host_delay = per_host_delay
        self.cache = cache
        self._host_locks: dict[str, asyncio.Semaphore] = {}
        self._host_last: dict[str, float] = {}
        self.requests_sent = 0

    async def __aenter__(self) -> "SafeFetcher":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients = list(self._clients.values()) + ([self._shared] if self._shared is not None else [])
        self._clients.clear()
        for client in clients:
            await client.aclose()

    def _ssl_context(self) -> ssl.SSLContext:
        """One TLS context for every per-host pool: loading the CA bundle costs ~20 ms each time."""
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=certifi.where())
        return self._tls

    def _client_for(self, host: str) -> httpx.AsyncClient:
        if self._shared is not None:
            return self._shared
        client = self._clients.get(host)
        if client is not None:
            self._clients.move_to_end(host)
            return client
        if len(self._clients) >= self.max_host_clients:
            # Close the least recently used pools with nothing in flight (in the background).
            for old_host in list(self._clients):
                if len(self._clients) < self.max_host_clients:
                    break
                if not self._in_flight.get(old_host):
                    asyncio.ensure_future(self._clients.pop(old_host).aclose())
        limits = httpx.Limits(max_connections=self.per_host_concurrency,
                              max_keepalive_connections=self.per_host_concurrency)
        inner = httpx.AsyncHTTPTransport(limits=limits, verify=self._ssl_context())
        client = self._clients[host] = _Client(
            transport=PinnedTransport(inner, resolver=self._resolver, allow_private=self._allow_private),
            **self._client_options)
        return client

    async def fetch(self, url: str, *, method: str = "GET", max_bytes: int = DEFAULT_MAX_BYTES,
                    use_cache: bool = True, content: bytes | None = None,
                    headers: Mapping[str, str] | None = None) -> FetchResult:
        """One response (after redirects), or a result with ``error`` set. Never raises for network trouble.

        ``content`` and ``headers`` are for requests that send something (a detection API's POST);
        those are never cached, and the body is resent only on 307/308 redirects, as HTTP says.
        """
        if content is not None or headers:
            use_cache = False
        request = _Request(content, dict(headers or {}))
        if use_cache and self.cache is not None:
            cached = self.cache.get(method, url)
            if cached is not None:
                return cached
        result = FetchResult(url=url, final_url=url, method=method)
        current = url
        budget = _Budget(self.deadline)
        try:
            for _hop in range(self.max_redirects + 1):
                validate_url(current)
                response, body, truncated = await self._send_with_retries(method, current, max_bytes, budget,
                                                                          request)
                location = response.headers.get("location")
                if response.status_code in REDIRECT_CODES and location:
                    result.redirects.append(current)
                    try:
                        current = urljoin(current, location.strip())
                    except ValueError as exc:
                        raise MalformedURLError(f"malformed URL {location!r}: {exc}") from None
                    if response.status_code == 303:
                        method = "GET" if method != "HEAD" else "HEAD"
                    if response.status_code not in (307, 308):
                        request = _Request(None, request.headers)
                    continue
                result.final_url, result.status = current, response.status_code
                result.headers = [(k.decode("latin-1").lower(), v.decode("latin-1"))
                                  for k, v in response.headers.raw]
                result.body, result.truncated = body, truncated
                break
            else:
                raise TooManyRedirects(f"more than {self.max_redirects} redirects")
        except FetchError as exc:
            result.error = str(exc)
        except httpx.HTTPError as exc:
            result.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except (httpx.InvalidURL, ValueError, UnicodeError) as exc:  # what validate_url did not foresee
            result.error = f"malformed URL {current!r}: {exc}"
        if self.cache is not None and not _transient(result):
            self.cache.put(result)
        return result

    async def _send_with_retries(self, method: str, url: str, max_bytes: int, budget: "_Budget",
                                 request: "_Request | None" = None) -> tuple[httpx.Response, bytes, bool]:
        attempt = 0
        while True:
            try:
                response, body, truncated = await self._send(method, url, max_bytes, budget, request)
                if response.status_code not in RETRY_CODES or attempt >= self.retries:
                    return response, body, truncated
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError):
                if attempt >= self.retries:
                    raise
            # Exponential backoff with jitter, so many workers do not retry in lockstep.
            async with budget.spend():
                await asyncio.sleep(self.backoff * (2 ** attempt) * (0.5 + random.random()))
            attempt += 1

    async def _send(self, method: str, url: str, max_bytes: int, budget: "_Budget",
                    request: "_Request | None" = None) -> tuple[httpx.Response, bytes, bool]:
        host = urlsplit(url).netloc.lower()
        lock = self._host_locks.get(host)
        if lock is None:
            lock = self._host_locks[host] = asyncio.Semaphore(self.per_host_concurrency)
        # Waiting for this host's slot is not counted against the deadline: in a big filter run,
        # thousands of URLs of one host queue here, politely, and none of them is the server's fault.
        async with lock:
            if self.per_host_delay > 0:
                wait = self._host_last.get(host, 0.0) + self.per_host_delay - time.monotonic()
                self._host_last[host] = time.monotonic() + max(wait, 0.0)
                if wait > 0:
                    await asyncio.sleep(wait)
            self.requests_sent += 1
            self._in_flight[host] = self._in_flight.get(host, 0) + 1
            try:
                async with budget.spend():
                    return await self._stream(self._client_for(host), method, url, max_bytes, request)
            finally:
                self._in_flight[host] -= 1

    @staticmethod
    async def _stream(client: httpx.AsyncClient, method: str, url: str, max_bytes: int,
                      request: "_Request | None" = None) -> tuple[httpx.Response, bytes, bool]:
        extra = {} if request is None else {"content": request.content, "headers": request.headers or None}
        async with client.stream(method, url, **extra) as response:
            decoder: BodyDecoder | None = None  # made at the first body byte: a HEAD may name any encoding
            chunks: list[bytes] = []
            size = 0
            truncated = False
            # HEAD too (it yields nothing): reading to the end of the message is what lets
            # httpcore put the connection back in the pool; an unread response closes it, which
            # cost a TCP connect per URL. Raw bytes, decoded here: see BodyDecoder.
            if response.is_stream_consumed:  # built from bytes in memory (httpx.MockTransport): no wire
                raw_chunks = _already_read(response)
            else:
                raw_chunks = response.aiter_raw()
            async for raw in raw_chunks:
                if decoder is None:
                    decoder = BodyDecoder(response.headers.get_list("content-encoding"))
                for piece in decoder.feed(raw):
                    chunks.append(piece)
                    size += len(piece)
                    if size > max_bytes:  # stop decoding and reading: the cap holds on decoded bytes
                        truncated = True
                        break
                if truncated:
                    break
            body = b"".join(chunks)[:max_bytes]
            return response, body, truncated


async def _already_read(response: httpx.Response) -> AsyncIterator[bytes]:
    # httpx decoded these bytes when the response was built; undo nothing: present them raw.
    response.headers.pop("content-encoding", None)
    yield response.content


class _Budget:
    """The time one fetch may still spend on the network (hops, retries and backoff together)."""

    def __init__(self, total: float) -> None:
        self.total = total
        self.left = total

    def spend(self) -> "_Spending":
        return _Spending(self)


class _Spending:
    def __init__(self, budget: _Budget) -> None:
        self.budget = budget

    async def __aenter__(self) -> None:
        if self.budget.left <= 0:
            raise self._expired()
        self._start = time.monotonic()
        self._timeout = asyncio.timeout(self.budget.left)
        await self._timeout.__aenter__()

    async def __aexit__(self, exc_type, exc, tb) -> bool:  # type: ignore[no-untyped-def]
        self.budget.left -= time.monotonic() - self._start
        try:
            await self._timeout.__aexit__(exc_type, exc, tb)
        except TimeoutError:
            raise self._expired() from None
        return False

    def _expired(self) -> FetchTimeout:
        return FetchTimeout(f"no complete response within the {self.budget.total:g} s deadline")


def _transient(result: FetchResult) -> bool:
    """Timeouts and 5xx are not cached: the next run should try again."""
    if result.error is not None:
        return not result.error.startswith("refused")
    return result.status is not None and result.status in RETRY_CODES
