"""One shard of ``artlineage audit``: every image decoded once, every answer computed, outputs committed.

Per image: the container is parsed and every signal reader runs (provenance verdict and in-file
consent: C2PA, IPTC/XMP data-mining); the pixels are decoded once (the decode the pixel readers
already made, else one reduced JPEG draft) and give the pHash/PDQ keys (near duplicates and registry
matches) and, when asked, the diversity embedding. Per shard: web consent for the rows' URLs
through the filter's cache-first evaluation (site files once per origin, the on-disk cache shared
by every worker and rerun), then one consent decision per row.

The shard's outputs are written by the worker itself — the kept WebDataset tar, the excluded rows,
the per-image keys, the duplicate keys cut by partition, its stats — and its done-marker last, so
the parent process only coordinates and a shard either counts whole or is redone whole.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from .._inspect import FileReport, inspect_source
from ..datasets.filesystems import Location
from ..datasets.shards import Item, ShardSpec, read_shard
from ..datasets.webdataset import ShardWriter
from ..signals._base import Implication
from ..signals._source import ImageSource, SourceOptions

HASH_SIDE = 512  # hash_image reduces to <= 512 px anyway: decode JPEGs at that scale (draft)
RECORD_FIELD = "artlineage.json"  # the field added to each kept sample
BANDS = 4  # 64-bit pHash cut into 4 x 16-bit bands: two hashes within 3 bits share at least one band
SHA_BUCKET_FLAG = 1 << 62  # bucket ids of exact (sha256) keys, apart from band ids
FORMAT_FIELDS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "TIFF": "tiff", "BMP": "bmp",
                 "AVIF": "avif", "HEIF": "heic", "JXL": "jxl"}


@dataclass
class ItemResult:
    """What the audit found for one image (everything its outputs need)."""

    item: Item
    report: FileReport | None = None
    phash: int | None = None
    pdq: bytes | None = None
    embedding: np.ndarray | None = None
    matches: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    inspect_seconds: float = 0.0  # containers + signal readers (+ pixel readers in a full audit)
    pixel_seconds: float = 0.0  # the decode for hashes, the hashes, the embedding, copy detection


# ---------------------------------------------------------------- one image
def _decode_for_hashing(source: ImageSource) -> Image.Image:
    """Pixels for hashes and embeddings: the pixel readers' decode when they ran, else one reduced decode."""
    if source.options.pixels:
        return source.pixels()
    im = Image.open(io.BytesIO(source.data))
    if im.width * im.height > source.options.max_image_pixels:
        raise ValueError(f"decompression bomb: {im.width}x{im.height} pixels exceeds limit")
    if im.format == "JPEG":
        im.draft("RGB", (HASH_SIDE, HASH_SIDE))
    im.load()
    return im


def audit_item(item: Item, *, pixels: bool, hashes: bool, embedder: Any | None, detector: Any | None = None,
               options: SourceOptions | None = None) -> ItemResult:
    """Inspect, decode once, then hash, embed and look for registered works in those same pixels.
    Never raises: problems go to ``errors``."""
    out = ItemResult(item, errors=list(item.errors))
    if item.image is None:
        return out
    t0 = time.perf_counter()
    report, source = inspect_source(item.image, name=item.key, options=options or SourceOptions(pixels=pixels))
    out.report = report
    t1 = time.perf_counter()
    out.inspect_seconds = t1 - t0
    if source is None or not (hashes or embedder is not None or detector is not None):
        return out
    try:
        image = _decode_for_hashing(source)
        if hashes:
            from ..matching.hashing import hash_image

            out.phash, out.pdq = hash_image(image)
        if embedder is not None:
            from ..health.embeddings import load_thumbnail

            out.embedding = np.asarray(embedder.embed([load_thumbnail(image)])[0], np.float32)
        if detector is not None:
            out.matches = [_match_dict(m) for m in detector.find_copies(image)]
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for corrupt pixels
        out.errors.append(f"pixels: {type(exc).__name__}: {exc}")
    out.pixel_seconds = time.perf_counter() - t1
    return out


# ---------------------------------------------------------------- per-process state
_STATE: dict[tuple, Any] = {}


def _cached(key: tuple, build: Any) -> Any:
    """One object per process and key (registry matcher, embedder): built on the first shard."""
    value = _STATE.get(key)
    if value is None:
        value = _STATE[key] = build()
    return value


def _embedder(spec: str | None) -> Any:
    from ..health.embeddings import embedder_from_spec

    return _cached(("embedder", spec), lambda: embedder_from_spec(spec))


def open_copy_detector(db: str) -> Any:
    """The registry's copy detector (crops, mirrors, rotations; its persisted index brought up to date)."""
    from ..matching.copies import CopyDetector
    from ..registry import Registry

    return CopyDetector.from_registry(Registry(db))


def _registry(db: str) -> tuple[Any, Any]:
    """(copy detector, terms hook) of the registry at ``db``, opened once per process. The run opens
    it once in the parent first, so the workers only load the persisted index."""
    def build() -> tuple[Any, Any]:
        from .registry_consent import RegistryConsent

        return open_copy_detector(db), RegistryConsent(db)
    return _cached(("registry", db), build)


def _match_dict(m: Any) -> dict[str, Any]:
    ev = m.evidence
    return {"work_id": m.work_id, "artist_id": m.artist_id, "artist": m.artist, "title": m.title,
            "score": m.score, "distance": m.distance, "method": ev.method, "window": ev.window,
            "mirrored": ev.mirrored, "inliers": ev.inliers, "rotation_deg": ev.rotation_deg,
            "coverage": ev.coverage, "ranked_by": ev.ranked_by, "shared_words": ev.shared_words}


# ---------------------------------------------------------------- the shard
def _signed(h: int | None) -> int | None:
    return None if h is None else int(np.uint64(h).view(np.int64))


def _record(result: ItemResult, outcome: Any, consent_uses: dict[str, str], evidence: list[dict],
            excluded_reason: str | None) -> dict[str, Any]:
    """The provenance/consent record added to a kept sample (and the source of the excluded row)."""
    rep = result.report
    return {
        "key": result.item.key, "url": result.item.url,
        "provenance": rep.verdict.to_dict() if rep and rep.verdict else None,
        "sha256": rep.sha256 if rep else None,
        "consent": {"decision": outcome.decision, "uses": consent_uses, "evidence": evidence,
                    "excluded_because": excluded_reason},
        "registry_matches": result.matches,
        "phash64": f"{result.phash:016x}" if result.phash is not None else None,
        "pdq256": result.pdq.hex() if result.pdq else None,
        "errors": result.errors + (rep.warnings[:5] if rep else []),
    }


def _exclusion(result: ItemResult, outcome: Any, cfg: Any) -> tuple[str, str] | None:
    """(reason, rule) when the item must not be kept, else None. Order: unreadable, consent, provenance, registry."""
    rep = result.report
    if result.item.image is not None and (rep is None or rep.error):
        return "unreadable", (rep.error if rep else "; ".join(result.errors)) or "unreadable"
    if result.item.image is None and result.item.errors:
        return "unreadable", "; ".join(result.item.errors)
    if outcome.excluded:
        return f"consent:{outcome.reason}", outcome.rule or ""
    origin = rep.origin.value if rep else None
    if origin and origin in cfg.exclude_origins:
        return f"provenance:{origin}", rep.verdict.explanation if rep and rep.verdict else origin
    if cfg.exclude_registered and result.matches:
        m = result.matches[0]
        return "registry_match", f"work #{m['work_id']} by {m['artist']} ({m['method']}, score {m['score']})"
    return None


def decide_item(res: ItemResult, web_ev: list[Any], decider: Any, terms_hook: Any, cfg: Any
                ) -> tuple[Any, tuple[str, str] | None, dict[str, Any]]:
    """(consent outcome, (reason, rule) when excluded else None, the artlineage.json record) of one audited
    image: web evidence + in-file consent + registry terms (including copies found by the detector)."""
    rep = res.report
    in_file = [e for e in (rep.evidence if rep else [])
               if e.implies in (Implication.CONSENT_RESERVED, Implication.CONSENT_ALLOWED)]
    terms: list[dict[str, Any]] = []
    if terms_hook is not None:
        terms = list(terms_hook({"url": res.item.url, "sha256": rep.sha256 if rep else None,
                                 "artist": res.item.meta.get("artist")}) or [])
        seen = {(t["artist_id"], t["work_id"]) for t in terms}
        terms += [terms_hook.terms_for(m["artist_id"], m["work_id"], f"copy detection ({m['method']})")
                  for m in res.matches if m["artist_id"] is not None and (m["artist_id"], m["work_id"]) not in seen]
    outcome = decider.outcome(list(web_ev) + in_file, terms or None)
    why = _exclusion(res, outcome, cfg)
    record = _record(res, outcome, json.loads(outcome.consent_json), json.loads(outcome.evidence_json),
                     why[0] if why else None)
    return outcome, why, record


def process_shard(spec: ShardSpec, cfg: Any, out_url: str, source_url: str) -> dict[str, Any]:
    """Audit one shard and commit its outputs (done-marker last). Returns its stats."""
    from ..datasets.filesystems import open_location
    from ._audit_consent import web_evidence
    from .consent_filter.decide import Decider

    started, cpu_started = time.perf_counter(), time.process_time()
    out = open_location(out_url, cfg.storage_options)
    base = open_location(source_url, cfg.storage_options)
    embedder = _embedder(cfg.embedder) if cfg.embeddings else None
    detector, terms_hook = _registry(cfg.registry) if cfg.registry else (None, None)
    options = SourceOptions(pixels=cfg.pixels)
    results = [audit_item(item, pixels=cfg.pixels, hashes=cfg.hashes, embedder=embedder, detector=detector,
                          options=options)
               for item in read_shard(spec, base, max_image_bytes=cfg.max_image_bytes)]
    decode_s = time.perf_counter() - started
    web_started = time.perf_counter()

    web = web_evidence([r.item.url for r in results], cfg) if cfg.web else [([], [])] * len(results)
    decider = Decider(cfg.exclude_uses)
    kept_rows: list[tuple[ItemResult, dict]] = []
    excluded_rows: list[dict[str, Any]] = []
    keys_rows: list[dict[str, Any]] = []
    reasons: Counter[str] = Counter()
    origins: Counter[str] = Counter()
    generators: Counter[str] = Counter()
    for i, (res, (web_ev, web_errors)) in enumerate(zip(results, web)):
        res.errors += web_errors
        rep = res.report
        outcome, why, record = decide_item(res, web_ev, decider, terms_hook, cfg)
        origin = "error" if rep is None or rep.error else rep.origin.value
        if res.item.image is None and rep is None and not res.item.errors:
            origin = "not_read"  # a URL row: the image itself was not part of this audit
        origins[origin] += 1
        if rep and rep.verdict and rep.verdict.generator and origin in ("ai_generated", "ai_edited"):
            generators[rep.verdict.generator] += 1
        keys_rows.append({"shard": spec.index, "row": i, "key": res.item.key, "url": res.item.url,
                          "kept": why is None, "reason": why[0] if why else None, "origin": origin,
                          "generator": rep.verdict.generator if rep and rep.verdict else None,
                          "confidence": float(rep.verdict.confidence) if rep and rep.verdict else 0.0,
                          "consent": outcome.decision, "sha256": rep.sha256 if rep else None,
                          "phash": _signed(res.phash), "matches": json.dumps(res.matches) if res.matches else None,
                          "embedding": res.embedding.tolist() if res.embedding is not None else None})
        if why is None:
            kept_rows.append((res, record))
        else:
            reasons[why[0]] += 1
            excluded_rows.append({"shard": spec.index, "key": res.item.key, "url": res.item.url,
                                  "caption": res.item.caption, "reason": why[0], "rule": why[1],
                                  "consent": outcome.consent_json, "evidence": outcome.evidence_json,
                                  "origin": origin, "sha256": record["sha256"],
                                  "registry_matches": json.dumps(res.matches) if res.matches else None,
                                  "errors": json.dumps(record["errors"]) if record["errors"] else None,
                                  "record": json.dumps(record, default=str)})

    web_s = time.perf_counter() - web_started  # web consent + decisions
    write_started = time.perf_counter()
    name = spec.name
    if results and all(r.item.image is None and not r.item.errors for r in results):
        # A URL manifest (what img2dataset downloads from): the kept rows stay a manifest.
        _write_table(out.child("kept", f"{name}.parquet"), _kept_manifest(kept_rows))
    else:
        _write_kept(out.child("shards", f"{name}.tar"), kept_rows)
    _write_table(out.child("excluded", f"{name}.parquet"), pa.Table.from_pylist(excluded_rows, schema=EXCLUDED_SCHEMA))
    _write_table(out.child("keys", f"{name}.parquet"), pa.Table.from_pylist(keys_rows, schema=KEYS_SCHEMA))
    _write_dup_keys(out.child("dupkeys", f"{name}.parquet"), spec.index, results, cfg.dedup_partitions)
    stats = {"index": spec.index, "input": list(spec.urls[:1]), "rows": len(results), "kept": len(kept_rows),
             "excluded": len(excluded_rows), "excluded_by_reason": dict(reasons), "by_origin": dict(origins),
             "by_generator": dict(generators), "signal_errors": sum(1 for r in results if r.errors),
             "seconds": round(time.perf_counter() - started, 3),
             "cpu_seconds": round(time.process_time() - cpu_started, 3),
             "phase_seconds": {"read": round(decode_s - sum(r.inspect_seconds + r.pixel_seconds for r in results), 3),
                               "inspect": round(sum(r.inspect_seconds for r in results), 3),
                               "pixels": round(sum(r.pixel_seconds for r in results), 3),
                               "consent": round(web_s, 3),
                               "write": round(time.perf_counter() - write_started, 3)},
             "pid": os.getpid(), "node": _node_id()}
    out.child("done", f"{name}.json").write_bytes(json.dumps(stats).encode())  # last: the shard counts now
    return stats


def _node_id() -> str | None:
    try:
        import ray

        if ray.is_initialized():
            return ray.get_runtime_context().get_node_id()
    except ImportError:
        pass
    return None


EXCLUDED_SCHEMA = pa.schema([("shard", pa.int32()), ("key", pa.string()), ("url", pa.string()),
                             ("caption", pa.string()), ("reason", pa.string()), ("rule", pa.string()),
                             ("consent", pa.string()), ("evidence", pa.string()), ("origin", pa.string()),
                             ("sha256", pa.string()), ("registry_matches", pa.string()), ("errors", pa.string()),
                             ("record", pa.string())])
KEYS_SCHEMA = pa.schema([("shard", pa.int32()), ("row", pa.int32()), ("key", pa.string()), ("url", pa.string()),
                         ("kept", pa.bool_()), ("reason", pa.string()), ("origin", pa.string()),
                         ("generator", pa.string()), ("confidence", pa.float32()), ("consent", pa.string()),
                         ("sha256", pa.string()), ("phash", pa.int64()), ("matches", pa.string()),
                         ("embedding", pa.list_(pa.float32()))])
DUPKEY_SCHEMA = pa.schema([("part", pa.int32()), ("bucket", pa.int64()), ("shard", pa.int32()),
                           ("row", pa.int32()), ("phash", pa.int64())])


def _write_table(loc: Location, table: pa.Table) -> None:
    loc.write_with(lambda tmp: pq.write_table(table, tmp), suffix=".parquet")


def _sample_fields(res: ItemResult, record: dict[str, Any]) -> dict[str, bytes]:
    """The kept sample: its image, its sidecars (a tar's own, or built from the Parquet row), the record."""
    item = res.item
    fields: dict[str, bytes] = {}
    if item.image is not None:
        ext = item.image_ext or "jpg"
        if not item.sidecars and res.report and res.report.format:
            # A Parquet bytes column or a file name may not say what the bytes are; the container does.
            ext = FORMAT_FIELDS.get(res.report.format, ext)
        fields[ext] = item.image
    if item.sidecars:
        fields.update({k: v for k, v in item.sidecars.items() if k != RECORD_FIELD})
    else:
        fields["json"] = json.dumps({**item.meta, "key": item.key, "url": item.url, "caption": item.caption},
                                    default=str).encode()
        if item.caption is not None:
            fields["txt"] = item.caption.encode()
    fields[RECORD_FIELD] = json.dumps(record, default=str).encode()
    return fields


def _kept_manifest(kept: list[tuple[ItemResult, dict]]) -> pa.Table:
    """Kept rows of a URL manifest: the row's own columns, then the consent decision and the record."""
    rows = [{**res.item.meta, "url": res.item.url, "consent": record["consent"]["decision"],
             "artlineage": json.dumps(record, default=str)} for res, record in kept]
    if not rows:
        return pa.table({"url": pa.array([], pa.string()), "consent": pa.array([], pa.string())})
    return pa.Table.from_pylist(rows)


def _write_kept(loc: Location, kept: list[tuple[ItemResult, dict]]) -> None:
    def write(tmp: str) -> None:
        with ShardWriter(tmp) as w:
            for res, record in kept:
                w.write(res.item.key, _sample_fields(res, record))
    loc.write_with(write, suffix=".tar")


def bucket_rows(phash: int | None, sha256: str | None) -> list[int]:
    """Bucket ids of one image: its 4 pHash bands (band index in the top bits) and its sha256 prefix."""
    out = []
    if phash is not None:
        out += [(b << 16) | ((phash >> (16 * b)) & 0xFFFF) for b in range(BANDS)]
    if sha256:
        out.append(SHA_BUCKET_FLAG | int(sha256[:15], 16))
    return out


def partition_of(bucket: int, partitions: int) -> int:
    """Partition of a bucket id: a multiplicative hash, so band values spread evenly."""
    return (((bucket * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> 32) % partitions


def _write_dup_keys(loc: Location, shard: int, results: list[ItemResult], partitions: int) -> None:
    """The map side of the global duplicate step: one row per (image, bucket), one row group per
    partition (the footer's metadata maps partition -> row group), so a reducer reads only its part."""
    rows: list[tuple[int, int, int, int, int]] = []
    for i, r in enumerate(results):
        sha = r.report.sha256 if r.report and not r.report.error else None
        h = _signed(r.phash)
        for b in bucket_rows(r.phash, sha):
            signed_b = int(np.uint64(b).view(np.int64))
            rows.append((partition_of(b, partitions), signed_b, shard, i, h if h is not None else 0))
    rows.sort()
    table = pa.Table.from_arrays([pa.array([r[k] for r in rows], DUPKEY_SCHEMA.field(k).type) for k in range(5)],
                                 schema=DUPKEY_SCHEMA)

    def write(tmp: str) -> None:
        parts = np.asarray(table.column("part").to_numpy()) if len(rows) else np.zeros(0, np.int32)
        starts = np.flatnonzero(np.r_[True, parts[1:] != parts[:-1]]) if len(parts) else np.zeros(0, int)
        index = {}
        writer = pq.ParquetWriter(tmp, DUPKEY_SCHEMA)
        bounds = list(starts) + [len(parts)]
        for g, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
            index[int(parts[a])] = g
            writer.write_table(table.slice(a, b - a), row_group_size=b - a)
        writer.add_key_value_metadata({"parts": json.dumps(index)})
        writer.close()
    loc.write_with(write, suffix=".parquet")
