"""Following the head: new blocks indexed within a fraction of a second, rows final after the confirmation depth,
and one writer per database."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from kit.index_dump import assert_same_index
from kit.proxy import RpcProxy
from kit.scenario import Scenario
from twin_licensing.chain.heads import ws_url
from twin_licensing.db.chain_log import ChainEvent, IndexCursor
from twin_licensing.indexer.lock import IndexerLockedError


def _follow(indexer):
    stop = threading.Event()
    runner = threading.Thread(target=indexer.run, args=(stop,), daemon=True)
    runner.start()
    return stop, runner


def _cursor_block(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(IndexCursor.block_number)).scalar() or -1


def _wait(predicate, timeout: float = 10.0) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, "timed out"
        time.sleep(0.005)
    return time.monotonic() - started


def test_new_blocks_are_indexed_within_a_fraction_of_a_second(chain, db, make_indexer):
    s = Scenario(chain)
    indexer = make_indexer(db, subscribe=True)  # the node's WebSocket wakes the indexer; polling is the fallback
    stop, runner = _follow(indexer)
    try:
        _wait(lambda: _cursor_block(db) == chain.w3.eth.block_number, timeout=30)
        delays = []
        for _ in range(5):
            s.twin()
            head = chain.w3.eth.block_number
            delays.append(_wait(lambda: _cursor_block(db) >= head))
    finally:
        stop.set()
        runner.join(timeout=10)
    assert sorted(delays)[2] < 0.5, delays


def test_pushed_empty_blocks_cost_no_request_and_the_index_equals_a_fresh_one(chain, db, databases, make_indexer,
                                                                             local_node):
    """Following on pushed heads (WebSocket straight to the node, HTTP through a counting proxy): a block whose logs
    bloom names none of our contracts is indexed without a single request, and the index is the same as one built
    by plain requests."""
    s = Scenario(chain)
    with RpcProxy(local_node.url) as proxy:
        indexer = make_indexer(db, rpc_url=proxy.url, subscribe=True, ws_url=ws_url(local_node.url))
        stop, runner = _follow(indexer)
        try:
            _wait(lambda: _cursor_block(db) == chain.w3.eth.block_number, timeout=30)
            before = proxy.requests
            for _ in range(4):
                s.mine(1)
                head = chain.w3.eth.block_number
                _wait(lambda: _cursor_block(db) >= head)
            assert proxy.requests == before, "empty blocks were fetched"
            s.twin()  # blocks with our events between empty ones: fetched
            s.mine(2)
            s.twin()
            head = chain.w3.eth.block_number
            _wait(lambda: _cursor_block(db) >= head)
            assert proxy.requests > before
        finally:
            stop.set()
            runner.join(timeout=10)
    fresh = databases.new()
    make_indexer(fresh).sync()
    assert_same_index(db, fresh)


def test_rows_become_final_after_the_confirmation_depth(chain, db, make_indexer):
    s = Scenario(chain)
    s.twin()
    first = chain.w3.eth.block_number
    indexer = make_indexer(db, confirmations=2)
    indexer.sync()

    def final_of(block: int) -> set[bool]:
        with db.connect() as conn:
            return set(conn.execute(select(ChainEvent.final).where(ChainEvent.block_number == block)).scalars())

    assert final_of(first) == {False}
    s.mine(1)
    indexer.sync()
    assert final_of(first) == {False}
    s.mine(1)
    indexer.sync()
    assert final_of(first) == {True}
    with db.connect() as conn:
        cursor = conn.execute(select(IndexCursor)).mappings().one()
        assert cursor["final_block"] == cursor["block_number"] - 2
        not_final = conn.execute(select(ChainEvent).where(ChainEvent.final.is_(False),
                                                          ChainEvent.block_number <= cursor["final_block"])).all()
    assert not_final == []


def test_a_second_indexer_on_the_same_database_waits_or_gives_up_clearly(chain, db, make_indexer):
    first = make_indexer(db, poll_interval=0.02)
    stop, runner = _follow(first)
    try:
        _wait(lambda: _cursor_block(db) == chain.w3.eth.block_number, timeout=30)
        second = make_indexer(db)
        with pytest.raises(IndexerLockedError, match="another indexer is running"):
            second.run(until_head=True, lock_wait=0.3)
    finally:
        stop.set()
        runner.join(timeout=10)
    Scenario(chain).twin()
    # The first one is gone: the lock is free again.
    assert make_indexer(db).run(until_head=True, lock_wait=5).block_number == chain.w3.eth.block_number
