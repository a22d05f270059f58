"""A loopback web server for tests: http.server in a thread on 127.0.0.1, random port.

Routes are ``(host, path) -> (status, headers, body)``; ``host`` is the Host header's name, so
one server plays several virtual hosts (``site-a.test``...), which :func:`loopback_resolver`
maps to 127.0.0.1. HEAD gets the headers without the body.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = tuple[int, dict[str, str] | list[tuple[str, str]], bytes]


async def loopback_resolver(host: str, port: int) -> list[str]:
    """Every name resolves to 127.0.0.1 (module-level, so it pickles into worker processes)."""
    return ["127.0.0.1"]


class LoopbackServer:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.hits: list[tuple[str, str, str]] = []  # (method, host, path)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self, body_too: bool) -> None:
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
                server.hits.append((self.command, host, self.path))
                route = server.routes.get((host, self.path)) or server.routes.get(("*", self.path))
                if route is None and "*" in {h for h, _ in server.routes}:
                    route = server.routes.get((host, "*")) or server.routes.get(("*", "*"))
                status, headers, body = route or (404, {"Content-Type": "text/plain"}, b"not found")
                self.send_response(status)
                items = headers.items() if isinstance(headers, dict) else headers
                for k, v in items:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body_too:
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                self._serve(True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._serve(False)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def route(self, host: str, path: str, status: int = 200, headers=None, body: bytes | str = b"") -> None:
        self.routes[(host, path)] = (status, headers or {}, body.encode() if isinstance(body, str) else body)

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> "LoopbackServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
