"""Replaying a range adds nothing; a batch is stored whole or not at all; a SIGKILLed backfill resumes exactly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select, update

from kit.index_dump import assert_same_index, dump
from kit.scenario import Scenario
from twin_licensing.db.chain_log import ChainEvent, IndexCursor
from twin_licensing.indexer import state as state_module


def _cursor(engine) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(select(IndexCursor)).mappings().first()
    return dict(row) if row else None


def test_replaying_a_range_adds_no_row(chain, db, make_indexer):
    Scenario(chain).everything()
    indexer = make_indexer(db)
    indexer.sync()
    before = dump(db)
    # Move the cursor back to the deployment, as if the range had never been indexed, and index it again.
    start = chain.deployment.block_number - 1
    with db.begin() as conn:
        conn.execute(update(IndexCursor).values(
            block_number=start, block_hash=chain.w3.eth.get_block(start)["hash"].to_0x_hex()))
    make_indexer(db).sync()
    assert dump(db) == before


def test_a_failing_batch_stores_nothing_and_the_retry_stores_everything(chain, db, make_indexer, databases,
                                                                        monkeypatch):
    s = Scenario(chain)
    ids = s.everything()
    make_indexer(db).sync()
    before = dump(db)
    s.tx(s.brand2, "LicenseToken", "topUpEscrow", ids["live"], 2_000_000)
    s.settle((ids["live"], ids["live_settled"], 1, b"\x07" * 32))

    def crash(self, conn):
        raise RuntimeError("simulated crash between the inserts and the state upsert")

    monkeypatch.setattr(state_module.State, "write", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        make_indexer(db).sync()
    assert dump(db) == before  # the event rows inserted before the crash were rolled back with the batch
    monkeypatch.undo()
    make_indexer(db).sync()
    fresh = databases.new()
    make_indexer(fresh).sync()
    assert_same_index(db, fresh)


def _index_process(local_node, deployments_dir, project_root, engine, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "TWIN_RPC_URL": local_node.url, "DATABASE_URL": engine.url.render_as_string(False),
           "TWIN_DEPLOYMENTS_DIR": str(deployments_dir), "TWIN_ARTIFACTS_DIR": str(project_root / "artifacts"),
           # One block per batch: many small transactions, so that the kill lands in the middle of the backfill.
           "TWIN_INDEXER_INITIAL_SPAN": "1", "TWIN_INDEXER_MAX_SPAN": "1", "TWIN_INDEXER_SUBSCRIBE": "false",
           "PYTHONPATH": str(project_root / "backend")}
    return subprocess.Popen([sys.executable, "-m", "twin_licensing.cli", "index", "--no-progress", *extra],
                            cwd=project_root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_sigkill_during_backfill_then_restart_equals_an_uninterrupted_run(
        chain, db, databases, make_indexer, local_node, deployments_dir, project_root):
    s = Scenario(chain)
    s.everything()
    s.bulk_settlements(3_000, per_tx=25)  # ~120 blocks of settlements
    head = chain.w3.eth.block_number
    kills = 0
    last = -1
    while kills < 2:
        process = _index_process(local_node, deployments_dir, project_root, db)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                cursor = _cursor(db)
                if cursor is not None and cursor["block_number"] >= max(last, cursor["deployment_block"]) + 15:
                    break
                assert process.poll() is None, process.stderr.read().decode()
                time.sleep(0.005)
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.wait(timeout=30)
        kills += 1
        last = _cursor(db)["block_number"]
        assert last < head, "the backfill finished before it could be killed: the test proves nothing"
    finisher = _index_process(local_node, deployments_dir, project_root, db, "--once")
    assert finisher.wait(timeout=120) == 0, finisher.stderr.read().decode()
    assert _cursor(db)["block_number"] == head

    fresh = databases.new()
    make_indexer(fresh).sync()
    assert_same_index(db, fresh)
    with db.connect() as conn:
        assert len(conn.execute(select(ChainEvent.tx_hash)).all()) >= 3_000
