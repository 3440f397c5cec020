"""Sign-in (the API's Sign-In with Ethereum nonces and sessions) and consent documents (the consent texts, keyed by
the keccak256 their twins carry on chain).

Revision ID: 0004_signin
Revises: 0003_use_label
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_signin"
down_revision = "0003_use_label"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_nonces",
        sa.Column("nonce", sa.String(length=64), primary_key=True),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_signin_nonces_expires", "signin_nonces", ["expires_at"])
    op.create_table(
        "signin_sessions",
        sa.Column("id_hash", sa.String(length=64), primary_key=True),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_signin_sessions_expires", "signin_sessions", ["expires_at"])
    op.create_table(
        "consent_documents",
        sa.Column("consent_hash", sa.String(length=66), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("stored_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("consent_documents")
    op.drop_index("ix_signin_sessions_expires", table_name="signin_sessions")
    op.drop_table("signin_sessions")
    op.drop_index("ix_signin_nonces_expires", table_name="signin_nonces")
    op.drop_table("signin_nonces")
