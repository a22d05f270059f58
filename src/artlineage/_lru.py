"""Bounded least-recently-used maps kept in an ``OrderedDict`` (the page cache, the per-version memo,
the filter's remembered web images): one insertion rule for all of them."""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def remember(lru: OrderedDict[K, V], key: K, value: V, limit: int) -> None:
    """Store ``value`` as the most recently used and drop the least recently used beyond ``limit``.
    Not thread-safe by itself: callers shared between threads hold their lock around it."""
    lru[key] = value
    lru.move_to_end(key)
    while len(lru) > limit:
        lru.popitem(last=False)
