"""Find the adapter for a model card: built-in kinds plus the ``artlineage.detectors`` entry points."""

from __future__ import annotations

import functools
import os
import threading
from importlib.metadata import entry_points
from typing import Any, Callable

from ._card import ModelCard, ModelCardError, load_card

DetectorFactory = Callable[[ModelCard], Any]
ENTRY_POINT_GROUP = "artlineage.detectors"

_factories: dict[str, DetectorFactory] = {}
_lock = threading.Lock()
_plugins_loaded = False


def register_detector(kind: str, factory: DetectorFactory) -> None:
    """Make ``kind`` in a model card load through ``factory(card)`` (plugins call this)."""
    with _lock:
        _factories[kind] = factory


def _builtin(kind: str) -> DetectorFactory | None:
    if kind == "onnx":
        from .onnx import OnnxDetector
        return OnnxDetector
    if kind == "trained":
        from .trained import TrainedDetector
        return TrainedDetector
    if kind == "remote":
        from .remote import RemoteDetector
        return RemoteDetector
    return None


def _load_plugins() -> None:
    global _plugins_loaded
    with _lock:
        if _plugins_loaded:
            return
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            _factories.setdefault(ep.name, ep.load())
        _plugins_loaded = True


def detector_from_card(card: ModelCard) -> Any:
    factory = _builtin(card.kind)
    if factory is None:
        _load_plugins()
        factory = _factories.get(card.kind)
    if factory is None:
        raise ModelCardError(f"no detector adapter for kind {card.kind!r} (built in: onnx, trained, remote; "
                             f"plugins register under the {ENTRY_POINT_GROUP!r} entry-point group)")
    return factory(card)


@functools.lru_cache(maxsize=8)
def load_detectors(cards: tuple[str, ...]) -> tuple[Any, ...]:
    """Detectors for these model cards, loaded once per process (pool workers and request threads share
    them; nothing is mutated by ``detect``)."""
    return tuple(load_detector(c) for c in cards)


def load_detector(path: str | os.PathLike[str]) -> Any:
    """A detector from its model card: a ``*.card.json`` file, a folder holding ``detector.card.json``,
    or a model file with ``<model>.card.json`` beside it."""
    return detector_from_card(load_card(path))
