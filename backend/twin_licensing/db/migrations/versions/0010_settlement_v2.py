"""Issue 11 in the index: settle items skipped with their reason, who paid each settlement, the upfront fee's vesting
and refunds, the seller's escrow after a transfer, whole-twin revocations that ended licences, the licence
contract's pauses (grace does not count them), and offers withdrawn by a revocation.

Revision ID: 0010_settlement_v2
Revises: 0009_category_consent
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from twin_licensing.db.types import Amount

revision = "0010_settlement_v2"
down_revision = "0009_category_consent"
branch_labels = None
depends_on = None

_ZERO = sa.text("0")

# Existing rows get the defaults. Contracts with these events are a new deployment, which the indexer indexes anew
# (it wipes the index of a chain whose deployment changed), so no old row needs a computed value.
_LICENSE_AMOUNTS = ("escrow_handed_over", "upfront_released", "upfront_refunded", "handover_escrow", "seller_escrow",
                    "seller_escrow_spent", "seller_escrow_reclaimed")
_TWIN_AMOUNTS = ("upfront_sold", "upfront_released")


def upgrade() -> None:
    op.create_table(
        "settle_skips",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("license_id", sa.BigInteger(), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "tx_hash", "log_index"),
    )
    op.create_index("ix_settle_skips_license", "settle_skips", ["chain_id", "license_id"])
    op.create_index("ix_settle_skips_block", "settle_skips", ["chain_id", "block_number"])
    op.create_table(
        "pause_periods",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("paused_block", sa.BigInteger(), nullable=False),
        sa.Column("paused_log_index", sa.Integer(), nullable=False),
        sa.Column("paused_at", sa.BigInteger(), nullable=False),
        sa.Column("unpaused_at", sa.BigInteger(), nullable=True),
        sa.Column("unpaused_block", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("chain_id", "paused_block", "paused_log_index"),
    )
    with op.batch_alter_table("licenses") as batch:
        batch.add_column(sa.Column("duration", sa.BigInteger(), nullable=False, server_default=_ZERO))
        for column in _LICENSE_AMOUNTS:
            batch.add_column(sa.Column(column, Amount(), nullable=False, server_default=_ZERO))
        batch.add_column(sa.Column("seller", sa.String(length=42), nullable=True))
        batch.add_column(sa.Column("handover_at", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("last_skip_reason", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_skip_first_seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("last_skip_count", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("last_skip_block", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("settlements") as batch:
        batch.add_column(sa.Column("payer", sa.String(length=42), nullable=False, server_default=""))
    with op.batch_alter_table("offers") as batch:
        batch.add_column(sa.Column("withdrawn_by", sa.String(length=8), nullable=True))
    with op.batch_alter_table("twins") as batch:
        batch.add_column(sa.Column("consent_ends", sa.Text(), nullable=False, server_default=""))
        for column in _TWIN_AMOUNTS:
            batch.add_column(sa.Column(column, Amount(), nullable=False, server_default=_ZERO))


def downgrade() -> None:
    with op.batch_alter_table("twins") as batch:  # SQLite drops a column by rebuilding the table
        for column in ("consent_ends", *_TWIN_AMOUNTS):
            batch.drop_column(column)
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("withdrawn_by")
    with op.batch_alter_table("settlements") as batch:
        batch.drop_column("payer")
    with op.batch_alter_table("licenses") as batch:
        for column in ("duration", *_LICENSE_AMOUNTS, "seller", "handover_at", "last_skip_reason",
                       "last_skip_first_seq", "last_skip_count", "last_skip_block"):
            batch.drop_column(column)
    op.drop_table("pause_periods")
    op.drop_index("ix_settle_skips_block", table_name="settle_skips")
    op.drop_index("ix_settle_skips_license", table_name="settle_skips")
    op.drop_table("settle_skips")
