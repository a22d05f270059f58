import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from PIL import Image, PngImagePlugin
from artlineage.datasets import ScanStore
from artlineage.pipelines import scan_directory


def make_tree(root: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        sub = root / f"d{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        p = sub / f"img{i:04d}.png"
        info = PngImagePlugin.PngInfo()
        info.add_text("Description", f"image {i}")
        Image.new("RGB", (16, 16), (i % 256, 0, 0)).save(p, pnginfo=info)
        paths.append(p)
    (root / "notes.txt").write_text("not an image")
    return paths


def row_count(db: Path) -> int:
    # Plain sqlite3, read-only: polling must not race the scanner's schema creation.
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM scanned_files").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not created yet


def test_scan_stores_one_row_per_file_and_skips_unchanged(tmp_path):
    paths = make_tree(tmp_path / "data", 12)
    db = tmp_path / "scan.sqlite"
    first = scan_directory(tmp_path / "data", db)
    assert first.scanned == 12 and first.skipped_unchanged == 0
    assert row_count(db) == 12  # notes.txt is not an image extension
    second = scan_directory(tmp_path / "data", db)
    assert second.scanned == 0 and second.skipped_unchanged == 12
    # A changed file is rescanned, its row replaced, not duplicated.
    Image.new("RGB", (20, 20)).save(paths[0])
    os.utime(paths[0], ns=(time.time_ns(), time.time_ns() + 10_000_000))
    third = scan_directory(tmp_path / "data", db)
    assert third.scanned == 1 and third.skipped_unchanged == 11
    assert row_count(db) == 12
    row = next(r for r in ScanStore(db).rows() if r.path == str(paths[0]))
    assert row.width == 20


def test_scan_records_bad_files_and_goes_on(tmp_path):
    data = tmp_path / "data"
    make_tree(data, 3)
    (data / "zero.png").write_bytes(b"")
    (data / "junk.jpg").write_bytes(b"this is text, not a jpeg")
    db = tmp_path / "scan.sqlite"
    summary = scan_directory(data, db)
    assert summary.scanned == 5 and summary.errors == 2
    errors = {Path(r.path).name: r.error for r in ScanStore(db).rows() if r.error}
    assert errors["zero.png"] == "empty file (0 bytes)"
    assert "not an image" in errors["junk.jpg"]
    assert summary.store.by_origin == {"unknown": 3}


def test_parallel_scan_matches_serial(tmp_path):
    make_tree(tmp_path / "data", 20)
    a = scan_directory(tmp_path / "data", tmp_path / "a.sqlite", workers=1)
    b = scan_directory(tmp_path / "data", tmp_path / "b.sqlite", workers=2)
    rows_a = {(r.path, r.sha256, r.origin) for r in ScanStore(tmp_path / "a.sqlite").rows()}
    rows_b = {(r.path, r.sha256, r.origin) for r in ScanStore(tmp_path / "b.sqlite").rows()}
    assert rows_a == rows_b and len(rows_a) == 20 == a.scanned == b.scanned


SLOW_SCAN = textwrap.dedent("""
    import sys, time
    from artlineage.signals import register_reader

    @register_reader("test_slow")
    def slow(source):
        time.sleep(0.02)  # makes the scan slow enough to be killed halfway
        return []

    from artlineage.pipelines import scan_directory
    scan_directory(sys.argv[1], sys.argv[2], batch_size=5)
""")


def test_killed_scan_resumes_without_losing_or_duplicating_rows(tmp_path):
    n = 200
    make_tree(tmp_path / "data", n)
    db = tmp_path / "scan.sqlite"
    script = tmp_path / "slow_scan.py"
    script.write_text(SLOW_SCAN)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "data"), str(db)])
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if db.exists() and row_count(db) >= 20:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)  # no chance to clean up
    finally:
        proc.wait()
    committed = row_count(db)
    assert 20 <= committed < n, committed
    resumed = scan_directory(tmp_path / "data", db)
    assert resumed.skipped_unchanged == committed
    assert resumed.scanned == n - committed
    paths = [r.path for r in ScanStore(db).rows()]
    assert len(paths) == len(set(paths)) == n


def test_auto_workers_only_start_a_pool_for_enough_work():
    from artlineage.pipelines.scan import auto_workers

    assert auto_workers(10, pixels=True) == 1
    assert auto_workers(1000, pixels=False) == 1  # metadata-only: 0.7 s of work, a pool costs more
    big = auto_workers(5000, pixels=True)
    assert big == max(1, min(os.cpu_count() or 1, 8))


def test_workers_store_their_own_rows_and_send_back_counts_only(tmp_path):
    """scan_chunk (what each worker runs): the rows go to the store from the worker; the parent
    gets counts; a second pass over the same chunk skips every unchanged file."""
    from PIL import Image

    from artlineage.datasets.scan_store import ScanStore
    from artlineage.pipelines.scan import ChunkResult, scan_chunk
    from artlineage.signals._source import SourceOptions

    paths = []
    for i in range(5):
        p = tmp_path / f"{i}.png"
        Image.new("RGB", (8, 8), (i, 0, 0)).save(p)
        paths.append(str(p))
    (tmp_path / "bad.png").write_bytes(b"not a png")
    paths.append(str(tmp_path / "bad.png"))
    db = str(tmp_path / "scan.sqlite")
    first = scan_chunk(paths, db, SourceOptions(pixels=False), batch_size=2)
    assert first == ChunkResult(scanned=6, skipped_unchanged=0, errors=1, error_files=[(paths[-1], first.error_files[0][1])])
    assert ScanStore(db).summary().total == 6 and len(ScanStore(db).known_paths(paths[:3])) == 3
    again = scan_chunk(paths, db, SourceOptions(pixels=False))
    assert (again.scanned, again.skipped_unchanged) == (0, 6)
