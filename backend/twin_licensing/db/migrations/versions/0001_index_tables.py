"""The indexer's tables: chain events, blocks, cursor and the state derived from the events.

Revision ID: 0001_index
Revises: 
Create Date: 2026-11-27 23:58:27.670601
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from twin_licensing.db.types import Amount

revision = '0001_index'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chain_events',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('block_hash', sa.String(length=66), nullable=False),
    sa.Column('block_time', sa.BigInteger(), nullable=False),
    sa.Column('tx_index', sa.Integer(), nullable=False),
    sa.Column('contract', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=48), nullable=False),
    sa.Column('twin_id', sa.BigInteger(), nullable=True),
    sa.Column('license_id', sa.BigInteger(), nullable=True),
    sa.Column('offer_id', sa.BigInteger(), nullable=True),
    sa.Column('account', sa.String(length=42), nullable=True),
    sa.Column('args', sa.Text(), nullable=False),
    sa.Column('final', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', 'tx_hash', 'log_index')
    )
    op.create_index('ix_chain_events_account', 'chain_events', ['chain_id', 'account'], unique=False, sqlite_where=sa.text('account IS NOT NULL'), postgresql_where=sa.text('account IS NOT NULL'))
    op.create_index('ix_chain_events_block', 'chain_events', ['chain_id', 'block_number'], unique=False)
    op.create_index('ix_chain_events_license', 'chain_events', ['chain_id', 'license_id'], unique=False, sqlite_where=sa.text('license_id IS NOT NULL'), postgresql_where=sa.text('license_id IS NOT NULL'))
    op.create_index('ix_chain_events_offer', 'chain_events', ['chain_id', 'offer_id'], unique=False, sqlite_where=sa.text('offer_id IS NOT NULL'), postgresql_where=sa.text('offer_id IS NOT NULL'))
    op.create_index('ix_chain_events_twin', 'chain_events', ['chain_id', 'twin_id'], unique=False, sqlite_where=sa.text('twin_id IS NOT NULL'), postgresql_where=sa.text('twin_id IS NOT NULL'))

    op.create_table('consent_changes',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('twin_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('consent_hash', sa.String(length=66), nullable=True),
    sa.Column('effective_at', sa.BigInteger(), nullable=True),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('block_time', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', 'tx_hash', 'log_index')
    )
    op.create_index('ix_consent_changes_block', 'consent_changes', ['chain_id', 'block_number'], unique=False)
    op.create_index('ix_consent_changes_twin', 'consent_changes', ['chain_id', 'twin_id'], unique=False)

    op.create_table('earnings',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('payee', sa.String(length=42), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('twin_id', sa.BigInteger(), nullable=True),
    sa.Column('amount', Amount(), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('block_time', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', 'tx_hash', 'log_index')
    )
    op.create_index('ix_earnings_block', 'earnings', ['chain_id', 'block_number'], unique=False)
    op.create_index('ix_earnings_payee', 'earnings', ['chain_id', 'payee'], unique=False)

    op.create_table('guild_floors',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('category', sa.Integer(), nullable=False),
    sa.Column('min_per_use_fee', Amount(), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', 'category')
    )
    op.create_table('index_cursors',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('genesis_hash', sa.String(length=66), nullable=False),
    sa.Column('twin_registry', sa.String(length=42), nullable=False),
    sa.Column('license_token', sa.String(length=42), nullable=False),
    sa.Column('deployment_block', sa.BigInteger(), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('block_hash', sa.String(length=66), nullable=False),
    sa.Column('final_block', sa.BigInteger(), nullable=False),
    sa.Column('events', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('chain_id')
    )
    op.create_table('indexed_blocks',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=66), nullable=False),
    sa.Column('parent_hash', sa.String(length=66), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', 'number')
    )
    op.create_table('licenses',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('license_id', sa.BigInteger(), nullable=False),
    sa.Column('offer_id', sa.BigInteger(), nullable=False),
    sa.Column('twin_id', sa.BigInteger(), nullable=False),
    sa.Column('buyer', sa.String(length=42), nullable=False),
    sa.Column('holder', sa.String(length=42), nullable=False),
    sa.Column('upfront_fee', Amount(), nullable=False),
    sa.Column('per_use_fee', Amount(), nullable=False),
    sa.Column('max_uses', sa.BigInteger(), nullable=False),
    sa.Column('categories', sa.Integer(), nullable=False),
    sa.Column('territories', sa.Integer(), nullable=False),
    sa.Column('exclusive', sa.Boolean(), nullable=False),
    sa.Column('transferable', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.BigInteger(), nullable=False),
    sa.Column('expiry', sa.BigInteger(), nullable=False),
    sa.Column('escrow', Amount(), nullable=False),
    sa.Column('escrow_deposited', Amount(), nullable=False),
    sa.Column('escrow_spent', Amount(), nullable=False),
    sa.Column('escrow_reclaimed', Amount(), nullable=False),
    sa.Column('uses_settled', sa.BigInteger(), nullable=False),
    sa.Column('purchased_block', sa.BigInteger(), nullable=False),
    sa.Column('purchased_tx', sa.String(length=66), nullable=False),
    sa.Column('updated_block', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', 'license_id')
    )
    op.create_index('ix_licenses_holder', 'licenses', ['chain_id', 'holder'], unique=False)
    op.create_index('ix_licenses_twin', 'licenses', ['chain_id', 'twin_id'], unique=False)

    op.create_table('offers',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('offer_id', sa.BigInteger(), nullable=False),
    sa.Column('twin_id', sa.BigInteger(), nullable=False),
    sa.Column('upfront_fee', Amount(), nullable=False),
    sa.Column('per_use_fee', Amount(), nullable=False),
    sa.Column('duration', sa.BigInteger(), nullable=False),
    sa.Column('max_uses', sa.BigInteger(), nullable=False),
    sa.Column('categories', sa.Integer(), nullable=False),
    sa.Column('territories', sa.Integer(), nullable=False),
    sa.Column('exclusive', sa.Boolean(), nullable=False),
    sa.Column('transferable', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('licenses_sold', sa.BigInteger(), nullable=False),
    sa.Column('published_block', sa.BigInteger(), nullable=False),
    sa.Column('published_time', sa.BigInteger(), nullable=False),
    sa.Column('withdrawn_block', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('chain_id', 'offer_id')
    )
    op.create_index('ix_offers_twin', 'offers', ['chain_id', 'twin_id'], unique=False)

    op.create_table('payee_balances',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('payee', sa.String(length=42), nullable=False),
    sa.Column('distributed', Amount(), nullable=False),
    sa.Column('withdrawn', Amount(), nullable=False),
    sa.Column('updated_block', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', 'payee')
    )
    op.create_table('protocol_params',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=80), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', 'name')
    )
    op.create_table('role_members',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('contract', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=66), nullable=False),
    sa.Column('account', sa.String(length=42), nullable=False),
    sa.Column('role_name', sa.String(length=32), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', 'contract', 'role', 'account')
    )
    op.create_table('settlements',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('license_id', sa.BigInteger(), nullable=False),
    sa.Column('first_seq', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('twin_id', sa.BigInteger(), nullable=False),
    sa.Column('amount', Amount(), nullable=False),
    sa.Column('uses_root', sa.String(length=66), nullable=False),
    sa.Column('holder', sa.String(length=42), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('block_time', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', 'license_id', 'first_seq')
    )
    op.create_index('ix_settlements_block', 'settlements', ['chain_id', 'block_number'], unique=False)
    op.create_index('ix_settlements_twin', 'settlements', ['chain_id', 'twin_id'], unique=False)

    op.create_table('twin_payees',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('twin_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=42), nullable=False),
    sa.Column('share_bps', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('since_block', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', 'twin_id', 'position')
    )
    op.create_index('ix_twin_payees_account', 'twin_payees', ['chain_id', 'account'], unique=False)

    op.create_table('twins',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('twin_id', sa.BigInteger(), nullable=False),
    sa.Column('model', sa.String(length=42), nullable=False),
    sa.Column('uri', sa.Text(), nullable=False),
    sa.Column('consent_hash', sa.String(length=66), nullable=False),
    sa.Column('revocation_effective_at', sa.BigInteger(), nullable=False),
    sa.Column('earned', Amount(), nullable=False),
    sa.Column('distributed', Amount(), nullable=False),
    sa.Column('undistributed', Amount(), nullable=False),
    sa.Column('uses_settled', sa.BigInteger(), nullable=False),
    sa.Column('licenses_sold', sa.BigInteger(), nullable=False),
    sa.Column('registered_block', sa.BigInteger(), nullable=False),
    sa.Column('registered_time', sa.BigInteger(), nullable=False),
    sa.Column('registered_tx', sa.String(length=66), nullable=False),
    sa.Column('updated_block', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', 'twin_id')
    )
    op.create_index('ix_twins_model', 'twins', ['chain_id', 'model'], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes.
    op.drop_table('twins')
    op.drop_table('twin_payees')
    op.drop_table('settlements')
    op.drop_table('role_members')
    op.drop_table('protocol_params')
    op.drop_table('payee_balances')
    op.drop_table('offers')
    op.drop_table('licenses')
    op.drop_table('indexed_blocks')
    op.drop_table('index_cursors')
    op.drop_table('guild_floors')
    op.drop_table('earnings')
    op.drop_table('consent_changes')
    op.drop_table('chain_events')
