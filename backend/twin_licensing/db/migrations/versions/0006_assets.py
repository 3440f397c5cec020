"""Use assets: the images attached to use reports (content-addressed by SHA-256, with their perceptual hashes),
the uses they belong to, and images reported to the guild as unlicensed.

Revision ID: 0006_assets
Revises: 0005_usage_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_assets"
down_revision = "0005_usage_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assets",
        sa.Column("sha256", sa.String(length=66), primary_key=True),
        sa.Column("media_type", sa.String(length=20), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("phash", sa.String(length=16), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_assets_phash", "assets", ["phash"])
    op.create_table(
        "asset_uses",
        sa.Column("use_id", sa.BigInteger(), primary_key=True),
        sa.Column("sha256", sa.String(length=66), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_asset_uses_sha256", "asset_uses", ["sha256"])
    op.create_table(
        "unlicensed_reports",
        sa.Column("report_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=66), nullable=False),
        sa.Column("phash", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("reporter", sa.String(length=42), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_unlicensed_reports_chain", "unlicensed_reports", ["chain_id", "report_id"])


def downgrade() -> None:
    op.drop_table("unlicensed_reports")
    op.drop_table("asset_uses")
    op.drop_table("assets")
