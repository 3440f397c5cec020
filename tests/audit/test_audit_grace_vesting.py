"""Issue 11 in the audit, against the contract: a licence's end and grace (pauses not counted), its upfront fee's
vesting and refund, the seller's escrow after a handover and totalUnvested are recomputed from the events alone and
agree with the contract's views; and a use whose licence's grace ran out unsettled is rejected alike in the audit
(`--expect-settled` passes), in `/uses/{id}` and in the licence's `uses_pending`."""

from __future__ import annotations

import subprocess

from fastapi.testclient import TestClient

from twin_licensing.api.app import create_app
from twin_licensing.audit.compare import audit
from twin_licensing.domain.grace import DEFAULT_GRACE_PERIOD
from kit.signin import sign_in
from kit.uses import DAY, TWINCTL, USDC, backend_env, insert_uses, mask

HOUR = 3_600


def _rows(report):
    return {(r.check, r.subject): r for r in report.rows}


def _advance(chain, seconds: int) -> None:
    chain.rpc("evm_increaseTime", [seconds])
    chain.rpc("evm_mine")


def test_uses_left_unsettled_past_the_grace_are_rejected_everywhere(market, model, brand, admin, chain, engine,
                                                                    sync_index, index_settings, deployment):
    twin = market.twin(model)
    offer = market.offer(model, twin, per_use_fee=USDC, duration=2 * DAY)
    lic = market.licence(brand, offer, 20 * USDC)
    uses = insert_uses(engine, chain, brand, lic, 3)  # signed before expiry, never settled
    _advance(chain, 2 * DAY - HOUR)
    market.tx(admin, "LicenseToken", "pause")  # paused across the expiry: the paused time does not count
    _advance(chain, 2 * HOUR)
    market.tx(admin, "LicenseToken", "unpause")
    sync_index(engine)

    # In grace: the uses can still be paid, so they are pending, and the expectation of all settled fails.
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, [*report.differences, *report.problems]
    assert report.uses_pending == 3 and report.uses_rejected == 0
    grace = _rows(report)[("grace ends at", f"licence {lic}")]
    assert grace.events == grace.contract > chain.call("LicenseToken", "licenseEnd", lic) + DEFAULT_GRACE_PERIOD

    _advance(chain, DEFAULT_GRACE_PERIOD + 2 * HOUR)
    sync_index(engine)
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, [*report.differences, *report.problems]
    assert report.uses_pending == 0 and report.uses_rejected == 3 and report.uses_total == 3
    env = backend_env(index_settings)
    done = subprocess.run([str(TWINCTL), "audit", "--expect-settled"], env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 pending, 3 rejected" in " ".join(done.stdout.split())  # rich wraps long lines

    # A pause once the grace is over does not reopen it, for the contract as for the events' computation.
    market.tx(admin, "LicenseToken", "pause")
    _advance(chain, HOUR)
    market.tx(admin, "LicenseToken", "unpause")
    sync_index(engine)
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, [*report.differences, *report.problems]
    assert _rows(report)[("grace ends at", f"licence {lic}")].events == grace.contract and report.uses_rejected == 3
    with TestClient(create_app(index_settings, deployment=deployment, engine=engine)) as api:
        sign_in(api, brand.key)
        licence = api.get(f"/api/v1/licenses/{lic}").json()
        assert licence["uses_pending"] == 0 and licence["reclaimable"] is True
        assert licence["grace_ends_at"] == grace.contract
        one = api.get(f"/api/v1/uses/{uses[0].use_id}").json()
        assert one["status"] == "rejected" and "grace period" in one["reason"]


def test_vesting_refund_and_seller_escrow_agree_with_the_contract(market, model, brand, brand2, chain, engine,
                                                                 sync_index):
    twin = market.twin(model)
    upfront = 9_000 * USDC + 7  # odd: the vested amount rounds down, the refund takes the unit
    market.tx(model, "LicenseToken", "publishOffer", twin,
              (upfront, USDC, 30 * DAY, 0, mask(0, 1), mask(0, 1), False, True, 0))  # transferable
    offer = chain.call("LicenseToken", "offerCount")
    kept = market.licence(brand, offer, 10 * USDC)
    moved = market.licence(brand, offer, 15 * USDC)
    _advance(chain, 3 * DAY)
    market.tx(model, "LicenseToken", "withdrawVested", [kept, moved])
    # The second licence changes hands: its escrow stays the seller's.
    market.tx(brand, "LicenseToken", "transferFrom", brand.address, brand2.address, moved)
    market.tx(model, "TwinRegistry", "revokeConsent", twin)
    sync_index(engine)

    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, [*report.differences, *report.problems]
    rows = _rows(report)
    seller = rows[("seller escrow", f"licence {moved}")]
    assert seller.events == seller.contract == seller.database == 15 * USDC
    released = rows[("upfront released", f"licence {kept}")]
    assert 0 < released.events == released.contract == released.database < upfront
    unvested = rows[("total unvested", "LicenseToken")]
    released_moved = rows[("upfront released", f"licence {moved}")].events
    assert unvested.events == unvested.contract == 2 * upfront - released.events - released_moved

    # The revocation takes effect (the notice period), the grace runs out: the brand takes back the unvested rest
    # and the seller her escrow.
    _advance(chain, 40 * DAY)
    market.tx(brand, "LicenseToken", "reclaimUnvested", kept)
    market.tx(brand, "LicenseToken", "reclaimSellerEscrow", moved)
    market.tx(model, "LicenseToken", "withdrawVested", [kept, moved])
    sync_index(engine)
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, [*report.differences, *report.problems]
    rows = _rows(report)
    refunded = rows[("upfront refunded", f"licence {kept}")]
    vested = rows[("upfront vested", f"licence {kept}")]
    assert refunded.events == refunded.database == upfront - vested.events > 0
    assert rows[("upfront refundable", f"licence {moved}")].events == rows[("upfront refundable", f"licence {moved}")].contract > 0
    assert rows[("seller escrow", f"licence {moved}")].events == 0
    end = rows[("licence end", f"licence {kept}")]
    assert end.events == end.contract < chain.call("LicenseToken", "licenseState", kept)[3]  # before expiry


def test_a_licence_whose_categories_are_all_revoked_ends_alike_everywhere(market, model, brand, chain, engine,
                                                                         sync_index, index_settings, deployment):
    """The contract ends a licence once every category it covers is revoked: the audit's events, the index (the
    read API's ends_at) and licenseEnd agree, and the unvested upfront becomes refundable."""
    twin = market.twin(model)
    offer = market.offer(model, twin, upfront_fee=300 * USDC, categories=mask(0, 1), duration=30 * DAY)
    lic = market.licence(brand, offer, 10 * USDC)
    _advance(chain, DAY)
    market.tx(model, "TwinRegistry", "revokeCategoryConsent", twin, 0)
    _advance(chain, DAY)
    market.tx(model, "TwinRegistry", "revokeCategoryConsent", twin, 1)
    sync_index(engine)
    end = chain.call("LicenseToken", "licenseEnd", lic)
    assert end < chain.call("LicenseToken", "licenseState", lic)[3]  # before its expiry
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, [*report.differences, *report.problems]
    assert _rows(report)[("licence end", f"licence {lic}")].events == end
    with TestClient(create_app(index_settings, deployment=deployment, engine=engine)) as api:
        sign_in(api, brand.key)
        assert api.get(f"/api/v1/licenses/{lic}").json()["ends_at"] == end
    _advance(chain, 10 * DAY)  # past both effective times
    market.tx(brand, "LicenseToken", "reclaimUnvested", lic)
    sync_index(engine)
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, [*report.differences, *report.problems]
    refunded = _rows(report)[("upfront refunded", f"licence {lic}")]
    assert refunded.events == refunded.database > 0


def test_uses_of_a_withdrawn_category_left_unsettled_past_its_grace_are_rejected(market, model, brand, chain, engine,
                                                                                sync_index, index_settings):
    """One of two categories withdrawn: the licence goes on, but its unsettled uses in that category cannot be paid
    once the grace after the withdrawal's effect is over; the other category's wait."""
    twin = market.twin(model)
    lic = market.licence(brand, market.offer(model, twin, categories=mask(0, 1), duration=60 * DAY), 20 * USDC)
    insert_uses(engine, chain, brand, lic, 2, category=1)
    insert_uses(engine, chain, brand, lic, 1, start_seq=2, tag="other", category=0)
    market.tx(model, "TwinRegistry", "revokeCategoryConsent", twin, 1)
    _advance(chain, 3 * DAY + DEFAULT_GRACE_PERIOD + HOUR)  # the notice, then the grace
    sync_index(engine)
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, [*report.differences, *report.problems]
    assert report.uses_rejected == 2 and report.uses_pending == 1
