"""Vendi score: covariance form (artlineage) vs the ``vendi-score`` package, time and peak memory.

Each case runs in a fresh subprocess; the peak RSS (VmHWM) is reset right before the call, so "extra"
is the call's own peak minus the RSS with the input array already allocated. Embeddings are synthetic
(d=512): 2,000 cluster centres plus noise, generated as float32 in chunks.

    .venv/bin/pip install vendi-score   # benchmark only: numpy/scipy/scikit-learn, no torch
    .venv/bin/python benchmarks/bench_vendi.py            # all cases
    .venv/bin/python benchmarks/bench_vendi.py --quick    # skip the 1M in-memory baselines

Baselines from the package: ``score_X`` is the paper's n×n kernel form (O(n²) memory, O(n³) time: a
100k kernel alone would be 80 GB, so it runs on small n and its 100k time is extrapolated with the
fitted exponent); ``score_dual`` is the package's own covariance form on an in-memory float64 copy.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

D = 512


def make_embeddings(n: int, seed: int = 0, chunk: int = 100000):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((2000, D), dtype=np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        idx = rng.integers(0, len(centres), m)
        yield centres[idx] + 0.8 * rng.standard_normal((m, D), dtype=np.float32)


def _status_mb(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_mb() -> float:
    """Current RSS, after resetting the peak (VmHWM) so the next reading covers only what follows."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # Linux >= 4.0: reset the peak resident set size to the current one
    except OSError:
        pass
    return _status_mb("VmRSS")


def run_case(case: str, n: int) -> dict:
    sys.path.insert(0, "src")
    from artlineage.health.vendi import VendiAccumulator, vendi_score

    if case == "ours_stream":  # never holds the n×d array: batches are generated and folded in
        before = rss_mb()
        t0 = time.perf_counter()
        acc = VendiAccumulator()
        for batch in make_embeddings(n):
            acc.update(batch)
        score = acc.score()
        seconds = time.perf_counter() - t0
        note = "includes generating the batches"
    else:
        x = np.empty((n, D), np.float32)  # filled in place: the input's own peak stays at n×d float32
        start = 0
        for batch in make_embeddings(n):
            x[start:start + len(batch)] = batch
            start += len(batch)
        del batch
        before = rss_mb()
        t0 = time.perf_counter()
        if case == "ours":
            score = vendi_score(x)
        elif case == "pkg_kernel":
            from vendi_score import vendi
            score = vendi.score_X(x)  # float32 in, as given
        elif case == "pkg_dual":
            from vendi_score import vendi
            score = vendi.score_dual(x)
        else:
            raise SystemExit(f"unknown case {case}")
        seconds = time.perf_counter() - t0
        note = ""
    peak = _status_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"case": case, "n": n, "seconds": round(seconds, 3), "vendi": round(float(score), 3),
            "peak_rss_mb": round(peak), "extra_mb": round(peak - before), "note": note}


def spawn(case: str, n: int, timeout: float = 900) -> dict | None:
    try:
        out = subprocess.run([sys.executable, __file__, "--case", case, "--n", str(n)], capture_output=True,
                             text=True, timeout=timeout, check=True)
    except subprocess.CalledProcessError as exc:
        print(f"{case} n={n}: failed: {exc.stderr.strip().splitlines()[-1:]}", flush=True)
        return None
    except subprocess.TimeoutExpired:
        print(f"{case} n={n}: timed out after {timeout}s", flush=True)
        return None
    res = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{res['case']:12s} n={res['n']:>9,d}  {res['seconds']:9.3f} s  peak RSS {res['peak_rss_mb']:6d} MB "
          f"(+{res['extra_mb']} MB over input)  Vendi {res['vendi']}  {res['note']}", flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case")
    ap.add_argument("--n", type=int)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.n)))
        return
    try:
        import vendi_score  # noqa: F401
        have_pkg = True
    except ImportError:
        have_pkg = False
        print("vendi-score not installed: package baselines skipped (pip install vendi-score)")
    import os
    print(f"d={D}, cpus={os.cpu_count()}, numpy {np.__version__}")
    results = []
    if have_pkg:
        kernel = [r for r in (spawn("pkg_kernel", n) for n in (2000, 4000, 8000)) if r]
        for n in (2000, 4000, 8000):
            results.append(spawn("ours", n))
        if len(kernel) >= 2:
            (n1, t1), (n2, t2) = [(r["n"], r["seconds"]) for r in kernel[-2:]]
            slope = np.log(t2 / t1) / np.log(n2 / n1)  # from the two largest sizes (overheads fade)
            est = t2 * (1e5 / n2) ** slope
            cubic = t2 * (1e5 / n2) ** 3
            print(f"pkg_kernel time ~ n^{slope:.2f} between n={n1} and n={n2}; extrapolated to n=100,000: "
                  f"~{est:,.0f} s with that exponent, ~{cubic:,.0f} s if cubic (eigendecomposition); the n×n "
                  f"kernel alone would need {1e5 ** 2 * 4 / 1e9:.0f} GB in float32 (not run)")
        dual = spawn("pkg_dual", 100000)
    ours100k = spawn("ours", 100000)
    if have_pkg and len(kernel) >= 2 and ours100k:
        print(f"speed-up at 100k vs the kernel form (extrapolated): ~{est / ours100k['seconds']:,.0f}x")
        if dual:
            print(f"speed-up at 100k vs the package's score_dual: {dual['seconds'] / ours100k['seconds']:.1f}x")
    spawn("ours_stream", 1000000)
    if not args.quick:
        spawn("ours", 1000000)
        if have_pkg:
            spawn("pkg_dual", 1000000)


if __name__ == "__main__":
    main()
