"""The usage log filtered by category: one index range per twin and category, newest first.

A category filter keeps about one use in eight; scanning a twin's log for them read eight rows for every one
shown, deep pages of a large log most of all. This index reads only the category's.

Revision ID: 0008_usage_log_category
Revises: 0007_attestations
"""

from __future__ import annotations

from alembic import op

revision = "0008_usage_log_category"
down_revision = "0007_attestations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_uses_twin_category", "uses", ["chain_id", "genesis_hash", "twin_id", "category", "accepted_at", "use_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_uses_twin_category", table_name="uses")
