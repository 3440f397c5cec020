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
from datetime import datetime, timezone

from twin_licensing.chain.merkle import UseTree
from twin_licensing.chain.settlement import SettlementClient, compact_signature
from twin_licensing.chain.use_reports import UseReport, report_digest
from twin_licensing.db.submissions import MINED, SENDING, SettleSubmission, UseRejection
from twin_licensing.db.uses import ChainScope, Use
from twin_licensing.domain.use_record import HELD, REJECTED
from twin_licensing.usage.index_view import IndexView
from twin_licensing.usage.status import use_views
from twin_licensing.settlement.batch import item_of, plan_items, record_of, split_run
from twin_licensing.settlement.config import SettlerConfig
from twin_licensing.settlement.lock import SettlerLock, SettlerLockedError
from twin_licensing.db.models import IndexCursor
from twin_licensing.indexer.config import IndexerConfig
from twin_licensing.indexer.service import Indexer
from twin_licensing.settlement.settler import Settler, clear_holds
from kit.uses import DAY, ECOMMERCE, SOCIAL, USDC, domain_of, insert_uses, mask, scope_of, signed_report

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


def test_crash_after_recording_before_sending_sends_the_recorded_transaction(engine, settlement_client, market,
                                                                           licences, brand):
    a, _ = licences
    insert_uses(engine, market.chain, brand, a, 3)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    # Stand-in for a crash between the write-ahead record and the broadcast.
    settler.inflight.pipeline.launch = lambda key, signed: (_ for _ in ()).throw(SystemExit("killed"))
    with pytest.raises(SystemExit):
        settler.step()
    (sub,) = submissions(engine)
    assert sub.status == SENDING and market.settled(a) == 0
    restarted = Settler(engine, type(settlement_client)(market.chain, settlement_client.recorder), NOW)
    restarted.reconcile()  # the node never saw it: sent now, as recorded (same nonce, same bytes)
    assert market.settled(a) == 3
    assert restarted.step().uses == 0  # answered (mined), and nothing is sent twice
    (sub,) = submissions(engine)
    assert sub.status == MINED
    assert market.escrow(a) == 1_000 * USDC - 3 * 2 * USDC


def test_crash_after_sending_before_the_receipt_is_recorded(engine, settlement_client, market, licences, brand):
    a, _ = licences
    insert_uses(engine, market.chain, brand, a, 3)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    original_launch = settler.inflight.pipeline.launch

    def launch_then_die(key, signed):
        original_launch(key, signed)
        raise SystemExit("killed after broadcast")

    settler.inflight.pipeline.launch = launch_then_die
    with pytest.raises(SystemExit):
        settler.step()
    assert market.settled(a) == 3  # it was mined
    restarted = Settler(engine, type(settlement_client)(market.chain, settlement_client.recorder), NOW)
    restarted.reconcile()
    assert submissions(engine)[0].status == MINED
    assert restarted.step().uses == 0
    assert market.settled(a) == 3 and market.escrow(a) == 1_000 * USDC - 3 * 2 * USDC


def test_a_licence_in_flight_holds_up_no_other(engine, settlement_client, market, licences, brand, brand2, chain):
    """With blocks not mined at once, the settler does not wait for its transaction: a's uses are in flight (not
    planned again), b's go in a second transaction on the next nonce; one block settles both, each use once."""
    a, b = licences
    insert_uses(engine, market.chain, brand, a, 2)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    chain.rpc("evm_setAutomine", [False])
    try:
        first = settler.step()
        assert first.uses == 2 and not first.succeeded  # sent, not mined
        insert_uses(engine, market.chain, brand, a, 1, start_seq=2)
        insert_uses(engine, market.chain, brand2, b, 3)
        second = settler.step()
        assert second.uses == 3  # b's only: a has a transaction in flight
        assert settler.step().uses == 0
        nonces = [sub.nonce for sub in submissions(engine)]
        assert nonces == [nonces[0], nonces[0] + 1]
    finally:
        chain.rpc("evm_setAutomine", [True])
        chain.rpc("evm_mine")
    assert (market.settled(a), market.settled(b)) == (2, 3)
    assert settler.step().uses == 1  # a's third use, once its first two were answered
    assert [sub.status for sub in submissions(engine)] == [MINED] * 3
    assert market.escrow(a) == 1_000 * USDC - 3 * 2 * USDC and market.escrow(b) == 1_000 * USDC - 3 * 2 * USDC


GRACE = 7 * DAY  # LicenseToken's default grace period


def signed_uses(engine, chain, signer, license_id: int, seqs, *, used_at: int, category: int = ECOMMERCE,
                tag: str = "s") -> list[Use]:
    """Uses stored as the intake stores them, each signed by `signer` at `used_at` (the kit's `insert_uses` signs
    at the wall clock; these tests need the chain's clock, moved around expiry and handovers)."""
    domain, scope = domain_of(chain), scope_of(chain)
    twin_id = chain.call("LicenseToken", "licenseState", license_id)[5]
    rows = []
    with Session(engine) as session:
        for seq in seqs:
            body = signed_report(signer, domain, license_id, f"{tag}-{license_id}-{seq}", seq=seq, category=category,
                                 used_at=used_at)
            report = UseReport(license_id, seq, body["use_ref"], category, body["territory"], used_at)
            use = Use(chain_id=scope.chain_id, genesis_hash=scope.genesis_hash, license_id=license_id, twin_id=twin_id,
                      seq=seq, use_ref=body["use_ref"], category=category, territory=body["territory"],
                      used_at=used_at, signer=signer.address, signature=body["signature"],
                      digest=report_digest(domain, report), accepted_at=datetime.now(timezone.utc))
            session.add(use)
            rows.append(use)
        session.commit()
        for use in rows:
            session.refresh(use)
            session.expunge(use)
    return rows


def holds(engine) -> list[UseRejection]:
    with Session(engine) as session:
        return list(session.execute(select(UseRejection).order_by(UseRejection.license_id)).scalars())


def expiry_of(chain, license_id: int) -> int:
    return chain.call("LicenseToken", "licenseState", license_id)[3]


def at(chain, timestamp: int) -> None:
    """Mines a block at exactly `timestamp` (the next transaction lands just after it)."""
    chain.rpc("evm_mine", [timestamp])


def statuses(engine, uses) -> list[tuple[str, str | None]]:
    with Session(engine) as session:
        return [(v.status, v.reason) for v in use_views(session, IndexView(), uses)]


def test_one_unsettleable_item_does_not_hold_up_the_others(engine, settlement_client, market, licences, brand,
                                                           brand2, chain, sync_index):
    """Issue 11: an item the contract cannot pay (here: uses of licence a signed by brand2, who does not hold it)
    is skipped with its reason and the rest of the batch settles in the same transaction; the skipped uses are
    held with the reason, never sent again blindly."""
    a, b = licences
    now = chain.timestamp()
    forged = signed_uses(engine, chain, brand2, a, range(3), used_at=now)
    insert_uses(engine, market.chain, brand2, b, 4)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    result = settler.step()
    assert result.succeeded and result.uses == 4  # b's uses; a's item was skipped inside the same transaction
    (sub,) = submissions(engine)
    assert sub.status == MINED
    skipped = market.chain.events(market.chain.wait(sub.tx_hash), "LicenseToken", "SettleItemSkipped")
    assert [(e["licenseId"], e["firstSeq"], e["count"], e["reason"]) for e in skipped] == [(a, 0, 3, 6)]  # NotHolder
    assert (market.settled(a), market.settled(b)) == (0, 4)
    assert market.escrow(a) == 1_000 * USDC and market.escrow(b) == 1_000 * USDC - 4 * 2 * USDC
    (hold,) = holds(engine)
    assert (hold.license_id, hold.from_seq, hold.code, hold.permanent) == (a, 0, "NotHolder", False)
    assert "not signed by the account that held the licence" in hold.reason and brand2.address in hold.reason
    sync_index(engine)
    assert statuses(engine, forged) == [(HELD, hold.reason)] * 3  # still owed, not paid: waiting for a look
    assert settler.step().uses == 0 and len(submissions(engine)) == 1  # a's uses are not sent again


def test_a_use_signed_a_second_before_expiry_settles_an_hour_after_it(engine, settlement_client, market, licences,
                                                                      brand, chain):
    a, _ = licences
    expiry = expiry_of(chain, a)
    at(chain, expiry - 2)
    (use,) = signed_uses(engine, chain, brand, a, [0], used_at=expiry - 1)
    at(chain, expiry + 3600)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    result = settler.step()
    assert result.succeeded and result.uses == 1
    assert market.settled(a) == 1 and market.escrow(a) == 1_000 * USDC - 2 * USDC
    assert holds(engine) == []


def test_uses_of_a_licence_past_its_grace_are_rejected_not_pending(engine, settlement_client, market, licences,
                                                                   brand, brand2, chain, sync_index):
    a, b = licences
    expiry = expiry_of(chain, a)
    late = signed_uses(engine, chain, brand, a, range(2), used_at=expiry - 60)
    at(chain, expiry + GRACE + 1)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    assert settler.step().uses == 0  # sent, and skipped: GraceOver
    (hold,) = holds(engine)
    assert (hold.license_id, hold.from_seq, hold.code, hold.permanent) == (a, 0, "GraceOver", True)
    assert "grace period" in hold.reason
    sync_index(engine)
    assert [status for status, _ in statuses(engine, late)] == [REJECTED] * 2
    assert market.settled(a) == 0 and market.escrow(a) == 1_000 * USDC
    assert settler.step().uses == 0 and len(submissions(engine)) == 1  # rejected for good: never sent again


def test_uses_signed_before_an_idle_end_settle_within_the_grace(engine, settlement_client, market, licences, model,
                                                                brand, brand2, chain, sync_index):
    """Issue 10's idle end is a licence end like expiry: uses signed before it are paid during the grace period
    (they were refused, and the escrow reclaimable, before issue 11)."""
    _, b = licences
    twin = market.twin(model)
    terms = (chain.call("TwinRegistry", "exclusivityMinimum"), 2 * USDC, 90 * DAY, 0, 0b1, 0b1, True, False, DAY)
    market.tx(model, "LicenseToken", "publishOffer", twin, terms)
    exclusive = market.licence(brand, chain.call("LicenseToken", "offerCount"), 20 * USDC)
    chain.rpc("evm_increaseTime", [DAY + 1])
    chain.rpc("evm_mine")
    insert_uses(engine, market.chain, brand, exclusive, 2)
    insert_uses(engine, market.chain, brand2, b, 3)
    at(chain, chain.timestamp() + 5)  # the uses were signed before the end
    chain.transact(model, "LicenseToken", "endIdleExclusive", exclusive)  # before the uses were paid
    sync_index(engine)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    result = settler.step()
    assert result.succeeded and result.uses == 5
    assert market.settled(exclusive) == 2 and market.settled(b) == 3
    assert holds(engine) == []


def test_uses_signed_before_a_revocation_took_effect_settle_within_the_grace(engine, settlement_client, market,
                                                                             licences, brand, model, chain):
    a, _ = licences
    insert_uses(engine, market.chain, brand, a, 2)
    twin_id = chain.call("LicenseToken", "licenseState", a)[5]
    chain.transact(model, "TwinRegistry", "revokeConsent", twin_id)
    chain.rpc("evm_increaseTime", [4 * DAY])  # in effect after its notice (72 h)
    chain.rpc("evm_mine")
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    assert settler.step().uses == 2
    assert market.settled(a) == 2 and holds(engine) == []


def test_a_use_of_a_category_signed_after_its_revocation_does_not_take_earlier_uses_down(
        engine, settlement_client, market, licences, brand, model, chain, sync_index):
    """An item is refused whole when its last use was signed after a revocation of any category in its mask took
    effect; the settler cuts items there, so social uses signed before the social revocation are paid, and an
    e-commerce use signed after it is paid too (its category is not revoked)."""
    a, _ = licences
    twin_id = chain.call("LicenseToken", "licenseState", a)[5]
    now = chain.timestamp()
    signed_uses(engine, chain, brand, a, range(2), used_at=now, category=SOCIAL)
    chain.transact(model, "TwinRegistry", "revokeCategoryConsent", twin_id, SOCIAL)
    chain.rpc("evm_increaseTime", [4 * DAY])
    chain.rpc("evm_mine")
    later = chain.timestamp()
    signed_uses(engine, chain, brand, a, [2], used_at=later, category=ECOMMERCE)
    sync_index(engine)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    result = settler.step()
    assert result.succeeded and result.uses == 3
    items = market.chain.events(market.chain.wait(result.tx_hash), "LicenseToken", "UsesSettled")
    assert [(e["firstSeq"], e["count"]) for e in items] == [(0, 2), (2, 1)]
    assert market.settled(a) == 3 and holds(engine) == []


def test_an_item_skipped_as_signed_too_late_is_cut_again_with_the_chains_ends_before_anything_is_rejected(
        engine, settlement_client, market, licences, brand, model, chain):
    """The same uses, but the index has not seen the revocation yet (the settler cuts no item there): the chain
    skips the item as signed after the end; the settler reads the ends from the chain and cuts again instead of
    rejecting uses that were signed in time."""
    a, _ = licences
    twin_id = chain.call("LicenseToken", "licenseState", a)[5]
    signed_uses(engine, chain, brand, a, range(2), used_at=chain.timestamp(), category=SOCIAL)
    chain.transact(model, "TwinRegistry", "revokeCategoryConsent", twin_id, SOCIAL)
    chain.rpc("evm_increaseTime", [4 * DAY])
    chain.rpc("evm_mine")
    signed_uses(engine, chain, brand, a, [2], used_at=chain.timestamp(), category=ECOMMERCE)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    first = settler.step()
    skipped = market.chain.events(market.chain.wait(first.tx_hash), "LicenseToken", "SettleItemSkipped")
    assert first.uses == 0 and [(e["firstSeq"], e["count"], e["reason"]) for e in skipped] == [(0, 3, 7)]
    assert holds(engine) == []  # not rejected: cut again
    second = settler.step()
    assert second.succeeded and second.uses == 3
    paid = market.chain.events(market.chain.wait(second.tx_hash), "LicenseToken", "UsesSettled")
    assert [(e["firstSeq"], e["count"]) for e in paid] == [(0, 2), (2, 1)]
    assert market.settled(a) == 3 and holds(engine) == []


def test_a_use_signed_after_the_end_is_rejected_once_cut_with_the_chains_ends(engine, settlement_client, market,
                                                                              licences, brand, model, chain):
    """What the chain still refuses after the cut with its own ends is final: the uses signed in time before it
    are paid, the late one and those after it are rejected with the reason."""
    a, _ = licences
    twin_id = chain.call("LicenseToken", "licenseState", a)[5]
    signed_uses(engine, chain, brand, a, range(2), used_at=chain.timestamp(), category=SOCIAL)
    chain.transact(model, "TwinRegistry", "revokeCategoryConsent", twin_id, SOCIAL)
    chain.rpc("evm_increaseTime", [4 * DAY])
    chain.rpc("evm_mine")
    signed_uses(engine, chain, brand, a, [2, 3], used_at=chain.timestamp(), category=SOCIAL)  # after it took effect
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    assert settler.step().uses == 0  # the whole run, skipped: cut again
    assert settler.step().uses == 2  # the two signed in time; the late ones skipped again, for good
    (hold,) = holds(engine)
    assert (hold.license_id, hold.from_seq, hold.code, hold.permanent) == (a, 2, "SignedAfterEnd", True)
    assert "use #3 was signed at or after that end" in hold.reason and "withdrawal of consent" in hold.reason
    assert settler.step().uses == 0 and market.settled(a) == 2


def test_uses_the_escrow_cannot_pay_are_held_until_a_top_up(engine, settlement_client, market, model, agency,
                                                            brand, chain):
    twin = market.twin(model, agency)
    offer = market.offer(model, twin, per_use_fee=2 * USDC)
    lic = market.licence(brand, offer, 5 * USDC)  # two uses' worth
    insert_uses(engine, market.chain, brand, lic, 5)
    settler = Settler(engine, settlement_client,
                      SettlerConfig(window_s=0.0, poll_s=0.01, recheck_rejections_s=0.0))
    settler.reconcile()
    assert settler.step().uses == 2  # what the escrow pays; the rest is not sent to be skipped
    assert settler.step().uses == 0
    (hold,) = holds(engine)
    assert (hold.license_id, hold.from_seq, hold.code, hold.permanent) == (lic, 2, "InsufficientEscrow", False)
    assert "top up the escrow" in hold.reason and "1.00 USDC" in hold.reason
    assert len(submissions(engine)) == 1
    market.tx(brand, "PaymentToken", "faucet", brand.address, 10 * USDC)
    market.tx(brand, "PaymentToken", "approve", chain.deployment.license_token, 10 * USDC)
    market.tx(brand, "LicenseToken", "topUpEscrow", lic, 10 * USDC)
    assert settler.step().uses == 3  # the recheck lifted the hold
    assert market.settled(lic) == 5 and holds(engine) == []


def test_uses_beyond_the_licences_maximum_are_rejected_and_those_within_it_paid(engine, settlement_client, market,
                                                                              model, agency, brand):
    """An item the maximum would cut is cut to it (the contract would skip it whole, and that for good); the uses
    beyond are rejected without a transaction."""
    twin = market.twin(model, agency)
    lic = market.licence(brand, market.offer(model, twin, per_use_fee=2 * USDC, max_uses=3), 100 * USDC)
    insert_uses(engine, market.chain, brand, lic, 5)  # as if the intake had let two too many through
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    assert settler.step().uses == 3
    assert settler.step().uses == 0
    (hold,) = holds(engine)
    assert (hold.license_id, hold.from_seq, hold.code, hold.permanent) == (lic, 3, "MaxUsesExceeded", True)
    assert "allows 3 uses in all and these would make 5" in hold.reason
    assert len(submissions(engine)) == 1 and market.settled(lic) == 3


def test_a_handed_over_licence_pays_the_sellers_uses_from_the_sellers_escrow(engine, settlement_client, market,
                                                                             model, agency, brand, brand2, chain):
    twin = market.twin(model, agency)
    terms = (10 * USDC, 2 * USDC, 30 * DAY, 0, mask(ECOMMERCE), 0b1, False, True, 0)  # transferable
    market.tx(model, "LicenseToken", "publishOffer", twin, terms)
    lic = market.licence(brand, chain.call("LicenseToken", "offerCount"), 100 * USDC)
    now = chain.timestamp()
    signed_uses(engine, chain, brand, lic, range(3), used_at=now)  # the seller's, not settled at the handover
    market.tx(brand, "LicenseToken", "transferFrom", brand.address, brand2.address, lic)
    handed_at = chain.timestamp()
    market.tx(brand2, "PaymentToken", "faucet", brand2.address, 20 * USDC)
    market.tx(brand2, "PaymentToken", "approve", chain.deployment.license_token, 20 * USDC)
    market.tx(brand2, "LicenseToken", "topUpEscrow", lic, 20 * USDC)
    at(chain, handed_at + 10)
    signed_uses(engine, chain, brand2, lic, range(3, 5), used_at=handed_at + 10)  # the buyer's
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    result = settler.step()
    assert result.succeeded and result.uses == 5
    paid = market.chain.events(market.chain.wait(result.tx_hash), "LicenseToken", "UsesSettled")
    assert [(e["firstSeq"], e["count"], e["payer"]) for e in paid] == [(0, 3, brand.address), (3, 2, brand2.address)]
    seller, _, seller_escrow = chain.call("LicenseToken", "handover", lic)
    assert seller == brand.address and seller_escrow == 100 * USDC - 3 * 2 * USDC
    assert market.escrow(lic) == 20 * USDC - 2 * 2 * USDC
    assert market.settled(lic) == 5 and holds(engine) == []


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


# ------------------------------------------------------------------ planning, without a chain


def _use(seq: int, signer: str = "0xA", used_at: int = 100, category: int = ECOMMERCE) -> Use:
    return Use(chain_id=1, genesis_hash="0x", license_id=7, twin_id=1, seq=seq, use_ref="0x" + "11" * 32,
               category=category, territory=0, used_at=used_at, signer=signer, signature="0x" + "22" * 64 + "1b",
               digest="0x" + f"{seq:064x}", accepted_at=datetime.now(timezone.utc))


def test_items_are_cut_where_the_signer_changes():
    run = [_use(0, "0xSeller"), _use(1, "0xseller"), _use(2, "0xBuyer"), _use(3, "0xBuyer")]
    assert [[u.seq for u in part] for part in split_run(run)] == [[0, 1], [2, 3]]


def test_items_are_cut_before_a_use_signed_after_a_category_revocation_in_their_mask():
    social_end = 500
    run = [_use(0, used_at=100, category=SOCIAL), _use(1, used_at=200, category=ECOMMERCE),
           _use(2, used_at=600, category=ECOMMERCE), _use(3, used_at=700, category=ECOMMERCE)]
    parts = split_run(run, {SOCIAL: social_end})
    assert [[u.seq for u in part] for part in parts] == [[0, 1], [2, 3]]
    assert split_run(run) == [run]  # nothing revoked: one item


def test_an_item_carries_its_last_use_signed_in_compact_form():
    first, last = _use(0), _use(1, used_at=123)
    last.signature = "0x" + "33" * 32 + "44" * 32 + "1c"  # v = 28: parity 1
    item = item_of([first, last])
    assert (item.first_seq, item.count, item.used_at, item.use_ref) == (0, 2, 123, last.use_ref)
    assert item.sig_r == "0x" + "33" * 32
    assert item.sig_vs == "0x" + format(int("44" * 32, 16) | 1 << 255, "064x")
    assert compact_signature("0x" + "33" * 32 + "44" * 32 + "1b")[1] == "0x" + "44" * 32


def test_an_item_cut_short_by_its_escrow_ends_its_licences_part_of_the_batch():
    run = [_use(0, "0xSeller"), _use(1, "0xSeller"), _use(2, "0xBuyer")]
    planned = plan_items({7: run}, {7: 0}, max_uses=100, max_items=10, afford=lambda lid, part: 1)
    assert [(p.item.first_seq, p.item.count) for p in planned] == [(0, 1)]


def test_clearing_holds_lifts_those_an_operator_looked_into_and_keeps_rejections(engine):
    scope = ("chain", 1, "0xgenesis")
    with Session(engine) as session:
        for license_id, code, permanent in ((1, "BadSignature", False), (2, "GraceOver", True)):
            session.add(UseRejection(chain_id=scope[1], genesis_hash=scope[2], license_id=license_id, from_seq=0,
                                     code=code, reason="why", permanent=permanent))
        session.commit()
    assert clear_holds(engine, ChainScope(scope[1], scope[2])) == 1
    assert [(h.license_id, h.code) for h in holds(engine)] == [(2, "GraceOver")]
