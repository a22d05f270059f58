"""Datasets: low-level I/O only (manifests and their shards, the scan store, dataset paths, readers and
writers). The pipelines built on them (scan, consent filter, audit, match runs) live in
:mod:`artlineage.pipelines`.

``artlineage.datasets.scan_directory`` / ``ScanSummary`` were documented here before the pipelines moved;
they still resolve (lazily, so this package never imports the layer above it at import time).
"""

from typing import Any

from .scan_store import ScanStore, ScannedFile

# Compatibility: names the README and earlier releases documented at this path, served from the pipeline
# layer on first use (PEP 562). The import-layer test allows exactly these.
_MOVED_TO_PIPELINES = {"scan_directory": "artlineage.pipelines.scan", "ScanSummary": "artlineage.pipelines.scan",
                       "iter_image_files": "artlineage._files"}


def __getattr__(name: str) -> Any:
    module = _MOVED_TO_PIPELINES.get(name)
    if module is None:
        raise AttributeError(f"module 'artlineage.datasets' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = ["ScanStore", "ScannedFile", *_MOVED_TO_PIPELINES]
