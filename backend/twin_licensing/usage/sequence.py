"""The one rule for a licence's next sequence number: the number the holder must sign on her next use report.

It is one more than the highest number the intake stored for the licence, and never below the number of uses the
chain settled for it: a use numbered below that could never settle (the contract expects `firstSeq == usesSettled`),
so after a reset of the database the numbering resumes where the chain is. The intake accepts a report only when
its signed `seq` equals this number (`usage.intake`); the licence read API shows it as `next_seq`, so a client can
sign the right number first time.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from ..db.uses import Use


def next_seq_after(max_seq: int | None, uses_settled: int) -> int:
    """The rule itself, from the highest stored number (None when the licence has no use yet) and the chain's
    settled count. For callers that already read both in a statement of their own (the intake's snapshot)."""
    stored_next = 0 if max_seq is None else max_seq + 1
    return max(stored_next, uses_settled)


def next_seq(conn: Connection, chain_id: int, genesis_hash: str, license_id: int, uses_settled: int) -> int:
    """The licence's next sequence number, reading its highest stored number on `conn` (`uses_settled` is the
    index's `licenses.uses_settled`). Inside the intake's licence lock it is exact; outside it, a report accepted a
    moment later can take the number, and the intake then answers 409 with the new one."""
    max_seq = conn.execute(
        select(func.max(Use.seq)).where(
            Use.chain_id == chain_id, Use.genesis_hash == genesis_hash, Use.license_id == license_id
        )
    ).scalar()
    return next_seq_after(None if max_seq is None else int(max_seq), uses_settled)


__all__ = ["next_seq", "next_seq_after"]
