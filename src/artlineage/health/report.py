"""Dataset-health reports: :func:`build_health_report` computes the report data; the HTML sections live in
:mod:`.report_html` (reusable inside other reports, the consent filter's audit for one), the pixel pass in
:mod:`.pixels`, the page and chart kit in :mod:`artlineage.reporting`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from ..reporting import write_report
from .duplicates import DEFAULT_MAX_DISTANCE, find_near_duplicates
from .embeddings import Embedder, StatisticsEmbedder
from .guard import GuardResult
from .pixels import PixelFeatures, compute_pixel_features
from .report_html import LOW_DIVERSITY_MIN_ITEMS, LOW_DIVERSITY_PER_ITEM, health_sections
from .synthetic import Record, origin_class, synthetic_shares
from .vendi import vendi_score, vendi_score_sampled

__all__ = ["HealthReport", "build_health_report", "compute_pixel_features", "recommendations", "write_health_report",
           "PixelFeatures"]


@dataclass
class HealthReport:
    """The health of a dataset. Sections are JSON-able mappings (``to_dict()`` is report.json, schema
    ``artlineage.health`` version 1); a section that was not computed is None and left out of the JSON.

    ``provenance``: synthetic / verified human / unknown shares, per source and generator;
    ``duplicates``: near-duplicate clusters and rate; ``diversity``: Vendi score overall, per origin
    class, per source, per generator; ``guard``: the real-data guard, when one ran.
    """

    source: str
    items: int
    provenance: dict[str, Any]
    duplicates: dict[str, Any] | None = None
    diversity: dict[str, Any] | None = None
    undecodable: list[dict[str, str]] | None = None
    undecodable_count: int | None = None
    guard: dict[str, Any] | None = None
    recommendations: list[str] = field(default_factory=list)

    KIND: ClassVar[str] = "artlineage.health"
    VERSION: ClassVar[int] = 1

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.KIND, "version": self.VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HealthReport:
        """From report.json (or ``to_dict()``); unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _vendi_block(emb: np.ndarray, sample_above: int | None) -> dict[str, Any]:
    if len(emb) == 0:
        return {"n": 0, "vendi": None}
    if sample_above and len(emb) > sample_above:
        s = vendi_score_sampled(emb, sample_size=sample_above)
        return {"n": len(emb), "vendi": round(s.score, 4), "vendi_std": round(s.std, 4), "sampled": s.to_dict(),
                "vendi_per_item": round(s.score / s.sample_size, 6)}
    v = vendi_score(emb)
    return {"n": len(emb), "vendi": round(v, 4), "vendi_per_item": round(v / len(emb), 6)}


def build_health_report(records: Sequence[Record], *, pixels: bool = True, embedder: Embedder | None = None,
                        max_distance: int = DEFAULT_MAX_DISTANCE, workers: int = 1,
                        vendi_sample_above: int | None = 200000, guard: GuardResult | None = None,
                        features: PixelFeatures | None = None, source: str = "") -> HealthReport:
    """The health of a dataset (see :class:`HealthReport`); ``.to_dict()`` is the JSON report."""
    shares = synthetic_shares(records)
    report: dict[str, Any] = {"kind": "artlineage.health", "version": 1, "source": source, "items": len(records),
                              "provenance": shares.to_dict()}
    readable = [i for i, r in enumerate(records) if r.origin != "error"]
    if pixels and readable:
        embedder = embedder or StatisticsEmbedder()
        paths = [records[i].path for i in readable]
        feats = features or compute_pixel_features(paths, embedder, workers=workers)
        ok_idx = np.flatnonzero(feats.ok)
        dup = find_near_duplicates([paths[i] for i in ok_idx], feats.hashes[ok_idx].tolist(),
                                   max_distance=max_distance, sha256=[records[readable[i]].sha256 for i in ok_idx])
        report["duplicates"] = dup.to_dict()
        report["duplicates"]["cluster_sizes"] = [len(c) for c in dup.clusters]
        emb = feats.embeddings[ok_idx]
        recs = [records[readable[i]] for i in ok_idx]
        groups: dict[str, dict[str, list[int]]] = {"origin_class": {}, "source": {}, "generator": {}}
        for j, r in enumerate(recs):
            groups["origin_class"].setdefault(origin_class(r.origin), []).append(j)
            groups["source"].setdefault(r.source or ".", []).append(j)
            if r.generator:
                groups["generator"].setdefault(r.generator, []).append(j)
        report["diversity"] = {
            "embedder": getattr(embedder, "name", type(embedder).__name__),
            "dim": int(emb.shape[1]) if emb.ndim == 2 else 0,
            "overall": _vendi_block(emb, vendi_sample_above),
            **{f"by_{k}": {name: _vendi_block(emb[idx], vendi_sample_above) for name, idx in sorted(v.items())}
               for k, v in groups.items()},
        }
        report["undecodable"] = [{"path": p, "error": e} for p, e in feats.failures[:100]]
        report["undecodable_count"] = len(feats.failures)
    if guard is not None:
        report["guard"] = guard.to_dict()
    report["recommendations"] = recommendations(report)
    return HealthReport.from_dict(report)


# Rules of thumb for the recommendations (stated in the report next to the numbers).


def recommendations(report: Mapping[str, Any]) -> list[str]:
    """Plain-language actions drawn from the numbers (thresholds are rules of thumb, stated as such)."""
    out = []
    prov = report.get("provenance", {})
    syn, unk, hum = prov.get("synthetic_share", 0), prov.get("unknown_share", 0), prov.get("verified_human_share", 0)
    if syn > 0:
        out.append(f"{syn:.1%} of readable items are AI-generated or AI-edited. Retraining on model output without "
                   "enough real data degrades models (Shumailov 2024); consider --min-real-share to cap it.")
    if unk > 0.5:
        out.append(f"{unk:.1%} of items have unknown provenance (no origin evidence). They are not counted as human; "
                   "verified-human share is only {:.1%}.".format(hum))
    dup = report.get("duplicates")
    if dup and dup.get("duplicate_rate", 0) > 0.05:
        out.append(f"{dup['duplicate_rate']:.1%} of items are near-duplicate copies in {dup['clusters']} cluster(s); "
                   "deduplicating reduces memorisation and wasted compute.")
    diversity = report.get("diversity", {})
    div = diversity.get("by_origin_class", {})
    s, h = div.get("synthetic", {}), div.get("human", {})
    if s.get("vendi_per_item") and h.get("vendi_per_item") and s["n"] >= 20 and h["n"] >= 20:
        # Vendi grows with n while Vendi per item shrinks with it, so compare the way that favours the
        # synthetic group: per item when it is the smaller one, in total when it is the larger one.
        less = (s["vendi_per_item"] < 0.8 * h["vendi_per_item"]) if s["n"] <= h["n"] else (s["vendi"] < 0.8 * h["vendi"])
        if less:
            out.append(f"Synthetic items are less diverse than verified-human ones (Vendi {s['vendi']:.1f} over "
                       f"{s['n']} vs {h['vendi']:.1f} over {h['n']}), an early sign of mode collapse in the "
                       "generators used.")
    low = [(f"{kind} '{name}'", v) for kind, key in (("generator", "by_generator"), ("source", "by_source"))
           for name, v in diversity.get(key, {}).items()
           if v.get("vendi") and v["n"] >= LOW_DIVERSITY_MIN_ITEMS and v["vendi"] / v["n"] < LOW_DIVERSITY_PER_ITEM]
    for label, v in sorted(low, key=lambda kv: kv[1]["vendi"] / kv[1]["n"])[:5]:
        out.append(f"{label}: {v['n']} items behave like {v['vendi']:.1f} distinct ones (Vendi per item "
                   f"{v['vendi'] / v['n']:.2f} < {LOW_DIVERSITY_PER_ITEM}); look for repeated prompts, seeds or "
                   "templates and sample it down.")
    if prov.get("errors"):
        out.append(f"{prov['errors']} file(s) could not be read; they are excluded from every share.")
    if not out:
        out.append("No issue above the report's thresholds.")
    return out


def write_health_report(directory: str | os.PathLike[str], report: HealthReport | Mapping[str, Any]
                        ) -> tuple[Path, Path]:
    """report.json and report.html of a health report into ``directory``."""
    data = report.to_dict() if isinstance(report, HealthReport) else dict(report)
    return write_report(directory, data, health_sections(data), "Dataset health")
