"""Platform load benchmark (not a test): requests/s and p50/p99 latency for the gallery page and the
verdict endpoint (with and without pixel readers), 50 concurrent clients against ``artlineage serve``
on loopback, with 100k works bulk-seeded.

    apt-get install wrk                      # the load generator (a Python fallback is used without it)
    .venv/bin/python benchmarks/bench_platform.py [--works 100000] [--clients 50] [--seconds 10]
        [--workers 1] [--inspect-processes 0] [--generator auto|wrk|python|both]
        [--warmup 3]                         # unmeasured seconds at full --clients before each measured run
        [--data-dir /tmp/bp]                 # keep the seeded SQLite between runs (re-seeding takes ~10 s)
        [--db postgresql://...]              # e.g. the URL printed by scripts/start-test-postgres.sh
        [--server-timing]                    # also time requests inside each worker (benchmarks/_timed_app.py)
        [--pin-wrk 1]                        # run wrk on these CPUs (taskset -c)

``--server-timing`` runs the same workers (``app_from_env``) wrapped in a timer and reports, for the
measured runs, each request's time inside the app by kind of gallery URL (``first``: ``/``, ``filtered``:
``/?human_only=true``, ``before``: keyset pages, mostly cache misses), the event loop's lag (how late a
1 ms sleep wakes: the time a ready request waits for its worker) and the garbage collector's pauses.
wrk's latency minus the in-app time is time outside the app: socket queues and waiting for a core.
Every report carries the load average at its end (``load_average``): on the shared 2-core box other
sessions' runs are part of every number.

Load generators, labelled in the output (``generator``):

* ``wrk`` (C, one thread, Lua scripts for the mixed gallery URLs and the multipart verdict POST): cheap
  enough that the server gets most of the CPU. Use these numbers.
* ``python-httpx`` (asyncio + httpx in this process): the fallback when wrk is absent. It needs about as
  much CPU per request as the server, so on a 2-core box it roughly halves what the server can do.

The gallery mix is what a visitor does: half the first page, a quarter "human-made only", a quarter
keyset pages (``?before=``, one of 5000 ids, so mostly cache misses: a query and a render). The server
runs ``artlineage serve --workers N --anonymous-rate 0`` (rate limit off), pixels on; verdict is
measured with ``?pixels=true`` (watermark decoders, ~4 ms for the 256 px test PNG) and ``?pixels=false``
(metadata only). Client and server share the machine, so these numbers are a floor.

Measured on the 2-core dev box, 100k works, 50 clients, 10 s measured after a 3 s unmeasured warm-up at
the same 50 clients (``--warmup``; its numbers are printed under ``warmup_results``), wrk, 3 runs each,
PostgreSQL and SQLite runs interleaved. Load average 3.5-5 during the runs: that is the benchmark itself
(wrk, 2 workers, PostgreSQL backends on 2 cores), so the p99 tails are mostly requests waiting for a core.
Latest runs, after the start-up pre-warm (``ui.prewarm``: each worker opens its PostgreSQL pool, loads the
artists' opt-outs and renders the two anonymous first pages before accepting requests):

    db          workers  endpoint               req/s       p50 ms     p99 ms
    sqlite      2        gallery            3428-3969   10.2-11.8   95.9-108.3   (3757/94.9, 3428/108.3, 3969/95.9)
    postgresql  2        gallery            2760-3107   13.4-16.2    113-136     (3107/134.3, 2760/113.1, 2933/136.0)
    sqlite      2        verdict pixels=true  294-383    131-169      196-286
    postgresql  2        verdict pixels=true  309-343     85-159      219-292
    sqlite      2        verdict pixels=false 947-1917    25-46       131-164
    postgresql  2        verdict pixels=false 1513-1810   25-30       137-156

After the redesign (issue 14; 26 KB pages with 100 artist options and the legend, 20k works, SQLite, 2 workers,
``--seconds 8 --warmup 2``, box shared with other sessions at load 5-10, runs alternated): 1388-2144 req/s,
p99 188-330 ms. ``--server-timing`` then showed where the tail was: inside the app, cache hits took
0.2 ms (p99 6-8 ms) while the ``?before=`` misses took p50 16-53 ms and p99 137-233 ms for ~1 ms of work
each: they ran on Starlette's 40-thread pool, ~20 per worker at once, all taking turns at the GIL with
the event loop serving hits; under a closed loop of 50 clients the clients piled up in those misses.
Full garbage collections walking the ~130k objects alive after start-up paused a worker for 90-600 ms,
~5 times per worker per 8 s. What changed, measured one at a time (``git log --grep Gallery``):

* ``gc.freeze()`` after the pre-warm (server workers only): longest GC pause 160-600 ms -> 7-50 ms.
* On SQLite a miss renders on the event loop (bounded: a 24-row index range scan and the render; a search
  ``?q=`` and PostgreSQL queries go to a small first-come-first-served pool of render threads): misses
  in-app p99 136-147 ms -> 10-13 ms.
* A miss is cheaper: the filter form rendered once per data version and set of filters (its 100
  artist options were half the render), one data-version read per miss, the gallery statement built
  once per combination of filters with bound parameters on table columns (query + items 0.34 -> 0.14
  ms), no isolation-level switch per SQLite read: a miss render 0.87 -> 0.43 ms in process (min of 7x300).
* ``CachedPagesFirst``: an anonymous repeat of a query string the handler already validated is answered
  from the page cache before FastAPI's routing and parameter solving (~20% of a worker's CPU).

Alternating before/after runs, same settings, same hour (load average at each run's end):

    code     load    req/s   p50 ms  p99 ms   in-app p99 ms (misses)   loop lag p99 ms   longest GC pause ms
    before   5.5     2186    17.2    216.5    107.3 (182.6)            70                247
    after    5.5     4985     8.7    128.7      4.5 (13.0)             71                 11
    before   7.5     2768    13.4    163.1     83.0 (161.7)            70                199
    after    7.7     5962     6.7     53.3      4.2 (12.8)             53                  7
    before   7.6     2708    14.6    145.4     99.3 (147.9)            85                159
    after    7.7     4829     8.6     59.3      4.9 (9.4)              53                 43
    before   7.9     2439    14.9    447.0    106.6 (204.9)            92                563   (wrk pinned to CPU 1)
    after    7.2     4220     9.8    214.8      5.6 (12.4)             77                 19   (wrk pinned to CPU 1)
    before   3.2     1755    22.0    209.1     80.6 (226.6)            65                220   (another session's job
    after    3.3     6699     6.2     47.1      3.6 (7.9)              41                  7    kept one core busy
    before   5.3     1789    21.3    272.1    156.0 (260.8)           147                296    in these six; no
    after    4.5     7752     5.5    102.3      1.5 (4.1)              48                  7    quieter window came)
    before   4.3     2800    13.8    151.9     98.1 (157.8)            87                140
    after    4.0     6579     6.6     59.2      2.7 (8.7)              47                  9

Then the other sessions' jobs ended and the box was quiet but for the benchmark itself (wrk and two
workers: load 2.6-3.7), final code (with the loop's own connection), three alternating pairs:

    code     load    req/s   p50 ms  p99 ms   in-app p99 ms (misses)   loop lag p99 ms   longest GC pause ms
    before   3.7     3024    12.6    132.0     61.4 (130.9)            43                143
    after    3.7     9746     5.0     13.2      1.1 (1.3)              17                  8
    before   3.6     2948    12.7    131.8     67.0 (139.4)            80                135
    after    3.3     9401     5.1     13.3      1.2 (1.4)              16                  9
    before   3.2     3055    12.4    141.7     60.5 (153.8)            78                139
    after    3.0     5151     9.5     16.8      0.9 (1.0)              20                  5
    after    2.6     9528     6.6     15.5      1.0 (1.2)              18                  4   (wrk pinned to CPU 1)

On the quiet box p99 < 100 ms is met with room: 13-17 ms against 132-142 ms before, at 3x the requests.
On the loaded box (above), the app's own p99 is 1.5-6 ms (misses 4-13 ms): what is left of wrk's p99 is time outside
the app, a worker waiting for a core on a 2-core box running wrk, two workers and other sessions' jobs
(load 3-8), which shows in the event loop's lag and swings from run to run (47-215 ms at the same code).
PostgreSQL (its misses keep going to render threads, 4 per worker), 20k works, 2 workers, load 5-6.6:
before 1810/2084 req/s, p99 224.5/248.5 ms (in-app p99 130-145 ms); after 3582-4172 req/s, p99 83-107 ms
(in-app p99 69-86 ms: the misses on threads, p99 92-115 ms). Rendering PostgreSQL misses on the event loop
as well measured better here (2987/4250 req/s, p99 39-76 ms, in-app p99 5-8 ms) with PostgreSQL on the
same box, but it would block the worker on every network round trip and on any slow query, so it is not
done.
Workers against wrk on the 2 cores (after, same hour, load 4.3-6.6, two rounds): 1 worker 3546/3548 req/s,
p99 52.7/43.4 ms (its event loop is the only server thread: lag p50 18 ms, but no second worker to
share a core with); 2 workers 5003/3521 req/s, p99 61.3/174.4 ms; 3 workers 4545/5076 req/s, p99
50.8/101.8 ms. The in-app p99 stayed 3.6-6.0 ms in all six runs.
To separate the server from the load generator, the server on CPU 0 and wrk on CPU 1 (``taskset -c 0`` for
the benchmark, ``--pin-wrk 1``), load 3.9-4.8: before 2068 req/s, p99 144 ms (1 worker) and 1699 req/s,
p99 309 ms (2 workers); after 3007 req/s, p99 51.8 ms (1 worker) and 4618 req/s, p99 51.2 ms (2 workers),
in-app p99 5 ms. On the loaded box the target (p99 < 100 ms, 50 clients, SQLite) was met in 8 of 12 runs
with 2 workers and in all 3 with 1 worker; in the 4 runs that missed it (102-215 ms) the app's own p99 was
1.5-6 ms, so those are the box, not the gallery.

Issue 4's gallery target (p99 < 100 ms) is met on SQLite in 2 runs of 3 and missed on PostgreSQL by
13-36 ms; the PostgreSQL p99 no longer swings (it was 125-1002 ms run to run before the pre-warm).

Where the swings came from (measured, PostgreSQL, 2 workers, wrk in 2 s windows on a fresh server): the
first 2 s ran at 623 req/s with p99 1278 ms, the next five windows at 1580-3160 req/s with p99 117-176 ms;
two 10 s runs back to back on one server gave p99 866 ms, then 143 ms. The 50 connections arrived at once
on empty caches, so every request for ``/`` missed and rendered (about 25 renders per worker at once), each
opening a pool connection (a PostgreSQL fork and handshake) and filling the per-artist opt-out cache one
query at a time; the old warm-up (5 clients, 1 s) did not fill the pools. With the pre-warm, the first
2 s window of a fresh server ran at 2046 req/s with p99 186 ms, and the 3 s warm-up phases above at
1982-2509 req/s, p99 137-187 ms. What is left on PostgreSQL is steady-state: a ``?before=`` miss is a
query to a backend process competing for the same 2 cores.

Earlier runs, before the pre-warm (warm-up of 5 clients for 1 s): sqlite 2 workers gallery 4339 req/s,
p50 9.0 ms, p99 100 ms; postgresql 2 workers gallery 3072-3377 req/s, p50 12.6-14 ms, p99 125-1002 ms;
verdict pixels=true 434 (sqlite) / 438 (postgresql) req/s, p99 288 / 265 ms; pixels=false 972 / 2004 req/s,
p99 156 / 135 ms.

PostgreSQL gallery before the pool fix: 1933 req/s, p50 20 ms, p99 281-441 ms, with ~410 PostgreSQL
sessions opened in one 10 s run (SQLAlchemy's default pool keeps 5 connections and closes every one
above that on return, so 25 concurrent requests per worker kept forking backends); after it, ~50 (the
pools filling once). A gallery miss (``?before=``: one keyset query + render, one thread, in process)
costs 0.8 ms on SQLite and 1.0 ms on PostgreSQL (1.4 ms before autocommit reads dropped BEGIN/ROLLBACK);
the query itself is an ``Index Scan Backward using pk_platform_media`` + memoized artist lookups, 0.14 ms
execution (EXPLAIN ANALYZE).

Earlier runs (before the pool fix, in-memory rate limiter): sqlite 1 worker gallery 1733 req/s p99 214 ms;
sqlite 2 workers gallery 3483-5154 req/s p99 86-238 ms; postgresql 2 workers gallery 2280 req/s p99 281 ms;
verdict pixels=true 231 (1 worker) / 347 (2) req/s; pixels=false 705 (1) / 944 (2) req/s on SQLite.
``--generator python`` (python-httpx) on sqlite, 2 workers: gallery 364 req/s, p99 648 ms: the generator is
the bottleneck.

Before this work (one worker, uncached sync handlers): gallery 353 req/s, p99 458 ms (wrk) / 141 req/s,
p99 1432 ms (python-httpx); verdict 141 req/s, p99 586 ms (wrk). ``--inspect-processes 2`` with one worker
gave 200 req/s for verdict pixels=true: worse than two workers with threads (pickling, one event loop).

Copy checks (issues 13/14: "find my work" and the upload preview through the copy detector), ``--only
copies``: the seeded works get a copy index written directly (``seed_copy_index``: one real textured
upload, the bulk works fingerprints of 8 other textured pictures with 12 of 64 bits of each window hash
flipped, so each query's 12-24 nearest candidates cost real ORB verifications); the probe is a mirrored
80 % centre crop (JPEG) of the real one, never byte-identical, so the detector runs on every request
(before this, the probe was a byte copy of a template and the pages ran the global pHash/PDQ matcher,
which misses this probe: measured in process, 0.6 ms per query, nothing found). Python generator (the
POSTs need the CSRF token), 8 clients (a copy check is CPU work: more clients only queue), 8 s after a
2 s warm-up, 2 workers, the box shared with other sessions:

    db          works in index  page     req/s   p50 ms   p99 ms   load average
    sqlite           10 004     find     142.9     58.7    108.2   6.4
    sqlite           10 004     preview   59.9    134.3    184.6   6.4   (the preview also reads the file: pixels on)
    sqlite          100 004     find      79.3     99.5    152.2   7.0
    sqlite          100 004     preview   61.5    122.0    249.7   7.0
    postgresql       10 004     find      59.4    108.2    429.3   6.9
    postgresql       10 004     preview   79.5     92.7    259.1   6.9

In process, one thread, 10 k works: ``find_similar`` p50 5.2 ms on SQLite (faiss held to one thread;
with OpenMP's 2 threads on the loaded box it was ~110 ms), 14 ms on PostgreSQL. Before the start-up
pre-warm opened the index, the first request of each worker paid the open (100 k works: 1.5-3 s, find
p99 3103 ms); with it, p99 152 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def _png(color, text=None) -> bytes:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo
    info = PngInfo()
    for k, v in (text or {}).items():
        info.add_text(k, v)
    out = io.BytesIO()
    Image.new("RGB", (256, 256), color).save(out, "PNG", pnginfo=info)
    return out.getvalue()


A1111 = ("a lighthouse at dawn, oil painting\nNegative prompt: blurry\nSteps: 28, Sampler: Euler a, CFG scale: 7, "
         "Seed: 1, Size: 256x256, Model: sd15")


def seed(db: str, media: Path, works: int, artists: int = 200) -> float:
    """Bulk insert: a few real uploads (originals + reports), then ``works`` rows sharing them."""
    from sqlalchemy import func, insert, select

    from artlineage.interfaces.web import create_app
    from artlineage.interfaces.web.models import Media, User
    from artlineage.registry.models import Artist, Work

    app = create_app(db, media, pixels=False)
    platform = app.state.platform
    t0 = time.perf_counter()
    admin = User(id=None, email="bench@localhost", password_hash="!", is_admin=True)
    with platform.session() as s, s.begin():
        if s.scalar(select(func.count()).select_from(Media)) >= works:
            return 0.0
        from artlineage.registry import Registry
        a0 = Registry.in_session(s).add_artist("Seed Artist", living=True)
        templates = []
        for i, (color, text, use) in enumerate([((200, 60, 40), {"parameters": A1111}, "generated"),
                                                ((40, 120, 200), None, "none"), ((30, 160, 60), None, "edited")]):
            _w, m, _r = platform.add_upload(s, admin, a0.id, _png(color, text), filename=f"t{i}.png", title=f"t{i}",
                                            declared_ai_use=use)
            templates.append(m)
        now = m.created_at
        s.execute(insert(Artist), [{"name": f"Artist {i:04d}", "normalized": f"artist {i:04d}", "links": [],
                                    "living": True, "created_at": now, "updated_at": now} for i in range(artists)])
        artist_ids = s.scalars(select(Artist.id)).all()
        start = s.scalar(select(func.max(Work.id))) + 1
        batch = 10_000
        for b in range(0, works, batch):
            rows_w, rows_m = [], []
            for k in range(b, min(works, b + batch)):
                wid, aid, t = start + k, artist_ids[k % len(artist_ids)], templates[k % 3]
                rows_w.append({"id": wid, "artist_id": aid, "title": f"Work {k} {random.choice(['harbour', 'field', 'night', 'study'])}",
                               "location": f"upload:{t.sha256}", "origin": t.origin, "created_at": now})
                rows_m.append({"work_id": wid, "artist_id": aid, "user_id": None, "title": rows_w[-1]["title"],
                               "sha256": t.sha256, "format": t.format, "width": t.width, "height": t.height,
                               "byte_size": t.byte_size, "stored_name": t.stored_name, "badge": t.badge,
                               "badge_source": t.badge_source, "origin": t.origin, "confidence": t.confidence,
                               "generator": t.generator, "report": t.report, "declared_ai_use": t.declared_ai_use,
                               "tools": None, "process": None, "training_data": "unknown", "prompt": None,
                               "credits": [], "created_at": now})
            s.execute(insert(Work), rows_w)
            s.execute(insert(Media), rows_m)
    if platform.engine.dialect.name == "postgresql":
        with platform.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    platform.engine.dispose()
    return time.perf_counter() - t0


def _textured(seed: int, size=(384, 288)):
    """A picture with detail (shapes): what the copy detector's ORB verification needs to work on."""
    from PIL import Image, ImageDraw
    rng = random.Random(seed)
    col = lambda: tuple(rng.randrange(256) for _ in range(3))  # noqa: E731
    im = Image.new("RGB", size, col())
    d = ImageDraw.Draw(im)
    for _ in range(80):
        x0, y0, w, h = rng.randrange(size[0]), rng.randrange(size[1]), rng.randrange(8, 110), rng.randrange(8, 110)
        (d.rectangle if rng.random() < 0.5 else d.ellipse)((x0, y0, x0 + w, y0 + h), fill=col(), outline=col(),
                                                           width=rng.randrange(1, 4))
    return im


def copy_probe() -> bytes:
    """A mirrored 80 % centre crop, JPEG q85, of the textured work ``seed_copy_index`` registers."""
    from PIL import Image
    im = _textured(1000)
    w, h = im.size
    out = io.BytesIO()
    im.crop((w // 10, h // 10, w - w // 10, h - h // 10)).transpose(Image.FLIP_LEFT_RIGHT).save(out, "JPEG", quality=85)
    return out.getvalue()


def seed_copy_index(db: str, media: Path) -> dict:
    """The platform's copy index for the seeded works, written directly (fingerprinting 100k uploads
    one by one would take an hour): one real textured upload, and every bulk work a fingerprint of one
    of 8 other textured pictures with 12 of 64 bits of each window hash flipped, so the works are spread
    over the hash space and the 12 nearest candidates each cost a real ORB verification (the same
    construction as bench_copies_scale.py). The server then opens it as "loaded"."""
    import numpy as np
    from sqlalchemy import select

    from artlineage.interfaces.web import create_app
    from artlineage.interfaces.web.copy_store import _Disk
    from artlineage.interfaces.web.models import Media, User
    from artlineage.matching.copies import CopyIndex, fingerprint
    from artlineage.matching.copy_index import concat
    from artlineage.registry import Registry

    app = create_app(db, media, pixels=False)
    platform = app.state.platform
    disk = _Disk(platform.copies_dir)
    with platform.session() as s, s.begin():
        if disk.meta_ok() is None and (platform.copies_dir / "base").exists():
            platform.engine.dispose()
            return {"works": len(json.loads((platform.copies_dir / "base" / "keys.json").read_text())), "how": "kept"}
        if platform.engine.dialect.name == "postgresql":  # seed() inserted explicit ids: move the sequence on
            s.connection().exec_driver_sql("SELECT setval(pg_get_serial_sequence('works', 'id'), "
                                           "(SELECT max(id) FROM works))")
        artist = Registry.in_session(s).add_artist("Textured Artist", living=True)
        admin = User(id=None, email="bench@localhost", password_hash="!", is_admin=True)
        buf = io.BytesIO()
        _textured(1000).save(buf, "PNG")
        real, _m, _r = platform.add_upload(s, admin, artist.id, buf.getvalue(), filename="textured.png",
                                           title="Textured original", declared_ai_use="none")
    with platform.session() as s:
        rows = s.execute(select(Media.work_id, Media.sha256).order_by(Media.work_id)).all()
    t0 = time.perf_counter()
    others = [fingerprint(_textured(i)) for i in range(8)]
    rng = np.random.default_rng(0)
    idx = CopyIndex()
    block = 10_000
    keys = []
    for a in range(0, len(rows), block):
        part = CopyIndex()
        items = []
        for work_id, sha in rows[a:a + block]:
            if work_id == real.id:
                fp = fingerprint(platform.original_path(sha, "PNG"))
            else:
                base = others[work_id % 8]
                flips = np.zeros(base.hashes.shape, np.uint64)
                for _ in range(12):
                    flips |= np.uint64(1) << rng.integers(0, 64, base.hashes.shape).astype(np.uint64)
                fp = type(base)(base.hashes ^ flips, base.features)
            items.append((work_id, fp))
            keys.append(sha)
        part.add(items)
        idx = part if not len(idx) else concat([idx, part])
    disk.reset()
    disk.write_part(platform.copies_dir / "base", idx, keys)
    platform.engine.dispose()
    return {"works": len(idx), "how": f"written in {time.perf_counter() - t0:.1f}s"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: str, media: Path, port: int, workers: int = 1, inspect_processes: int = 0,
                 timing_dir: Path | None = None) -> subprocess.Popen:
    cli = Path(sys.executable).with_name("artlineage")
    cmd = [str(cli), "serve", "--db", db, "--media", str(media), "--port", str(port), "--workers", str(workers),
           "--anonymous-rate", "0", "--upload-rate", "1000000", "--inspect-processes", str(inspect_processes), "--log-level", "warning"]
    env = dict(os.environ)
    if timing_dir is not None:
        # The same workers as ``artlineage serve --workers N`` (app_from_env, env as serve sets it: the seed
        # already migrated), each wrapped in _timed_app's per-request timer.
        cmd = [sys.executable, "-m", "uvicorn", "_timed_app:app_from_env", "--factory", "--app-dir",
               str(Path(__file__).parent), "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
        env.update({"ARTLINEAGE_DB": db, "ARTLINEAGE_MEDIA": str(media), "ARTLINEAGE_SECRET_KEY": "bench" * 8,
                    "ARTLINEAGE_ANONYMOUS_RATE": "0", "ARTLINEAGE_PIXELS": "1", "ARTLINEAGE_UPGRADE": "0",
                    "ARTLINEAGE_INSPECT_PROCESSES": str(inspect_processes), "BENCH_TIMING_DIR": str(timing_dir)})
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
            time.sleep(1.0 if workers > 1 else 0.0)  # let every worker finish starting
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


async def load(name: str, make_request, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                t = time.perf_counter()
                r = await make_request(client)
                latencies.append(time.perf_counter() - t)
                if r.status_code >= 400:
                    errors += 1
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000  # noqa: E731
    return {"endpoint": name, "generator": "python-httpx", "requests": len(latencies), "errors": errors,
            "rps": round(len(latencies) / elapsed, 1), "p50_ms": round(q(0.50), 1), "p99_ms": round(q(0.99), 1),
            "mean_ms": round(statistics.mean(latencies) * 1000, 1)}


# wrk scripts. ``done`` prints one JSON line that run_wrk parses (latencies are in microseconds).
WRK_DONE = r"""
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read +
                 summary.errors.write + summary.errors.timeout
  io.write(string.format('WRKJSON {"requests": %d, "errors": %d, "seconds": %.3f, "p50_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, errors, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), latency.mean))
end
"""

WRK_GALLERY = r"""
math.randomseed(os.time())
local max_id = tonumber(os.getenv("MAX_ID"))
request = function()
  local r = math.random()
  local path
  if r < 0.5 then path = "/"
  elseif r < 0.75 then path = "/?human_only=true"
  else path = "/?before=" .. math.random(max_id - 5000, max_id) end
  return wrk.format("GET", path)
end
""" + WRK_DONE

WRK_VERDICT = r"""
local f = assert(io.open(os.getenv("VERDICT_FILE"), "rb"))
local png = f:read("*a"); f:close()
local boundary = "----artlineagebench0123456789"
wrk.method = "POST"
wrk.path = "/v1/verdict" .. os.getenv("QUERY")
wrk.body = "--" .. boundary .. "\r\n" ..
  'Content-Disposition: form-data; name="file"; filename="v.png"\r\n' ..
  "Content-Type: image/png\r\n\r\n" .. png .. "\r\n--" .. boundary .. "--\r\n"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
""" + WRK_DONE


PIN_WRK = ""  # --pin-wrk: the CPU list wrk runs on (taskset)


def server_timing(timing_dir: Path, windows: list[tuple[float, float]]) -> dict:
    """The workers' own view of the measured runs (see _timed_app): per-request time inside the app by
    kind of gallery URL, and the event loop's lag, each as p50/p99/max in ms; the collector's pauses."""
    requests, lags, gcs = [], [], []
    inside = lambda t: any(a <= t <= b for a, b in windows)  # noqa: E731
    for f in timing_dir.glob("*.json"):
        d = json.loads(f.read_text())
        requests += [r for r in d["requests"] if inside(r[0])]
        lags += [lag for t, lag in d["lags"] if inside(t)]
        gcs += [g for g in d["gcs"] if inside(g[0])]

    def pct(xs: list[float]) -> dict:
        xs = sorted(xs)
        if not xs:
            return {"n": 0}
        q = lambda p: round(xs[min(len(xs) - 1, int(p * len(xs)))] * 1000, 2)  # noqa: E731
        return {"n": len(xs), "p50_ms": q(0.5), "p99_ms": q(0.99), "p999_ms": q(0.999), "max_ms": round(xs[-1] * 1000, 1)}

    kinds = sorted({r[2] for r in requests})
    return {"in_app": {"all": pct([r[1] for r in requests]), **{k: pct([r[1] for r in requests if r[2] == k])
                                                                for k in kinds}},
            "loop_lag": pct(lags),
            "gc_pauses": {f"gen{g}": {"n": sum(1 for x in gcs if x[2] == g),
                                      "total_ms": round(sum(x[1] for x in gcs if x[2] == g) * 1000, 1),
                                      "max_ms": round(max([x[1] for x in gcs if x[2] == g] or [0]) * 1000, 2)}
                          for g in (0, 1, 2)}}


def run_wrk(name: str, base: str, script: str, env: dict[str, str], clients: int, seconds: float, tmp: Path) -> dict:
    path = tmp / f"{name.split(' ')[0]}.lua"
    path.write_text(script)
    cmd = (["taskset", "-c", PIN_WRK] if PIN_WRK else []) + ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(path), base]
    out = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    r = json.loads(line[len("WRKJSON "):])
    return {"endpoint": name, "generator": "wrk", "requests": r["requests"], "errors": r["errors"],
            "rps": round(r["requests"] / r["seconds"], 1), "p50_ms": round(r["p50_us"] / 1000, 1),
            "p99_ms": round(r["p99_us"] / 1000, 1), "mean_ms": round(r["mean_us"] / 1000, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=None)
    ap.add_argument("--works", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--inspect-processes", type=int, default=0)
    ap.add_argument("--generator", choices=("auto", "wrk", "python", "both"), default="auto")
    ap.add_argument("--data-dir", type=Path, default=None, help="keep the SQLite file and media here")
    ap.add_argument("--only", choices=("gallery", "verdict", "pages", "copies"), default=None,
                    help="pages: the evidence-backed gallery, a work page, find my work and the upload preview")
    ap.add_argument("--server-timing", action="store_true",
                    help="time requests inside each worker too (benchmarks/_timed_app.py) and the event loop's lag")
    ap.add_argument("--pin-wrk", default="", help="run wrk on these CPUs (taskset -c LIST), e.g. 1")
    ap.add_argument("--warmup", type=float, default=3.0,
                    help="seconds of unmeasured load at the full --clients before each measured run (0: none)")
    args = ap.parse_args()
    global PIN_WRK
    PIN_WRK = args.pin_wrk
    tmp = Path(tempfile.mkdtemp(prefix="bench-platform-"))
    data = args.data_dir or tmp
    data.mkdir(parents=True, exist_ok=True)
    db = args.db or str(data / "bench.sqlite")
    media = data / ("media-pg" if args.db else "media")
    seeded = seed(db, media, args.works)
    print(f"seeded {args.works} works in {seeded:.1f}s on {db.split('://')[0] if '://' in db else 'sqlite'}",
          file=sys.stderr)
    copy_index = seed_copy_index(db, media) if args.only in (None, "pages", "copies") else None
    generators = {"auto": ["wrk" if shutil.which("wrk") else "python"], "wrk": ["wrk"], "python": ["python"],
                  "both": ["wrk", "python"]}[args.generator]
    if "wrk" in generators and not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk, or use --generator python")
    port = _free_port()
    timing_dir = tmp / "timing" if args.server_timing else None
    proc = start_server(db, media, port, args.workers, args.inspect_processes, timing_dir)
    windows: list[tuple[float, float]] = []
    base = f"http://127.0.0.1:{port}"
    verdict_png = _png((120, 30, 90), {"parameters": A1111})
    (tmp / "v.png").write_bytes(verdict_png)
    max_id = httpx.get(base + "/v1/works?limit=1").json()["items"][0]["work_id"]

    async def gallery(c: httpx.AsyncClient) -> httpx.Response:
        roll = random.random()
        if roll < 0.5:
            return await c.get(base + "/")
        if roll < 0.75:
            return await c.get(base + "/?human_only=true")
        return await c.get(base + f"/?before={random.randint(max_id - 5000, max_id)}")

    def verdict(query: str):  # noqa: ANN202
        async def post(c: httpx.AsyncClient) -> httpx.Response:
            return await c.post(base + "/v1/verdict" + query, files={"file": ("v.png", verdict_png, "image/png")})
        return post

    cases = [("gallery", gallery, WRK_GALLERY, {"MAX_ID": str(max_id)}),
             ("verdict pixels=true", verdict("?pixels=true"), WRK_VERDICT,
              {"VERDICT_FILE": str(tmp / "v.png"), "QUERY": "?pixels=true"}),
             ("verdict pixels=false", verdict("?pixels=false"), WRK_VERDICT,
              {"VERDICT_FILE": str(tmp / "v.png"), "QUERY": "?pixels=false"})]
    # The pages of the redesign. The two POSTs carry a CSRF token (the form's, from one GET) and a file
    # that is a resized copy of a registered work's template, so "find my work" and the preview run the
    # perceptual matcher for real; measured with the Python generator (wrk would need the token and
    # cookie in its Lua script), so their numbers are a floor (see above).
    page = httpx.get(base + "/find", headers={"Accept": "text/html"})
    csrf_cookie = page.cookies.get("al_csrf", "")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    # A copy (mirrored crop) of a registered textured work: not the same file, so the copy detector
    # runs (window-hash scan over every indexed work, ORB + RANSAC on the 12 nearest).
    probe = copy_probe()
    any_work = httpx.get(base + "/v1/works?limit=1&evidence_only=true").json()["items"] or [{"work_id": max_id}]

    def post_page(path: str):  # noqa: ANN202
        async def post(c: httpx.AsyncClient) -> httpx.Response:
            return await c.post(base + path, data={"csrf": token}, cookies={"al_csrf": csrf_cookie},
                                files={"file": ("p.jpg", probe, "image/jpeg")})
        return post

    async def evidence(c: httpx.AsyncClient) -> httpx.Response:
        return await c.get(base + "/?evidence_only=true")

    async def work_page(c: httpx.AsyncClient) -> httpx.Response:
        return await c.get(base + f"/works/{random.randint(max_id - 5000, max_id)}", follow_redirects=True)

    page_cases = [("page evidence-only", evidence), ("page work", work_page), ("page find", post_page("/find")),
                  ("page preview", post_page("/upload"))]
    if args.only == "pages":
        cases = []
    elif args.only == "copies":  # the two pages that run the copy detector
        cases, page_cases = [], page_cases[2:]
    elif args.only:
        cases = [c for c in cases if c[0].startswith(args.only)]
        page_cases = []
    try:
        results, warmups = [], []
        for name, fn, script, env in cases:
            # Warm-up: the same load (all --clients connections, same generator) for --warmup seconds, its
            # numbers reported under "warmup" and never mixed into "results"; the measured run that
            # follows keeps every request, slow ones included.
            if args.warmup > 0:
                if generators[0] == "wrk":
                    warm = run_wrk(name, base, script, env, args.clients, args.warmup, tmp)
                else:
                    warm = asyncio.run(load(name, fn, args.clients, args.warmup))
                warmups.append({**warm, "seconds": args.warmup})
            for generator in generators:
                if generator == "wrk":
                    t0 = time.time()
                    results.append(run_wrk(name, base, script, env, args.clients, args.seconds, tmp))
                    windows.append((t0, time.time()))
                else:
                    results.append(asyncio.run(load(name, fn, args.clients, args.seconds)))
        for name, fn in page_cases:
            if args.warmup > 0:
                warmups.append({**asyncio.run(load(name, fn, args.clients, min(args.warmup, 1.0))), "seconds": 1.0})
            results.append(asyncio.run(load(name, fn, args.clients, args.seconds)))
        report = {"db": "postgresql" if "postgres" in db else "sqlite", "works": args.works,
                  "clients": args.clients, "workers": args.workers,
                  "inspect_processes": args.inspect_processes, "cpus": os.cpu_count(),
                  "warmup": f"{args.warmup:g} s at {args.clients} clients before each measured run, not measured",
                  "load_average": [round(x, 2) for x in os.getloadavg()], "pin_wrk": args.pin_wrk or None,
                  "copy_index": copy_index,
                  "results": results, "warmup_results": warmups}
        proc.terminate()
        proc.wait(timeout=20)
        if timing_dir is not None:  # the workers write their timings as they exit
            report["server_timing_wrk_runs"] = server_timing(timing_dir, windows)
        print(json.dumps(report, indent=2))
    finally:
        if proc.poll() is None:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
