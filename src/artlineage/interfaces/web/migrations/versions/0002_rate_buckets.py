"""platform_rate_buckets: token buckets shared by the worker processes

Revision ID: p0002_rate_buckets
Revises: p0001_platform_initial
Create Date: 2026-11-27

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "p0002_rate_buckets"
down_revision: Union[str, Sequence[str], None] = "p0001_platform_initial"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "platform_rate_buckets",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_platform_rate_buckets")),
    )
    op.create_index(op.f("ix_platform_rate_buckets_updated_at"), "platform_rate_buckets", ["updated_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_table("platform_rate_buckets")
