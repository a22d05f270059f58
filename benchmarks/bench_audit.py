"""`artlineage audit` (one pass) against `scan` + `filter` + `match` + `health` one after another.

Images/s and images/s per worker core for the whole audit, on local WebDataset shards and on the
same shards in a loopback S3 server (moto in server mode, the real S3 client path), with 1 and 2
workers; then the four separate commands over the same images extracted to a folder (the
extraction itself not counted). Every run is a CLI subprocess, so each pays its own start-up.

Two depths, each compared with what the separate commands need for the same answers:

* metadata-only: provenance + in-file consent, no pixel decoded
  (audit --metadata-only  vs  scan --no-pixels + filter)
* full: + pixel readers (watermarks), near duplicates across shards, registry copies, embeddings
  (audit --full --embeddings --registry  vs  scan + filter + match + health)

Web opt-outs are off in both (no network here); the filter's web path is measured in bench_filter.

    python benchmarks/bench_audit.py --shards 6 --per-shard 150 --full-per-shard 25

Measured here (2 cores, load average 12-16 from other sessions, so wall times are +-50 %): worker CPU
per image 1.0-1.5 ms metadata-only and 30-33 ms full; the audit 1.1-1.3x (metadata-only) and
1.3-2.2x (full) the separate commands. The 16-core machine was not lent to this task: 1 -> 16 worker
scaling is not measured. Projection for 5 x 10^9 images (README, "Benchmarks"): full ~43,000
core-hours (44 h on 1,000 cores), dominated by the pixel work; metadata-only ~1,700 core-hours,
dominated by reading ~200 TB from storage.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
A1111 = ("a castle on a hill, golden hour\nNegative prompt: blurry\nSteps: 28, Sampler: DPM++ 2M Karras, "
         "CFG scale: 6.5, Seed: {seed}, Size: 384x384, Model: v1-5-pruned-emaonly")
XMP = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       '<rdf:Description xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" '
       'plus:DataMining="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED"/></rdf:RDF></x:xmpmeta>')


def picture(rng: np.random.Generator, side: int) -> Image.Image:
    """A photo-like picture: a smooth colour field plus fine noise (JPEG sizes like real photos)."""
    coarse = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(coarse).resize((side, side), Image.Resampling.BICUBIC), np.float32)
    noise = rng.normal(0, 12, (side, side, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def sample_bytes(i: int, rng: np.random.Generator, side: int) -> tuple[str, bytes]:
    im, buf = picture(rng, side), io.BytesIO()
    kind = i % 4
    if kind == 0:
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", A1111.format(seed=i))
        im.save(buf, "PNG", pnginfo=info, compress_level=1)
        return "png", buf.getvalue()
    if kind == 1:
        exif = Image.Exif()
        exif[0x010F], exif[0x0110] = "FUJIFILM", "X100V"
        im.save(buf, "JPEG", exif=exif, quality=90)
    elif kind == 2:
        im.save(buf, "JPEG", xmp=XMP.encode(), quality=90)
    else:
        im.save(buf, "JPEG", quality=90)
    return "jpg", buf.getvalue()


def build(root: Path, shards: int, per_shard: int, side: int) -> tuple[Path, Path]:
    """img2dataset-style tars under root/wds and the same images as files under root/files."""
    rng = np.random.default_rng(0)
    (root / "wds").mkdir(parents=True)
    (root / "files").mkdir()
    for s in range(shards):
        with tarfile.open(root / "wds" / f"{s:05d}.tar", "w") as tar:
            for j in range(per_shard):
                key = f"{s:05d}{j:04d}"
                ext, data = sample_bytes(s * per_shard + j, rng, side)
                (root / "files" / f"{key}.{ext}").write_bytes(data)
                meta = json.dumps({"key": key, "url": f"https://img.example/{key}.{ext}", "caption": "c"}).encode()
                for name, payload in ((f"{key}.{ext}", data), (f"{key}.json", meta), (f"{key}.txt", b"c")):
                    info = tarfile.TarInfo(name)
                    info.size = len(payload)
                    tar.addfile(info, io.BytesIO(payload))
    return root / "wds", root / "files"


def cli(*args: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "artlineage.interfaces.cli", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def registry_of(files: Path, db: Path, n: int) -> None:
    """A registry with ``n`` of the dataset's images as works (so matching has real hits)."""
    from artlineage.registry import Registry

    works = db.parent / "works"
    works.mkdir()
    for p in sorted(files.iterdir())[:n]:
        (works / p.name).write_bytes(p.read_bytes())
    with Registry(db) as reg:
        reg.add_artist("Bench Artist")
        reg.add_work_files("Bench Artist", works)


def row(label: str, n: int, seconds: float, workers: int, base: float | None = None) -> None:
    rate = n / seconds
    extra = f"   x{base / seconds:.2f} vs separate" if base else ""
    print(f"  {label:44s} {seconds:7.2f} s {rate:8.1f} img/s {rate / workers:8.1f} img/s/core{extra}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--per-shard", type=int, default=150, help="images per shard, metadata-only runs")
    ap.add_argument("--full-per-shard", type=int, default=30, help="images per shard, full runs")
    ap.add_argument("--side", type=int, default=384)
    ap.add_argument("--no-s3", action="store_true")
    args = ap.parse_args()
    print(f"cores here: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}")
    from tests._moto import moto_s3

    with tempfile.TemporaryDirectory() as tmp, (moto_s3("bench") if not args.no_s3 else _null()) as s3:
        tmp_path = Path(tmp)
        for depth, per_shard in (("metadata-only", args.per_shard), ("full", args.full_per_shard)):
            root = tmp_path / depth
            wds, files = build(root, args.shards, per_shard, args.side)
            n = args.shards * per_shard
            reg = root / "reg.sqlite"
            if depth == "full":
                registry_of(files, reg, 20)
            flags = ["--no-web"] + (["--metadata-only"] if depth == "metadata-only"
                                    else ["--full", "--embeddings", "--registry", str(reg)])
            if s3:
                import s3fs

                fs = s3fs.S3FileSystem(**s3)
                for p in sorted(wds.iterdir()):
                    fs.put_file(str(p), f"bench/{depth}/in/{p.name}")
                s3_flags = [f"--storage-option=endpoint_url={s3['endpoint_url']}", "--storage-option=key=testing",
                            "--storage-option=secret=testing"]
            print(f"\n{depth}: {n} images ({args.shards} shards, {args.side} px)")
            for w in (1, 2):
                cache = str(root / f"cache{w}.sqlite")
                separate = cli("scan", str(files), "--db", str(root / f"scan{w}.sqlite"), "-w", str(w), "-q",
                               *(["--no-pixels"] if depth == "metadata-only" else []))
                separate += cli("filter", str(files), "--out", str(root / f"filter{w}"), "-w", str(w), "--json",
                                "--cache", cache)
                if depth == "full":
                    separate += cli("match", str(files), "--registry", str(reg), "-w", str(w), "--json")
                    separate += cli("health", str(root / f"scan{w}.sqlite"), "--report", str(root / f"health{w}"),
                                    "-w", str(w), "--json")
                local = cli("audit", str(wds), "--out", str(root / f"audit{w}"), "-w", str(w), "--json",
                            "--cache", cache, *flags)
                names = "scan + filter" + (" + match + health" if depth == "full" else "")
                row(f"separate commands ({names}), {w} worker(s)", n, separate, w)
                row(f"audit, local shards, {w} worker(s)", n, local, w, separate)
                if s3:
                    remote = cli("audit", f"s3://bench/{depth}/in", "--out", f"s3://bench/{depth}/out{w}", "-w", str(w),
                                 "--json", "--cache", cache, *s3_flags, *flags)
                    row(f"audit, loopback S3 in and out, {w} worker(s)", n, remote, w, separate)
            for w in (1, 2):
                audit = json.loads((root / f"audit{w}" / "report.json").read_text())["audit"]
                phases = audit["phase_seconds"]
                total = sum(phases.values()) or 1
                cpu = audit["worker_cpu_seconds"] or total
                print(f"  audit workers, {w} worker(s): {n / cpu:.1f} img per CPU-second ({1000 * cpu / n:.1f} ms CPU "
                      f"per image, start-up excluded); global duplicate step {audit['dedup_seconds']:.2f} s; "
                      "worker wall time by phase: " +
                      ", ".join(f"{k} {v / total:.0%}" for k, v in sorted(phases.items(), key=lambda kv: -kv[1])))


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    main()
