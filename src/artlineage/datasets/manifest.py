"""Dataset manifests in, filtered manifests out: Parquet/CSV (img2dataset conventions), folders, WebDataset.

img2dataset conventions: one row per image with a ``url`` column (``--url_col``), an optional
``caption`` column, and any extra columns, which are kept untouched. Input may be one file or a
folder of shards (``*.parquet`` / ``*.csv`` / ``*.tsv`` / ``*.txt``); a folder of ``*.tar`` is a
WebDataset (``key.jpg`` + ``key.json`` with ``url``/``caption`` + ``key.txt``); any other folder is
a tree of images. Every row gets a stable ``_row_id`` (its position in the input), which is what
shards, resumes and the final accounting are keyed on.
"""

from __future__ import annotations

import csv
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .._files import write_atomic
from .._files import IMAGE_EXTENSIONS, iter_image_files

ROW_ID = "_row_id"
TABLE_SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".tsv": "tsv", ".txt": "txt"}
MAX_WDS_JSON = 1024 * 1024


@dataclass
class Manifest:
    kind: str  # parquet | csv | tsv | txt | folder | webdataset
    paths: list[Path]
    url_col: str = "url"
    root: Path | None = None

    def iter_batches(self, batch_size: int) -> Iterator[pa.RecordBatch | pa.Table]:
        for p in self.paths:
            if self.kind == "parquet":
                yield from pq.ParquetFile(p).iter_batches(batch_size=batch_size)
            elif self.kind in ("csv", "tsv"):
                yield from _csv_batches(p, "\t" if self.kind == "tsv" else ",")
            elif self.kind == "txt":
                yield from _txt_batches(p, self.url_col, batch_size)
        if self.kind == "folder":
            yield from _rows_to_tables(({"path": str(f), self.url_col: None} for f in iter_image_files(self.root)),
                                       batch_size)
        elif self.kind == "webdataset":
            yield from _rows_to_tables((r for p in self.paths for r in iter_webdataset(p, self.url_col)), batch_size)

    def known_rows(self) -> int | None:
        """Row count when it is cheap to know (Parquet footers), else None."""
        if self.kind != "parquet":
            return None
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.paths)

    def iter_shards(self, shard_size: int) -> Iterator[pa.Table]:
        """Tables of exactly ``shard_size`` rows (the last may be shorter), each with ``_row_id``.

        Shard boundaries depend only on the input and ``shard_size``, so a resumed run cuts the
        same shards as the first one.
        """
        pending: list[pa.Table] = []
        count = 0
        start = 0
        for batch in self.iter_batches(shard_size):
            table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
            pending.append(table)
            count += table.num_rows
            while count >= shard_size:
                merged = pa.concat_tables(pending, promote_options="default")
                yield _with_row_ids(merged.slice(0, shard_size), start)
                start += shard_size
                rest = merged.slice(shard_size)
                pending, count = ([rest] if rest.num_rows else []), rest.num_rows
        if count:
            yield _with_row_ids(pa.concat_tables(pending, promote_options="default"), start)


def _with_row_ids(table: pa.Table, start: int) -> pa.Table:
    ids = pa.array(range(start, start + table.num_rows), type=pa.int64())
    if ROW_ID in table.column_names:
        table = table.drop_columns([ROW_ID])
    return table.append_column(ROW_ID, ids)


def _csv_batches(path: Path, delimiter: str) -> Iterator[pa.RecordBatch]:
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        header = next(csv.reader(fh, delimiter=delimiter), [])
    # Every column as text: type inference per block would make shards disagree on types.
    reader = pacsv.open_csv(path, parse_options=pacsv.ParseOptions(delimiter=delimiter),
                            convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header}))
    yield from reader


def _txt_batches(path: Path, url_col: str, batch_size: int) -> Iterator[pa.Table]:
    with open(path, encoding="utf-8", errors="replace") as fh:
        yield from _rows_to_tables(({url_col: line.strip()} for line in fh if line.strip()), batch_size)


def _rows_to_tables(rows: Iterator[dict], batch_size: int) -> Iterator[pa.Table]:
    buf: list[dict] = []
    for row in rows:
        buf.append(row)
        if len(buf) >= batch_size:
            yield _table(buf)
            buf = []
    if buf:
        yield _table(buf)


def _table(rows: list[dict]) -> pa.Table:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    return pa.table({c: pa.array([r.get(c) for r in rows], type=pa.string()) for c in cols})


def iter_webdataset(tar_path: Path, url_col: str = "url") -> Iterator[dict]:
    """One row per sample with an image: key, tar, member, url and caption (from .json / .txt)."""
    samples: dict[str, dict] = {}
    order: list[str] = []
    with tarfile.open(tar_path, "r:*") as tar:
        for member in tar:
            if not member.isfile():
                continue
            base = os.path.basename(member.name)
            if "." not in base:
                continue
            stem, ext = base.split(".", 1)
            key = os.path.join(os.path.dirname(member.name), stem)
            sample = samples.get(key)
            if sample is None:
                sample = samples[key] = {"key": key, "tar": str(tar_path), "member": None, url_col: None, "caption": None}
                order.append(key)
            if "." + ext.lower() in IMAGE_EXTENSIONS:
                sample["member"] = member.name
            elif ext == "json" and member.size <= MAX_WDS_JSON:
                try:
                    meta = json.loads(tar.extractfile(member).read())  # type: ignore[union-attr]
                except (ValueError, RecursionError):
                    meta = {}
                if isinstance(meta, dict):
                    for k in (url_col, "caption"):
                        if isinstance(meta.get(k), str):
                            sample[k] = meta[k]
            elif ext == "txt" and member.size <= MAX_WDS_JSON:
                sample["caption"] = tar.extractfile(member).read().decode("utf-8", "replace")  # type: ignore[union-attr]
    for key in order:
        if samples[key]["member"]:
            yield samples[key]


def open_manifest(path: str | os.PathLike[str], *, url_col: str = "url") -> Manifest:
    """Recognise what ``path`` holds (file by suffix; folder by what is inside)."""
    p = Path(path)
    if p.is_file():
        if p.suffix.lower() == ".tar":
            return Manifest("webdataset", [p], url_col)
        kind = TABLE_SUFFIXES.get(p.suffix.lower())
        if kind is None:
            raise ValueError(f"unsupported manifest file {p.name}: use .parquet, .csv, .tsv, .txt or .tar")
        return Manifest(kind, [p], url_col)
    if not p.is_dir():
        raise FileNotFoundError(f"manifest {p} does not exist")
    for suffix, kind in (*TABLE_SUFFIXES.items(), (".tar", "webdataset")):
        files = sorted(p.glob(f"*{suffix}"))
        if files and suffix != ".txt":
            return Manifest(kind, files, url_col, root=p)
    return Manifest("folder", [], url_col, root=p)


def read_local_image(row: dict, max_bytes: int) -> bytes | None:
    """Bytes of a folder or WebDataset row's image (None for URL rows)."""
    if row.get("path"):
        p = Path(row["path"])
        return p.read_bytes() if p.stat().st_size <= max_bytes else None
    if row.get("tar") and row.get("member"):
        with tarfile.open(row["tar"], "r:*") as tar:
            member = tar.getmember(row["member"])
            if member.size > max_bytes:
                return None
            return tar.extractfile(member).read()  # type: ignore[union-attr]
    return None


def write_parquet_atomic(table: pa.Table, path: str | os.PathLike[str]) -> None:
    """Write to a temp file in the same folder, then rename: a reader never sees half a file."""
    write_atomic(path, lambda tmp: pq.write_table(table, tmp))
