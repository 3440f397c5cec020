"""Consent documents, content-addressed: the text a model consents under, keyed by its keccak256, which is the
consent hash her twin carries on chain. One writer: the API (`api/routes/consent_documents.py`); rows are
inserted, never updated (the same text always has the same key) nor deleted.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Text
from sqlmodel import Field, SQLModel


class ConsentDocument(SQLModel, table=True):
    __tablename__ = "consent_documents"

    consent_hash: str = Field(primary_key=True, max_length=66)  # 0x + keccak256 of the UTF-8 text, lowercase
    text: str = Field(sa_type=Text)
    size_bytes: int
    stored_at: int = Field(sa_type=BigInteger)  # unix seconds
