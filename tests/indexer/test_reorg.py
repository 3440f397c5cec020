"""Reorganisations, simulated on Hardhat: `evm_snapshot`, blocks, `evm_revert`, then other blocks (including the
very same signed transaction mined at another height). Afterwards the index must equal a fresh index of the chain
as it now is."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from kit.index_dump import assert_same_index
from kit.scenario import Scenario, root
from twin_licensing.db.chain_log import ChainEvent, IndexCursor
from twin_licensing.db.license_state import License, Settlement


def _signed_settle(s: Scenario, items) -> bytes:
    """A settle transaction signed once, so that exactly the same transaction can be mined on two branches."""
    chain = s.chain
    call = chain.contract("LicenseToken").functions.settle(items)
    tx = call.build_transaction({
        "from": s.recorder.address, "gas": 1_500_000, "chainId": chain.chain_id, "maxFeePerGas": 100 * 10**9,
        "maxPriorityFeePerGas": 1, "nonce": chain.w3.eth.get_transaction_count(s.recorder.address, "pending"),
    })
    return s.recorder.sign_transaction(tx).raw_transaction


def _send(chain, raw: bytes) -> str:
    tx_hash = chain.w3.eth.send_raw_transaction(raw)
    receipt = chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.02)
    assert receipt["status"] == 1
    return tx_hash.to_0x_hex()


def _fork(chain, s: Scenario, license_id: int) -> tuple[str, bytes, str, int]:
    """Snapshots the fork point and mines branch A on it: (snapshot id, the signed shared transaction, its hash,
    branch A's head)."""
    fork_point = chain.rpc("evm_snapshot")
    raw = _signed_settle(s, [s.item(license_id, 0, 2, root("shared"))])
    # Branch A: the shared settlement, a top-up and another settlement.
    shared = _send(chain, raw)
    s.tx(s.brand, "LicenseToken", "topUpEscrow", license_id, 3_000_000)
    s.settle((license_id, 2, 3, root("only-on-a")))
    return fork_point, raw, shared, chain.w3.eth.block_number


def test_reorg_with_the_same_transaction_at_another_height_equals_a_fresh_index(chain, db, databases, make_indexer):
    s = Scenario(chain)
    twin_id = s.twin()
    license_id = s.licence(s.offer(twin_id), 50_000_000)
    indexer = make_indexer(db)
    indexer.sync()

    fork_point, raw, shared, height_a = _fork(chain, s, license_id)
    indexer.sync()
    with db.connect() as conn:
        (block_a,) = conn.execute(select(ChainEvent.block_number).where(
            ChainEvent.tx_hash == shared, ChainEvent.name == "UsesSettled")).one()

    # Branch B: back to the fork point, two empty blocks, then the same signed settlement, and something else.
    assert chain.rpc("evm_revert", [fork_point])
    chain.resync_nonces()
    s.mine(2)
    assert _send(chain, raw) == shared
    s.tx(s.agency, "LicenseToken", "withdraw", gas=500_000)
    assert chain.w3.eth.block_number >= height_a - 1

    indexer.sync()
    fresh = databases.new()
    make_indexer(fresh).sync()
    assert_same_index(db, fresh)
    with db.connect() as conn:
        rows = conn.execute(select(ChainEvent.block_number).where(
            ChainEvent.tx_hash == shared, ChainEvent.name == "UsesSettled")).all()
        settled = conn.execute(select(License.uses_settled, License.escrow).where(
            License.license_id == license_id)).one()
        roots = conn.execute(select(Settlement.uses_root).where(Settlement.license_id == license_id)).scalars().all()
    assert len(rows) == 1 and rows[0][0] == block_a + 2  # one row, at its new height
    assert tuple(settled) == (2, s.call("LicenseToken", "licenseState", license_id)[0])
    assert roots == ["0x" + root("shared").hex()]


def test_reorg_to_a_shorter_chain_then_longer_while_following(chain, db, databases, make_indexer):
    s = Scenario(chain)
    twin_id = s.twin()
    license_id = s.licence(s.offer(twin_id), 50_000_000)
    indexer = make_indexer(db, poll_interval=0.02)
    stop = threading.Event()
    runner = threading.Thread(target=indexer.run, args=(stop,), daemon=True)
    runner.start()

    def caught_up() -> bool:
        head = chain.w3.eth.get_block("latest")
        with db.connect() as conn:
            row = conn.execute(select(IndexCursor.block_number, IndexCursor.block_hash)).first()
        return row is not None and tuple(row) == (head["number"], head["hash"].to_0x_hex())

    def wait_caught_up() -> None:
        deadline = time.monotonic() + 30
        while not caught_up():
            assert runner.is_alive(), "the indexer stopped"
            assert time.monotonic() < deadline, "the indexer did not catch up with the head"
            time.sleep(0.02)

    try:
        wait_caught_up()
        fork_point, raw, shared, _ = _fork(chain, s, license_id)
        wait_caught_up()
        # Back to the fork point: the chain is now shorter than the index.
        assert chain.rpc("evm_revert", [fork_point])
        chain.resync_nonces()
        wait_caught_up()
        with db.connect() as conn:
            assert conn.execute(select(Settlement)).all() == []
        # Then longer again, on another branch.
        s.settle((license_id, 0, 1, root("b-1")))
        s.mine(3)
        s.settle((license_id, 1, 2, root("b-2")))
        wait_caught_up()
    finally:
        stop.set()
        runner.join(timeout=30)
    fresh = databases.new()
    make_indexer(fresh).sync()
    assert_same_index(db, fresh)
