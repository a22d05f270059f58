"""Platform load benchmark (not a test): requests/s and latency percentiles for the gallery page and the
verdict endpoint, 50 concurrent clients against uvicorn on loopback, with 100k works bulk-seeded.

    .venv/bin/python benchmarks/bench_platform.py [--works 100000] [--clients 50] [--seconds 10]
        [--db postgresql://...]   # default: a fresh SQLite file in a temp folder

The load generator is asyncio + httpx in this process; the server runs in a subprocess (one uvicorn
worker, anonymous rate limit off). Both share the machine, so numbers are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
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
        from artlineage.registry import store
        a0 = store.add_artist(s, "Seed Artist", living=True)
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: str, media: Path, port: int) -> subprocess.Popen:
    code = ("import uvicorn; from artlineage.interfaces.web import create_app; "
            f"uvicorn.run(create_app({db!r}, {str(media)!r}, anonymous_rate_per_minute=None, pixels=True), "
            f"host='127.0.0.1', port={port}, log_level='warning', access_log=False)")
    proc = subprocess.Popen([sys.executable, "-c", code])
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
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
    return {"endpoint": name, "requests": len(latencies), "errors": errors, "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(q(0.50), 1), "p99_ms": round(q(0.99), 1), "mean_ms": round(statistics.mean(latencies) * 1000, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=None)
    ap.add_argument("--works", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-platform-"))
    db = args.db or str(tmp / "bench.sqlite")
    media = tmp / "media"
    seeded = seed(db, media, args.works)
    print(f"seeded {args.works} works in {seeded:.1f}s on {db.split('://')[0] if '://' in db else 'sqlite'}",
          file=sys.stderr)
    port = _free_port()
    proc = start_server(db, media, port)
    base = f"http://127.0.0.1:{port}"
    verdict_png = _png((120, 30, 90), {"parameters": A1111})
    max_id = httpx.get(base + "/v1/works?limit=1").json()["items"][0]["work_id"]

    async def gallery(c: httpx.AsyncClient) -> httpx.Response:
        roll = random.random()
        if roll < 0.5:
            return await c.get(base + "/")
        if roll < 0.75:
            return await c.get(base + "/?human_only=true")
        return await c.get(base + f"/?before={random.randint(max_id - 5000, max_id)}")

    async def verdict(c: httpx.AsyncClient) -> httpx.Response:
        return await c.post(base + "/v1/verdict", files={"file": ("v.png", verdict_png, "image/png")})

    try:
        results = []
        for name, fn in (("gallery", gallery), ("verdict", verdict)):
            asyncio.run(load(name, fn, 5, 1.0))  # warm-up
            results.append(asyncio.run(load(name, fn, args.clients, args.seconds)))
        print(json.dumps({"db": "postgresql" if "postgres" in db else "sqlite", "works": args.works,
                          "clients": args.clients, "cpus": os.cpu_count(), "results": results}, indent=2))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
