"""A use's label: what the brand called the asset or campaign item whose hash is the use's `use_ref`.

Stored with the use, never signed (the EIP-712 report signs `use_ref`). Null for uses reported without one.

Revision ID: 0003_use_label
Revises: 0002_uses
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_use_label"
down_revision = "0002_uses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("uses", sa.Column("label", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("uses") as batch:  # SQLite drops a column by rebuilding the table
        batch.drop_column("label")
