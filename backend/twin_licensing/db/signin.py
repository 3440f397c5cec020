"""Sign-in state of the API: the nonces it issued for Sign-In with Ethereum messages, and the sessions they opened.
One writer: the API (`api/sessions.py`).

A nonce is single use: signing in deletes it, whatever the outcome after the nonce was found, so a signed message
can never be replayed. A session row holds the SHA-256 of the random id the browser keeps in its HTTP-only
cookie, never the id itself: a copy of the database opens no session. Expired rows are deleted as new ones come.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel


class SigninNonce(SQLModel, table=True):
    __tablename__ = "signin_nonces"
    __table_args__ = (Index("ix_signin_nonces_expires", "expires_at"),)

    nonce: str = Field(primary_key=True, max_length=64)
    chain_id: int = Field(sa_type=BigInteger)
    issued_at: int = Field(sa_type=BigInteger)  # unix seconds
    expires_at: int = Field(sa_type=BigInteger)


class SigninSession(SQLModel, table=True):
    __tablename__ = "signin_sessions"
    __table_args__ = (Index("ix_signin_sessions_expires", "expires_at"),)

    id_hash: str = Field(primary_key=True, max_length=64)  # sha256 hex of the cookie's random id
    chain_id: int = Field(sa_type=BigInteger)
    address: str = Field(max_length=42)  # checksummed
    created_at: int = Field(sa_type=BigInteger)
    expires_at: int = Field(sa_type=BigInteger)
