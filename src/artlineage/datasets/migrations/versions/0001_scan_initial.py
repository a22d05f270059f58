"""initial scan schema: scanned_files, as ScanBase.metadata.create_all made it before migrations

Revision ID: s0001_scan_initial
Revises:
Create Date: 2026-11-24

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "s0001_scan_initial"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "scanned_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("path", sa.String(length=4096), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("format", sa.String(length=16), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("generator", sa.String(length=128), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("conflicts", sa.JSON(), nullable=False),
        sa.Column("generation", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # Same names as create_all gave them, so databases made before migrations match this revision.
    op.create_index(op.f("ix_scanned_files_generator"), "scanned_files", ["generator"], unique=False)
    op.create_index(op.f("ix_scanned_files_origin"), "scanned_files", ["origin"], unique=False)
    op.create_index(op.f("ix_scanned_files_path"), "scanned_files", ["path"], unique=True)
    op.create_index(op.f("ix_scanned_files_sha256"), "scanned_files", ["sha256"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_scanned_files_sha256"), table_name="scanned_files")
    op.drop_index(op.f("ix_scanned_files_path"), table_name="scanned_files")
    op.drop_index(op.f("ix_scanned_files_origin"), table_name="scanned_files")
    op.drop_index(op.f("ix_scanned_files_generator"), table_name="scanned_files")
    op.drop_table("scanned_files")
