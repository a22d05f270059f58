"""The consent filter row by row, in memory: rows in (any iterable of mappings), one decision per row out,
in input order. For dataset builders who call the filter from their own pipeline instead of file to file::

    from artlineage.pipelines.consent_filter import FilterConfig, filter_rows

    for d in filter_rows(({"url": u} for u in urls), FilterConfig(exclude_uses=("training",))):
        if not d.excluded:
            keep(d.row)

The same evaluation as :func:`filter_manifest` (site files once per origin, the fetch cache, registry terms
through ``FilterConfig.registry_terms``), batch by batch: memory stays bounded by ``batch_size`` rows
however long the input is.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ...signals._base import Evidence
from .config import FilterConfig
from .fetching import evaluate_batch, reset_contexts

DEFAULT_BATCH = 1000


@dataclass(frozen=True)
class RowDecision:
    """One row's decision: ``excluded`` when a use of ``exclude_uses`` is reserved (``reason`` names the
    reader, ``rule`` the deciding rule), the per-use decisions, the evidence and any signal errors."""

    row: Mapping[str, Any]
    excluded: bool
    decision: str  # reserved / allowed / unknown (a :class:`~artlineage.verdicts.consent.Decision` value)
    uses: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    rule: str | None = None
    evidence: tuple[Evidence, ...] = ()
    errors: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"row": dict(self.row), "excluded": self.excluded, "decision": self.decision, "uses": dict(self.uses),
                "reason": self.reason, "rule": self.rule, "evidence": [e.to_dict() for e in self.evidence],
                "errors": list(self.errors)}


def filter_rows(rows: Iterable[Mapping[str, Any]], config: FilterConfig | None = None, *,
                cache_path: str | os.PathLike[str] | None = None,
                batch_size: int = DEFAULT_BATCH) -> Iterator[RowDecision]:
    """A :class:`RowDecision` per row of ``rows``, lazily and in order.

    The fetch cache is ``cache_path`` (or ``config.cache_path``); with neither, a temporary one that lives
    as long as the generator. Rows are mappings with the URL in ``config.url_col`` (local files: ``path``).
    """
    cfg = config or FilterConfig()
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    path = cache_path if cache_path is not None else cfg.cache_path
    reset_contexts()
    with tempfile.TemporaryDirectory(prefix="artlineage-filter-") as tmp:
        cache = str(path) if path is not None else str(Path(tmp) / "signals-cache.sqlite")
        it = iter(rows)
        while batch := list(islice(it, batch_size)):
            yield from _decide_batch(batch, cfg, cache)


def _decide_batch(batch: list[Mapping[str, Any]], cfg: FilterConfig, cache: str) -> Iterator[RowDecision]:
    urls = [row.get(cfg.url_col) for row in batch]
    results, ctx, _requests = evaluate_batch(urls, lambda idx: [dict(batch[i]) for i in idx], cfg, cache)
    hook = cfg.registry_terms
    uses_memo: dict[str, dict[str, str]] = {}
    for row, (evidence, errors) in zip(batch, results):
        terms = list(hook(row) or []) if hook is not None else None
        outcome = ctx.decider.outcome(evidence, terms)
        uses = uses_memo.get(outcome.consent_json)
        if uses is None:
            uses = uses_memo[outcome.consent_json] = json.loads(outcome.consent_json)
        yield RowDecision(row, outcome.excluded, outcome.decision, dict(uses), outcome.reason, outcome.rule,
                          tuple(evidence), tuple(errors))
