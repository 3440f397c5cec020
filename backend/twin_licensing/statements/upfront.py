"""Upfront fees as the twins earn them: each `UpfrontVested` (the part of a licence's upfront fee that vested and was
credited to its twin), and each `UpfrontRefunded` (the unvested rest paid back to the brand after an early end).

Since issue 11 an upfront fee is not earned at purchase: it is income only as it vests. The statements and the
earnings history read both events here, from the index's event log (`chain_events`), the one place that holds
them one by one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from ..db.chain_log import ChainEvent
from ..db.license_state import License

VESTED, REFUNDED = "UpfrontVested", "UpfrontRefunded"


@dataclass(frozen=True)
class UpfrontEvent:
    kind: str  # UpfrontVested | UpfrontRefunded
    license_id: int
    twin_id: int
    brand: str  # the licence's buyer: whose upfront fee it is
    amount: int
    block_number: int
    log_index: int
    block_time: int
    tx_hash: str


def upfront_events(session: Session, chain_id: int, twin_ids: list[int], *, first_block: int = 0,
                   end_block: int | None = None, kinds: tuple[str, ...] = (VESTED, REFUNDED)) -> list[UpfrontEvent]:
    """The vesting and refund events of the twins' licences in [first_block, end_block), in chain order."""
    if not twin_ids:
        return []
    conditions = [ChainEvent.chain_id == chain_id, ChainEvent.name.in_(kinds), ChainEvent.block_number >= first_block,
                  License.twin_id.in_(twin_ids)]
    if end_block is not None:
        conditions.append(ChainEvent.block_number < end_block)
    rows = session.execute(
        select(ChainEvent.name, ChainEvent.license_id, License.twin_id, License.buyer, ChainEvent.args,
               ChainEvent.block_number, ChainEvent.log_index, ChainEvent.block_time, ChainEvent.tx_hash)
        .join(License, (License.chain_id == ChainEvent.chain_id) & (License.license_id == ChainEvent.license_id))
        .where(*conditions)
        .order_by(ChainEvent.block_number, ChainEvent.log_index)
    ).all()
    return [UpfrontEvent(name, int(license_id), int(twin_id), buyer, int(json.loads(args)["amount"]), int(block),
                         int(log_index), int(block_time), tx_hash)
            for name, license_id, twin_id, buyer, args, block, log_index, block_time, tx_hash in rows]


def vested_before(session: Session, chain_id: int, twin_ids: list[int], block: int) -> dict[int, int]:
    """Per twin, the upfront fees vested to it before `block` (what its earnings count of them then)."""
    totals: dict[int, int] = {}
    for event in upfront_events(session, chain_id, twin_ids, end_block=block, kinds=(VESTED,)):
        totals[event.twin_id] = totals.get(event.twin_id, 0) + event.amount
    return totals


__all__ = ["REFUNDED", "VESTED", "UpfrontEvent", "upfront_events", "vested_before"]
