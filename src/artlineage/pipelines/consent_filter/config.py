"""What a consent-filter run is told (:class:`FilterConfig`) and what it reports (:class:`FilterSummary`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from ...errors import ConfigurationError
from ...vocabulary import ALL_USES, normalize_uses

BACKENDS = ("local", "ray")

RegistryHook = Callable[[Mapping[str, Any]], Iterable[Mapping[str, Any]] | None]


@dataclass
class FilterConfig:
    shard_size: int = 10_000  # img2dataset's shard size; per-shard costs (files, queries) amortise
    workers: int = 1
    backend: str = "local"  # local | ray
    agents: tuple[str, ...] | None = None
    # C2PA / IPTC consent inside the image bytes. None (default): read it for local files, which
    # costs a file read, but download no web image; True: download web images too; False: never.
    in_file: bool | None = None
    head: bool = True  # per-URL response headers
    html: bool = True  # meta tags of HTML pages
    allow_private: bool = False
    url_col: str = "url"
    exclude_uses: tuple[str, ...] = ALL_USES
    cache_path: str | None = None  # default: OUT/signals-cache.sqlite
    cache_ttl: float = 86_400.0
    concurrency: int = 64
    per_host_concurrency: int = 4
    per_host_delay: float = 0.0
    timeout: float = 10.0
    retries: int = 2
    max_image_bytes: int = 32 * 1024 * 1024
    registry_terms: RegistryHook | None = None
    fail_after_shards: int | None = None  # tests: stop the run after this many shards
    fetch_options: dict[str, Any] = field(default_factory=dict)  # resolver / transport (tests)

    def __post_init__(self) -> None:
        # One vocabulary (artlineage.vocabulary): registry scope names such as "ai_training" become the
        # verdict's "training"; an unknown use or backend is refused rather than silently ignored.
        self.exclude_uses = normalize_uses(self.exclude_uses)
        if not self.exclude_uses:
            raise ConfigurationError("exclude_uses is empty: the filter would exclude nothing")
        if self.backend not in BACKENDS:
            raise ConfigurationError(f"unknown backend {self.backend!r}; accepted: {', '.join(BACKENDS)}")
        for name in ("shard_size", "workers", "concurrency", "per_host_concurrency", "max_image_bytes"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name} must be at least 1, got {getattr(self, name)}")


@dataclass
class FilterSummary:
    input_rows: int = 0
    kept: int = 0
    excluded: int = 0
    shards: int = 0
    shards_resumed: int = 0
    seconds: float = 0.0
    excluded_by_reason: dict[str, int] = field(default_factory=dict)
    excluded_by_host: dict[str, int] = field(default_factory=dict)
    rows_by_host: dict[str, int] = field(default_factory=dict)
    signal_errors: int = 0
    requests: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.input_rows / self.seconds if self.seconds > 0 else 0.0
