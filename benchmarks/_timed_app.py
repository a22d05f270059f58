"""Server-side timing for bench_platform.py (``--server-timing``; not part of the package).

Each uvicorn worker builds the platform's app from the environment (``app_from_env``, as ``artlineage
serve --workers N`` does) wrapped in a plain ASGI timer: per request, the wall time from the app being
called to the last body byte handed to uvicorn, by kind of gallery URL; and the event loop's lag (a task
that sleeps 1 ms and records how late it wakes: the time a ready request waits for the loop); and
the garbage collector's pauses by generation. At shutdown the
worker writes them to ``$BENCH_TIMING_DIR/<pid>.json``, with wall-clock stamps so the benchmark keeps only
its measured window. wrk's latency minus this is time outside the app: in the kernel's socket queues and
waiting for a core.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
from pathlib import Path
from typing import Any

from artlineage.interfaces.web.app import app_from_env as _app_from_env


def _kind(scope: Any) -> str:
    query = scope.get("query_string", b"")
    if scope.get("path") != "/":
        return "other"
    if not query:
        return "first"
    return "before" if query.startswith(b"before=") else "filtered"


class Timed:
    def __init__(self, app: Any, out: Path):
        self.app, self.out = app, out
        self.requests: list[tuple[float, float, str]] = []  # (wall start, seconds, kind)
        self.lags: list[tuple[float, float]] = []  # (wall time, seconds late)
        self.gcs: list[tuple[float, float, int]] = []  # (wall time, seconds, generation) per collection
        self._gc_start = 0.0
        gc.callbacks.append(self._on_gc)
        self._monitor: asyncio.Task[None] | None = None

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gcs.append((time.time(), time.perf_counter() - self._gc_start, info["generation"]))

    async def _watch_loop(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            self.lags.append((time.time(), time.perf_counter() - t - 0.001))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            # multiprocessing's workers leave through os._exit (no atexit): dump at the lifespan's shutdown
            async def receive_and_dump() -> Any:
                message = await receive()
                if message["type"] == "lifespan.shutdown":
                    self.dump()
                return message

            await self.app(scope, receive_and_dump, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._monitor is None:
            self._monitor = asyncio.get_running_loop().create_task(self._watch_loop())
        wall, t0 = time.time(), time.perf_counter()

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.requests.append((wall, time.perf_counter() - t0, _kind(scope)))

        await self.app(scope, receive, timed_send)

    def dump(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / f"{os.getpid()}.json").write_text(json.dumps({"requests": self.requests, "lags": self.lags,
                                                                  "gcs": self.gcs}))


def app_from_env() -> Any:
    return Timed(_app_from_env(), Path(os.environ["BENCH_TIMING_DIR"]))
