"""Offers, licences, settlements and earnings, as the indexer derives them from the events.

One writer: the indexer. Read by the use intake (holder, terms, expiry, escrow, settled count), the settler
(settled counts and skipped items, to reconcile) and the API (catalogue, licences, earnings history per payee and per
brand). Amounts are integers in the payment token's smallest unit.

Only facts the chain states are stored here; what follows from them and the clock (a licence's end and grace, the
upfront vested by now, what a reclaim would pay) is computed by the reader (domain/vesting.py and the read API).
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
    # Who withdrew it: 'model' (OfferWithdrawn) or 'consent' (TwinOffersWithdrawn: a revocation of the twin's consent,
    # or of a category the offer includes, withdrew it; granting consent again does not republish it). None: active.
    withdrawn_by: str | None = Field(default=None, max_length=8)


class License(SQLModel, table=True):
    """A licence token, its terms (the offer's, snapshotted at purchase), holder, escrow and settled uses; its upfront
    fee's vesting, the seller's escrow after a transfer, and the last settle item the contract skipped.

    Invariants kept by the indexer:
      escrow = escrow_deposited - escrow_spent - escrow_reclaimed - escrow_handed_over
      escrow_handed_over = seller_escrow + seller_escrow_spent + seller_escrow_reclaimed
      upfront_released + upfront_refunded <= upfront_fee (the rest is still held unvested by the contract)

    The licence's end (domain.licence_end, the one home of the rule) follows from `expiry` (which an idle-exclusive
    end moves to `ended_at`), `started_at`, `categories` and its twin's revocations (`Twin.revocation_effective_at`,
    `Twin.consent_ends`, `Twin.category_revocations` and the per-category history in `consent_changes`); uses
    signed before it settle until the grace after it is over (domain.grace, from `ProtocolParam` 'grace_period' and
    the contract's `PausePeriod`s).
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
    duration: int = Field(default=0, sa_type=BigInteger)  # the term bought (offer's); the upfront vests over it
    expiry: int = Field(default=0, sa_type=BigInteger)  # unix seconds; started_at + duration unless ended idle
    escrow: int = Field(default=0, sa_type=Amount)
    escrow_deposited: int = Field(default=0, sa_type=Amount)
    escrow_spent: int = Field(default=0, sa_type=Amount)
    escrow_reclaimed: int = Field(default=0, sa_type=Amount)
    # Escrow that became a seller's at transfers (LicenseHandedOver): the buyer starts with escrow 0.
    escrow_handed_over: int = Field(default=0, sa_type=Amount)
    uses_settled: int = Field(default=0, sa_type=BigInteger)  # = the next settlement's firstSeq
    last_settled_at: int = Field(default=0, sa_type=BigInteger)  # block time of its last settlement, 0 if none
    # When the model ended it as an idle exclusive licence (its expiry became this time); None if she did not.
    ended_at: int | None = Field(default=None, sa_type=BigInteger)
    # The upfront fee (`upfront_fee`) vests linearly over the term: what vested and was moved to the twin's earnings
    # (UpfrontVested, by vest / withdrawVested / reclaimUnvested), and the unvested rest paid back to the holder after
    # an early end (UpfrontRefunded).
    upfront_released: int = Field(default=0, sa_type=Amount)
    upfront_refunded: int = Field(default=0, sa_type=Amount)
    # The last transfer (LicenseHandedOver): the previous owner, its time, and that seller's escrow still held (it
    # pays only uses the seller signed before `handover_at`; zero after SellerEscrowReclaimed). None/0: never moved.
    seller: str | None = Field(default=None, max_length=42)
    handover_at: int | None = Field(default=None, sa_type=BigInteger)
    handover_escrow: int = Field(default=0, sa_type=Amount)  # the seller's escrow at that handover
    seller_escrow: int = Field(default=0, sa_type=Amount)
    # Sums over every handover of the licence: uses paid from a seller's escrow, and what sellers reclaimed.
    seller_escrow_spent: int = Field(default=0, sa_type=Amount)
    seller_escrow_reclaimed: int = Field(default=0, sa_type=Amount)
    # The last item of this licence `settle` skipped (SettleItemSkipped; every one is in `settle_skips`): the reason
    # (TwinTypes.SkipReason), the item's first sequence number and count, and its block. None: never skipped.
    last_skip_reason: int | None = None
    last_skip_first_seq: int | None = Field(default=None, sa_type=BigInteger)
    last_skip_count: int | None = Field(default=None, sa_type=BigInteger)
    last_skip_block: int | None = Field(default=None, sa_type=BigInteger)
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
    # Whose escrow paid (UsesSettled.payer): the holder, or the seller of a handed-over licence for uses it signed.
    payer: str = Field(default="", max_length=42)
    tx_hash: str = Field(max_length=66)
    log_index: int
    block_number: int = Field(sa_type=BigInteger)
    block_time: int = Field(sa_type=BigInteger)


class SettleSkip(SQLModel, table=True):
    """One `SettleItemSkipped`: an item of a `settle` batch that changed nothing (the rest of the batch settled);
    or, with `voided`, one `UsesVoided`: a handed-over licence's seller-signed item her escrow never will pay, which
    moved the licence's settled count past it without paying (its uses are rejected for good, neither paid nor
    pending).

    `reason` is TwinTypes.SkipReason (0 UnknownLicense .. 10 InsufficientEscrow); the licence may not exist (0).
    Append-only, like `settlements`; read by the settler (hold, retry or reject the item's uses) and the API.
    """

    __tablename__ = "settle_skips"
    __table_args__ = (
        Index("ix_settle_skips_license", "chain_id", "license_id"),
        Index("ix_settle_skips_block", "chain_id", "block_number"),
    )

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    tx_hash: str = Field(primary_key=True, max_length=66)
    log_index: int = Field(primary_key=True)
    license_id: int = Field(sa_type=BigInteger)
    first_seq: int = Field(sa_type=BigInteger)
    count: int = Field(sa_type=BigInteger)
    reason: int
    block_number: int = Field(sa_type=BigInteger)
    block_time: int = Field(sa_type=BigInteger)
    voided: bool = False  # UsesVoided (the settled count moved past the item), not SettleItemSkipped


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
