"""Image paths of a dataset, streamed: a folder (recursively), a Parquet/CSV/TSV manifest's local path column,
or a scan database's rows."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .._files import iter_image_files
from .manifest import open_manifest
from .scan_store import ScanStore

PATH_COLUMNS = ("path", "local_path", "filepath", "file_path", "file", "filename")
MANIFEST_SUFFIXES = frozenset({".parquet", ".csv", ".tsv"})


@dataclass
class DatasetPaths:
    """Image paths of a dataset, streamed; ``total`` when known without reading everything."""

    paths: Iterable[str]
    total: int | None
    kind: str

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)


def _walk_images(folder: Path) -> Iterator[str]:
    return (str(p) for p in iter_image_files(folder))


def _manifest_paths(path: Path, column: str | None) -> DatasetPaths:
    manifest = open_manifest(path)
    first = next(iter(manifest.iter_batches(1)), None)
    names = list(first.schema.names) if first is not None else []
    col = column or next((c for c in PATH_COLUMNS if c in names), None)
    if col is None or col not in names:
        raise ValueError(f"{path}: no local path column ({column or ' / '.join(PATH_COLUMNS)}); "
                         f"columns: {', '.join(names)}")
    total = None
    if manifest.kind == "parquet":
        import pyarrow.parquet as pq
        total = sum(pq.ParquetFile(p).metadata.num_rows for p in manifest.paths)
    root = path.parent if path.is_file() else path

    def gen() -> Iterator[str]:
        for batch in manifest.iter_batches(65_536):
            for value in batch.column(batch.schema.get_field_index(col)).to_pylist():
                if value:
                    p = Path(value)
                    yield str(p if p.is_absolute() else root / p)
    return DatasetPaths(gen(), total, manifest.kind)


def open_dataset(dataset: str | os.PathLike[str], path_column: str | None = None) -> DatasetPaths:
    """Image paths of a folder (recursively), of a Parquet/CSV/TSV manifest's local path column
    (a file, or a folder of shards when ``path_column`` is given; relative paths are taken from the
    manifest's folder), or of a scan database's rows."""
    p = Path(dataset)
    if p.is_dir():
        if path_column is not None:      # a folder of manifest shards
            return _manifest_paths(p, path_column)
        return DatasetPaths(_walk_images(p), None, "folder")
    if p.is_file() and p.suffix.lower() in MANIFEST_SUFFIXES:
        return _manifest_paths(p, path_column)
    if "://" in str(dataset) or p.is_file():
        return DatasetPaths((row.path for row in ScanStore(dataset).rows() if not row.error), None, "scan")
    raise FileNotFoundError(f"{dataset}: neither a folder, a manifest nor a scan database")


# ---- images with their bytes: folders, manifests, scan databases and WebDataset shards -------------

MAX_IMAGE_BYTES = 64 * 1024 * 1024   # a member larger than this is reported, not read


@dataclass
class DatasetImages:
    """(label, source) per image: ``source`` is a local path, the bytes of a WebDataset member, or an
    error message (str starting with ``"error: "``) for a member that could not be read."""

    items: Iterable[tuple[str, str | bytes]]
    total: int | None
    kind: str

    def __iter__(self) -> Iterator[tuple[str, str | bytes]]:
        return iter(self.items)


def _shard_images(shards: list[Path], max_bytes: int) -> Iterator[tuple[str, str | bytes]]:
    import tarfile
    from .._files import IMAGE_EXTENSIONS
    for shard in shards:
        try:
            with tarfile.open(shard, "r:*") as tar:
                for member in tar:
                    if not member.isfile() or os.path.splitext(member.name)[1].lower() not in IMAGE_EXTENSIONS:
                        continue
                    label = f"{shard}#{member.name}"
                    if member.size > max_bytes:
                        yield label, f"error: {member.size} bytes exceeds {max_bytes}"
                        continue
                    fh = tar.extractfile(member)
                    yield label, fh.read() if fh is not None else "error: unreadable member"
        except (OSError, tarfile.TarError, EOFError) as exc:   # a truncated shard: report, go on
            yield str(shard), f"error: {type(exc).__name__}: {exc}"


def open_dataset_images(dataset: str | os.PathLike[str], path_column: str | None = None,
                        max_bytes: int = MAX_IMAGE_BYTES) -> DatasetImages:
    """Like :func:`open_dataset`, plus WebDataset shards: a ``.tar`` file, or a folder whose only
    images are inside ``*.tar`` shards (each image member is read, at most ``max_bytes``)."""
    p = Path(dataset)
    shards: list[Path] = []
    if p.is_file() and p.suffix.lower() == ".tar":
        shards = [p]
    elif p.is_dir() and path_column is None:
        tars = sorted(p.glob("*.tar"))
        if tars and next(iter_image_files(p), None) is None:
            shards = tars
    if shards:
        return DatasetImages(_shard_images(shards, max_bytes), None, "webdataset")
    paths = open_dataset(dataset, path_column)
    return DatasetImages(((s, s) for s in paths), paths.total, paths.kind)
