"""Pipelines: the top-level runs over whole datasets, built on the layers below (signals, verdicts,
registry, matching, health, datasets I/O) and used by the interfaces (CLI, web).

- :mod:`.scan` — inspect every image of a folder into a resumable scan store (``artlineage scan``)
- :mod:`.consent_filter` — drop manifest rows whose rights-holders reserved AI use (``artlineage filter``)
- :mod:`.registry_consent` — the artists' registry as a consent source of the filter (``--registry``)
- :mod:`.audit` — the filter's audit report with dataset health (``--health``)
- :mod:`.health` — health-report records from a scan database or a folder
- :mod:`.audit_rows`, ``consent_filter.rows`` — the audit and the filter row by row, in memory
- :mod:`.stamp` — stamp every image of a folder, resumable (``artlineage stamp FOLDER``)
- :mod:`.dataset_audit` — one pass over WebDataset/Parquet/folders (local or object storage) into
  filtered shards, excluded rows, cross-shard near duplicates and one report (``artlineage audit``)

Names load on first use, so ``import artlineage.pipelines`` does not import pyarrow or httpx.
"""

from typing import Any

_LAZY = {
    "artlineage.pipelines.scan": ("scan_directory", "ScanSummary"),
    "artlineage.pipelines.consent_filter": ("filter_manifest", "filter_rows", "FilterConfig", "FilterSummary",
                                            "RowDecision"),
    "artlineage.pipelines.registry_consent": ("RegistryConsent",),
    "artlineage.pipelines.audit": ("health_of_kept",),
    "artlineage.pipelines.audit_rows": ("audit_rows", "AuditDecision"),
    "artlineage.pipelines.health": ("load_records", "records_from_scan_db"),
    "artlineage.pipelines.stamp": ("stamp_folder", "StampBatchSummary"),
    "artlineage.pipelines.dataset_audit": ("run_audit", "AuditConfig", "AuditSummary"),
}
_LAZY_NAMES = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:  # PEP 562
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'artlineage.pipelines' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_NAMES))


__all__ = list(_LAZY_NAMES)
