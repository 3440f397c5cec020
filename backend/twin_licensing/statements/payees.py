"""Who a twin's payees were at any point of the chain: its `PayeesSet` events, read from the index."""

from __future__ import annotations

import bisect
import json
from collections import defaultdict

from sqlalchemy import select
from sqlmodel import Session

from ..db.chain_log import ChainEvent

Payees = list[tuple[str, int]]  # [(account, share in bps)], the model first


class ShareSchedule:
    """The payees of one twin over time, from its `PayeesSet` events (falls back to the current payees)."""

    def __init__(self, changes: list[tuple[int, int, Payees]], current: Payees) -> None:
        self.changes = sorted(changes, key=lambda c: (c[0], c[1]))
        self.keys = [(c[0], c[1]) for c in self.changes]
        self.current = current

    def at(self, block: int, order: int) -> Payees:
        """The payees in force at log `order` of `block` (changes at that very log included); (block, -1) is the
        state before the block."""
        i = bisect.bisect_right(self.keys, (block, order)) - 1
        if i >= 0:
            return self.changes[i][2]
        return self.changes[0][2] if self.changes else self.current

    def ever_lists(self, account: str) -> bool:
        return any(a == account for _, _, payees in self.changes for a, _ in payees) or any(
            a == account for a, _ in self.current
        )


def _payees_of(raw: str) -> Payees | None:
    try:
        args = json.loads(raw)
        accounts = args.get("accounts") or []
        shares = args.get("sharesBps") or args.get("shares_bps") or []
        return [(str(a), int(s)) for a, s in zip(accounts, shares)]
    except (ValueError, TypeError, AttributeError):
        return None


def payee_changes(session: Session, chain_id: int, twin_ids: list[int] | None = None) -> dict[int, list]:
    """Per twin, [(block, log index, payees)] of its `PayeesSet` events; of every twin when `twin_ids` is None."""
    out: dict[int, list] = defaultdict(list)
    if twin_ids is not None and not twin_ids:
        return out
    query = select(ChainEvent.twin_id, ChainEvent.block_number, ChainEvent.log_index, ChainEvent.args).where(
        ChainEvent.chain_id == chain_id, ChainEvent.name == "PayeesSet"
    )
    if twin_ids is not None:
        query = query.where(ChainEvent.twin_id.in_(twin_ids))
    for twin_id, block, log_index, raw in session.execute(query).all():
        payees = _payees_of(raw)
        if payees is not None and twin_id is not None:
            out[twin_id].append((block, log_index, payees))
    return out
