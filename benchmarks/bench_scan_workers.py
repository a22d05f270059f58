"""`artlineage scan` with 1 and 2 worker processes: files/s and the parent process's CPU per file.

The parent's CPU is what caps scaling: with it at c seconds per file, no number of workers makes
the scan faster than 1/c files/s. Before issue 16 the parent unpickled every report and was the one
SQLite writer (the issue measured 3.3 s of parent CPU per 20,000 files, a ceiling near 6,000 files/s
that 16 workers hit); now each worker stores its own rows and the parent only walks the tree and
hands out path lists. Run it against an older checkout to compare (PYTHONPATH=that/src).

    python benchmarks/bench_scan_workers.py --files 2000 --pixel-files 300
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scan import build_files  # noqa: E402

from artlineage.pipelines.scan import scan_directory  # noqa: E402


def measure(folder: Path, *, workers: int, pixels: bool) -> tuple[float, float, int]:
    """(files/s, parent CPU seconds, files) of one fresh scan."""
    with tempfile.TemporaryDirectory() as tmp:
        cpu0, t0 = time.process_time(), time.perf_counter()
        s = scan_directory(folder, Path(tmp) / "scan.sqlite", pixels=pixels, workers=workers)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return s.scanned / wall, cpu, s.scanned


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=2000, help="files for the metadata-only runs")
    ap.add_argument("--pixel-files", type=int, default=300, help="files for the full (pixel readers) runs")
    ap.add_argument("--size", type=int, default=256)
    args = ap.parse_args()
    print(f"cores here: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, n, pixels in (("metadata-only", args.files, False), ("full (pixels)", args.pixel_files, True)):
            folder = Path(tmp) / label.split()[0]
            folder.mkdir()
            build_files(folder, n, args.size)
            measure(folder, workers=1, pixels=pixels)  # warm the page cache and imports
            rows = {w: measure(folder, workers=w, pixels=pixels) for w in (1, 2)}
            for w, (rate, cpu, files) in rows.items():
                print(f"{label:14s} workers={w}: {rate:8.0f} files/s   parent CPU {1e6 * cpu / files:7.0f} µs/file"
                      f"   -> parent ceiling {files / cpu if cpu else float('inf'):9.0f} files/s")
            print(f"{label:14s} 2 vs 1 workers: x{rows[2][0] / rows[1][0]:.2f}")


if __name__ == "__main__":
    main()
