"""Labelled image folders for ``detect train`` and ``detect eval``: ``--ai DIR`` and ``--real DIR``.

Sub-folders are the groups an evaluation is broken down by (``ai/midjourney``, ``real/phone``...),
so an operator sees where a detector fails; ``by="generator"`` groups AI images by the generator
their metadata names instead. Unreadable images are listed with the reason, never fatal.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from PIL import Image

from .._files import iter_image_files

ProgressFn = Callable[[int, int], None]
_MAX_PIXELS = 178_956_970  # the same decompression-bomb limit as the readers
_MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass
class LabelledImages:
    paths: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)  # 1 = AI
    groups: list[str] = field(default_factory=list)

    def add_folder(self, root: str | os.PathLike[str], label: int, by: str = "folder") -> None:
        base = Path(root)
        if not base.is_dir():
            raise FileNotFoundError(f"no folder {base}")
        prefix = "ai" if label else "real"
        for path in iter_image_files(base):
            rel = path.parent.relative_to(base)
            group = f"{prefix}/{rel.parts[0]}" if rel.parts else f"{prefix}/."
            if by == "generator":
                group = f"{prefix}/{_generator_of(path) or 'unnamed'}"
            self.paths.append(str(path))
            self.labels.append(label)
            self.groups.append(group)


def _generator_of(path: Path) -> str | None:
    from .._inspect import inspect_file

    verdict = inspect_file(path, pixels=False).verdict
    return verdict.generator if verdict else None


def open_image(path: str) -> Image.Image:
    """An unloaded image over the file's bytes (no open file handle; JPEG ``draft`` stays possible)."""
    with open(path, "rb") as fh:
        data = fh.read(_MAX_FILE_BYTES + 1)
    if len(data) > _MAX_FILE_BYTES:
        raise ValueError(f"file is larger than {_MAX_FILE_BYTES} bytes")
    image = Image.open(io.BytesIO(data))
    if image.width * image.height > _MAX_PIXELS:
        raise ValueError(f"{image.width}x{image.height} pixels exceeds the decompression-bomb limit")
    return image


def batched_scores(paths: Sequence[str], score: Callable[[list[Image.Image]], object], *, batch_size: int = 16,
                   progress: ProgressFn | None = None) -> tuple[list[int], list, list[tuple[str, str]]]:
    """Run ``score`` over images in batches. Returns (indices that worked, their outputs, errors).

    A batch that fails is retried image by image, so one bad file costs only itself.
    """
    ok: list[int] = []
    outputs: list = []
    errors: list[tuple[str, str]] = []

    def one_batch(indices: list[int]) -> None:
        images, kept = [], []
        for i in indices:
            try:
                images.append(open_image(paths[i]))
                kept.append(i)
            except Exception as exc:  # noqa: BLE001 - unreadable files are per-image errors
                errors.append((paths[i], f"{type(exc).__name__}: {exc}"))
        if not images:
            return
        try:
            result = score(images)
        except Exception as exc:  # noqa: BLE001
            if len(images) == 1:
                errors.append((paths[kept[0]], f"{type(exc).__name__}: {exc}"))
                return
            for i in kept:
                one_batch([i])
            return
        ok.extend(kept)
        outputs.extend(list(result))  # type: ignore[call-overload]

    for start in range(0, len(paths), batch_size):
        one_batch(list(range(start, min(len(paths), start + batch_size))))
        if progress:
            progress(min(len(paths), start + batch_size), len(paths))
    return ok, outputs, errors
