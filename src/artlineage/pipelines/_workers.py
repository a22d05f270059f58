"""Worker processes that end with the run that started them.

A pipeline killed with SIGKILL cannot stop its process pool, and the pool's workers would go on
inspecting and writing their chunks after the run is gone (racing the resumed run, and making
"resume where it stopped" untrue for a while). On Linux each worker asks the kernel to kill it
when its parent dies (``prctl(PR_SET_PDEATHSIG)``; no library wraps this small call, hence ctypes).
Elsewhere workers exit when they next find the parent gone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from typing import Any, Callable, Iterable

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Pool ``initializer``: end this worker when ``parent_pid`` ends (pass ``os.getpid()`` of the parent)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:  # pragma: no cover - no libc to ask: fall back to the check below
            pass
    if os.getppid() != parent_pid:  # the parent died before the request above took effect
        os._exit(1)


def drain_bounded(tasks: Iterable[Any], cap: int, on_done: Callable[[Any], None]) -> None:
    """Submit Ray tasks lazily from ``tasks`` (an iterable of object refs: a generator submits as it is
    read), keeping at most ``cap`` in flight, and hand each result to ``on_done`` as it finishes.

    Bounded so a run over a million shards never holds a million refs, and results are recorded (a
    shard's commit) as soon as each task ends, not in submission order.
    """
    import ray  # optional extra: pip install 'artlineage[ray]'

    in_flight: list[Any] = []
    for ref in tasks:
        in_flight.append(ref)
        if len(in_flight) >= cap:
            ready, in_flight = ray.wait(in_flight, num_returns=1)
            for r in ready:
                on_done(ray.get(r))
    while in_flight:
        ready, in_flight = ray.wait(in_flight, num_returns=1)
        for r in ready:
            on_done(ray.get(r))
