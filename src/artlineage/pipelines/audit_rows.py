"""The audit row by row, in memory: images in (``Item``s or mappings with ``key`` and ``image`` bytes and/or
``url``), one :class:`AuditDecision` per image out, in order. The same per-image work as ``artlineage
audit`` (one decode: provenance, in-file and web consent, registry matches and terms, hashes) without
shards or output files, for a dataset builder's own pipeline::

    from artlineage.pipelines.audit_rows import audit_rows

    for d in audit_rows({"key": k, "image": data} for k, data in my_images()):
        if d.kept:
            keep(d.key, d.record)   # d.record is the artlineage.json a kept sample gets

Near duplicates need every image at once, so they stay a ``run_audit`` step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Iterable, Iterator, Mapping

from ..datasets.shards import Item
from ..signals._source import SourceOptions
from ._audit_consent import web_evidence
from ._audit_shard import _embedder, _registry, audit_item, decide_item
from .consent_filter.decide import Decider
from .dataset_audit import AuditConfig

DEFAULT_BATCH = 256


@dataclass(frozen=True)
class AuditDecision:
    """One image's answer: ``kept``, or the ``reason``/``rule`` it is excluded by; ``record`` is the
    provenance/consent/match record (the ``artlineage.json`` of a kept sample)."""

    key: str
    kept: bool
    reason: str | None = None
    rule: str | None = None
    record: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "kept": self.kept, "reason": self.reason, "rule": self.rule, "record": self.record}


def _item(row: Item | Mapping[str, Any]) -> Item:
    if isinstance(row, Item):
        return row
    known = {"key", "image", "image_ext", "url", "caption", "sidecars", "meta", "errors"}
    return Item(**{k: v for k, v in row.items() if k in known},
                meta={**dict(row.get("meta") or {}), **{k: v for k, v in row.items() if k not in known}})


def audit_rows(rows: Iterable[Item | Mapping[str, Any]], config: AuditConfig | None = None, *,
               batch_size: int = DEFAULT_BATCH) -> Iterator[AuditDecision]:
    """An :class:`AuditDecision` per image of ``rows``, lazily, batch by batch (memory bounded by
    ``batch_size`` images; web signals are fetched for a batch's URLs together)."""
    cfg = config or AuditConfig()
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    embedder = _embedder(cfg.embedder) if cfg.embeddings else None
    detector, terms_hook = _registry(cfg.registry) if cfg.registry else (None, None)
    options = SourceOptions(pixels=cfg.pixels)
    decider = Decider(cfg.exclude_uses)
    it = iter(rows)
    while batch := [_item(r) for r in islice(it, batch_size)]:
        results = [audit_item(item, pixels=cfg.pixels, hashes=cfg.hashes, embedder=embedder, detector=detector,
                              options=options) for item in batch]
        web = web_evidence([r.item.url for r in results], cfg) if cfg.web else [([], [])] * len(results)
        for res, (web_ev, web_errors) in zip(results, web):
            res.errors += web_errors
            _outcome, why, record = decide_item(res, web_ev, decider, terms_hook, cfg)
            yield AuditDecision(res.item.key, why is None, why[0] if why else None, why[1] if why else None, record)
