"""Platform-only tables: users, sessions, API keys and uploaded media (one row per registry work).

They live in their own ``MetaData`` and their own Alembic history (``migrations/``, version table
``artlineage_platform_version``), so the platform can share a database with the artists' registry
without touching its schema. References to registry rows (``artist_id``, ``work_id``) are plain
indexed integers rather than foreign keys: a foreign key into another metadata's table would tie the
two migration histories together. The platform deletes its own rows when it deletes a work.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..._db import NAMING_CONVENTION

# The four badges a visitor sees next to every image.
BADGES = ("human", "ai", "composite", "unknown")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class PlatformBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(PlatformBase):
    """An account. An artist's account owns one registry artist (``artist_id``) and may edit only it,
    its works, terms and influences; ``is_admin`` accounts may edit any record."""

    __tablename__ = "platform_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, PHC string
    artist_id: Mapped[int | None] = mapped_column(Integer, index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "artist_id": self.artist_id, "is_admin": self.is_admin}


class LoginSession(PlatformBase):
    """Server-side session: the cookie carries a signed random token; the table keeps its sha256, so
    signing out (deleting the row) revokes it and a database leak does not leak live cookies."""

    __tablename__ = "platform_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(PlatformBase):
    """A key for platforms calling the API: ``alk_<prefix>_<secret>``; only the secret's sha256 is
    kept (keys are long random strings, so a fast hash is enough, unlike passwords)."""

    __tablename__ = "platform_api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    rate_per_minute: Mapped[int] = mapped_column(Integer, default=120)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "prefix": self.prefix, "name": self.name, "rate_per_minute": self.rate_per_minute,
                "revoked": self.revoked, "created_at": self.created_at}


class Media(PlatformBase):
    """The uploaded file behind a registry work, what the provenance reader found in it, and what the
    artist declared about it. ``badge`` is denormalised here (indexed with ``work_id``) so that the
    gallery and its "human-made only" filter are one index range scan even with 100k works."""

    __tablename__ = "platform_media"
    __table_args__ = (
        Index("ix_platform_media_badge_work", "badge", "work_id"),
        Index("ix_platform_media_artist_work", "artist_id", "work_id"),
        # "evidence-backed only" (badge_source = 'file'), alone and with a badge, as index range scans
        Index("ix_platform_media_source_work", "badge_source", "work_id"),
        Index("ix_platform_media_badge_source_work", "badge", "badge_source", "work_id"),
    )

    work_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    artist_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(1024), default="")  # copy of the work title, for search
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(8))  # PNG, JPEG, WEBP, GIF (checked by content)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(Integer)
    stored_name: Mapped[str] = mapped_column(String(128))  # original bytes (by sha256), never served as-is
    badge: Mapped[str] = mapped_column(String(16))  # one of BADGES
    # "file" (evidence in the file), "declared" (the artist's word only) or "none" (nothing either way)
    badge_source: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(32))  # provenance origin read from the file
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    generator: Mapped[str | None] = mapped_column(String(200))
    report: Mapped[dict[str, Any]] = mapped_column(JSON)  # FileReport.to_dict() of the upload
    # What the artist declared (shown next to what the file says; never overrides evidence of AI).
    # not_stated|none|medium|generated|edited ("not_stated": the upload form's default, shown as Unknown)
    declared_ai_use: Mapped[str] = mapped_column(String(16), default="not_stated")
    tools: Mapped[str | None] = mapped_column(Text)
    process: Mapped[str | None] = mapped_column(Text)  # how AI was used as a medium
    training_data: Mapped[str] = mapped_column(String(16), default="unknown")  # own|consented|unknown|n/a
    prompt: Mapped[str | None] = mapped_column(Text)
    credits: Mapped[list[Any]] = mapped_column(JSON, default=list)  # artist ids / names credited as influences
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RateBucket(PlatformBase):
    """A token bucket (see ``ratelimit``) shared by every worker process: ``tokens`` left at
    ``updated_at`` (Unix seconds), and whether the last request it saw was allowed."""

    __tablename__ = "platform_rate_buckets"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # "key:<id>" or "ip:<address>"
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float, index=True)
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)


class ArtistProfile(PlatformBase):
    """What an artist says about themselves (bio and avatar; links are the registry's ``Artist.links``) and whether the platform has verified
    that the account behind the artist record is that artist (``verified_at``; see ``identity``)."""

    __tablename__ = "platform_profiles"

    artist_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bio: Mapped[str | None] = mapped_column(Text)
    avatar_sha256: Mapped[str | None] = mapped_column(String(64))
    avatar_format: Mapped[str | None] = mapped_column(String(8))
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    verified_url: Mapped[str | None] = mapped_column(String(2048))  # the page the token was found on
    verified_how: Mapped[str | None] = mapped_column(String(32))  # "website token" or "operator"


class IdentityClaim(PlatformBase):
    """An account's claim to be the artist: a token to place on a page the artist controls, the page's
    URL, and what the check or the operator decided (``status``: pending, verified, failed, review,
    rejected)."""

    __tablename__ = "platform_identity_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    artist_id: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    url: Mapped[str] = mapped_column(String(2048), default="")
    token: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WorkReport(PlatformBase):
    """A visitor's report about a work (copy, wrong label, other), for the operators' moderation queue."""

    __tablename__ = "platform_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    work_id: Mapped[int] = mapped_column(Integer, index=True)
    reporter_user_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))  # copy | mislabelled | other
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True, default="open")  # open | resolved | dismissed
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MailToken(PlatformBase):
    """A one-time token sent by mail (password reset, e-mail verification); only its sha256 is kept."""

    __tablename__ = "platform_mail_tokens"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # reset | verify
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(Boolean, default=False)
