"""Run a coroutine to completion from synchronous code, inside or outside a running event loop.

``asyncio.run`` refuses to start while a loop runs in the calling thread (Jupyter, an async web
handler). There the coroutine runs on a fresh loop in a short-lived worker thread and the caller's
thread waits for it: the caller's loop is blocked for that time, as any synchronous call blocks it;
async callers should await the ``*_async`` variant instead.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")


def run_sync(make: Callable[[], Awaitable[T]]) -> T:
    """``make()``'s result; ``make`` builds the coroutine in the thread whose loop runs it."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(make))
    with ThreadPoolExecutor(1, thread_name_prefix="artlineage-sync") as pool:
        return pool.submit(lambda: asyncio.run(_await(make))).result()


async def _await(make: Callable[[], Awaitable[T]]) -> T:
    return await make()
