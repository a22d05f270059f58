"""Request-size ceilings, applied before a handler reads a byte of the body.

FastAPI parses a body (JSON, a form, a multipart upload spooled to disk) before any dependency runs,
so a size check in a handler or a dependency comes after the whole body was read: a 500 MB multipart
body was spooled before its 413. ``BodyLimit`` wraps ``receive`` with Starlette's own
``RequestBodyLimitResponder`` (``starlette.middleware.body_limit``), choosing the ceiling per route:
a declared ``Content-Length`` over the ceiling is refused on the first read (nothing read), and a body
without one (chunked) is counted as it arrives and refused just past the ceiling. Starlette's
middleware takes one ceiling for the whole app; here the upload routes need the upload size and
everything else (JSON, forms) far less, and the ceilings depend on the app's settings, so the
per-request choice is ours. Besides the routes named in ``UPLOAD_ROUTES``, every route that declares a
file parameter (``UploadFile``, ``File()``) gets the upload ceiling, found from the app's routes on the
first request, so a route added later (an avatar, a preview) is not held to the form ceiling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

KiB = 1024
DEFAULT_BODY_BYTES = 256 * KiB  # JSON and form bodies: the largest legitimate one (a 20,000-character prompt,
# every character escaped as \\uXXXX) is ~120 KB
MULTIPART_OVERHEAD = 256 * KiB  # the form fields and part headers sent next to an upload's file
# Routes that take an image upload (multipart): their ceiling is the upload size plus the form around it.
UPLOAD_ROUTES = ("POST /upload", "POST /v1/verdict", "POST /v1/consent", "POST /v1/works", "POST /v1/stamp")
MAX_DB_ID = 2 ** 63 - 1  # ids are 64-bit signed integers in SQLite and PostgreSQL


@dataclass(frozen=True)
class BodyLimits:
    """Ceilings in bytes: ``routes`` maps ``"METHOD /path"`` to a ceiling; other requests get ``default``."""
    default: int = DEFAULT_BODY_BYTES
    routes: dict[str, int] = field(default_factory=dict)
    file_routes: int | None = None  # the ceiling of routes with a file parameter (None: ``default``)

    def limit_for(self, method: str, path: str, patterns: tuple[tuple[frozenset[str], re.Pattern[str]], ...] = ()) -> int:
        exact = self.routes.get(f"{method} {path}")
        if exact is not None:
            return exact
        if self.file_routes is not None and any(method in methods and rx.match(path) for methods, rx in patterns):
            return self.file_routes
        return self.default


def file_route_patterns(app: Any) -> tuple[tuple[frozenset[str], re.Pattern[str]], ...]:
    """(methods, path regex) of the app's routes that declare a file parameter, in any dependency."""
    from fastapi.params import File
    from fastapi.routing import APIRoute

    def takes_file(dependant: Any) -> bool:
        return any(isinstance(p.field_info, File) for p in dependant.body_params) or \
            any(takes_file(d) for d in dependant.dependencies)

    return tuple((frozenset(r.methods or ()), r.path_regex) for r in getattr(app, "routes", ())
                 if isinstance(r, APIRoute) and takes_file(r.dependant))


def body_limits_for(max_upload_bytes: int, default: int = DEFAULT_BODY_BYTES,
                    overrides: dict[str, int] | None = None) -> BodyLimits:
    """The platform's ceilings: uploads get ``max_upload_bytes`` plus the multipart overhead, the rest
    ``default``; ``overrides`` (``{"POST /v1/prompt": 65536}``) win over both."""
    routes = {route: max_upload_bytes + MULTIPART_OVERHEAD for route in UPLOAD_ROUTES}
    for route, limit in (overrides or {}).items():
        method, _, path = route.partition(" ")
        if not path.startswith("/") or limit < 0:
            raise ValueError(f"body limit {route!r}: {limit}; use 'METHOD /path': bytes >= 0")
        routes[f"{method.upper()} {path}"] = int(limit)
    return BodyLimits(default=default, routes=routes, file_routes=max_upload_bytes + MULTIPART_OVERHEAD)


class BodyLimit:
    """ASGI middleware: ``limits.limit_for(method, path)`` bytes at most per request body."""

    def __init__(self, app: Any, limits: BodyLimits):
        self.app = app
        self.limits = limits
        self._patterns: tuple[tuple[frozenset[str], re.Pattern[str]], ...] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.middleware.body_limit import RequestBodyLimitResponder
        if self._patterns is None:  # the routes are all there by the first request
            self._patterns = file_route_patterns(scope.get("app"))
        limit = self.limits.limit_for(scope["method"], scope["path"], self._patterns)
        await RequestBodyLimitResponder(self.app, limit)(scope, receive, send)


__all__ = ["BodyLimit", "BodyLimits", "body_limits_for", "MAX_DB_ID", "UPLOAD_ROUTES"]
