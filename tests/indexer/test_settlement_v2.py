"""Issue 11's events indexed from the contracts themselves: every skipped item with its reason, a pause as a
period that grace does not count, and a reorganisation across handovers, vesting, refunds, skips, pauses, the grace
period and offers withdrawn by revocation, which must leave the same index as a fresh run (SQLite, PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from kit.index_dump import assert_same_index
from kit.scenario import USDC, Scenario, root
from twin_licensing.db.license_state import License, Offer, SettleSkip, Settlement
from twin_licensing.db.registry_state import PausePeriod, ProtocolParam, Twin
from twin_licensing.domain import skip_reasons as why
from twin_licensing.domain.grace import DEFAULT_GRACE_PERIOD, grace_ends_at
from twin_licensing.domain.licence_end import licence_end

HOUR = 3_600
ECOMMERCE, SOCIAL = 0b1, 0b10


def _rows(engine, model, *where) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(model).where(*where)).mappings()]


def _offer(s: Scenario, twin_id: int, categories: int, *, max_uses: int = 0, duration: int = 86_400) -> int:
    terms = (10 * USDC, 2 * USDC, duration, max_uses, categories, 0b1, False, True, 0)
    s.tx(s.model, "LicenseToken", "publishOffer", twin_id, terms, gas=400_000)
    return s.call("LicenseToken", "offerCount")


def _grace_from_index(engine, license_id: int, now: int) -> int:
    """graceEndsAt(licenseId) from the index alone: the licence's end, the grace in force and the pauses."""
    (lic,) = _rows(engine, License, License.license_id == license_id)
    (twin,) = _rows(engine, Twin, Twin.twin_id == lic["twin_id"])
    end = licence_end(lic["expiry"], lic["started_at"], twin["revocation_effective_at"], twin["consent_ends"])
    grace = {p["name"]: p["value"] for p in _rows(engine, ProtocolParam)}.get("grace_period")
    pauses = [(p["paused_at"], p["unpaused_at"]) for p in _rows(engine, PausePeriod)]
    return grace_ends_at(end, int(grace) if grace else DEFAULT_GRACE_PERIOD, pauses, now)


def test_every_skipped_item_is_stored_with_its_reason_and_the_rest_of_the_batch_settles(chain, db, make_indexer):
    s = Scenario(chain)
    twin_id = s.twin()
    offer = _offer(s, twin_id, ECOMMERCE)
    capped = _offer(s, twin_id, ECOMMERCE, max_uses=2)
    good, short, limited = s.licence(offer, 20 * USDC), s.licence(offer, 2 * USDC), s.licence(capped, 20 * USDC)
    bad = [  # (item, the reason the contract must give)
        (s.item(good, 5, 1, root("gap")), why.SEQUENCE_MISMATCH),
        (s.item(10**9, 0, 1, root("nobody")), why.UNKNOWN_LICENSE),
        (s.item(limited, 0, 3, root("three")), why.MAX_USES_EXCEEDED),
        (s.item(short, 0, 2, root("two")), why.INSUFFICIENT_ESCROW),
        (s.item(limited, 0, 1, b"\x00" * 32), why.EMPTY_USES_ROOT),
        (s.item(limited, 0, 1, root("social"), SOCIAL), why.CATEGORIES_INVALID),
        (s.item(limited, 0, 1, root("stranger"), signer=s.brand2), why.NOT_HOLDER),
    ]
    result = s.settle(s.item(good, 0, 2, root("paid")), *(item for item, _ in bad))
    s.mine()
    make_indexer(db).sync()

    emitted = s.skips(result)
    assert [reason for *_, reason in emitted] == [reason for _, reason in bad]
    stored = sorted(_rows(db, SettleSkip), key=lambda r: r["log_index"])
    assert [(r["license_id"], r["first_seq"], r["count"], r["reason"]) for r in stored] == emitted
    assert {r["tx_hash"] for r in stored} == {result.tx_hash} and all(r["block_number"] == result.block_number
                                                                       for r in stored)
    # The licences keep their last skip; the good item settled beside them; an unknown licence got no row.
    licences = {r["license_id"]: r for r in _rows(db, License)}
    assert (licences[limited]["last_skip_reason"], licences[limited]["last_skip_first_seq"]) == (why.NOT_HOLDER, 0)
    assert (licences[short]["last_skip_reason"], licences[short]["last_skip_count"]) == (why.INSUFFICIENT_ESCROW, 2)
    assert licences[good]["last_skip_reason"] == why.SEQUENCE_MISMATCH and licences[good]["uses_settled"] == 2
    assert 10**9 not in licences
    assert [(r["license_id"], r["count"], r["payer"]) for r in _rows(db, Settlement)] == [(good, 2, s.brand.address)]


def test_a_pause_is_a_period_the_grace_does_not_count(chain, db, make_indexer):
    s = Scenario(chain)
    twin_id = s.twin()
    licence = s.licence(_offer(s, twin_id, ECOMMERCE, duration=HOUR), 5 * USDC)
    indexer = make_indexer(db)
    s.chain.rpc("evm_increaseTime", [HOUR + 1])
    s.mine()  # the licence has ended; its grace runs
    s.tx(s.admin, "LicenseToken", "pause", gas=200_000)
    s.chain.rpc("evm_increaseTime", [HOUR])
    s.mine()
    indexer.sync()
    (open_pause,) = _rows(db, PausePeriod)
    assert open_pause["unpaused_at"] is None
    now = chain.w3.eth.get_block("latest")["timestamp"]
    assert _grace_from_index(db, licence, now) == s.call("LicenseToken", "graceEndsAt", licence)
    s.tx(s.admin, "LicenseToken", "unpause", gas=200_000)
    indexer.sync()
    (closed,) = _rows(db, PausePeriod)
    assert closed["paused_at"] == open_pause["paused_at"] and closed["unpaused_at"] > closed["paused_at"]
    now = chain.w3.eth.get_block("latest")["timestamp"]
    graced = s.call("LicenseToken", "graceEndsAt", licence)
    assert _grace_from_index(db, licence, now) == graced
    (lic,) = _rows(db, License, License.license_id == licence)
    assert graced == lic["expiry"] + DEFAULT_GRACE_PERIOD + closed["unpaused_at"] - closed["paused_at"]


def test_a_reorganisation_across_issue_11_events_equals_a_fresh_index(chain, db, databases, make_indexer):
    s = Scenario(chain)
    twin_id = s.twin()
    # A month's term, so that the revocation (after the twin's notice period) ends it early.
    sold, social = _offer(s, twin_id, ECOMMERCE, duration=30 * 86_400), _offer(s, twin_id, SOCIAL | ECOMMERCE)
    kept = _offer(s, twin_id, ECOMMERCE)
    licence = s.licence(sold, 30 * USDC)
    s.settle((licence, 0, 2, root("common")))
    indexer = make_indexer(db)
    indexer.sync()
    fork_point = chain.rpc("evm_snapshot")

    # Branch A: vested, sold (seller's uses paid from her escrow), a skip, a pause, a shorter grace, the consent
    # revoked (every offer withdrawn) and in effect, the upfront refunded, both escrows reclaimed, consent granted.
    s.tx(s.model, "LicenseToken", "vest", [licence], gas=300_000)
    s.tx(s.brand, "LicenseToken", "transferFrom", s.brand.address, s.brand2.address, licence)
    s.settle((licence, 2, 3, root("seller")), as_seller=True)
    s.fund(s.brand2, 4 * USDC)
    s.tx(s.brand2, "LicenseToken", "topUpEscrow", licence, 4 * USDC)
    s.settle((licence, 5, 1, root("buyer")), (licence, 6, 5, root("too many")))  # the second: escrow short
    s.tx(s.admin, "LicenseToken", "pause", gas=200_000)
    s.tx(s.admin, "LicenseToken", "unpause", gas=200_000)
    s.tx(s.admin, "LicenseToken", "setGracePeriod", HOUR)
    s.tx(s.model, "TwinRegistry", "revokeConsent", twin_id, gas=400_000)
    s.chain.rpc("evm_increaseTime", [s.call("TwinRegistry", "noticePeriodOf", twin_id) + 1])
    s.mine()
    s.tx(s.brand2, "LicenseToken", "reclaimUnvested", licence, gas=400_000)
    s.chain.rpc("evm_increaseTime", [HOUR + 1])
    s.mine()
    s.tx(s.brand2, "LicenseToken", "reclaimEscrow", licence, gas=300_000)
    s.tx(s.brand, "LicenseToken", "reclaimSellerEscrow", licence, gas=300_000)
    s.tx(s.model, "TwinRegistry", "grantConsent", twin_id, b"\x05" * 32, gas=300_000)
    indexer.sync()
    (lic,) = _rows(db, License, License.license_id == licence)
    assert lic["seller"] == s.brand.address and lic["upfront_refunded"] > 0 and lic["seller_escrow_reclaimed"] > 0
    assert not any(o["active"] for o in _rows(db, Offer, Offer.twin_id == twin_id))

    # Branch B: back to the fork point; social consent revoked (only that offer withdrawn), another skip, and
    # the contract paused when the index catches up.
    assert chain.rpc("evm_revert", [fork_point])
    chain.resync_nonces()
    s.mine(2)
    s.tx(s.model, "TwinRegistry", "revokeCategoryConsent", twin_id, 1, gas=400_000)
    s.settle((licence, 9, 1, root("gap")), (licence, 2, 1, root("b")))
    s.tx(s.admin, "LicenseToken", "pause", gas=200_000)
    indexer.sync()
    fresh = databases.new()
    make_indexer(fresh).sync()
    assert_same_index(db, fresh)
    offers = {o["offer_id"]: (o["active"], o["withdrawn_by"]) for o in _rows(db, Offer, Offer.twin_id == twin_id)}
    assert offers == {sold: (True, None), social: (False, "consent"), kept: (True, None)}
    (lic,) = _rows(db, License, License.license_id == licence)
    assert (lic["seller"], lic["upfront_released"], lic["uses_settled"], lic["escrow"]) == (
        None, 0, 3, s.call("LicenseToken", "licenseState", licence)[0])
    assert (lic["last_skip_reason"], lic["last_skip_first_seq"]) == (why.SEQUENCE_MISMATCH, 9)
    assert [r["unpaused_at"] for r in _rows(db, PausePeriod)] == [None]
    assert "grace_period" not in {p["name"] for p in _rows(db, ProtocolParam)}
