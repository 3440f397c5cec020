"""Undoing a reorganisation: find the common ancestor, delete every row above it, rebuild the state it changed.

The ancestor is the highest stored block whose hash the chain still has (everything below it is then unchanged,
by the hash chain). Rows above it are deleted; the entities their events touched are rebuilt from the events
that remain, through the same handlers as forward indexing (`State.empty` + replay). The indexer then re-indexes
from the ancestor, so a transaction that moved to another block is stored once, at its new place.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from ..chain.events import DecodedEvent
from ..chain.logs import RpcClient
from .handlers import GLOBAL_EVENTS, add_to_scope, apply
from .state import Scope, State, delete_entities, offer_ids_of_twins
from .store import APPEND_ONLY, BLOCKS, EVENTS, Cursor, save_cursor

log = logging.getLogger(__name__)
_PAGE = 64  # stored blocks compared with the chain per batch request


def find_common_ancestor(conn: Connection, client: RpcClient, chain_id: int) -> tuple[int, str] | None:
    """(number, hash) of the highest stored block the chain still has, or None if it has none of them."""
    below: int | None = None
    while True:
        query = select(BLOCKS.c.number, BLOCKS.c.hash).where(BLOCKS.c.chain_id == chain_id)
        if below is not None:
            query = query.where(BLOCKS.c.number < below)
        stored = [tuple(row) for row in conn.execute(query.order_by(BLOCKS.c.number.desc()).limit(_PAGE))]
        if not stored:
            return None
        chain = client.headers([number for number, _ in stored])
        for number, block_hash in stored:
            header = chain.get(number)
            if header is not None and header.hash == block_hash:
                return number, block_hash
        below = stored[-1][0]


def _stored_events(conn: Connection, where) -> list[tuple[DecodedEvent, int]]:
    rows = conn.execute(
        select(EVENTS.c.block_number, EVENTS.c.block_hash, EVENTS.c.tx_hash, EVENTS.c.tx_index, EVENTS.c.log_index,
               EVENTS.c.contract, EVENTS.c.name, EVENTS.c.args, EVENTS.c.block_time).where(where)
    )
    return [(DecodedEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7])), r[8]) for r in rows]


def rollback(conn: Connection, cursor: Cursor, ancestor: int, ancestor_hash: str) -> Cursor:
    """Deletes the index above block `ancestor` and rebuilds what those rows had changed. Returns the new cursor."""
    chain_id = cursor.chain_id
    removed = _stored_events(conn, (EVENTS.c.chain_id == chain_id) & (EVENTS.c.block_number > ancestor))
    scope = Scope()
    for ev, _ in removed:
        add_to_scope(scope, ev)
    for table, column in APPEND_ONLY:
        conn.execute(delete(table).where(table.c.chain_id == chain_id, table.c[column] > ancestor))
    if scope:
        # A removed TwinOffersWithdrawn may have withdrawn any offer of its twin: rebuild them all (their history,
        # by twin, includes the withdrawals that remain). No event can name an offer after a revocation withdrew
        # it (withdrawing or buying it again reverts), so a rebuilt offer needs no withdrawal older than its events.
        scope.offers |= offer_ids_of_twins(conn, chain_id, scope.withdrawals)
        delete_entities(conn, chain_id, scope)
        history = _history(conn, chain_id, scope)
        state = State.empty(conn, chain_id, scope)
        apply(state, [ev for ev, _ in history], {ev.block_number: t for ev, t in history}, None)
        state.write(conn)
    events = conn.execute(select(func.count()).select_from(EVENTS).where(EVENTS.c.chain_id == chain_id)).scalar_one()
    new = replace(cursor, block_number=ancestor, block_hash=ancestor_hash,
                  final_block=min(cursor.final_block, ancestor), events=events)
    save_cursor(conn, new)
    log.info("rolled back", extra={"to_block": ancestor, "removed_events": len(removed),
                                   "rebuilt_twins": len(scope.twins), "rebuilt_licenses": len(scope.licenses)})
    return new


def _history(conn: Connection, chain_id: int, scope: Scope) -> list[tuple[DecodedEvent, int]]:
    """Every remaining event of the in-scope entities, once each, in chain order."""
    found: dict[tuple[str, int], tuple[DecodedEvent, int]] = {}
    base = EVENTS.c.chain_id == chain_id
    for column, keys in ((EVENTS.c.twin_id, scope.twins), (EVENTS.c.license_id, scope.licenses),
                         (EVENTS.c.offer_id, scope.offers), (EVENTS.c.account, scope.payees)):
        ordered = sorted(keys)
        for start in range(0, len(ordered), 500):
            for ev, t in _stored_events(conn, base & column.in_(ordered[start : start + 500])):
                found[(ev.tx_hash, ev.log_index)] = (ev, t)
    if scope.floors or scope.params or scope.roles or scope.attestations:
        for ev, t in _stored_events(conn, base & EVENTS.c.name.in_(GLOBAL_EVENTS)):
            found[(ev.tx_hash, ev.log_index)] = (ev, t)
    return sorted(found.values(), key=lambda item: (item[0].block_number, item[0].log_index))
