"""Seconds artlineage spends on hostile inputs (the unit tests assert the outcome; the time is measured
here, not asserted in tests): a 9 MB PNG text chunk, billion-laughs XMP, 20 000 IPTC datasets, JSON nested
3 million deep, a 100 kB hostile prompt. Each line prints the time next to the bound the design aims at.

    python benchmarks/bench_hostile_inputs.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from artlineage._inspect import inspect_bytes  # noqa: E402
from artlineage.matching.prompt_guard import check_prompt  # noqa: E402
from artlineage.signals._json import json_nesting_depth  # noqa: E402
from artlineage.signals.iptc_iim import iim_datasets  # noqa: E402
from tests.signals._xmp_fixtures import billion_laughs_packet, embed_xmp  # noqa: E402


def _dataset(record: int, number: int, value: bytes) -> bytes:
    return bytes([0x1C, record, number]) + len(value).to_bytes(2, "big") + value


def _png_with_big_text() -> bytes:
    import io
    import struct
    import zlib

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    data = buf.getvalue()
    body = b"parameters\x00" + b"a" * (9 * 1024 * 1024)
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    iend = data.rindex(b"IEND") - 4
    return data[:iend] + chunk + data[iend:]


CASES = [
    ("PNG with a 9 MB tEXt chunk", 5.0, lambda: inspect_bytes(_png_with_big_text())),
    ("billion-laughs XMP in PNG", 1.0, lambda: inspect_bytes(embed_xmp(billion_laughs_packet(), "PNG"))),
    ("20 000 IPTC IIM datasets", 1.0, lambda: iim_datasets(_dataset(2, 25, b"k") * 20_000)),
    ("JSON nested 3 000 000 deep + 2 M escaped quotes", 2.0,
     lambda: (json_nesting_depth("[" * 3_000_000), json_nesting_depth('"' + '\\"' * 2_000_000))),
    ("hostile 100 kB prompt", 2.0, lambda: check_prompt(("by " + "a" * 50 + " (") * 2000)),
]


def main() -> None:
    print(f"{'input':52s} {'seconds':>8s} {'aim':>6s}")
    for name, aim, run in CASES:
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
        print(f"{name:52s} {seconds:8.3f} {aim:6.1f}  {'ok' if seconds < aim else 'SLOWER THAN AIM'}")


if __name__ == "__main__":
    main()
