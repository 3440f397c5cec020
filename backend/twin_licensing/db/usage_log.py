"""When each viewer last opened the usage log, for its "new since your last visit" count.

One writer: the API (`usage.log.mark_visit`, when a signed-in viewer opens the log's first page).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime
from sqlmodel import Field, SQLModel


class UsageLogVisit(SQLModel, table=True):
    __tablename__ = "usage_log_visits"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    viewer: str = Field(primary_key=True, max_length=42)  # lower-case address
    seen_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
