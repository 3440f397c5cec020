"""Writes a batch (event rows, derived rows, state, block hashes and the cursor) in one database transaction.

A crash before the commit leaves nothing of the batch; after it, everything including the cursor: a restarted
indexer resumes at the cursor without a gap or a duplicate. A replayed range is idempotent as well: events whose
key (chain_id, tx_hash, log_index) is already stored are neither inserted nor applied to the state again.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Iterator

from sqlalchemy import Engine, and_, delete, exists, select, update
from sqlalchemy.engine import Connection

from ..db.models import (
    INDEX_TABLES, ChainEvent, ConsentChange, Earning, IndexCursor, IndexedBlock, SettleSkip, Settlement,
)
from ..errors import TwinLicensingError
from .fetcher import Batch
from .bulk import bulk_insert, insert_values
from .handlers import EVENT_COLUMNS, Rows, add_to_scope, apply
from .state import Scope, State
from .upsert import upsert

EVENTS, BLOCKS, CURSORS = ChainEvent.__table__, IndexedBlock.__table__, IndexCursor.__table__  # type: ignore[attr-defined]
SETTLEMENTS, EARNINGS, CONSENTS = Settlement.__table__, Earning.__table__, ConsentChange.__table__  # type: ignore[attr-defined]
SKIPS = SettleSkip.__table__  # type: ignore[attr-defined]
assert tuple(c.name for c in EVENTS.columns) == (*EVENT_COLUMNS, "final"), "EVENT_COLUMNS out of date"
# Append-only tables: rows above a reorganisation's common ancestor are deleted by block number.
APPEND_ONLY = ((EVENTS, "block_number"), (SETTLEMENTS, "block_number"), (EARNINGS, "block_number"),
               (CONSENTS, "block_number"), (SKIPS, "block_number"), (BLOCKS, "number"))


class CursorMoved(TwinLicensingError, RuntimeError):
    """The stored cursor is not where this writer left it: another writer, or a batch out of order."""


@dataclass(frozen=True)
class Cursor:
    chain_id: int
    genesis_hash: str
    twin_registry: str
    license_token: str
    deployment_block: int
    block_number: int
    block_hash: str
    final_block: int
    events: int = 0


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the write lock from its start (SQLite: BEGIN IMMEDIATE; a deferred one could
    read, then fail to upgrade to a writer). Commits on success, rolls back on any exception."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def read_cursor(conn: Connection, chain_id: int) -> Cursor | None:
    row = conn.execute(select(CURSORS).where(CURSORS.c.chain_id == chain_id)).mappings().first()
    if row is None:
        return None
    return Cursor(**{k: row[k] for k in Cursor.__dataclass_fields__})


def save_cursor(conn: Connection, cursor: Cursor) -> None:
    upsert(conn, CURSORS, [{**cursor.__dict__, "updated_at": datetime.now(timezone.utc)}])


def wipe(conn: Connection, chain_id: int) -> None:
    """Deletes everything the indexer stored for `chain_id` (a restarted node, a new deployment)."""
    for model in INDEX_TABLES:
        table = model.__table__  # type: ignore[attr-defined]
        conn.execute(delete(table).where(table.c.chain_id == chain_id))


def write_batch(conn: Connection, cursor: Cursor, batch: Batch, confirmations: int, recent_blocks: int) -> Cursor:
    """Stores `batch`, which must start right after `cursor`; returns the new cursor (already saved)."""
    chain_id = cursor.chain_id
    stored = read_cursor(conn, chain_id)
    if stored is None or (stored.block_number, stored.block_hash) != (cursor.block_number, cursor.block_hash):
        raise CursorMoved(f"cursor of chain {chain_id} is not at block {cursor.block_number} any more")
    if batch.start != cursor.block_number + 1 or batch.parent_hash != cursor.block_hash:
        raise CursorMoved(f"batch {batch.start}..{batch.end} does not follow block {cursor.block_number}")

    events, values = batch.events, batch.event_values
    if events:
        present = {(tx_hash, log_index) for tx_hash, log_index in conn.execute(
            select(EVENTS.c.tx_hash, EVENTS.c.log_index).where(
                EVENTS.c.chain_id == chain_id, EVENTS.c.block_number.between(batch.start, batch.end)))}
        if present:
            kept = [n for n, ev in enumerate(events) if (ev.tx_hash, ev.log_index) not in present]
            events, values = [events[n] for n in kept], [values[n] for n in kept]

    final_block = max(cursor.final_block, min(batch.end, batch.head - confirmations))
    times = {number: header.timestamp for number, header in batch.headers.items()}
    rows = Rows()
    if events:
        scope = Scope()
        for ev in events:
            add_to_scope(scope, ev)
        state = State.load(conn, chain_id, scope)
        apply(state, events, times, rows)
        insert_values(conn, EVENTS, [v + (v[3] <= final_block,) for v in values])  # v[3]: block_number
        for table, items in ((SETTLEMENTS, rows.settlements), (EARNINGS, rows.earnings), (CONSENTS, rows.consents),
                             (SKIPS, rows.skips)):
            bulk_insert(conn, table, items)
        state.write(conn)

    if final_block > cursor.final_block:
        conn.execute(update(EVENTS).where(
            EVENTS.c.chain_id == chain_id, EVENTS.c.final.is_(False),
            EVENTS.c.block_number > cursor.final_block, EVENTS.c.block_number <= final_block,
        ).values(final=True))
    _store_blocks(conn, chain_id, batch, cursor.block_number, recent_blocks)
    new = replace(cursor, block_number=batch.end, block_hash=batch.end_hash, final_block=final_block,
                  events=cursor.events + len(events))
    save_cursor(conn, new)
    return new


def _store_blocks(conn: Connection, chain_id: int, batch: Batch, previous_end: int, recent_blocks: int) -> None:
    """Keeps the headers of blocks that hold events, and of the last `recent_blocks` blocks whatever they hold."""
    upsert(conn, BLOCKS, [
        {"chain_id": chain_id, "number": h.number, "hash": h.hash, "parent_hash": h.parent_hash,
         "timestamp": h.timestamp}
        for h in batch.headers.values()
    ])
    horizon = batch.end - recent_blocks + 1  # blocks below it keep their header only if they hold events
    if horizon > 0:
        has_events = exists().where(and_(EVENTS.c.chain_id == BLOCKS.c.chain_id,
                                         EVENTS.c.block_number == BLOCKS.c.number))
        conn.execute(delete(BLOCKS).where(
            BLOCKS.c.chain_id == chain_id,
            BLOCKS.c.number >= previous_end - recent_blocks,
            BLOCKS.c.number < horizon,
            ~has_events,
        ))
