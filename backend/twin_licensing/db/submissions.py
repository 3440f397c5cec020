"""What the settler sent to the chain. One writer: the settler (`twin_licensing.settlement`).

A submission is recorded (with its signed transaction's hash and nonce) *before* it is broadcast, so that after a
crash the settler knows what may be in flight. Which uses are paid is never read from here but from the chain's
settled counts: these rows say what was tried, for the use status ("submitted") and for reconciliation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, LargeBinary
from sqlmodel import Field, SQLModel

from .uses import utcnow

# Submission status: sending (recorded, maybe broadcast) -> mined | failed (reverted) | dropped (never mined).
SENDING, MINED, FAILED, DROPPED = "sending", "mined", "failed", "dropped"
OPEN_STATUSES = (SENDING,)


class SettleSubmission(SQLModel, table=True):
    __tablename__ = "settle_submissions"
    __table_args__ = (Index("ix_settle_submissions_status", "chain_id", "genesis_hash", "status"),)

    submission_id: int | None = Field(default=None, primary_key=True)
    chain_id: int = Field(sa_type=BigInteger)
    genesis_hash: str = Field(max_length=66)
    recorder: str = Field(max_length=42)
    nonce: int = Field(sa_type=BigInteger)
    tx_hash: str = Field(max_length=66)  # the latest (replacement) transaction
    status: str = Field(max_length=16, default=SENDING)
    uses: int = 0  # uses in the batch
    gas_used: int | None = Field(default=None, sa_type=BigInteger)
    block_number: int | None = Field(default=None, sa_type=BigInteger)
    block_hash: str | None = Field(default=None, max_length=66)
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class SettleTransaction(SQLModel, table=True):
    """Every signed transaction of a submission: the first and each fee-bumped replacement at the same nonce."""

    __tablename__ = "settle_transactions"

    # The same signed bytes can come back in a later submission (same nonce, items and fees after a dropped one).
    submission_id: int = Field(foreign_key="settle_submissions.submission_id", primary_key=True)
    tx_hash: str = Field(primary_key=True, max_length=66, index=True)
    gas: int = Field(sa_type=BigInteger)
    max_fee_per_gas: str = Field(max_length=78)  # wei can exceed 64 bits: kept as decimal text
    max_priority_fee_per_gas: str = Field(max_length=78)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # re-broadcast after a crash
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class SettleSubmissionItem(SQLModel, table=True):
    __tablename__ = "settle_submission_items"
    __table_args__ = (Index("ix_settle_items_license", "license_id", "first_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="settle_submissions.submission_id", index=True)
    license_id: int = Field(sa_type=BigInteger)
    first_seq: int = Field(sa_type=BigInteger)
    count: int
    uses_root: str = Field(max_length=66)
    categories: int = 0  # the item's mask of usage categories, as sent to settle()


class UseRejection(SQLModel, table=True):
    """A licence whose uses from `from_seq` on cannot be settled now, and why, in words for the brand.

    Rechecked by the settler: a cured cause (consent granted again, escrow topped up) lifts it (the row is
    deleted) and the uses settle; a permanent one (expiry) stays.
    """

    __tablename__ = "use_rejections"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    genesis_hash: str = Field(primary_key=True, max_length=66)
    license_id: int = Field(primary_key=True, sa_type=BigInteger)
    from_seq: int = Field(sa_type=BigInteger)
    code: str = Field(max_length=64)  # the contract error's name
    reason: str
    permanent: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    checked_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
