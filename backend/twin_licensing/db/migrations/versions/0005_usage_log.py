"""The usage log: each use knows its twin (so a twin's log is one index range), the log's indexes, and when each
viewer last opened the log ("new since your last visit").

`uses.twin_id` is the twin of the use's licence, copied by the intake when it accepts the use (a licence never
changes twin, so the copy never goes stale). Uses already stored get it from `licenses`; uses of a replaced local
chain, whose licences the indexer wiped, get 0 (no twin: no log ever shows them, their genesis is not current).

Revision ID: 0005_usage_log
Revises: 0004_signin
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_usage_log"
down_revision = "0004_signin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("uses", sa.Column("twin_id", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE uses SET twin_id = COALESCE((SELECT l.twin_id FROM licenses l "
        "WHERE l.chain_id = uses.chain_id AND l.license_id = uses.license_id), 0)"
    )
    with op.batch_alter_table("uses") as batch:  # SQLite changes nullability by rebuilding the table
        batch.alter_column("twin_id", existing_type=sa.BigInteger(), nullable=False)
    # A twin's log, newest first: the model's and a payee's page is one backwards range scan.
    op.create_index("ix_uses_twin_log", "uses", ["chain_id", "genesis_hash", "twin_id", "accepted_at", "use_id"])
    op.create_table(
        "usage_log_visits",
        sa.Column("chain_id", sa.BigInteger(), primary_key=True),
        sa.Column("viewer", sa.String(length=42), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("usage_log_visits")
    op.drop_index("ix_uses_twin_log", table_name="uses")
    with op.batch_alter_table("uses") as batch:
        batch.drop_column("twin_id")
