"""The settler against the session's chain, with uses inserted as the intake stores them."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select
from sqlmodel import Session

from twin_licensing.chain.artifacts import ArtifactStore
from twin_licensing.chain.client import Chain
from twin_licensing.chain.heads import HeadFeed, ws_url
from twin_licensing.chain.logs import RpcClient
from twin_licensing.chain.merkle import UseTree
from twin_licensing.chain.settlement import SettlementClient
from twin_licensing.db.submissions import DROPPED, MINED, SENDING, SettleSubmission, SettleTransaction, UseRejection
from twin_licensing.settlement.batch import record_of
from twin_licensing.settlement.config import SettlerConfig
from twin_licensing.settlement.lock import SettlerLock, SettlerLockedError
from twin_licensing.db.models import IndexCursor
from twin_licensing.indexer.config import IndexerConfig
from twin_licensing.indexer.service import Indexer
from twin_licensing.settlement.settler import Settler
from kit.uses import DAY, USDC, insert_uses

from kit.proxy import RpcProxy

NOW = SettlerConfig(window_s=0.0, poll_s=0.01)


@pytest.fixture
def licences(market, model, agency, brand, brand2):
    twin = market.twin(model, agency)
    offer = market.offer(model, twin, per_use_fee=2 * USDC)
    return market.licence(brand, offer, 1_000 * USDC), market.licence(brand2, offer, 1_000 * USDC)


def submissions(engine) -> list[SettleSubmission]:
    with Session(engine) as session:
        return list(session.execute(select(SettleSubmission).order_by(SettleSubmission.submission_id)).scalars())


def test_settler_pays_pending_uses_of_every_licence_in_one_transaction(engine, settlement_client, market, licences,
                                                                        brand, brand2):
    a, b = licences
    uses_a = insert_uses(engine, market.chain, brand, a, 5)
    insert_uses(engine, market.chain, brand2, b, 3)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    result = settler.step()
    assert result.succeeded and result.uses == 8
    assert (market.settled(a), market.settled(b)) == (5, 3)
    assert market.escrow(a) == 1_000 * USDC - 5 * 2 * USDC
    (sub,) = submissions(engine)
    assert sub.status == MINED and sub.uses == 8 and sub.gas_used == result.gas_used
    # The event carries the root of exactly the uses recorded here.
    (event,) = [e for e in market.chain.events(market.chain.wait(sub.tx_hash), "LicenseToken", "UsesSettled")
                if e["licenseId"] == a]
    root = event["usesRoot"]
    assert (root if isinstance(root, str) else "0x" + root.hex()) == UseTree(record_of(u) for u in uses_a).root
    assert settler.step().uses == 0  # nothing left


def test_a_restarted_settler_pays_nothing_twice(engine, settlement_client, market, licences, brand):
    a, _ = licences
    insert_uses(engine, market.chain, brand, a, 4)
    first = Settler(engine, settlement_client, NOW)
    first.reconcile()
    assert first.step().uses == 4
    again = Settler(engine, settlement_client, NOW)  # a fresh process: remembers nothing
    again.reconcile()
    assert again.step().uses == 0
    insert_uses(engine, market.chain, brand, a, 2, start_seq=4)
    assert again.step().uses == 2
    assert market.settled(a) == 6
    assert market.escrow(a) == 1_000 * USDC - 6 * 2 * USDC


def test_batch_waits_for_its_window_or_its_size(engine, settlement_client, market, licences, brand):
    a, _ = licences
    settler = Settler(engine, settlement_client, SettlerConfig(window_s=0.6, max_batch_uses=10, poll_s=0.01))
    settler.reconcile()
    insert_uses(engine, market.chain, brand, a, 3)
    assert settler.step().uses == 0  # the window is open
    time.sleep(0.65)
    assert settler.step().uses == 3
    insert_uses(engine, market.chain, brand, a, 12, start_seq=3)
    assert settler.step().uses == 10  # full batch at once, the rest later
    assert market.settled(a) == 13


def test_crash_after_recording_before_sending_drops_the_record_and_resends(engine, settlement_client, market,
                                                                          licences, brand):
    a, _ = licences
    insert_uses(engine, market.chain, brand, a, 3)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    # Stand-in for a crash between the write-ahead record and the broadcast.
    settler.client.send = lambda signed: (_ for _ in ()).throw(SystemExit("killed"))
    with pytest.raises(SystemExit):
        settler.step()
    (sub,) = submissions(engine)
    assert sub.status == SENDING and market.settled(a) == 0
    restarted = Settler(engine, type(settlement_client)(market.chain, settlement_client.recorder), NOW)
    restarted.reconcile()
    assert submissions(engine)[0].status == DROPPED
    assert restarted.step().uses == 3 and market.settled(a) == 3


def test_crash_after_sending_before_the_receipt_is_recorded(engine, settlement_client, market, licences, brand):
    a, _ = licences
    insert_uses(engine, market.chain, brand, a, 3)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    original_send = settler.client.send

    def send_then_die(signed):
        original_send(signed)
        raise SystemExit("killed after broadcast")

    settler.client.send = send_then_die
    with pytest.raises(SystemExit):
        settler.step()
    assert market.settled(a) == 3  # it was mined
    restarted = Settler(engine, type(settlement_client)(market.chain, settlement_client.recorder), NOW)
    restarted.reconcile()
    assert submissions(engine)[0].status == MINED
    assert restarted.step().uses == 0
    assert market.settled(a) == 3 and market.escrow(a) == 1_000 * USDC - 3 * 2 * USDC


def test_stuck_transaction_is_replaced_with_a_higher_fee(engine, settlement_client, market, licences, brand, chain):
    a, _ = licences
    insert_uses(engine, market.chain, brand, a, 2)
    settler = Settler(engine, settlement_client, SettlerConfig(window_s=0.0, stuck_after_s=0.3, poll_s=0.01))
    settler.reconcile()
    chain.rpc("evm_setAutomine", [False])
    results = []
    try:
        worker = threading.Thread(target=lambda: results.append(settler.step()))
        worker.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with Session(engine) as session:
                count = len(session.execute(select(SettleTransaction)).scalars().all())
            if count >= 2:
                break
            time.sleep(0.05)
        assert count >= 2, "the stuck transaction was not replaced"
    finally:
        chain.rpc("evm_setAutomine", [True])
        chain.rpc("evm_mine")
    worker.join(10)
    (result,) = results
    assert result.succeeded and market.settled(a) == 2
    (sub,) = submissions(engine)
    assert sub.status == MINED and sub.tx_hash == result.tx_hash
    # Only one of the transactions at that nonce was mined: the uses were paid once.
    assert market.escrow(a) == 1_000 * USDC - 2 * 2 * USDC


def test_expired_licence_uses_are_held_with_a_reason(engine, settlement_client, market, licences, brand, brand2,
                                                      chain):
    a, b = licences
    insert_uses(engine, market.chain, brand, a, 2)
    insert_uses(engine, market.chain, brand2, b, 2)
    chain.rpc("evm_increaseTime", [31 * DAY])
    chain.rpc("evm_mine")
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    assert settler.step().uses == 0
    with Session(engine) as session:
        holds = session.execute(select(UseRejection).order_by(UseRejection.license_id)).scalars().all()
    assert [(h.license_id, h.from_seq, h.code, h.permanent) for h in holds] == [
        (a, 0, "LicenseTokenExpired", True), (b, 0, "LicenseTokenExpired", True)]
    assert "expired" in holds[0].reason
    assert market.settled(a) == 0


def test_uses_of_an_exclusive_licence_the_model_ended_are_held_not_sent(engine, settlement_client, market, licences,
                                                                         model, brand, brand2, chain, sync_index):
    """Issue 10: once the model ends an idle exclusive licence the contract refuses its settlement; the settler
    leaves it out of the transaction (the others are paid) and holds its uses, saying the model ended it."""
    _, b = licences
    twin = market.twin(model)
    terms = (chain.call("TwinRegistry", "exclusivityMinimum"), 2 * USDC, 90 * DAY, 0, 0b1, 0b1, True, False, DAY)
    market.tx(model, "LicenseToken", "publishOffer", twin, terms)
    exclusive = market.licence(brand, chain.call("LicenseToken", "offerCount"), 20 * USDC)
    chain.rpc("evm_increaseTime", [DAY + 1])
    chain.rpc("evm_mine")
    insert_uses(engine, market.chain, brand, exclusive, 2)
    insert_uses(engine, market.chain, brand2, b, 3)
    chain.transact(model, "LicenseToken", "endIdleExclusive", exclusive)  # before the uses were paid
    sync_index(engine)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    result = settler.step()
    assert result.succeeded and result.uses == 3  # b's only: nothing the chain would refuse was sent
    (sub,) = submissions(engine)
    assert sub.status == MINED
    with Session(engine) as session:
        (hold,) = session.execute(select(UseRejection)).scalars().all()
    assert (hold.license_id, hold.from_seq, hold.code, hold.permanent) == (exclusive, 0, "LicenseTokenExpired", True)
    assert "the model ended this exclusive licence" in hold.reason
    assert market.settled(exclusive) == 0 and market.settled(b) == 3


def test_consent_hold_is_lifted_when_consent_is_granted_again(engine, settlement_client, market, licences, brand,
                                                              model, chain):
    a, _ = licences
    insert_uses(engine, market.chain, brand, a, 2)
    twin_id = chain.call("LicenseToken", "licenseState", a)[5]
    chain.transact(model, "TwinRegistry", "revokeConsent", twin_id)
    chain.rpc("evm_increaseTime", [4 * DAY])
    chain.rpc("evm_mine")
    settler = Settler(engine, settlement_client,
                      SettlerConfig(window_s=0.0, poll_s=0.01, recheck_rejections_s=0.0))
    settler.reconcile()
    assert settler.step().uses == 0
    with Session(engine) as session:
        (hold,) = session.execute(select(UseRejection)).scalars().all()
    assert hold.code == "LicenseTokenConsentRevoked" and not hold.permanent and "consent" in hold.reason
    chain.transact(model, "TwinRegistry", "grantConsent", twin_id, b"\x02" * 32)
    assert settler.step().uses == 2  # the recheck lifted the hold
    assert market.settled(a) == 2


def test_reorganisation_undoing_a_settlement_is_settled_again_once(engine, settlement_client, market, licences,
                                                                   brand, chain):
    a, b = licences
    insert_uses(engine, market.chain, brand, a, 4)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    snapshot = chain.rpc("evm_snapshot")
    assert settler.step().uses == 4 and market.settled(a) == 4
    chain.rpc("evm_revert", [snapshot])  # the block with the settlement is gone
    chain.resync_nonces()
    chain.rpc("evm_mine")
    assert market.settled(a) == 0
    insert_uses(engine, market.chain, brand, a, 1, start_seq=4)
    assert settler.step().uses == 5  # the reorganised uses and the new one, once
    assert market.settled(a) == 5
    assert market.escrow(a) == 1_000 * USDC - 5 * 2 * USDC
    assert settler.step().uses == 0


def test_only_one_settler_per_recorder(engine, recorder, chain):
    first = SettlerLock(engine, recorder.address, chain.chain_id)
    first.acquire()
    try:
        with pytest.raises(SettlerLockedError, match="another settler"):
            SettlerLock(engine, recorder.address, chain.chain_id).acquire()
    finally:
        first.release()
    second = SettlerLock(engine, recorder.address, chain.chain_id)
    second.acquire()
    second.release()


def test_only_one_settler_per_recorder_on_postgres(pg_engine, recorder, chain):
    first = SettlerLock(pg_engine, recorder.address, chain.chain_id)
    first.acquire()
    try:
        with pytest.raises(SettlerLockedError):
            SettlerLock(pg_engine, recorder.address, chain.chain_id).acquire()
    finally:
        first.release()


PROMPT_S = 4.0  # a use pending this long after its report has waited for something it should not


def _until(predicate, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, f"timed out waiting for {what}"
        time.sleep(0.02)
    return time.monotonic() - started


def test_idle_settler_and_indexer_make_at_most_two_requests_a_second(engine, market, licences, brand, recorder,
                                                                     chain, local_node, deployments_dir,
                                                                     project_root):
    """Both services on one head subscription (WebSocket straight to the node, as TWIN_WS_URL allows), every HTTP
    request through a counting proxy: while only empty blocks come (one every 2 s, as a mining node's), together
    they send at most 2 requests a second; a new use is still settled at once."""
    a, _ = licences
    with RpcProxy(local_node.url) as proxy:
        heads = HeadFeed(proxy.url, ws_url(local_node.url), poll_interval=1.0)
        heads.start()
        proxied = Chain.connect(proxy.url, project_root / "artifacts", chain.deployment)
        settler = Settler(engine, SettlementClient(proxied, recorder), NOW, heads=heads)
        indexer = Indexer(engine, RpcClient(proxy.url), ArtifactStore(project_root / "artifacts"), deployments_dir,
                          IndexerConfig(subscribe=True), rpc_url=proxy.url, heads=heads)
        stop = threading.Event()
        threads = [threading.Thread(target=settler.run, args=(stop,)), threading.Thread(target=indexer.run,
                                                                                          args=(stop,))]
        try:
            _until(heads.subscribed.is_set, 10, "the head subscription")
            for thread in threads:
                thread.start()

            def indexed_to_head() -> bool:
                with Session(engine) as session:
                    cursor = session.execute(select(IndexCursor.block_number)).scalar()
                return cursor == chain.block_number()

            _until(indexed_to_head, 30, "the indexer to catch up")
            # Settled promptly: the settler acts on the use itself, with no block or timer of seconds to wait for
            # (automining: the settlement's own block). The bound leaves room for a machine at load 30.
            insert_uses(engine, market.chain, brand, a, 3)
            assert _until(lambda: market.settled(a) == 3, 10, "the settlement") < PROMPT_S
            _until(indexed_to_head, 10, "the indexer to index the settlement")

            # Idle: nothing but new empty blocks, mined beside the proxy.
            time.sleep(0.5)
            before, started = proxy.requests, time.monotonic()
            for _ in range(5):
                chain.rpc("evm_mine")
                time.sleep(2.0)
            elapsed = time.monotonic() - started
            rate = (proxy.requests - before) / elapsed
            assert indexed_to_head(), "the indexer stopped following the head"
            assert rate <= 2.0, f"{proxy.requests - before} requests in {elapsed:.1f} s while idle"

            # And after the quiet spell a use is still settled at once.
            insert_uses(engine, market.chain, brand, a, 2, start_seq=3)
            assert _until(lambda: market.settled(a) == 5, 10, "the second settlement") < PROMPT_S
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=15)
            heads.stop()
        assert proxy.requests > 0  # the services did talk through the proxy: the count above is theirs
    assert market.escrow(a) == 1_000 * USDC - 5 * 2 * USDC  # paid once each
