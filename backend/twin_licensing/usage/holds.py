"""Holds: a licence whose uses from some sequence number on the chain will not settle now, and why.

One writer, one reader path. The settler (`settlement/settler.py`) writes the `use_rejections` table
(`db.submissions.UseRejection`) when a settle item reverts for a reason about its licence or twin, and deletes the
row when the cause is cured. Everything on the use side - the intake's refusal of further reports
(`usage.snapshot`), a use's status (`usage.status`) and a licence's list of uses - reads it only through
`hold_query` below, so the table's shape is known in one place here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from ..db.submissions import UseRejection


def hold_query(chain_id: Any, genesis_hash: Any, license_id: Any) -> Select:
    """The licence's hold, if any: (from_seq, reason, permanent). Arguments may be values or bind parameters."""
    return select(UseRejection.from_seq, UseRejection.reason, UseRejection.permanent).where(
        UseRejection.chain_id == chain_id,
        UseRejection.genesis_hash == genesis_hash,
        UseRejection.license_id == license_id,
    )


def hold_reason_subquery(chain_id: Any, genesis_hash: Any, license_id: Any):
    """The hold's reason as a scalar subquery (NULL when the licence is not held): for one-statement reads."""
    return hold_query(chain_id, genesis_hash, license_id).with_only_columns(UseRejection.reason).scalar_subquery()
