"""Local paths, ``s3://`` and ``gs://`` through one interface (fsspec), with atomic commits.

Every reader and writer of the dataset pipelines takes a :class:`Location` (a filesystem and a
path on it), so the same code runs on a laptop folder and on object storage. ``s3://`` needs the
``s3`` extra (s3fs), ``gs://`` the ``gcs`` extra (gcsfs); credentials come from the usual places
(environment, config files, instance roles) or ``storage_options``.

Atomicity: a local file is written to a temp file and renamed; an object is uploaded in one PUT
(or one completed multipart upload), which object stores make visible all at once. Either way a
reader — or a resumed run — never sees half a file.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..errors import ConfigurationError

REMOTE_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}


@dataclass(frozen=True)
class Location:
    """A path on a filesystem: ``fs`` is an fsspec filesystem, ``path`` has no protocol prefix."""

    fs: Any
    path: str
    storage_options: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_local(self) -> bool:
        return "file" in _protocols(self.fs)

    @property
    def url(self) -> str:
        """The path with its protocol (``s3://bucket/key``), as a user would type it."""
        return self.path if self.is_local else self.fs.unstrip_protocol(self.path)

    def child(self, *parts: str) -> "Location":
        return Location(self.fs, posixpath.join(self.path, *parts), self.storage_options)

    def exists(self) -> bool:
        return bool(self.fs.exists(self.path))

    def open(self, mode: str = "rb") -> Any:
        return self.fs.open(self.path, mode)

    def read_bytes(self) -> bytes:
        return self.fs.cat_file(self.path)

    def write_bytes(self, data: bytes) -> None:
        """Write atomically (see the module docstring)."""
        if self.is_local:
            from .._files import write_bytes_atomic

            write_bytes_atomic(data, self.path)
        else:
            self.fs.pipe_file(self.path, data)

    def write_with(self, write: Callable[[str], object], suffix: str = "") -> None:
        """``write(local_temp_path)`` then commit the file here atomically (rename, or one upload)."""
        if self.is_local:
            from .._files import write_atomic

            write_atomic(self.path, write)
            return
        fd, tmp = tempfile.mkstemp(suffix=suffix or ".tmp", prefix=".artlineage-")
        os.close(fd)
        try:
            write(tmp)
            self.fs.put_file(tmp, self.path)
        finally:
            os.unlink(tmp)

    def makedirs(self) -> None:
        if self.is_local:
            os.makedirs(self.path, exist_ok=True)
        # Object stores have no folders: a key's prefix exists once an object is written under it.

    def list(self, suffixes: tuple[str, ...] = ()) -> list["Location"]:
        """Files directly in this folder (sorted), optionally only those ending with ``suffixes``."""
        try:
            names = self.fs.ls(self.path, detail=True)
        except FileNotFoundError:
            return []
        files = sorted(n["name"] for n in names if n.get("type") == "file")
        if suffixes:
            files = [f for f in files if f.lower().endswith(suffixes)]
        return [Location(self.fs, _strip(self.fs, f), self.storage_options) for f in files]

    def walk_files(self) -> Iterator["Location"]:
        """Every file under this folder, in a stable (sorted) order."""
        for root, dirs, files in self.fs.walk(self.path):
            dirs.sort()
            for name in sorted(files):
                yield Location(self.fs, posixpath.join(_strip(self.fs, root), name), self.storage_options)

    def isdir(self) -> bool:
        return bool(self.fs.isdir(self.path))

    def arrow_filesystem(self) -> Any:
        """The pyarrow filesystem for this location (pyarrow.parquet reads and writes through it)."""
        import pyarrow.fs as pafs

        if self.is_local:
            return pafs.LocalFileSystem()
        return pafs.PyFileSystem(pafs.FSSpecHandler(self.fs))


def _protocols(fs: Any) -> tuple[str, ...]:
    proto = fs.protocol
    return (proto,) if isinstance(proto, str) else tuple(proto)


def _strip(fs: Any, path: str) -> str:
    return fs._strip_protocol(path)


def open_location(url: str | os.PathLike[str], storage_options: dict[str, Any] | None = None) -> Location:
    """A :class:`Location` for a local path or a ``scheme://`` URL (fsspec's protocols)."""
    import fsspec.core

    url = os.fspath(url)
    options = dict(storage_options or {})
    scheme = url.split("://", 1)[0].lower() if "://" in url else "file"
    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError as exc:
        extra = REMOTE_EXTRAS.get(scheme, scheme)
        raise ConfigurationError(f"{scheme}:// needs an optional package: pip install 'artlineage[{extra}]' "
                                 f"({exc})") from exc
    except ValueError as exc:
        raise ConfigurationError(f"cannot open {url}: {exc}") from exc
    if scheme == "file":
        path = os.path.abspath(path)
    return Location(fs, path, options)


def storage_options_from_pairs(pairs: list[str] | None) -> dict[str, Any]:
    """``["endpoint_url=http://...", "anon=true"]`` (the CLI's ``--storage-option``) as a dict."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigurationError(f"storage option {pair!r} is not KEY=VALUE")
        lowered = value.lower()
        out[key.strip()] = True if lowered == "true" else False if lowered == "false" else value
    return out
