"""Trust and accounts: artist profiles with identity verification, identity claims, work reports,
mail tokens, e-mail verification, and the "evidence-backed only" indexes

Revision ID: p0003_trust_accounts
Revises: p0002_rate_buckets
Create Date: 2026-11-30

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "p0003_trust_accounts"
down_revision: Union[str, Sequence[str], None] = "p0002_rate_buckets"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("platform_users") as batch:
        batch.add_column(sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))
    # Works that had neither evidence nor a declaration were stored as ("unknown", "file"): not evidence.
    op.execute("UPDATE platform_media SET badge_source = 'none' WHERE badge = 'unknown' AND badge_source = 'file'")
    op.create_index("ix_platform_media_source_work", "platform_media", ["badge_source", "work_id"])
    op.create_index("ix_platform_media_badge_source_work", "platform_media", ["badge", "badge_source", "work_id"])
    op.create_table(
        "platform_profiles",
        sa.Column("artist_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("avatar_sha256", sa.String(length=64), nullable=True),
        sa.Column("avatar_format", sa.String(length=8), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_url", sa.String(length=2048), nullable=True),
        sa.Column("verified_how", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("artist_id", name=op.f("pk_platform_profiles")),
    )
    op.create_table(
        "platform_identity_claims",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("artist_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_identity_claims")),
    )
    for col in ("artist_id", "user_id", "status"):
        op.create_index(op.f(f"ix_platform_identity_claims_{col}"), "platform_identity_claims", [col])
    op.create_table(
        "platform_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("work_id", sa.Integer(), nullable=False),
        sa.Column("reporter_user_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_reports")),
    )
    for col in ("work_id", "status"):
        op.create_index(op.f(f"ix_platform_reports_{col}"), "platform_reports", [col])
    op.create_table(
        "platform_mail_tokens",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_platform_mail_tokens")),
    )
    op.create_index(op.f("ix_platform_mail_tokens_user_id"), "platform_mail_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_table("platform_mail_tokens")
    op.drop_table("platform_reports")
    op.drop_table("platform_identity_claims")
    op.drop_table("platform_profiles")
    op.drop_index("ix_platform_media_badge_source_work", table_name="platform_media")
    op.drop_index("ix_platform_media_source_work", table_name="platform_media")
    with op.batch_alter_table("platform_users") as batch:
        batch.drop_column("email_verified_at")
