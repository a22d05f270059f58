"""A plain ASGI middleware that adds response headers (shared by the security and rate-limit headers).

Plain ASGI rather than ``@app.middleware("http")`` (BaseHTTPMiddleware), which costs an extra task and
body stream per request; and set at the response's start, so that handlers returning a ``Response`` of
their own, and error responses, carry the headers too.
"""

from __future__ import annotations

from typing import Any, Iterable


class AddHeaders:
    """Adds the headers ``headers_for(scope)`` gives that the response does not set itself."""

    def __init__(self, app: Any):
        self.app = app

    def headers_for(self, scope: Any) -> Iterable[tuple[bytes, bytes]]:  # lower-case names
        raise NotImplementedError

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                extra = list(self.headers_for(scope))
                if extra:
                    headers = list(message.get("headers", []))
                    present = {k.lower() for k, _v in headers}
                    headers.extend((k, v) for k, v in extra if k not in present)
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
