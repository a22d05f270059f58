"""A small img2dataset-style dataset built in code: WebDataset tars (or Parquet with image bytes)
whose images carry known answers (camera, AI-generated, consent reserved in XMP, unreadable, and a
copy of a shard-0 image hidden in the last shard)."""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.health._images import picture
from tests.signals._xmp_fixtures import data_mining_packet

A1111 = "a castle at dusk\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 96x96, Model: sd15"


def _jpeg(seed: int, *, xmp: bytes | None = None, size: int = 96, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    kwargs = {"xmp": xmp} if xmp else {}
    picture(seed, size).save(buf, "JPEG", quality=quality, **kwargs)
    return buf.getvalue()


def _ai_png(seed: int) -> bytes:
    info = PngInfo()
    info.add_text("parameters", A1111)
    buf = io.BytesIO()
    picture(seed).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


@dataclass
class Sample:
    key: str
    ext: str
    data: bytes
    url: str
    caption: str
    expect: str  # kept | consent | unreadable
    origin: str


@dataclass
class Dataset:
    shards: list[list[Sample]] = field(default_factory=list)

    @property
    def samples(self) -> list[Sample]:
        return [s for shard in self.shards for s in shard]


def build(n_shards: int = 3, per_shard: int = 8, *, seed0: int = 0) -> Dataset:
    """Sample kinds by position: 0 mod 4 camera-like JPEG... (see ``expect``). The last shard's last
    sample re-encodes shard 0's first image smaller (a near duplicate across shards)."""
    ds = Dataset()
    for s in range(n_shards):
        shard = []
        for j in range(per_shard):
            i = s * per_shard + j
            key = f"{s:05d}{j:04d}"
            url, caption = f"file-only://{key}", f"caption {i}"
            kind = j % 4
            if kind == 3 and j % 8 == 7:
                shard.append(Sample(key, "jpg", b"\xff\xd8\xff\xe0 not really a jpeg", url, caption, "unreadable", "error"))
            elif kind == 1:
                shard.append(Sample(key, "png", _ai_png(seed0 + i), url, caption, "kept", "ai_generated"))
            elif kind == 2:
                shard.append(Sample(key, "jpg", _jpeg(seed0 + i, xmp=data_mining_packet("DMI-PROHIBITED")), url,
                                    caption, "consent", "unknown"))
            else:
                shard.append(Sample(key, "jpg", _jpeg(seed0 + i), url, caption, "kept", "unknown"))
        ds.shards.append(shard)
    first = ds.shards[0][0]
    copy = Image.open(io.BytesIO(first.data)).resize((80, 80), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    copy.save(buf, "JPEG", quality=80)
    last = ds.shards[-1]
    last[-1] = Sample(last[-1].key, "jpg", buf.getvalue(), last[-1].url, "copy", "kept", "unknown")
    return ds


def write_webdataset(ds: Dataset, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, shard in enumerate(ds.shards):
        path = folder / f"{n:05d}.tar"
        with tarfile.open(path, "w") as tar:
            for s in shard:
                meta = json.dumps({"url": s.url, "caption": s.caption, "key": s.key, "status": "success"}).encode()
                for ext, data in ((s.ext, s.data), ("json", meta), ("txt", s.caption.encode())):
                    info = tarfile.TarInfo(f"{s.key}.{ext}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        paths.append(path)
    return paths


def write_parquet(ds: Dataset, folder: Path) -> list[Path]:
    """img2dataset ``--output_format parquet``: key, url, caption, status and the bytes in ``jpg``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, shard in enumerate(ds.shards):
        path = folder / f"{n:05d}.parquet"
        pq.write_table(pa.table({"key": [s.key for s in shard], "url": [s.url for s in shard],
                                 "caption": [s.caption for s in shard], "status": ["success"] * len(shard),
                                 "jpg": pa.array([s.data for s in shard], pa.binary())}), path)
        paths.append(path)
    return paths
