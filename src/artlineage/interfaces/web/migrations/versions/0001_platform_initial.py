"""platform tables: users, sessions, api keys, media

Revision ID: p0001_platform_initial
Revises:
Create Date: 2026-11-24

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "p0001_platform_initial"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "platform_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("artist_id", sa.Integer(), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_users")),
        sa.UniqueConstraint("email", name=op.f("uq_platform_users_email")),
    )
    op.create_index(op.f("ix_platform_users_artist_id"), "platform_users", ["artist_id"], unique=False)

    op.create_table(
        "platform_sessions",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_platform_sessions")),
    )
    op.create_index(op.f("ix_platform_sessions_user_id"), "platform_sessions", ["user_id"], unique=False)

    op.create_table(
        "platform_api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rate_per_minute", sa.Integer(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_platform_api_keys_prefix")),
    )
    op.create_index(op.f("ix_platform_api_keys_user_id"), "platform_api_keys", ["user_id"], unique=False)

    op.create_table(
        "platform_media",
        sa.Column("work_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("artist_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=1024), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=128), nullable=False),
        sa.Column("badge", sa.String(length=16), nullable=False),
        sa.Column("badge_source", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("generator", sa.String(length=200), nullable=True),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("declared_ai_use", sa.String(length=16), nullable=False),
        sa.Column("tools", sa.Text(), nullable=True),
        sa.Column("process", sa.Text(), nullable=True),
        sa.Column("training_data", sa.String(length=16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=True),
        sa.Column("credits", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("work_id", name=op.f("pk_platform_media")),
    )
    op.create_index(op.f("ix_platform_media_sha256"), "platform_media", ["sha256"], unique=False)
    op.create_index("ix_platform_media_badge_work", "platform_media", ["badge", "work_id"], unique=False)
    op.create_index("ix_platform_media_artist_work", "platform_media", ["artist_id", "work_id"], unique=False)


def downgrade() -> None:
    op.drop_table("platform_media")
    op.drop_table("platform_api_keys")
    op.drop_table("platform_sessions")
    op.drop_table("platform_users")
