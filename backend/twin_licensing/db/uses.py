"""Accepted use reports. One writer: the API's use intake (`twin_licensing.usage`).

A row is a use the licence holder signed and the backend accepted and numbered; it is never updated or deleted.
Its status (pending, submitted, settled, rejected) is derived from the settler's and the indexer's tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import BigInteger, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UseBase(SQLModel):
    license_id: int = Field(sa_type=BigInteger)
    use_ref: str = Field(max_length=66)  # 0x-hex bytes32
    category: int
    territory: int
    used_at: int = Field(sa_type=BigInteger)  # unix seconds, as signed


class Use(UseBase, table=True):
    __tablename__ = "uses"
    __table_args__ = (
        # Gapless numbering per licence is enforced by the intake's lock; this makes a slip impossible to store.
        UniqueConstraint("chain_id", "genesis_hash", "license_id", "seq", name="uq_uses_license_seq"),
        UniqueConstraint("genesis_hash", "digest", name="uq_uses_digest"),
        Index("ix_uses_accepted", "chain_id", "genesis_hash", "accepted_at"),
    )

    use_id: int | None = Field(default=None, primary_key=True)
    chain_id: int = Field(sa_type=BigInteger)
    # A restarted local node is a new chain with the same id (and the same contract addresses): the genesis hash
    # keeps its uses apart from the old chain's, which must never be settled on the new one.
    genesis_hash: str = Field(max_length=66)
    seq: int = Field(sa_type=BigInteger)  # from 0 within the licence: the on-chain sequence number
    signer: str = Field(max_length=42)
    signature: str = Field(max_length=132)
    # The EIP-712 digest identifies the report: the same report sent again finds this row.
    digest: str = Field(max_length=66)
    accepted_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


@dataclass(frozen=True)
class ChainScope:
    """Which chain rows belong to: its id and its genesis block (a restarted local node keeps the id only)."""

    chain_id: int
    genesis_hash: str

    def uses(self) -> tuple:
        """WHERE conditions selecting this chain's uses."""
        return (Use.chain_id == self.chain_id, Use.genesis_hash == self.genesis_hash)
