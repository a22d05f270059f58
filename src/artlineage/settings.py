"""One settings object for every ``ARTLINEAGE_*`` environment variable.

``Settings.from_env()`` reads and validates them all (a bad number names its variable in a
:class:`ConfigurationError`); :func:`current` is the same for ``os.environ`` at the time of the call, so
changing the environment (a test, a notebook) takes effect without re-importing anything. The table
:data:`VARIABLES` is the documentation: ``docs/settings.md`` lists the same rows and a test keeps the two
equal. Library calls always take explicit arguments first; a variable only fills what the caller left out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any, Mapping

from .errors import ConfigurationError

__all__ = ["Settings", "Variable", "VARIABLES", "current"]


@dataclass(frozen=True)
class Variable:
    name: str        # the environment variable
    field: str       # the Settings attribute
    kind: str        # "str", "int", "bool", "list" (comma-separated), "path"
    default: str     # as written in the environment ("" = unset)
    used_by: str
    meaning: str


VARIABLES: tuple[Variable, ...] = (
    Variable("ARTLINEAGE_AI_AGENTS", "ai_agents", "list", "",
             "web opt-out checks", "AI crawler tokens checked in robots.txt/ai.txt (comma-separated); unset: "
             "the built-in list"),
    Variable("ARTLINEAGE_C2PA_TRUST_ANCHORS", "c2pa_trust_anchors", "path", "",
             "C2PA reader", "PEM bundle of trusted C2PA signer roots (e.g. the C2PA trust list), the default "
             "when a call passes none"),
    Variable("ARTLINEAGE_REGISTRY", "registry", "str", "registry.sqlite",
             "registry, match, prompt commands", "artists' registry: SQLite path or database URL"),
    Variable("ARTLINEAGE_REGISTRY_INDEX", "registry_index", "path", "",
             "match command", "folder of the persisted match index (default: next to the registry)"),
    Variable("ARTLINEAGE_COPIES_INDEX", "copies_index", "path", "",
             "match command", "folder of the copy-detection index (default: <registry>.copies next to a SQLite "
             "registry)"),
    Variable("ARTLINEAGE_DB", "db", "str", "artlineage-platform.sqlite",
             "web platform", "platform database: SQLite path or database URL"),
    Variable("ARTLINEAGE_MEDIA", "media", "path", "",
             "web platform", "folder of uploaded media (default: next to the database)"),
    Variable("ARTLINEAGE_PLATFORM_COPIES", "platform_copies", "path", "",
             "web platform", "folder of the platform's copy index (default: <db>.copies next to a SQLite database, "
             "else <media>/copies)"),
    Variable("ARTLINEAGE_PUBLIC_URL", "public_url", "str", "",
             "web platform", "public base URL (links, tdmrep.json policy URLs); never taken from the Host header"),
    Variable("ARTLINEAGE_SECRET_KEY", "secret_key", "str", "",
             "web platform", "session signing key; must be shared by all workers (unset: random per process)"),
    Variable("ARTLINEAGE_ANONYMOUS_RATE", "anonymous_rate", "int", "600",
             "web platform", "anonymous requests per minute per client (0: no limit)"),
    Variable("ARTLINEAGE_PIXELS", "pixels", "bool", "1",
             "web platform", "run pixel readers (watermark, stealth metadata) on uploads (0: metadata only)"),
    Variable("ARTLINEAGE_INSPECT_PROCESSES", "inspect_processes", "int", "0",
             "web platform", "worker processes for inspecting uploads (0: in the request's thread pool)"),
    Variable("ARTLINEAGE_DETECTORS", "detectors", "list", "",
             "web platform", "learned detectors run on uploads and /v1/verdict: model-card paths, comma-separated "
             "(unset: none; their results are shown as a model's estimate)"),
    Variable("ARTLINEAGE_RATE_LIMITS", "rate_limits", "str", "",
             "web platform", "the operator's ceilings as a JSON object of RateLimits fields (session, upload, "
             "sign-in and key-minting rates, highest key rate, keys per account); set by `serve`'s options"),
    Variable("ARTLINEAGE_SMTP_HOST", "smtp_host", "str", "",
             "web platform", "SMTP server for verification and password-reset mail (unset: mail is not sent; each message, links included, goes to the server log)"),
    Variable("ARTLINEAGE_SMTP_PORT", "smtp_port", "int", "25", "web platform", "SMTP server port"),
    Variable("ARTLINEAGE_SMTP_FROM", "smtp_from", "str", "",
             "web platform", "sender of the platform's mail (default: artlineage <no-reply@localhost>)"),
    Variable("ARTLINEAGE_SMTP_USER", "smtp_user", "str", "", "web platform", "SMTP login (optional)"),
    Variable("ARTLINEAGE_SMTP_PASSWORD", "smtp_password", "str", "", "web platform", "SMTP password (optional)"),
    Variable("ARTLINEAGE_SMTP_STARTTLS", "smtp_starttls", "bool", "0",
             "web platform", "upgrade the SMTP connection with STARTTLS (1)"),
    Variable("ARTLINEAGE_UPGRADE", "upgrade", "bool", "0",
             "web platform", "apply database migrations at start-up (1) instead of refusing an old schema"),
    Variable("ARTLINEAGE_STAMP_CERT", "stamp_cert", "path", "",
             "stamp command", "PEM certificate chain for signing C2PA manifests (signing certificate first)"),
    Variable("ARTLINEAGE_STAMP_KEY", "stamp_key", "path", "",
             "stamp command", "PEM private key of the signing certificate"),
    Variable("ARTLINEAGE_STAMP_TSA_URL", "stamp_tsa_url", "str", "",
             "stamp command", "RFC 3161 time-stamp authority URL (optional)"),
)
_BY_FIELD = {v.field: v for v in VARIABLES}


@dataclass(frozen=True)
class Settings:
    ai_agents: tuple[str, ...] | None = None
    c2pa_trust_anchors: str | None = None
    registry: str = "registry.sqlite"
    registry_index: str | None = None
    copies_index: str | None = None
    db: str = "artlineage-platform.sqlite"
    media: str | None = None
    platform_copies: str | None = None
    public_url: str | None = None
    secret_key: str | None = None
    anonymous_rate: int = 600
    pixels: bool = True
    inspect_processes: int = 0
    detectors: tuple[str, ...] | None = None
    rate_limits: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    upgrade: bool = False
    stamp_cert: str | None = None
    stamp_key: str | None = None
    stamp_tsa_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            var = _BY_FIELD[f.name]
            raw = env.get(var.name, "").strip()
            if not raw:
                continue  # the dataclass default
            values[f.name] = _parse(var, raw)
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The variables that reproduce these settings (for a child process)."""
        out = {}
        for var in VARIABLES:
            value = getattr(self, var.field)
            if value is None:
                continue
            if var.kind == "bool":
                out[var.name] = "1" if value else "0"
            elif var.kind == "list":
                out[var.name] = ",".join(value)
            else:
                out[var.name] = str(value)
        return out


def _parse(var: Variable, raw: str) -> Any:
    if var.kind == "int":
        try:
            value = int(raw)
        except ValueError:
            raise ConfigurationError(f"{var.name}={raw!r}: expected a whole number") from None
        if value < 0:
            raise ConfigurationError(f"{var.name}={raw!r}: must not be negative")
        return value
    if var.kind == "bool":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigurationError(f"{var.name}={raw!r}: expected 1 or 0")
    if var.kind == "list":
        return tuple(a for a in (s.strip() for s in raw.split(",")) if a) or None
    return raw


def current() -> Settings:
    """The settings of ``os.environ`` now."""
    return Settings.from_env()
