"""File helpers shared by every part: the image-file walk, and atomic writes (a temp file in the
same folder, then one rename, so a reader or a run killed half-way never sees half a file)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

IMAGE_EXTENSIONS = frozenset({
    ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".tif", ".tiff", ".gif", ".bmp", ".avif", ".heic",
    ".heif", ".hif", ".jxl",
})


def iter_image_files(root: str | os.PathLike[str], *, all_files: bool = False) -> Iterator[Path]:
    """Image files under ``root`` in a stable order (sorted per directory), symlinks not followed."""
    root = Path(root)
    if root.is_file():
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if all_files or os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
                yield Path(dirpath) / name


def write_atomic(path: str | os.PathLike[str], write: Callable[[str], object]) -> None:
    """Call ``write(temp_path)``, then rename the temp file over ``path``; the temp file never stays."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes_atomic(data: bytes, path: str | os.PathLike[str]) -> None:
    write_atomic(path, lambda tmp: Path(tmp).write_bytes(data))


def write_text_atomic(text: str, path: str | os.PathLike[str]) -> None:
    write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
