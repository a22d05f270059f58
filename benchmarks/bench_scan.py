"""Files/second of a metadata-only `artlineage scan` against `exiftool -j` on the same files.

Both run as one command over the whole folder (each pays its own start-up), side by side in
this run; the ratio printed is artlineage files/s divided by exiftool files/s.

    python benchmarks/bench_scan.py --files 2000
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, PngImagePlugin

A1111 = ("a castle on a hill, golden hour, highly detailed\nNegative prompt: blurry, lowres\n"
         "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: {seed}, Size: 512x512, "
         "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly")
XMP = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       '<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
       'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/>'
       '</rdf:RDF></x:xmpmeta>')


def build_files(root: Path, n: int, size: int) -> None:
    rng = random.Random(0)
    base = Image.effect_noise((size, size), 40).convert("RGB")
    for i in range(n):
        kind = i % 4
        if kind == 0:
            info = PngImagePlugin.PngInfo()
            info.add_text("parameters", A1111.format(seed=rng.randrange(2**32)))
            base.save(root / f"{i:06d}_a1111.png", pnginfo=info, compress_level=1)
        elif kind == 1:
            exif = Image.Exif()
            exif[0x010F], exif[0x0110], exif[0x0131] = "FUJIFILM", "X100V", "Digital Camera X100V Ver1.10"
            base.save(root / f"{i:06d}_camera.jpg", exif=exif, quality=90)
        elif kind == 2:
            base.save(root / f"{i:06d}_xmp.jpg", xmp=XMP.encode(), quality=90)
        else:
            base.save(root / f"{i:06d}_plain.webp", quality=80)


def run(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--size", type=int, default=512, help="image side in pixels")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    exiftool = shutil.which("exiftool")
    if not exiftool:
        sys.exit("exiftool not found: apt-get install libimage-exiftool-perl")
    cli = str(Path(sys.executable).with_name("artlineage"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "files"
        root.mkdir()
        build_files(root, args.files, args.size)
        mb = sum(p.stat().st_size for p in root.iterdir()) / 1e6
        # Warm the page cache so neither tool pays first-read I/O.
        for p in root.iterdir():
            p.read_bytes()
        t_exif = run([exiftool, "-j", "-q", "-r", str(root)])
        db = Path(tmp) / "scan.sqlite"
        t_al = run([cli, "scan", str(root), "--db", str(db), "--no-pixels", "--quiet", "--json",
                    "--workers", str(args.workers)])
        rows = json.loads(subprocess.run([cli, "scan", str(root), "--db", str(db), "--no-pixels", "--json"],
                                         capture_output=True, text=True, check=True).stdout)
        os.remove(db)
        t_al_px = run([cli, "scan", str(root), "--db", str(db), "--quiet", "--json", "--workers", str(args.workers)])
    n = args.files
    print(f"{n} files ({mb:.1f} MB, {args.size}x{args.size}: A1111 PNG, camera JPEG, XMP JPEG, plain WebP)")
    print(f"exiftool -j                         : {t_exif:7.2f} s  {n / t_exif:8.0f} files/s")
    print(f"artlineage scan --no-pixels (w={args.workers})  : {t_al:7.2f} s  {n / t_al:8.0f} files/s"
          f"  ratio vs exiftool: {t_exif / t_al:.2f}x")
    print(f"artlineage scan with pixel readers  : {t_al_px:7.2f} s  {n / t_al_px:8.0f} files/s"
          f"  ratio vs exiftool: {t_exif / t_al_px:.2f}x")
    print(f"rows stored: {rows['total_rows']}, by origin: {rows['by_origin']}")


if __name__ == "__main__":
    main()
