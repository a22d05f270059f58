"""Dataset shards as units of work: list them, read one into items (image bytes + sidecars).

Three layouts, local or in object storage (:mod:`.filesystems`):

* WebDataset: a folder (or prefix) of ``*.tar``, one shard per tar (img2dataset ``--output_format
  webdataset``); each sample's image field plus its ``.json`` / ``.txt`` sidecars.
* Parquet: a folder of ``*.parquet``, one shard per file; either image bytes in a binary column
  (img2dataset ``--output_format parquet`` writes ``jpg``; a Hugging Face ``image`` struct with
  ``bytes`` works too) or only URLs (the manifest img2dataset downloads from).
* A folder of image files, cut into shards of ``shard_size`` files in sorted order.

A shard's index is its position in the sorted listing, so a resumed run cuts the same shards.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from .._files import IMAGE_EXTENSIONS
from ..errors import ManifestError
from .filesystems import Location
from .webdataset import MAX_MEMBER_BYTES, iter_samples

IMAGE_COLUMNS = ("jpg", "jpeg", "png", "webp", "image", "img", "bytes", "image_bytes")
MAX_SIDECAR_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ShardSpec:
    """One unit of work: ``kind`` (webdataset | parquet | files), its input URL(s), its index."""

    index: int
    kind: str
    urls: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.index:06d}"


@dataclass
class Item:
    """One image of a shard, as the audit needs it. ``image`` is None for URL-only rows."""

    key: str
    image: bytes | None = None
    image_ext: str | None = None
    url: str | None = None
    caption: str | None = None
    sidecars: dict[str, bytes] = field(default_factory=dict)  # WebDataset fields other than the image
    meta: dict[str, Any] = field(default_factory=dict)  # the row's other columns (Parquet) or .json (tar)
    errors: list[str] = field(default_factory=list)


def list_shards(source: Location, *, shard_size: int = 10_000) -> list[ShardSpec]:
    """The shards of ``source`` (a folder/prefix, or one .tar / .parquet), in a stable order."""
    if not source.isdir():
        if not source.exists():
            raise ManifestError(f"{source.url} does not exist")
        kind = _kind_of(source.path)
        if kind is None:
            raise ManifestError(f"unsupported shard {source.url}: use .tar, .parquet or a folder of images")
        return [ShardSpec(0, kind, (source.url,))]
    for suffix, kind in ((".tar", "webdataset"), (".parquet", "parquet")):
        files = source.list((suffix,))
        if files:
            return [ShardSpec(i, kind, (f.url,)) for i, f in enumerate(files)]
    images = [f.url for f in source.walk_files() if posixpath.splitext(f.path)[1].lower() in IMAGE_EXTENSIONS]
    if not images:
        raise ManifestError(f"{source.url} holds no .tar, .parquet or image files")
    return [ShardSpec(i, "files", tuple(images[s:s + shard_size]))
            for i, s in enumerate(range(0, len(images), shard_size))]


def _kind_of(path: str) -> str | None:
    lower = path.lower()
    if lower.endswith(".tar"):
        return "webdataset"
    if lower.endswith(".parquet"):
        return "parquet"
    if posixpath.splitext(lower)[1] in IMAGE_EXTENSIONS:
        return "files"
    return None


def read_shard(spec: ShardSpec, base: Location, *, max_image_bytes: int = MAX_MEMBER_BYTES) -> Iterator[Item]:
    """Items of one shard. ``base`` supplies the filesystem (and its options) for the URLs."""
    if spec.kind == "webdataset":
        yield from _tar_items(_at(base, spec.urls[0]), max_image_bytes)
    elif spec.kind == "parquet":
        yield from _parquet_items(_at(base, spec.urls[0]), max_image_bytes)
    elif spec.kind == "files":
        root = base.path if base.isdir() else posixpath.dirname(base.path)
        for url in spec.urls:
            yield _file_item(_at(base, url), root, max_image_bytes)
    else:
        raise ManifestError(f"unknown shard kind {spec.kind!r}")


def _at(base: Location, url: str) -> Location:
    return Location(base.fs, base.fs._strip_protocol(url), base.storage_options)


def _decode_json(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _tar_items(loc: Location, max_image_bytes: int) -> Iterator[Item]:
    with loc.open("rb") as fh:
        for sample in iter_samples(fh, max_member_bytes=max_image_bytes):
            image_field = sample.image_field
            item = Item(sample.key, errors=list(sample.errors))
            if image_field is not None:
                item.image = sample.fields[image_field]
                item.image_ext = image_field
            elif not item.errors:
                item.errors.append("sample has no image field")
            item.sidecars = {k: v for k, v in sample.fields.items() if k != image_field}
            meta = _decode_json(item.sidecars["json"]) if len(item.sidecars.get("json", b"")) <= MAX_SIDECAR_BYTES else {}
            item.meta = meta
            item.url = meta.get("url") if isinstance(meta.get("url"), str) else None
            if isinstance(meta.get("caption"), str):
                item.caption = meta["caption"]
            elif "txt" in item.sidecars:
                item.caption = item.sidecars["txt"][:MAX_SIDECAR_BYTES].decode("utf-8", "replace")
            yield item


def _image_column(schema: pa.Schema) -> str | None:
    for name in IMAGE_COLUMNS:
        if name in schema.names:
            t = schema.field(name).type
            if pa.types.is_binary(t) or pa.types.is_large_binary(t):
                return name
            if pa.types.is_struct(t) and t.get_field_index("bytes") >= 0:
                return name
    return None


def _parquet_items(loc: Location, max_image_bytes: int) -> Iterator[Item]:
    with loc.open("rb") as fh:
        pf = pq.ParquetFile(fh)
        image_col = _image_column(pf.schema_arrow)
        stem = posixpath.splitext(posixpath.basename(loc.path))[0]
        n = 0
        for batch in pf.iter_batches(batch_size=1024):
            for row in batch.to_pylist():
                image = row.pop(image_col, None) if image_col else None
                if isinstance(image, dict):  # {"bytes": ..., "path": ...}
                    image = image.get("bytes")
                key = str(row.get("key") or f"{stem}/{n:09d}")
                url = row.get("url") if isinstance(row.get("url"), str) else None
                item = Item(key, url=url, meta={k: v for k, v in row.items() if _json_safe(v)},
                            caption=row.get("caption") if isinstance(row.get("caption"), str) else None)
                if image is not None and len(image) > max_image_bytes:
                    item.errors.append(f"image is {len(image)} bytes, above the {max_image_bytes} limit")
                elif image is not None:
                    item.image = bytes(image)
                    item.image_ext = "jpg" if image_col in ("jpg", "jpeg", "image", "img", "bytes", "image_bytes") else image_col
                n += 1
                yield item


def _json_safe(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _file_item(loc: Location, root: str, max_image_bytes: int) -> Item:
    key = posixpath.splitext(posixpath.relpath(loc.path, root))[0]
    item = Item(key, url=None, meta={"path": loc.url})
    try:
        size = loc.fs.size(loc.path)
        if size > max_image_bytes:
            item.errors.append(f"file is {size} bytes, above the {max_image_bytes} limit")
        else:
            item.image = loc.read_bytes()
            item.image_ext = posixpath.splitext(loc.path)[1].lstrip(".").lower()
    except OSError as exc:
        item.errors.append(f"cannot read file: {exc}")
    return item
