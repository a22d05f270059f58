"""The artlineage platform: HTTP API and web gallery where origin, consent and lineage are shown
before the image. Needs the ``server`` extra; ``import artlineage`` never imports this package.

    from artlineage.interfaces.web import create_app
    app = create_app("platform.sqlite", "media/")
"""

from __future__ import annotations

from typing import Any


def create_app(*args: Any, **kwargs: Any) -> Any:
    from .app import create_app as _create_app
    return _create_app(*args, **kwargs)


__all__ = ["create_app"]
