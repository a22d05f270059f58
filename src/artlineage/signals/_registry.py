"""The registry of signal readers.

Each reader is one module that calls :func:`register_reader` at import time; the pipeline
only ever asks :func:`get_readers`. Built-in modules are discovered by walking this package
(any module whose name does not start with ``_``), and third-party packages add readers through
the ``artlineage.signals`` entry-point group, as datasette plugins do.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Callable, Iterable

from ._base import Evidence
from ._source import ImageSource

ReaderFunc = Callable[[ImageSource], Iterable[Evidence]]


@dataclass(frozen=True)
class SignalReader:
    name: str
    read: ReaderFunc
    needs_pixels: bool = False
    description: str = ""
    # Cheap pre-check so a scan skips readers that cannot apply (e.g. no C2PA box in the bytes).
    applies: Callable[[ImageSource], bool] | None = None
    # Where it reads, per container ("JPEG APP1 Exif", "HEIF/AVIF Exif item"): `artlineage readers` shows it.
    formats: tuple[str, ...] = ()


_READERS: dict[str, SignalReader] = {}
_LOADED = False
# Held while discovering: a thread arriving during the first discovery waits for all of it instead
# of seeing the half-filled registry (the platform inspects uploads on a thread pool). Re-entrant
# because a plugin module may itself call get_readers while being imported.
_LOAD_LOCK = threading.RLock()
_DISCOVERING = False


def register_reader(name: str, *, needs_pixels: bool = False, description: str = "",
                    applies: Callable[[ImageSource], bool] | None = None,
                    formats: Iterable[str] = ()) -> Callable[[ReaderFunc], ReaderFunc]:
    """Decorator: ``@register_reader("exif")`` on a function ``(ImageSource) -> Iterable[Evidence]``."""

    def decorate(func: ReaderFunc) -> ReaderFunc:
        if name in _READERS and _READERS[name].read is not func:
            existing = _READERS[name].read
            if (existing.__module__, existing.__qualname__) != (func.__module__, func.__qualname__):
                raise ValueError(f"signal reader {name!r} is already registered by {existing.__module__}")
        _READERS[name] = SignalReader(name, func, needs_pixels, description or (func.__doc__ or "").strip().split("\n")[0], applies,
                                      tuple(formats))
        return func

    return decorate


def _load_builtin_and_plugins() -> None:
    if _LOADED:  # the fast path, without the lock: set only once discovery has finished
        return
    global _DISCOVERING
    with _LOAD_LOCK:
        if _LOADED or _DISCOVERING:  # _DISCOVERING: re-entered from an import in this very thread
            return
        _DISCOVERING = True
        try:
            _discover()
        finally:
            _DISCOVERING = False


def _discover() -> None:
    global _LOADED
    import artlineage.signals as pkg

    # signals.web reads URLs, not files (the consent filter drives it); importing it here would
    # only load httpx into every scan. pkgutil.walk_packages would import it to descend, so walk by hand.
    def walk(path: list[str], prefix: str) -> None:
        for info in pkgutil.iter_modules(path, prefix):
            short = info.name.rsplit(".", 1)[-1]
            if short.startswith("_") or info.name == pkg.__name__ + ".web":
                continue
            module = importlib.import_module(info.name)
            if info.ispkg:
                walk(list(module.__path__), info.name + ".")

    walk(list(pkg.__path__), pkg.__name__ + ".")
    for ep in entry_points(group="artlineage.signals"):
        ep.load()
    _LOADED = True


def get_readers(names: Iterable[str] | None = None, *, pixels: bool = True) -> list[SignalReader]:
    """Registered readers, optionally only ``names``; pixel readers dropped when ``pixels`` is False."""
    _load_builtin_and_plugins()
    if names is not None:
        wanted = list(names)
        unknown = [n for n in wanted if n not in _READERS]
        if unknown:
            raise KeyError(f"unknown signal reader(s): {', '.join(unknown)}; known: {', '.join(sorted(_READERS))}")
        readers = [_READERS[n] for n in wanted]
    else:
        readers = [_READERS[n] for n in sorted(_READERS)]
    return [r for r in readers if pixels or not r.needs_pixels]
