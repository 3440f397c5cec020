"""Offers, licences, settlements and earnings, as the indexer derives them from the events.

One writer: the indexer. Read by the use intake (holder, terms, expiry, escrow, settled count), the settler
(settled counts, to reconcile) and the API (catalogue, licences, earnings history per payee and per brand).
Amounts are integers in the payment token's smallest unit.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from .types import Amount


class Offer(SQLModel, table=True):
    __tablename__ = "offers"
    __table_args__ = (Index("ix_offers_twin", "chain_id", "twin_id"),)

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    offer_id: int = Field(primary_key=True, sa_type=BigInteger)
    twin_id: int = Field(default=0, sa_type=BigInteger)
    upfront_fee: int = Field(default=0, sa_type=Amount)
    per_use_fee: int = Field(default=0, sa_type=Amount)
    duration: int = Field(default=0, sa_type=BigInteger)  # seconds
    max_uses: int = Field(default=0, sa_type=BigInteger)  # 0 = unlimited
    categories: int = 0  # bitmask
    territories: int = 0  # bitmask
    exclusive: bool = False
    transferable: bool = False
    idle_end_after: int = Field(default=0, sa_type=BigInteger)  # exclusive offers: seconds idle before the model may end
    active: bool = True
    licenses_sold: int = Field(default=0, sa_type=BigInteger)
    published_block: int = Field(default=0, sa_type=BigInteger)
    published_time: int = Field(default=0, sa_type=BigInteger)
    withdrawn_block: int | None = Field(default=None, sa_type=BigInteger)


class License(SQLModel, table=True):
    """A licence token, its terms (the offer's, snapshotted at purchase), holder, escrow and settled uses.

    Invariant kept by the indexer: escrow = escrow_deposited - escrow_spent - escrow_reclaimed.
    """

    __tablename__ = "licenses"
    __table_args__ = (
        Index("ix_licenses_holder", "chain_id", "holder"),
        Index("ix_licenses_twin", "chain_id", "twin_id"),
    )

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    license_id: int = Field(primary_key=True, sa_type=BigInteger)
    offer_id: int = Field(default=0, sa_type=BigInteger)
    twin_id: int = Field(default=0, sa_type=BigInteger)
    buyer: str = Field(default="", max_length=42)
    holder: str = Field(default="", max_length=42)  # current owner of the token
    upfront_fee: int = Field(default=0, sa_type=Amount)
    per_use_fee: int = Field(default=0, sa_type=Amount)
    max_uses: int = Field(default=0, sa_type=BigInteger)  # 0 = unlimited
    categories: int = 0
    territories: int = 0
    exclusive: bool = False
    transferable: bool = False
    idle_end_after: int = Field(default=0, sa_type=BigInteger)  # from the offer (exclusive licences only)
    locked: bool = False  # ERC-5192: a non-transferable licence is minted locked
    started_at: int = Field(default=0, sa_type=BigInteger)  # unix seconds
    expiry: int = Field(default=0, sa_type=BigInteger)  # unix seconds; uses settle only before it
    escrow: int = Field(default=0, sa_type=Amount)
    escrow_deposited: int = Field(default=0, sa_type=Amount)
    escrow_spent: int = Field(default=0, sa_type=Amount)
    escrow_reclaimed: int = Field(default=0, sa_type=Amount)
    uses_settled: int = Field(default=0, sa_type=BigInteger)  # = the next settlement's firstSeq
    last_settled_at: int = Field(default=0, sa_type=BigInteger)  # block time of its last settlement, 0 if none
    # When the model ended it as an idle exclusive licence (its expiry became this time); None if she did not.
    ended_at: int | None = Field(default=None, sa_type=BigInteger)
    purchased_block: int = Field(default=0, sa_type=BigInteger)
    purchased_tx: str = Field(default="", max_length=66)
    updated_block: int = Field(default=0, sa_type=BigInteger)


class Settlement(SQLModel, table=True):
    """One `UsesSettled`: uses firstSeq .. firstSeq+count-1 of a licence paid from escrow, with their Merkle root.

    Keyed by (licence, first sequence number): the contract accepts a settlement only at the licence's settled
    count, so the key is unique on any one chain (and integers keep the hot insert path cheap).
    """

    __tablename__ = "settlements"
    __table_args__ = (
        Index("ix_settlements_twin", "chain_id", "twin_id"),
        Index("ix_settlements_block", "chain_id", "block_number"),
    )

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    license_id: int = Field(primary_key=True, sa_type=BigInteger)
    first_seq: int = Field(primary_key=True, sa_type=BigInteger)
    count: int = Field(sa_type=BigInteger)
    twin_id: int = Field(sa_type=BigInteger)
    amount: int = Field(sa_type=Amount)
    uses_root: str = Field(max_length=66)
    holder: str = Field(max_length=42)  # the brand holding the licence when the uses were paid
    tx_hash: str = Field(max_length=66)
    log_index: int
    block_number: int = Field(sa_type=BigInteger)
    block_time: int = Field(sa_type=BigInteger)


class Earning(SQLModel, table=True):
    """A payee's earnings history: a twin's earnings split to her (`distributed`) or her withdrawal (`withdrawn`)."""

    __tablename__ = "earnings"
    __table_args__ = (
        Index("ix_earnings_payee", "chain_id", "payee"),
        Index("ix_earnings_block", "chain_id", "block_number"),
    )

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    tx_hash: str = Field(primary_key=True, max_length=66)
    log_index: int = Field(primary_key=True)
    payee: str = Field(max_length=42)
    kind: str = Field(max_length=12)  # distributed | withdrawn
    twin_id: int | None = Field(default=None, sa_type=BigInteger)  # None for withdrawals (all twins at once)
    amount: int = Field(sa_type=Amount)
    block_number: int = Field(sa_type=BigInteger)
    block_time: int = Field(sa_type=BigInteger)


class PayeeBalance(SQLModel, table=True):
    """Per payee: all earnings split to her and all she withdrew. The contract's `claimable(payee)` is
    distributed - withdrawn + her share of each of her twins' `undistributed` under the twin's current payees
    (`twin_payees`; each share rounded down, the remainder to the model at position 0), and `totalEarned(payee)`
    is withdrawn + claimable."""

    __tablename__ = "payee_balances"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    payee: str = Field(primary_key=True, max_length=42)
    distributed: int = Field(default=0, sa_type=Amount)
    withdrawn: int = Field(default=0, sa_type=Amount)
    updated_block: int = Field(default=0, sa_type=BigInteger)
