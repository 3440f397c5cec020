"""Settlement on a node that mines a block every 2 s whatever its pool holds, as a real network does.

Transactions then wait in the pool, where the fee market can leave them behind and the node can drop them. The
settler keeps several settle transactions in flight (`settlement.inflight`, `chain.tx_pipeline`) and looks at them
once per new head: these tests count the blocks it takes to notice and cure each trouble.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from twin_licensing.chain.fees import bumped, next_base_fee, replacement_reason
from twin_licensing.chain.heads import HeadFeed
from twin_licensing.chain.node import drop_transaction, set_interval_mining, set_next_base_fee
from twin_licensing.chain.logs import RpcError
from twin_licensing.chain.tx_pipeline import LOST, MINED as MINED_TX, SignedTx, TxPipeline
from twin_licensing.audit.compare import audit
from twin_licensing.db.submissions import (
    MINED,
    SENDING,
    SettleSubmission,
    SettleSubmissionItem,
    SettleTransaction,
)
from twin_licensing.settlement.batch import pending_uses, plan_items
from twin_licensing.settlement.config import SettlerConfig
from twin_licensing.settlement.inflight import SETTLED, Finished, Handle, InFlight
from twin_licensing.settlement.settler import Settler
from kit.uses import USDC, backend_env, insert_uses, kill, scope_of, spawn

BLOCK_MS = 2_000
FEE = 2 * USDC
ESCROW = 1_000 * USDC
GWEI = 10**9
pytestmark = pytest.mark.timeout(120)


# ------------------------------------------------------------------ the fee rule alone


def test_next_base_fee_follows_eip_1559():
    limit = 30_000_000
    assert next_base_fee(1_000, limit // 2, limit) == 1_000  # at the target: unchanged
    assert next_base_fee(1_000, limit, limit) == 1_125  # full: +1/8
    assert next_base_fee(1_000, 0, limit) == 875  # empty: -1/8
    assert next_base_fee(7, limit, limit) == 8  # rises by at least 1 wei


def test_replacement_is_due_by_the_fee_market_not_by_time():
    due = dict(tip=GWEI, base_fee=10 * GWEI, next_base_fee=10 * GWEI, paid_tip=GWEI, first_in_line=True,
               waited_blocks=0)
    assert replacement_reason(max_fee=20 * GWEI, **due) is None  # priced for the market: wait, however long
    assert "base fee" in replacement_reason(max_fee=9 * GWEI, **due)  # the latest block's base fee is above it
    assert "base fee" in replacement_reason(max_fee=10 * GWEI, **{**due, "next_base_fee": 11 * GWEI})  # the next's
    underpaid = {**due, "paid_tip": 2 * GWEI}
    assert replacement_reason(max_fee=20 * GWEI, **underpaid) is None  # not a block old yet
    assert "tip" in replacement_reason(max_fee=20 * GWEI, **{**underpaid, "waited_blocks": 1})
    # Behind another nonce of ours it waits for that one, not for its tip.
    assert replacement_reason(max_fee=20 * GWEI, **{**underpaid, "waited_blocks": 3, "first_in_line": False}) is None
    # A replacement beats the market and the pool's 10 % rule on both fees.
    assert bumped((4 * GWEI, GWEI), (21 * GWEI, GWEI)) == (21 * GWEI, GWEI * 125 // 100 + 1)


# ------------------------------------------------------------------ on a node mining every 2 s


@pytest.fixture
def licences(market, model, agency, brand, brand2):
    twin = market.twin(model, agency)
    offer = market.offer(model, twin, per_use_fee=FEE)
    return [market.licence(b, offer, ESCROW) for b in (brand, brand2, brand)]


@pytest.fixture
def bare_chain(base_chain):
    """The session's node without the deployment, isolated like `chain` (for the pipeline's plain transfers)."""
    snapshot = base_chain.rpc("evm_snapshot")
    try:
        yield base_chain
    finally:
        base_chain.rpc("evm_setAutomine", [True])
        assert base_chain.rpc("evm_revert", [snapshot])
        base_chain.resync_nonces()


@pytest.fixture
def interval_node(local_node):
    """The session's node mining a block every BLOCK_MS (requested after the market's fixtures, whose purchases
    are mined at once)."""
    set_interval_mining(local_node.url, BLOCK_MS)
    try:
        yield local_node.url
    finally:
        set_interval_mining(local_node.url, 0)  # before the snapshot is reverted


@pytest.fixture
def heads(local_node):
    feed = HeadFeed(local_node.url, poll_interval=0.2)
    feed.start()
    assert feed.subscribed.wait(10), "no new-heads subscription"
    try:
        yield feed
    finally:
        feed.stop()
        feed.join(5)


@pytest.fixture
def inflight(engine, settlement_client, chain, heads) -> InFlight:
    return InFlight(engine, settlement_client, scope_of(chain), heads=heads)


def pause_mining(chain) -> None:
    chain.rpc("evm_setIntervalMining", [0])  # automine is off already: nothing is mined until resumed


def resume_mining(chain) -> int:
    """Mining every BLOCK_MS again; the number of the last block mined before."""
    head = chain.block_number()
    chain.rpc("evm_setIntervalMining", [BLOCK_MS])
    return head


def items_for(engine, chain, license_ids):
    """The settler's items for these licences' pending uses, from their on-chain settled counts."""
    floors = {lid: chain.call("LicenseToken", "licenseState", lid)[1] for lid in license_ids}
    with Session(engine) as session:
        pending = pending_uses(session, scope_of(chain), floors)
    return [p.item for p in plan_items(pending, floors, max_uses=10_000, max_items=400)]


def submit(inflight: InFlight, client, engine, chain, license_ids, **kwargs) -> Handle:
    items = items_for(engine, chain, license_ids)
    assert items, f"nothing pending for {license_ids}"
    return inflight.submit(items, client.simulate(items), **kwargs)


def drive(inflight: InFlight, handles: list[Handle], timeout: float = 20.0) -> dict[int, Finished]:
    """Polls (as the settler's loop does) until every handle finished."""
    wanted = {h.submission_id for h in handles}
    done: dict[int, Finished] = {}
    deadline = time.monotonic() + timeout
    while not wanted <= done.keys():
        assert time.monotonic() < deadline, f"not finished after {timeout} s: {wanted - done.keys()}"
        for finished in inflight.poll():
            done[finished.handle.submission_id] = finished
        time.sleep(0.02)
    return done


def versions(engine, submission_id: int) -> list[str]:
    with Session(engine) as session:
        return list(session.execute(select(SettleTransaction.tx_hash)
                                    .where(SettleTransaction.submission_id == submission_id)).scalars())


def status(engine, submission_id: int) -> str:
    with Session(engine) as session:
        return session.get(SettleSubmission, submission_id).status


def assert_paid_once(market, uses: dict[int, int]) -> None:
    for lid, n in uses.items():
        assert market.settled(lid) == n
        assert market.escrow(lid) == ESCROW - n * FEE  # each use's fee left the escrow exactly once


def test_several_settlements_in_flight_are_mined_in_one_block(engine, chain, market, licences, brand, brand2,
                                                               settlement_client, interval_node, inflight):
    a, b, c = licences
    for lid, who in ((a, brand), (b, brand2), (c, brand)):
        insert_uses(engine, chain, who, lid, 3)
    pause_mining(chain)
    handles = [submit(inflight, settlement_client, engine, chain, [lid]) for lid in licences]
    assert [h.nonce for h in handles] == list(range(handles[0].nonce, handles[0].nonce + 3))  # one nonce each
    assert inflight.busy() == set(licences)
    before = resume_mining(chain)
    done = drive(inflight, handles)
    assert {f.outcome for f in done.values()} == {SETTLED}
    assert {f.block_number for f in done.values()} == {before + 1}  # none waited for another
    assert all(status(engine, h.submission_id) == MINED for h in handles)
    assert inflight.busy() == set()
    assert_paid_once(market, {a: 3, b: 3, c: 3})


def test_an_error_while_recording_ends_loses_none_of_them(engine, chain, market, licences, brand, brand2,
                                                         settlement_client, interval_node, inflight):
    a, b, _ = licences
    insert_uses(engine, chain, brand, a, 1)
    insert_uses(engine, chain, brand2, b, 1)
    pause_mining(chain)
    handles = [submit(inflight, settlement_client, engine, chain, [lid]) for lid in (a, b)]
    chain.rpc("evm_mine")  # both mined in one block
    record = inflight._finish
    calls = []

    def busy_database_once(landed):
        calls.append(landed.key)
        if len(calls) == 2:
            raise OSError("database is locked")
        return record(landed)

    inflight._finish = busy_database_once
    with pytest.raises(OSError):
        inflight.poll(force=True)  # the first was recorded, the second failed
    assert inflight.busy() == {b}
    finished = inflight.poll(force=True) + inflight.poll(force=True)
    assert sorted(f.handle.submission_id for f in finished) == sorted(h.submission_id for h in handles)
    assert all(status(engine, h.submission_id) == MINED for h in handles) and inflight.busy() == set()


def test_a_base_fee_spike_gets_transactions_in_flight_replaced_by_the_market(engine, chain, market, licences, brand,
                                                                            brand2, settlement_client,
                                                                            interval_node, inflight):
    a, b, _ = licences
    insert_uses(engine, chain, brand, a, 4)
    insert_uses(engine, chain, brand2, b, 2)
    priced = inflight.pipeline.market().caps()  # the market as the transactions were signed
    spike = 20 * priced[0]
    pause_mining(chain)
    handles = [submit(inflight, settlement_client, engine, chain, [lid], fees=priced) for lid in (a, b)]
    set_next_base_fee(interval_node, spike)  # the next block's base fee is far above what they offer
    spiked = resume_mining(chain) + 1
    done = drive(inflight, handles)
    for handle in handles:
        finished = done[handle.submission_id]
        assert finished.outcome == SETTLED
        assert finished.block_number <= spiked + 2, (finished.block_number, spiked)  # noticed at the spiked head
        mined = chain.w3.eth.get_transaction(finished.tx_hash)
        assert finished.tx_hash != handle.tx_hash and mined["nonce"] == handle.nonce  # replaced at its nonce
        assert mined["maxFeePerGas"] >= spike  # priced by the market it met, not by a fixed bump
        assert len(versions(engine, handle.submission_id)) == 2  # the replacement was recorded before it was sent
    assert_paid_once(market, {a: 4, b: 2})


def test_a_dropped_transaction_is_noticed_and_resent_within_two_blocks(engine, chain, market, licences, brand,
                                                                       brand2, settlement_client, interval_node,
                                                                       inflight):
    a, b, _ = licences
    insert_uses(engine, chain, brand, a, 2)
    insert_uses(engine, chain, brand2, b, 5)
    pause_mining(chain)
    first = submit(inflight, settlement_client, engine, chain, [a])
    second = submit(inflight, settlement_client, engine, chain, [b])
    assert drop_transaction(interval_node, first.tx_hash)  # evicted: the nonce after it cannot be mined either
    assert chain.w3.eth.get_transaction_count(settlement_client.address, "pending") == first.nonce  # a gap
    dropped_at = resume_mining(chain)
    done = drive(inflight, [first, second])
    assert done[first.submission_id].block_number <= dropped_at + 2
    assert done[second.submission_id].block_number <= dropped_at + 2  # the gap was filled first
    assert done[first.submission_id].tx_hash == first.tx_hash  # the same signed bytes, sent again
    assert versions(engine, first.submission_id) == [first.tx_hash]
    assert_paid_once(market, {a: 2, b: 5})


def test_a_stuck_licence_holds_no_other_licence_more_than_two_blocks(engine, chain, market, licences, brand,
                                                                     brand2, settlement_client, interval_node,
                                                                     inflight):
    a, b, _ = licences
    insert_uses(engine, chain, brand, a, 3)
    pause_mining(chain)
    stuck = submit(inflight, settlement_client, engine, chain, [a], fees=(1, 1))  # never minable as signed
    assert inflight.busy() == {a}
    insert_uses(engine, chain, brand, a, 2, start_seq=3)  # more of A: waits for its transaction, not planned
    insert_uses(engine, chain, brand2, b, 4)
    free = [lid for lid in (a, b) if lid not in inflight.busy()]
    assert free == [b]
    other = submit(inflight, settlement_client, engine, chain, free)  # on the nonce after the stuck one
    assert other.nonce == stuck.nonce + 1
    started = resume_mining(chain)
    done = drive(inflight, [stuck, other])
    assert done[other.submission_id].outcome == SETTLED
    assert done[other.submission_id].block_number <= started + 2, "B waited behind A's stuck transaction"
    assert done[stuck.submission_id].outcome == SETTLED and done[stuck.submission_id].tx_hash != stuck.tx_hash
    assert_paid_once(market, {a: 3, b: 4})
    # A's later uses go in once its transaction resolved.
    again = submit(inflight, settlement_client, engine, chain, [a])
    assert again.spans[0].first_seq == 3
    drive(inflight, [again])
    assert_paid_once(market, {a: 5, b: 4})


# ------------------------------------------------------------------ the pipeline's nonces, with plain transfers


def transfer_signer(account, to: str, value: int, chain_id: int):
    """A caller's transaction for the pipeline: `value` wei to `to`, at whatever nonce and fees it is given."""

    def sign(nonce: int, max_fee: int, tip: int) -> SignedTx:
        signed = account.sign_transaction({"to": to, "value": value, "nonce": nonce, "gas": 21_000, "chainId": chain_id,
                                           "maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip, "type": 2})
        return SignedTx("0x" + bytes(signed.hash).hex(), nonce, 21_000, max_fee, tip, bytes(signed.raw_transaction))

    return sign


def check_until(pipeline: TxPipeline, keys: set, timeout: float = 15.0) -> dict:
    landed: dict = {}
    deadline = time.monotonic() + timeout
    while not keys <= landed.keys():
        assert time.monotonic() < deadline, f"not landed after {timeout} s: {keys - landed.keys()}"
        landed.update({end.key: end for end in pipeline.check()})
        time.sleep(0.05)
    return landed


def test_a_nonce_hole_is_filled_before_the_transactions_after_it(bare_chain, recorder, brand, interval_node):
    chain = bare_chain
    pipeline = TxPipeline(chain, recorder)
    pause_mining(chain)
    lost = pipeline.sign_new(transfer_signer(recorder, brand.address, 1, chain.chain_id))
    pipeline.launch("lost", lost)
    after = pipeline.sign_new(transfer_signer(recorder, brand.address, 2, chain.chain_id))
    pipeline.launch("after", after)
    pipeline.forget("lost")  # a nonce nobody holds any more: its record is gone, and the node evicts it
    assert drop_transaction(interval_node, lost.tx_hash)
    started = resume_mining(chain)
    landed = check_until(pipeline, {"after"})
    assert landed["after"].outcome == MINED_TX and landed["after"].block_number <= started + 2
    filler = chain.w3.eth.get_transaction_by_block(landed["after"].block_number, 0)
    assert (filler["nonce"], filler["to"], filler["value"]) == (lost.nonce, recorder.address, 0)


def test_a_nonce_used_by_a_transaction_none_of_ours_ends_as_lost(bare_chain, recorder, brand, brand2,
                                                                 interval_node):
    chain = bare_chain
    pipeline = TxPipeline(chain, recorder)
    pause_mining(chain)
    ours = pipeline.sign_new(transfer_signer(recorder, brand.address, 1, chain.chain_id))
    pipeline.launch("ours", ours)
    # Someone else with the recorder's key replaces it (higher fees, another transfer).
    theirs = transfer_signer(recorder, brand2.address, 5, chain.chain_id)(ours.nonce, 3 * ours.max_fee_per_gas,
                                                                          3 * ours.max_priority_fee_per_gas)
    chain.rpc("eth_sendRawTransaction", ["0x" + theirs.raw.hex()])
    resume_mining(chain)
    landed = check_until(pipeline, {"ours"})
    assert landed["ours"].outcome == LOST and landed["ours"].tx_hash is None
    assert chain.w3.eth.get_transaction_receipt(theirs.tx_hash)["status"] == 1


def test_a_transaction_tipping_less_than_the_last_blocks_paid_is_replaced(bare_chain, recorder, brand, brand2,
                                                                          interval_node):
    chain = bare_chain
    pause_mining(chain)
    # The last two blocks: an empty one, and one where someone paid block builders 7 gwei a gas.
    chain.rpc("evm_mine")
    rich = transfer_signer(brand, brand2.address, 1, chain.chain_id)
    theirs = rich(chain.w3.eth.get_transaction_count(brand.address), 100 * GWEI, 7 * GWEI)
    chain.rpc("eth_sendRawTransaction", ["0x" + theirs.raw.hex()])
    chain.rpc("evm_mine")
    pipeline = TxPipeline(chain, recorder, fee_blocks=2)
    assert pipeline.market().paid_tip == 7 * GWEI  # what the non-empty blocks among them paid
    assert pipeline.market().caps()[1] >= 7 * GWEI  # what a new transaction offers
    cheap = pipeline.sign_new(transfer_signer(recorder, brand.address, 1, chain.chain_id), fees=(100 * GWEI, GWEI))
    pipeline.launch("cheap", cheap)
    # Restarted, the pipeline does not know since when it waits: a block at least, first in line, tip too low.
    successor = TxPipeline(chain, recorder, fee_blocks=2)
    successor.restore("cheap", [cheap])
    assert successor.check() == []
    (flight,) = successor.flights
    assert flight.live.tx_hash != cheap.tx_hash and flight.live.max_priority_fee_per_gas >= 7 * GWEI
    started = resume_mining(chain)
    landed = check_until(successor, {"cheap"})
    assert landed["cheap"].tx_hash == flight.live.tx_hash and landed["cheap"].block_number == started + 1


def test_without_fee_history_the_next_base_fee_comes_from_the_header(bare_chain, recorder, monkeypatch):
    pipeline = TxPipeline(bare_chain, recorder)
    batch = pipeline.rpc.batch

    def no_fee_history(calls):
        if any(method == "eth_feeHistory" for method, _ in calls):
            raise RpcError("eth_feeHistory", -32601, "the method eth_feeHistory does not exist")
        return batch(calls)

    monkeypatch.setattr(pipeline.rpc, "batch", no_fee_history)
    latest = bare_chain.w3.eth.get_block("latest")
    market = pipeline.market()
    assert market.next_base_fee == next_base_fee(latest["baseFeePerGas"], latest["gasUsed"], latest["gasLimit"])
    assert market.paid_tip == 0 and market.block_number == latest["number"]


# ------------------------------------------------------------------ a settler killed with a transaction in the pool


def submissions(engine) -> list[SettleSubmission]:
    with Session(engine) as session:
        return list(session.execute(select(SettleSubmission).order_by(SettleSubmission.nonce)).scalars())


def wait_for(condition, timeout: float, what: str, process: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while not condition():
        tail = log.read_text()[-3000:] if log is not None and log.exists() else ""
        assert process is None or process.poll() is None, f"exited with {process.returncode} before {what}:\n{tail}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{tail}"
        time.sleep(0.05)


def test_a_settler_killed_with_transactions_in_the_pool_resumes_and_pays_every_use_once(
        engine, chain, market, licences, brand, brand2, index_settings, sync_index, interval_node, tmp_path):
    a, b, c = licences
    insert_uses(engine, chain, brand, a, 3)
    insert_uses(engine, chain, brand2, b, 2)
    env = backend_env(index_settings)
    pause_mining(chain)
    # One licence per transaction: two transactions in the pool, on consecutive nonces, none mined.
    args = ["settle", "--window", "0", "--max-items", "1", "--wait-lock", "60", "-v"]
    first_log = tmp_path / "settler-1.log"
    settler = spawn(args, env, first_log)
    try:
        wait_for(lambda: len(submissions(engine)) == 2, 60, "two transactions in flight", settler, first_log)
        in_pool = submissions(engine)
        wait_for(lambda: all(chain.w3.eth.get_transaction(s.tx_hash) for s in in_pool), 10, "both in the pool")
    finally:
        kill(settler, signal.SIGKILL)
    assert [s.status for s in in_pool] == [SENDING, SENDING]
    assert [s.nonce for s in in_pool] == [in_pool[0].nonce, in_pool[0].nonce + 1]
    # While nobody watches: the node evicts the first, the base fee jumps above what the second offers, and uses of
    # another licence (and more of a licence in flight) arrive.
    assert drop_transaction(interval_node, in_pool[0].tx_hash)
    set_next_base_fee(interval_node, 50 * int(chain.w3.eth.get_transaction(in_pool[1].tx_hash)["maxFeePerGas"]))
    insert_uses(engine, chain, brand, c, 4)
    insert_uses(engine, chain, brand, a, 2, start_seq=3)
    resume_mining(chain)
    second_log = tmp_path / "settler-2.log"
    successor = spawn(args, env, second_log)
    try:
        wait_for(lambda: all(market.settled(lid) == n for lid, n in ((a, 5), (b, 2), (c, 4))), 60,
                 "every use settled", successor, second_log)
        wait_for(lambda: all(s.status != SENDING for s in submissions(engine)), 10, "every record final")
    finally:
        kill(successor, signal.SIGTERM)
    assert_paid_once(market, {a: 5, b: 2, c: 4})
    rows = submissions(engine)
    assert [r.status for r in rows] == [MINED] * len(rows)
    first, second = rows[0], rows[1]
    assert (first.nonce, second.nonce) == (in_pool[0].nonce, in_pool[1].nonce)  # resumed on the same nonces
    assert second.tx_hash != in_pool[1].tx_hash  # replaced by the successor: the market had moved past it
    assert "restored 2 settle transactions in flight" in second_log.read_text()
    with Session(engine) as session:  # every use in exactly one mined submission
        spans = session.execute(select(SettleSubmissionItem.license_id, SettleSubmissionItem.first_seq,
                                       SettleSubmissionItem.count)).all()
    covered = sorted((lid, seq) for lid, first_seq, count in spans for seq in range(first_seq, first_seq + count))
    assert covered == sorted({(lid, seq) for lid, n in ((a, 5), (b, 2), (c, 4)) for seq in range(n)})
    # And the audit, from the chain's events alone, proves each use paid once: every escrow, settled count, earning
    # and total agrees with the contract and the index.
    sync_index(engine)
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, report.differences[:5] + report.problems[:5]
    assert (report.uses_total, report.uses_proven, report.uses_pending) == (11, 11, 0)


def test_the_settler_holds_no_licence_behind_another_licences_stuck_transaction(
        engine, chain, market, licences, brand, brand2, settlement_client, interval_node, heads):
    a, b, _ = licences
    settler = Settler(engine, settlement_client, SettlerConfig(window_s=0.0, poll_s=0.01), heads=heads)
    settler.reconcile()
    insert_uses(engine, chain, brand, a, 3)
    pause_mining(chain)
    assert settler.step().uses == 3  # A's batch, priced for the market of the moment
    (stuck,) = settler.inflight.handles()
    set_next_base_fee(interval_node, 50 * int(chain.w3.eth.get_transaction(stuck.tx_hash)["maxFeePerGas"]))
    insert_uses(engine, chain, brand2, b, 4)
    insert_uses(engine, chain, brand, a, 2, start_seq=3)
    result = settler.step()
    assert result.uses == 4  # B's uses, in a new transaction: A's later uses wait for A's own
    other = next(h for h in settler.inflight.handles() if h.submission_id != stuck.submission_id)
    assert other.license_ids == {b} and other.nonce == stuck.nonce + 1
    started = resume_mining(chain)
    deadline = time.monotonic() + 20
    while market.settled(b) < 4:
        assert time.monotonic() < deadline, "B never settled"
        settler.step()
        time.sleep(0.02)
    mined_at = chain.w3.eth.get_transaction_receipt(
        next(s.tx_hash for s in submissions(engine) if s.submission_id == other.submission_id))["blockNumber"]
    assert mined_at <= started + 2, f"B waited {mined_at - started} blocks behind A's stuck transaction"
    while market.settled(a) < 5:  # A's later uses follow once its transaction resolved
        assert time.monotonic() < deadline, "A's later uses never settled"
        settler.step()
        time.sleep(0.02)
    assert_paid_once(market, {a: 5, b: 4})
