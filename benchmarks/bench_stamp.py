"""Files per second on one core: ``artlineage stamp`` (XMP only; XMP + signed C2PA) vs exiftool
writing the same IPTC field.

    .venv/bin/python benchmarks/bench_stamp.py [--files 200] [--size 1024]

Files are PNG, JPEG and WebP generated in code (a third each, ``--size`` pixels square, smooth
content plus noise like a render). Timed: ``stamp_folder`` over the folder into a fresh output
folder (one process, one core, journal writes included), once without signing and once with a
local ES256 test chain; and exiftool, the tool people use for this today, run once over the same
folder (``exiftool -o OUT/ -XMP-iptcExt:DigitalSourceType=... DIR``, the one field; older exiftool
versions do not define AISystemUsed for writing):
one process for all files, so its start-up is paid once). exiftool writes XMP only; c2patool is
not installed here, so signing has no external baseline.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from artlineage.pipelines.stamp import stamp_folder  # noqa: E402
from artlineage.stamping import SigningCredentials, StampOptions, make_test_chain  # noqa: E402

DST = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def make_files(folder: Path, n: int, size: int) -> int:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size]
    base = np.stack([x * 200 / size, y * 200 / size, (x + y) * 100 / size], axis=-1)
    total = 0
    for i in range(n):
        arr = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype("uint8")
        fmt, ext = [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")][i % 3]
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, fmt, **({"quality": 90} if fmt != "PNG" else {}))
        (folder / f"img{i:05}.{ext}").write_bytes(buf.getvalue())
        total += len(buf.getvalue())
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--size", type=int, default=1024)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = root / "src"
        src.mkdir()
        total = make_files(src, args.files, args.size)
        chain = make_test_chain(root / "certs")
        creds = SigningCredentials.from_files(chain.chain, chain.key)
        rows = []
        for label, options in (("artlineage stamp, XMP only", StampOptions(generator="Bench Model", sign=False)),
                               ("artlineage stamp, XMP + C2PA (ES256)",
                                StampOptions(generator="Bench Model", credentials=creds,
                                             prompt="a castle in the style of Greg Rutkowski"))):
            out = root / f"out{len(rows)}"
            t0 = time.perf_counter()
            summary = stamp_folder(src, options, out=out)
            seconds = time.perf_counter() - t0
            assert summary.stamped == args.files and summary.failed == 0, summary.errors[:3]
            rows.append((label, seconds))
        if shutil.which("exiftool"):
            out = root / "exif_out"
            t0 = time.perf_counter()
            subprocess.run(["exiftool", "-q", "-o", str(out) + "/", f"-XMP-iptcExt:DigitalSourceType={DST}",
                            str(src)], check=True)
            rows.append(("exiftool -XMP-iptcExt:DigitalSourceType= (XMP only)", time.perf_counter() - t0))
        print(f"{args.files} files ({args.size}x{args.size}, PNG/JPEG/WebP, {total / args.files / 1024:.0f} KiB avg), "
              f"one core:")
        for label, seconds in rows:
            print(f"  {label:<52} {args.files / seconds:8.1f} files/s  ({seconds:6.2f} s)")
        if len(rows) == 3:
            print(f"  ratio XMP-only vs exiftool: {rows[2][1] / rows[0][1]:.1f}x; "
                  f"with signing vs exiftool (XMP only): {rows[2][1] / rows[1][1]:.1f}x")


if __name__ == "__main__":
    main()
