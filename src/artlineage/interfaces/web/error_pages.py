"""HTML error pages for browsers (404, 403, 401, 400, 413, 429, 500), JSON for everyone else.

``install_error_pages(app)`` runs last in ``create_app``: it wraps every exception handler already
registered (and Starlette's HTTPException, validation and server-error handlers), so a browser
asking for a page gets a page and an API client keeps getting ``{"detail": ...}`` with the same
status and headers."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

HEADINGS = {400: ("That did not work", "The request could not be used."),
            401: ("Please sign in", "This page needs you to be signed in."),
            403: ("Not allowed", "Your account may not do this."),
            404: ("Not found", "There is no page at this address. The work may have been deleted."),
            405: ("Not allowed", "This address does not accept that kind of request."),
            410: ("Gone", "This is no longer available."),
            413: ("Too large", "The file or request is larger than the platform accepts."),
            415: ("Not an image we accept", "Upload a PNG, JPEG, WebP or GIF image."),
            422: ("That did not work", "Some of what was sent could not be used."),
            429: ("Too many requests", "Please wait a moment and try again."),
            500: ("Something went wrong", "The platform hit an error. Please try again later.")}


def wants_html(request: Request) -> bool:
    """A browser navigating to a page: HTML accepted, and not an API, media or asset path."""
    path = request.url.path
    if path.startswith(("/v1/", "/media/", "/static/", "/avatars/", "/.well-known/", "/openapi.json")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _detail(response: Response) -> str:
    try:
        detail = json.loads(bytes(response.body)).get("detail")  # type: ignore[arg-type]
    except (ValueError, AttributeError):
        return ""
    return detail if isinstance(detail, str) else ""


def html_page(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    from .ui import render  # late: ui imports app
    heading, text = HEADINGS.get(status, HEADINGS[500 if status >= 500 else 400])
    response = render(request, "error.html", {"heading": heading, "text": text,
                                              "detail": detail if status < 500 else ""}, user=None, status=status)
    for key, value in (headers or {}).items():
        if key.lower() not in ("content-length", "content-type"):
            response.headers[key] = value
    return response


def _wrap(handler: Callable[..., Any]) -> Callable[..., Any]:
    async def wrapped(request: Request, exc: Exception) -> Response:
        response = handler(request, exc)
        if hasattr(response, "__await__"):
            response = await response
        if not wants_html(request) or response.status_code < 400:
            return response  # type: ignore[no-any-return]
        return html_page(request, response.status_code, _detail(response), dict(response.headers))
    return wrapped


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    if wants_html(request):
        return html_page(request, 500, "")
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def install_error_pages(app: FastAPI) -> None:
    app.exception_handlers.setdefault(StarletteHTTPException, http_exception_handler)
    app.exception_handlers.setdefault(RequestValidationError, request_validation_exception_handler)
    for exc_class, handler in list(app.exception_handlers.items()):
        if exc_class in (500, Exception):
            continue
        app.exception_handlers[exc_class] = _wrap(handler)
    app.exception_handlers[Exception] = _server_error
