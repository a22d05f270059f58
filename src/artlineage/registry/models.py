"""Tables of the artists' registry (SQLAlchemy 2 typed models).

The schema itself is owned by the Alembic migrations in ``migrations/versions``; these models must
match them (a test compares ``metadata`` with the migrated database).

Perceptual hashes: ``Work.phash64`` holds a 64-bit *unsigned* pHash in a signed ``BIGINT`` column,
because neither SQLite nor PostgreSQL has an unsigned 64-bit integer. The bit pattern is kept:
``stored = h - 2**64 if h >= 2**63 else h`` and ``h = stored & (2**64 - 1)``
(see :func:`phash_to_db` / :func:`phash_from_db`). ``pdq256`` is the 256-bit PDQ hash as 64 lowercase
hex characters.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer,
                        MetaData, String, Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .._db import NAMING_CONVENTION
from ..matching.hashing import phash_from_db, phash_to_db  # noqa: F401  (re-exported: the store uses them)




def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class NameKind(str, enum.Enum):
    """How an extra name relates to the artist's main name."""

    ALIAS = "alias"
    SPELLING = "spelling"
    TRANSLITERATION = "transliteration"
    MISSPELLING = "misspelling"


class Permission(str, enum.Enum):
    """A consent answer for one scope. A NULL column means unknown (never stated)."""

    ALLOWED = "allowed"
    NOT_ALLOWED = "not_allowed"
    ALLOWED_WITH_CREDIT = "allowed_with_credit"


SCOPES: tuple[str, ...] = ("ai_training", "generative_training", "data_mining", "style_imitation")

_KIND_VALUES = ", ".join(f"'{k.value}'" for k in NameKind)
_PERMISSION_VALUES = ", ".join(f"'{p.value}'" for p in Permission)


class RegistryBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Artist(RegistryBase):
    __tablename__ = "artists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(512))
    normalized: Mapped[str] = mapped_column(String(512), index=True)  # see names.normalize_name
    sort_name: Mapped[str | None] = mapped_column(String(512))
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    living: Mapped[bool | None] = mapped_column(Boolean)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    death_year: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    # Always loaded with the artist: callers use names after the session is gone.
    names: Mapped[list[ArtistName]] = relationship(back_populates="artist", cascade="all, delete-orphan",
                                                   lazy="selectin", order_by="ArtistName.id")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "sort_name": self.sort_name, "links": list(self.links or []),
            "living": self.living, "birth_year": self.birth_year, "death_year": self.death_year,
            "names": [{"name": n.name, "kind": n.kind} for n in self.names],
            "created_at": _iso(self.created_at), "updated_at": _iso(self.updated_at),
        }


class ArtistName(RegistryBase):
    __tablename__ = "artist_names"
    __table_args__ = (
        UniqueConstraint("artist_id", "normalized", "kind", name="uq_artist_names_artist_normalized_kind"),
        CheckConstraint(f"kind IN ({_KIND_VALUES})", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(20))
    normalized: Mapped[str] = mapped_column(String(512), index=True)

    artist: Mapped[Artist] = relationship(back_populates="names")


class Work(RegistryBase):
    __tablename__ = "works"
    __table_args__ = (
        UniqueConstraint("artist_id", "sha256", name="uq_works_artist_sha256"),
        CheckConstraint("pdq256 IS NULL OR length(pdq256) = 64", name="pdq256_length"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"), index=True)
    title: Mapped[str | None] = mapped_column(String(1024))
    location: Mapped[str | None] = mapped_column(String(4096))  # file path or URL
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    phash64: Mapped[int | None] = mapped_column(BigInteger, index=True)  # signed storage, see module doc
    pdq256: Mapped[str | None] = mapped_column(String(64))
    origin: Mapped[str | None] = mapped_column(String(32))  # provenance origin from a scan
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # ProvenanceVerdict.to_dict()
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def phash(self) -> int | None:
        """The unsigned 64-bit pHash."""
        return phash_from_db(self.phash64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "artist_id": self.artist_id, "title": self.title, "location": self.location,
            "sha256": self.sha256, "phash64": self.phash, "pdq256": self.pdq256, "origin": self.origin,
            "verdict": self.verdict, "created_at": _iso(self.created_at),
        }


class ConsentTerms(RegistryBase):
    """One period of consent terms for an artist (``work_id`` NULL) or one of their works.

    Periods are half-open, ``valid_from <= day < valid_to``; ``valid_to`` NULL means still current.
    New terms close the previous row rather than overwrite it, so the history stays queryable.
    """

    __tablename__ = "consent_terms"
    __table_args__ = (
        *(CheckConstraint(f"{s} IS NULL OR {s} IN ({_PERMISSION_VALUES})", name=s) for s in SCOPES),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period"),
        Index("ix_consent_terms_artist_work", "artist_id", "work_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"))
    work_id: Mapped[int | None] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    ai_training: Mapped[str | None] = mapped_column(String(24))
    generative_training: Mapped[str | None] = mapped_column(String(24))
    data_mining: Mapped[str | None] = mapped_column(String(24))
    style_imitation: Mapped[str | None] = mapped_column(String(24))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(2048))  # where the terms were stated
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def scopes(self) -> dict[str, str | None]:
        return {s: getattr(self, s) for s in SCOPES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "artist_id": self.artist_id, "work_id": self.work_id, **self.scopes(),
            "valid_from": self.valid_from.isoformat(), "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "note": self.note, "source": self.source, "created_at": _iso(self.created_at),
        }


class _InfluenceColumns:
    """An edge ``source -> target`` read as "source was influenced by target"."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    note: Mapped[str | None] = mapped_column(Text)
    source_of_claim: Mapped[str | None] = mapped_column(String(2048))  # "artist statement", a URL...
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "source_id": self.source_id, "target_id": self.target_id,  # type: ignore[attr-defined]
            "note": self.note, "source_of_claim": self.source_of_claim, "created_at": _iso(self.created_at),
        }


def _edge_constraints(table: str) -> tuple[Any, ...]:
    """One edge per ordered pair, and no self-loops."""
    return (UniqueConstraint("source_id", "target_id", name=f"uq_{table}_source_target"),
            CheckConstraint("source_id <> target_id", name="not_self"))


class ArtistInfluence(_InfluenceColumns, RegistryBase):
    __tablename__ = "artist_influences"
    __table_args__ = _edge_constraints(__tablename__)

    source_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"), index=True)


class WorkInfluence(_InfluenceColumns, RegistryBase):
    __tablename__ = "work_influences"
    __table_args__ = _edge_constraints(__tablename__)

    source_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they were written as UTC
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat()
