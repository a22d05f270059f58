"""The reader registry: discovery of built-in readers, safe under concurrent first use."""

import subprocess
import sys
import textwrap

# A cold interpreter: the registry in this test process is already loaded. Imports are slowed
# down so the threads really do overlap with the discovery, as on the platform's thread pool.
COLD_START = textwrap.dedent("""
    import importlib, threading, time
    real_import = importlib.import_module
    def slow_import(name, package=None):
        time.sleep(0.02)
        return real_import(name, package)
    importlib.import_module = slow_import
    from artlineage.signals._registry import get_readers
    barrier = threading.Barrier(8)
    seen = []
    def worker():
        barrier.wait()
        seen.append(len(get_readers()))
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    print(sorted(seen), len(get_readers()))
""")


def test_every_thread_sees_every_reader_on_a_cold_start():
    out = subprocess.run([sys.executable, "-c", COLD_START], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    seen, total = out.stdout.split("]")
    counts = [int(n) for n in seen.strip("[ ").split(",")]
    assert int(total) >= 13
    assert counts == [int(total)] * 8
