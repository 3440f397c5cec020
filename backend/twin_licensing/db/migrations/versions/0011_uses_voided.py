"""Voided uses in the index: `UsesVoided` (a handed-over licence's seller-signed item her escrow never will pay, past
which the settled count moved without paying) is kept in `settle_skips` with `voided` set.

Revision ID: 0011_uses_voided
Revises: 0010_settlement_v2
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_uses_voided"
down_revision = "0010_settlement_v2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("settle_skips") as batch:
        batch.add_column(sa.Column("voided", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("settle_skips") as batch:
        batch.drop_column("voided")
