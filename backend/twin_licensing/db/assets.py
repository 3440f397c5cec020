"""Use assets (images attached to use reports), the uses they belong to, and images reported as unlicensed.

One writer: the API (`provenance/assets.py` attaches an image to a use; `provenance/reports.py` records a report).
An asset row is written after its bytes are in the asset store, and never changes; a use gains at most one asset.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, select
from sqlmodel import Field, Session, SQLModel

from .uses import utcnow


class Asset(SQLModel, table=True):
    __tablename__ = "assets"

    sha256: str = Field(primary_key=True, max_length=66)  # 0x-hex: the `use_ref` of the uses it belongs to
    media_type: str = Field(max_length=20)
    size: int = Field(sa_type=BigInteger)
    width: int
    height: int
    phash: str = Field(max_length=16, index=True)  # 64-bit DCT perceptual hash, 16 hex digits
    stored_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class AssetUse(SQLModel, table=True):
    """Which use an asset was attached to (a use has one asset; an asset may serve several uses)."""

    __tablename__ = "asset_uses"
    __table_args__ = (Index("ix_asset_uses_sha256", "sha256"),)

    use_id: int = Field(primary_key=True, sa_type=BigInteger)
    sha256: str = Field(max_length=66)
    attached_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class UnlicensedReport(SQLModel, table=True):
    """An image someone found and reported to the guild as used without a licence."""

    __tablename__ = "unlicensed_reports"
    __table_args__ = (Index("ix_unlicensed_reports_chain", "chain_id", "report_id"),)

    report_id: int | None = Field(default=None, primary_key=True)
    chain_id: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=66)
    phash: str = Field(max_length=16)
    note: str = Field(max_length=2000)
    reporter: str | None = Field(default=None, max_length=42)  # the signed-in account, when there was one
    reported_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


def attached_images(session: Session, use_ids: list[int]) -> set[int]:
    """Which of these uses have an image attached (one query)."""
    if not use_ids:
        return set()
    return set(session.execute(select(AssetUse.use_id).where(AssetUse.use_id.in_(use_ids))).scalars())
