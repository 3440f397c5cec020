"""Consent per usage category (issue 12): the twin's revoked categories, per-category consent history, and the
category mask of each settle item the settler sends.

Revision ID: 0009_category_consent
Revises: 0008_usage_log_category
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_category_consent"
down_revision = "0008_usage_log_category"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("twins") as batch:
        batch.add_column(sa.Column("category_revocations", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("consent_changes") as batch:
        batch.add_column(sa.Column("category", sa.Integer(), nullable=True))
    # Items recorded before had no mask; a settlement contract that takes one is a new deployment (a new chain), so
    # such rows are history only.
    with op.batch_alter_table("settle_submission_items") as batch:
        batch.add_column(sa.Column("categories", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("settle_submission_items") as batch:
        batch.drop_column("categories")
    with op.batch_alter_table("consent_changes") as batch:
        batch.drop_column("category")
    with op.batch_alter_table("twins") as batch:
        batch.drop_column("category_revocations")
