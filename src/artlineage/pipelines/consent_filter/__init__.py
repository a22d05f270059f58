"""``artlineage filter``: drop dataset rows whose rights-holders reserved AI use.

Pipeline, per shard of the manifest (img2dataset-style reader -> workers -> writer):

1. Site files (robots.txt, tdmrep.json, ai.txt) once per origin: an in-run task per origin plus
   the on-disk :class:`FetchCache` (SQLite, TTL) shared by every shard, worker and rerun.
2. Per URL: HEAD (response headers: X-Robots-Tag, tdm-*), the head of HTML pages for meta tags,
   and image bytes only when in-file signals (C2PA, IPTC DataMining) are asked for.
3. :func:`decide_consent` per row; a row is excluded when any of ``exclude_uses`` is reserved.

Each finished shard writes ``kept``/``excluded`` Parquet and stats atomically (temp + rename) and
then a done-marker, so a run killed anywhere resumes without losing or duplicating a row; the
final files are the concatenation of the shards in order.
"""

from ...errors import ShardFailure
from .config import FilterConfig, FilterSummary, RegistryHook
from .decide import Decider, RowOutcome
from .report import write_report
from .rows import RowDecision, filter_rows
from .run import filter_manifest
from .shards import process_shard

__all__ = ["FilterConfig", "FilterSummary", "RegistryHook", "Decider", "RowOutcome", "ShardFailure",
           "RowDecision", "filter_manifest", "filter_rows", "process_shard", "write_report"]
