"""rows/s of ``artlineage filter`` vs Spawning's ``datadiligence`` on the same loopback server.

What is compared, exactly: N image URLs on one loopback HTTP server (127.0.0.1; every 7th URL
answers ``X-Robots-Tag: noai``, every 11th ``tdm-reservation: 1``).

* datadiligence: its offline ``HttpEvaluator`` (X-Robots-Tag + TDMRep header rules), one
  ``is_allowed(url=...)`` per URL, as its README shows. It checks headers only, sequentially.
* artlineage cold: ``filter_manifest`` with an empty cache: robots.txt, tdmrep.json and ai.txt
  once per host, then HEAD per URL (async, per-host concurrency 16), verdict, Parquet outputs.
* artlineage warm: the same run again with every signal in the on-disk cache (no request).

Run: ``.venv/bin/python benchmarks/bench_filter.py [N]``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests._webserver import LoopbackServer  # noqa: E402

from artlineage.datasets.consent_filter import FilterConfig, filter_manifest  # noqa: E402


def main(n: int = 3000) -> None:
    tmp = Path(tempfile.mkdtemp())
    with LoopbackServer() as s:
        s.route("*", "*", headers={"Content-Type": "image/jpeg"}, body=b"\xff\xd8")
        urls = []
        for i in range(n):
            path = f"/img/{i}.jpg"
            if i % 7 == 0:
                s.route("127.0.0.1", path, headers={"X-Robots-Tag": "noai"})
            elif i % 11 == 0:
                s.route("127.0.0.1", path, headers={"tdm-reservation": "1"})
            urls.append(s.url("127.0.0.1", path))
        pq.write_table(pa.table({"url": urls}), tmp / "m.parquet")
        expected = sum(1 for i in range(n) if i % 7 == 0 or i % 11 == 0)

        results = {}
        try:
            from datadiligence.evaluators.http import HttpEvaluator

            ev = HttpEvaluator()
            m = min(n, 1000)
            t = time.perf_counter()
            blocked = sum(not ev.is_allowed(url=u) for u in urls[:m])
            dt = time.perf_counter() - t
            results["datadiligence HttpEvaluator (sequential, headers only)"] = (m / dt, blocked, m)
        except ImportError:
            print("datadiligence not installed: skipped")

        cfg = FilterConfig(allow_private=True, shard_size=n, per_host_concurrency=16, concurrency=64)
        t = time.perf_counter()
        cold = filter_manifest(tmp / "m.parquet", tmp / "cold", cfg)
        results["artlineage filter, cold cache"] = (n / (time.perf_counter() - t), cold.excluded, n)
        assert cold.excluded == expected, (cold.excluded, expected)
        warm_cfg = FilterConfig(allow_private=True, shard_size=n, cache_path=str(tmp / "cold" / "signals-cache.sqlite"))
        t = time.perf_counter()
        warm = filter_manifest(tmp / "m.parquet", tmp / "warm", warm_cfg)
        results["artlineage filter, warm cache (1 process)"] = (n / (time.perf_counter() - t), warm.excluded, n)
        assert warm.requests == 0
    for name, (rate, blocked, rows) in results.items():
        print(f"{name:55s} {rate:10,.0f} rows/s  ({blocked}/{rows} excluded)")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
