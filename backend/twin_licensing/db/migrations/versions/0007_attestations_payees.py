"""Issue 10 in the index: the guild's attestations, the attestation and notice period each twin was registered
under, payees' acceptance, offers' and licences' idle period, licences' ERC-5192 lock, last settlement and end.

Revision ID: 0007_attestations
Revises: 0006_assets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_attestations"
down_revision = "0006_assets"
branch_labels = None
depends_on = None

_ZERO = sa.text("0")
_FALSE = sa.false()


def upgrade() -> None:
    op.create_table(
        "attestations",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("attestation_id", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.String(length=42), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("guild", sa.String(length=42), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "attestation_id"),
    )
    op.create_index("ix_attestations_subject", "attestations", ["chain_id", "subject"])
    # Existing rows get the defaults; the indexer fills the new columns as it indexes (a new chain is indexed anew).
    with op.batch_alter_table("twins") as batch:
        batch.add_column(sa.Column("attestation_id", sa.BigInteger(), nullable=False, server_default=_ZERO))
        batch.add_column(sa.Column("notice_period", sa.BigInteger(), nullable=False, server_default=_ZERO))
    with op.batch_alter_table("twin_payees") as batch:
        batch.add_column(sa.Column("accepted", sa.Boolean(), nullable=False, server_default=_FALSE))
    with op.batch_alter_table("offers") as batch:
        batch.add_column(sa.Column("idle_end_after", sa.BigInteger(), nullable=False, server_default=_ZERO))
    with op.batch_alter_table("licenses") as batch:
        batch.add_column(sa.Column("idle_end_after", sa.BigInteger(), nullable=False, server_default=_ZERO))
        batch.add_column(sa.Column("locked", sa.Boolean(), nullable=False, server_default=_FALSE))
        batch.add_column(sa.Column("last_settled_at", sa.BigInteger(), nullable=False, server_default=_ZERO))
        batch.add_column(sa.Column("ended_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("licenses") as batch:  # SQLite drops a column by rebuilding the table
        for column in ("ended_at", "last_settled_at", "locked", "idle_end_after"):
            batch.drop_column(column)
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("idle_end_after")
    with op.batch_alter_table("twin_payees") as batch:
        batch.drop_column("accepted")
    with op.batch_alter_table("twins") as batch:
        batch.drop_column("notice_period")
        batch.drop_column("attestation_id")
    op.drop_index("ix_attestations_subject", table_name="attestations")
    op.drop_table("attestations")
