"""One writer at a time per licence for the intake, so that sequence numbers are gapless and never doubled.

SQLite has one writer for the whole file anyway: `BEGIN IMMEDIATE` takes the write lock *before* the transaction
reads the last sequence number (a deferred transaction would read, then fail to upgrade under contention).
PostgreSQL serialises only reports of the same licence, with a transaction-scoped advisory lock: the server holds
it, so it serialises the reports of every API process on the database (`twinctl serve` scales out; without it two
processes would race to the same number: tests/usage/test_two_api_processes.py).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

# First key of the two-key advisory lock: names "use intake" so other advisory locks of the project never collide.
INTAKE_LOCK_NAMESPACE = 0x7573_6573  # "uses"


_SQLITE_WRITERS: dict[int, threading.Lock] = {}
_GUARD = threading.Lock()


def _process_lock(engine: Engine) -> threading.Lock | None:
    """SQLite: one in-process lock per engine in front of BEGIN IMMEDIATE.

    SQLite makes a blocked writer sleep and poll (up to 100 ms a time); API threads queueing on a Python lock
    instead hand over at once, and only writers of other processes (indexer, settler) are left to SQLite.
    """
    if engine.dialect.name != "sqlite":
        return None
    with _GUARD:
        return _SQLITE_WRITERS.setdefault(id(engine), threading.Lock())


@contextmanager
def license_write_transaction(engine: Engine, license_id: int) -> Iterator[Connection]:
    """A connection inside a transaction that holds the licence's intake lock; commits on success."""
    lock = _process_lock(engine)
    if lock is None:
        with _transaction(engine, license_id) as conn:
            yield conn
        return
    with lock, _transaction(engine, license_id) as conn:
        yield conn


@contextmanager
def _transaction(engine: Engine, license_id: int) -> Iterator[Connection]:
    with engine.connect() as conn:
        dialect = conn.dialect.name
        if dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif dialect == "postgresql":
            # int4 keys: the licence id folded into 31 bits (a collision only serialises two licences, harmlessly).
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:namespace, :key)"),
                {"namespace": INTAKE_LOCK_NAMESPACE, "key": license_id % (2**31)},
            )
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
