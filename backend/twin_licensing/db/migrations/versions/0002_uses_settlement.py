"""The use intake's `uses` and the settler's submissions, their transactions and items, and use holds.

Revision ID: 0002_uses
Revises: 0001_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_uses"
down_revision = "0001_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uses",
        sa.Column("use_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("genesis_hash", sa.String(length=66), nullable=False),
        sa.Column("license_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("use_ref", sa.String(length=66), nullable=False),
        sa.Column("category", sa.Integer(), nullable=False),
        sa.Column("territory", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("chain_id", "genesis_hash", "license_id", "seq", name="uq_uses_license_seq"),
        sa.UniqueConstraint("genesis_hash", "digest", name="uq_uses_digest"),
    )
    op.create_index("ix_uses_accepted", "uses", ["chain_id", "genesis_hash", "accepted_at"])

    op.create_table(
        "settle_submissions",
        sa.Column("submission_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("genesis_hash", sa.String(length=66), nullable=False),
        sa.Column("recorder", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.String(length=66), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_settle_submissions_status", "settle_submissions", ["chain_id", "genesis_hash", "status"])

    op.create_table(
        "settle_transactions",
        sa.Column(
            "submission_id", sa.Integer(), sa.ForeignKey("settle_submissions.submission_id"), primary_key=True
        ),
        sa.Column("tx_hash", sa.String(length=66), primary_key=True),
        sa.Column("gas", sa.BigInteger(), nullable=False),
        sa.Column("max_fee_per_gas", sa.String(length=78), nullable=False),
        sa.Column("max_priority_fee_per_gas", sa.String(length=78), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_settle_transactions_tx_hash", "settle_transactions", ["tx_hash"])

    op.create_table(
        "settle_submission_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "submission_id", sa.Integer(), sa.ForeignKey("settle_submissions.submission_id"), nullable=False
        ),
        sa.Column("license_id", sa.BigInteger(), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("uses_root", sa.String(length=66), nullable=False),
    )
    op.create_index("ix_settle_submission_items_submission_id", "settle_submission_items", ["submission_id"])
    op.create_index("ix_settle_items_license", "settle_submission_items", ["license_id", "first_seq"])

    op.create_table(
        "use_rejections",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("genesis_hash", sa.String(length=66), nullable=False),
        sa.Column("license_id", sa.BigInteger(), nullable=False),
        sa.Column("from_seq", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("permanent", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "genesis_hash", "license_id"),
    )


def downgrade() -> None:
    op.drop_table("use_rejections")
    op.drop_table("settle_submission_items")
    op.drop_table("settle_transactions")
    op.drop_table("settle_submissions")
    op.drop_table("uses")
