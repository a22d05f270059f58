"""API documentation pages (/docs: Swagger UI, /redoc: ReDoc) served from the package, no CDN.

The JavaScript and CSS come from the ``fastapi-offline`` wheel (MIT; it bundles Swagger UI, Apache-2.0,
and ReDoc, MIT), found through ``importlib.resources`` and served under ``/docs-assets/``. FastAPI's
own pages start the viewers with an inline script, which the platform's CSP (``script-src 'self'``)
blocks: here the start-up code is a first-party file (``static/docs-init.js``). These two pages allow
inline *styles* only (both viewers set style attributes); scripts stay ``'self'``. Without the
``fastapi-offline`` assets the pages say how to install them instead of loading a CDN."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "worker-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def assets_dir() -> Path | None:
    try:
        folder = Path(str(resources.files("fastapi_offline") / "static"))
    except (ModuleNotFoundError, TypeError):
        return None
    return folder if (folder / "swagger-ui-bundle.js").exists() and (folder / "redoc.standalone.js").exists() else None


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{title} · artlineage API</title>'
            f'<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">{head}</head>'
            f'<body><main id="main"><h1 class="docs-title">{title}</h1>{body}</main></body></html>')
    return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache"})


def install_docs(app: FastAPI) -> None:
    folder = assets_dir()
    if folder is not None:
        app.mount("/docs-assets", StaticFiles(directory=folder), name="docs-assets")

    missing = ('<p>The API documentation viewer is not installed: <code>pip install fastapi-offline</code>. '
               'The OpenAPI description is at <a href="/openapi.json">/openapi.json</a>.</p>')

    def viewer(script: str, extra_css: str, element: str) -> HTMLResponse:
        if folder is None:
            return _page("API reference", "", missing)
        return _page("API reference",
                     f'{extra_css}<link rel="stylesheet" href="/static/docs.css">'
                     f'<script src="/docs-assets/{script}" defer></script>'
                     '<script src="/static/docs-init.js" defer></script>',
                     f'<div id="{element}" data-openapi="/openapi.json"></div>')

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return viewer("swagger-ui-bundle.js", '<link rel="stylesheet" href="/docs-assets/swagger-ui.css">',
                      "swagger-ui")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return viewer("redoc.standalone.js", "", "redoc")
