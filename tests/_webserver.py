"""A loopback web server for tests and benchmarks: asyncio HTTP/1.1 with keep-alive on 127.0.0.1.

Routes are ``(host, path) -> (status, headers, body)``; ``host`` is the Host header's name, so
one server plays several virtual hosts (``site-a.test``...), which :func:`loopback_resolver`
maps to 127.0.0.1. HEAD gets the headers without the body. ``("*", path)`` matches any host,
``(host, "*")`` / ``("*", "*")`` any path.

Why a hand-written asyncio server rather than ``http.server``: the benchmark compares request
rates, and ``http.server`` (a thread per connection, one ``write`` per header line) capped at a few
hundred requests/s here, so it measured the server, not the clients. This one parses only what
the clients send (request line, headers, no request bodies) and answers from a dict.

:meth:`LoopbackServer.route_raw` hands one route's whole response to a coroutine instead, for
hostile servers (drip-fed or endless bodies, header floods); the connection closes after it.

``LoopbackServer(separate_process=True)`` serves from a forked child process (routes must be set
before ``__enter__``; ``hits`` is then not recorded): the server then does not share the
client's GIL, which is what a benchmark needs.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from http import HTTPStatus
from typing import Awaitable, Callable

Route = tuple[int, dict[str, str] | list[tuple[str, str]], bytes]
RawRoute = Callable[[asyncio.StreamWriter], Awaitable[None]]
MAX_HEADER_BYTES = 64 * 1024


async def loopback_resolver(host: str, port: int) -> list[str]:
    """Every name resolves to 127.0.0.1 (module-level, so it pickles into worker processes)."""
    return ["127.0.0.1"]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class LoopbackServer:
    def __init__(self, *, separate_process: bool = False, latency: float = 0.0) -> None:
        self.latency = latency  # seconds added before each response (a distant server, for benchmarks)
        self.routes: dict[tuple[str, str], Route] = {}
        self.hits: list[tuple[str, str, str]] = []  # (method, host, path)
        self.connections = 0  # TCP connections accepted (keep-alive checks)
        self.separate_process = separate_process
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._child: multiprocessing.Process | None = None
        self._wildcard_hosts = False
        self._rendered: dict[tuple[str, str], tuple[bytes, bytes]] = {}
        self.raw_routes: dict[tuple[str, str], RawRoute] = {}

    # ------------------------------------------------------------ routes
    def route(self, host: str, path: str, status: int = 200, headers=None, body: bytes | str = b"") -> None:
        if self.separate_process and self._child is not None:
            raise RuntimeError("routes of a separate-process server are fixed once it started")
        self.routes[(host, path)] = (status, headers or {}, body.encode() if isinstance(body, str) else body)
        self._rendered.pop((host, path), None)
        if path == "*":
            self._wildcard_hosts = True

    def route_raw(self, host: str, path: str, respond: RawRoute) -> None:
        """``respond(writer)`` writes the whole response (status line, headers, body) itself."""
        self.raw_routes[(host, path)] = respond

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def _find(self, host: str, path: str) -> tuple[tuple[str, str] | None, Route | None]:
        for key in ((host, path), ("*", path)) + (((host, "*"), ("*", "*")) if self._wildcard_hosts else ()):
            route = self.routes.get(key)
            if route is not None:
                return key, route
        return None, None

    def _response(self, host: str, path: str) -> tuple[bytes, bytes]:
        """(status line + headers, body), rendered once per route."""
        key, route = self._find(host, path)
        cached = self._rendered.get(key) if key else None
        if cached is not None:
            return cached
        status, headers, body = route or (404, {"Content-Type": "text/plain"}, b"not found")
        items = headers.items() if isinstance(headers, dict) else headers
        lines = [f"HTTP/1.1 {status} {_reason(status)}"] + [f"{k}: {v}" for k, v in items]
        lines.append(f"Content-Length: {len(body)}")
        rendered = (("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), body)
        if key:
            self._rendered[key] = rendered
        return rendered

    # ------------------------------------------------------------ serving
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    raw = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = raw.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                if len(parts) != 3:
                    return
                method, target, _version = parts
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length") or 0)
                if length:
                    await reader.readexactly(length)
                host = headers.get("host", "").rsplit(":", 1)[0]
                if not self.separate_process:
                    self.hits.append((method, host, target))
                raw_route = self.raw_routes.get((host, target)) or self.raw_routes.get(("*", target))
                if raw_route is not None:
                    try:
                        await raw_route(writer)
                        await writer.drain()
                    except ConnectionError:
                        pass  # the client stopped reading: what a hostile-server test expects
                    return
                head, body = self._response(host, target)
                if self.latency:
                    await asyncio.sleep(self.latency)
                writer.write(head if method == "HEAD" else head + body)
                if headers.get("connection", "").lower() == "close":
                    await writer.drain()
                    return
                await writer.drain()
        finally:
            writer.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, limit=MAX_HEADER_BYTES,
                                                  backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    def _serve_in_thread(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        ready.set()
        self._loop.run_forever()
        self._server.close()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def _child_main(self, conn) -> None:  # type: ignore[no-untyped-def]
        async def main() -> None:
            await self._start()
            conn.send(self.port)
            await asyncio.Event().wait()
        asyncio.run(main())

    def __enter__(self) -> "LoopbackServer":
        if self.separate_process:
            parent, child = multiprocessing.get_context("fork").Pipe()
            self._child = multiprocessing.get_context("fork").Process(target=self._child_main, args=(child,),
                                                                      daemon=True)
            self._child.start()
            self.port = parent.recv()
            return self
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve_in_thread, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._child is not None:
            self._child.terminate()
            self._child.join(5)
            return
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)  # type: ignore[union-attr]
