"""What the indexer read from the chain: every contract event (append-only), recent block hashes, and its cursor.

One writer: the indexer. Rows above a reorganisation's common ancestor are deleted, never updated; everything
else in the index (twins, licences, earnings ...) is derived from `chain_events`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Text, text
from sqlmodel import Field, SQLModel


class ChainEvent(SQLModel, table=True):
    """One log of the project's contracts, decoded. Keyed like Ponder's `event.id`: replaying it adds nothing."""

    __tablename__ = "chain_events"
    __table_args__ = (
        Index("ix_chain_events_block", "chain_id", "block_number"),
        # Partial indexes: only the rows that name the entity pay for the index (replay after a reorg, the API).
        Index("ix_chain_events_twin", "chain_id", "twin_id",
              sqlite_where=text("twin_id IS NOT NULL"), postgresql_where=text("twin_id IS NOT NULL")),
        Index("ix_chain_events_license", "chain_id", "license_id",
              sqlite_where=text("license_id IS NOT NULL"), postgresql_where=text("license_id IS NOT NULL")),
        Index("ix_chain_events_offer", "chain_id", "offer_id",
              sqlite_where=text("offer_id IS NOT NULL"), postgresql_where=text("offer_id IS NOT NULL")),
        Index("ix_chain_events_account", "chain_id", "account",
              sqlite_where=text("account IS NOT NULL"), postgresql_where=text("account IS NOT NULL")),
    )

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    tx_hash: str = Field(primary_key=True, max_length=66)
    log_index: int = Field(primary_key=True)
    block_number: int = Field(sa_type=BigInteger)
    block_hash: str = Field(max_length=66)
    block_time: int = Field(sa_type=BigInteger)  # unix seconds
    tx_index: int
    contract: str = Field(max_length=32)  # TwinRegistry | LicenseToken
    name: str = Field(max_length=48)  # the event's name in the ABI
    # The entities the event is about, for lookups and for recomputing them after a reorganisation.
    twin_id: int | None = Field(default=None, sa_type=BigInteger)
    license_id: int | None = Field(default=None, sa_type=BigInteger)
    offer_id: int | None = Field(default=None, sa_type=BigInteger)
    account: str | None = Field(default=None, max_length=42)  # payee, buyer or new holder
    args: str = Field(sa_type=Text)  # JSON of the decoded arguments; integers exact, bytes 0x-hex
    # At least `confirmations` blocks deep when indexed or since (0 on the local node: every row is final).
    final: bool = False


class IndexedBlock(SQLModel, table=True):
    """Hash of a block the index holds rows of (or ended a batch at): how a reorganisation is found and undone."""

    __tablename__ = "indexed_blocks"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    number: int = Field(primary_key=True, sa_type=BigInteger)
    hash: str = Field(max_length=66)
    parent_hash: str = Field(max_length=66)
    timestamp: int = Field(sa_type=BigInteger)


class IndexCursor(SQLModel, table=True):
    """Where the index of one chain stands. Written in the same transaction as the rows it covers."""

    __tablename__ = "index_cursors"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    # Which chain and deployment the rows belong to: a restarted local node has a new genesis hash.
    genesis_hash: str = Field(max_length=66)
    twin_registry: str = Field(max_length=42)
    license_token: str = Field(max_length=42)
    deployment_block: int = Field(sa_type=BigInteger)
    # Every block up to and including this one is indexed.
    block_number: int = Field(sa_type=BigInteger)
    block_hash: str = Field(max_length=66)
    final_block: int = Field(sa_type=BigInteger)  # rows at or below it are final
    events: int = Field(default=0, sa_type=BigInteger)  # rows in chain_events for this chain
    updated_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
