"""WebDataset tar shards: stream samples out of a tar, write samples into a new one.

A WebDataset sample is the run of consecutive tar members sharing a key (the member path up to the
first dot of its file name): ``000123.jpg``, ``000123.json``, ``000123.txt`` form the sample
``000123`` with the fields ``jpg``, ``json`` and ``txt``. Reading is a single forward pass
(``tarfile`` stream mode), so a shard in object storage is read as one sequential GET; members
above ``max_member_bytes`` are skipped and named in the sample's ``errors``, never loaded.

The ``webdataset`` package reads these too, but only as a PyTorch-style iterable of decoded
samples; the audit needs raw bytes, per-sample errors and a writer that commits a whole shard
atomically, which is a few lines of ``tarfile``.
"""

from __future__ import annotations

import io
import os
import tarfile
from dataclasses import dataclass, field
from typing import IO, Iterator, Mapping

from .._files import IMAGE_EXTENSIONS

MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_FIELDS = 64  # members per sample; a tar with more under one key is malformed
IMAGE_FIELDS = tuple(e.lstrip(".") for e in sorted(IMAGE_EXTENSIONS))


@dataclass
class WdsSample:
    """One sample: its key and its fields (extension -> raw bytes), in tar order."""

    key: str
    fields: dict[str, bytes] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def image_field(self) -> str | None:
        """The field holding the image (``jpg``, ``png``, ``webp``...), if any."""
        for name in self.fields:
            if name.lower() in IMAGE_FIELDS:
                return name
        return None


def split_member_name(name: str) -> tuple[str, str] | None:
    """``dir/000123.jpg`` -> (``dir/000123``, ``jpg``); None for names without an extension."""
    base = os.path.basename(name)
    if "." not in base or base.startswith("."):
        return None
    stem, ext = base.split(".", 1)
    return (f"{os.path.dirname(name)}/{stem}" if os.path.dirname(name) else stem), ext


def iter_samples(fileobj: IO[bytes], *, max_member_bytes: int = MAX_MEMBER_BYTES) -> Iterator[WdsSample]:
    """Samples of a tar stream, in order, in one forward pass."""
    current: WdsSample | None = None
    try:
        tar = tarfile.open(fileobj=fileobj, mode="r|*")
    except tarfile.TarError as exc:
        raise ValueError(f"not a tar stream: {exc}") from exc
    with tar:
        try:
            for member in tar:
                if not member.isfile():
                    continue
                parts = split_member_name(member.name)
                if parts is None:
                    continue
                key, ext = parts
                if current is None or current.key != key:
                    if current is not None:
                        yield current
                    current = WdsSample(key)
                if len(current.fields) >= MAX_FIELDS:
                    current.errors.append(f"{member.name}: more than {MAX_FIELDS} fields, skipped")
                elif member.size > max_member_bytes:
                    current.errors.append(f"{member.name}: {member.size} bytes, above the {max_member_bytes} limit")
                else:
                    current.fields[ext] = tar.extractfile(member).read()  # type: ignore[union-attr]
        except (tarfile.TarError, EOFError, OSError) as exc:
            # A truncated shard: everything before the damage is still delivered.
            if current is None:
                current = WdsSample("(truncated)")
            current.errors.append(f"tar stream damaged after this sample: {exc}")
    if current is not None:
        yield current


class ShardWriter:
    """Writes samples into one tar file, members in a deterministic order with fixed metadata, so
    rerunning a shard produces the same bytes."""

    def __init__(self, path: str | os.PathLike[str]):
        self._tar = tarfile.open(path, "w")
        self.samples = 0

    def write(self, key: str, fields: Mapping[str, bytes]) -> None:
        for ext, data in fields.items():
            info = tarfile.TarInfo(f"{key}.{ext}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            self._tar.addfile(info, io.BytesIO(data))
        self.samples += 1

    def close(self) -> None:
        self._tar.close()

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
