"""Issue 11, transfers: a transferable licence sold with uses its seller reported but not yet settled. The escrow it
held becomes the seller's and pays only what the seller signed before the handover; the buyer starts with none and
pays what she signs; the seller takes back the rest after the grace; no second sale while that escrow is open."""

import pytest

from kit.signed_items import GRACE, INSUFFICIENT_ESCROW, NOT_HOLDER, mine_at, paid, settled
from kit.twin_env import GAS, NOTICE, USDC, Terms

FEE = Terms().per_use_fee
ESCROW = 2 * USDC


@pytest.fixture
def sold(env, a, twin):
    """A transferable licence bought by `brand` with 2 tUSDC escrow; she reports uses 0..4 (signing use 4), then
    sells it to `brand2` at `at`. Returns (licence, at, the seller's signed item)."""
    offer = env.publish(a.model, twin, Terms(transferable=True))
    license_id = env.buy(a.brand, offer, ESCROW)
    used_at = env.now()
    seller_item = env.signed_item(license_id, 0, 5, signer=a.brand, used_at=used_at)
    at = used_at + 60
    env.next_block_at(at)
    result = env.tx(a.brand, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, license_id, gas=GAS)
    assert env.event(result, "LicenseToken", "LicenseHandedOver") == {
        "licenseId": license_id, "seller": a.brand.address, "buyer": a.brand2.address, "sellerEscrow": ESCROW, "at": at}
    return license_id, at, seller_item


def test_the_buyer_starts_with_no_escrow_and_the_seller_keeps_hers(env, a, sold):
    license_id, at, _ = sold
    assert env.call("LicenseToken", "handover", license_id) == (a.brand.address, at, ESCROW)
    assert env.state(license_id).escrow == 0
    assert env.call("LicenseToken", "totalEscrow") == ESCROW  # the seller's escrow is part of it
    env.conserved()


def test_uses_the_seller_signed_are_paid_from_her_escrow(env, a, twin, sold):
    license_id, at, seller_item = sold
    env.fund(a.brand2, USDC)
    env.tx(a.brand2, "LicenseToken", "topUpEscrow", license_id, USDC)
    result = env.settle(seller_item)
    assert env.skips(result) == []
    [event] = settled(env, result)
    assert (event["firstSeq"], event["count"], event["amount"], event["payer"]) == (0, 5, 5 * FEE, a.brand.address)
    assert env.call("LicenseToken", "handover", license_id) == (a.brand.address, at, ESCROW - 5 * FEE)
    assert env.state(license_id).escrow == USDC  # the buyer's escrow is untouched
    assert env.state(license_id).uses_settled == 5
    assert env.call("LicenseToken", "undistributed", twin) == 5 * FEE
    env.conserved()


def test_uses_the_buyer_signs_are_paid_from_the_buyers_escrow(env, a, sold):
    license_id, at, seller_item = sold
    paid(env, seller_item)
    env.fund(a.brand2, USDC)
    env.tx(a.brand2, "LicenseToken", "topUpEscrow", license_id, USDC)
    result = env.settle(env.signed_item(license_id, 5, 2, signer=a.brand2))
    [event] = settled(env, result)
    assert (event["firstSeq"], event["count"], event["payer"]) == (5, 2, a.brand2.address)
    assert env.state(license_id).escrow == USDC - 2 * FEE
    assert env.call("LicenseToken", "handover", license_id) == (a.brand.address, at, ESCROW - 5 * FEE)
    env.conserved()


def test_a_buyer_without_escrow_is_not_paid_for_by_the_seller(env, a, sold):
    license_id, at, seller_item = sold
    paid(env, seller_item)
    before = env.digest()
    result = env.settle(env.signed_item(license_id, 5, 1, signer=a.brand2))
    assert env.skips(result) == [(license_id, 5, 1, INSUFFICIENT_ESCROW)]
    assert env.digest() == before, "a skipped item changed the state"


def test_a_seller_short_of_escrow_is_not_paid_for_by_the_buyer(env, a, twin):
    offer = env.publish(a.model, twin, Terms(transferable=True))
    license_id = env.buy(a.brand, offer, 2 * FEE)
    seller_item = env.signed_item(license_id, 0, 3, signer=a.brand)  # three uses, escrow for two
    env.tx(a.brand, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, license_id)
    env.fund(a.brand2, 5 * USDC)
    env.tx(a.brand2, "LicenseToken", "topUpEscrow", license_id, 5 * USDC)
    result = env.settle(seller_item)
    # Her escrow never will pay it: voided (test_handover_void.py), so the buyer's uses after it go on.
    assert env.events(result, "LicenseToken", "UsesVoided") == [
        {"licenseId": license_id, "firstSeq": 0, "count": 3, "reason": INSUFFICIENT_ESCROW}]
    assert settled(env, result) == []
    assert env.state(license_id).escrow == 5 * USDC
    assert env.call("LicenseToken", "handover", license_id)[2] == 2 * FEE


def test_signatures_on_the_wrong_side_of_the_handover_are_not_the_holders(env, a, sold):
    license_id, at, seller_item = sold
    before = env.digest()
    late_seller = env.signed_item(license_id, 0, 5, signer=a.brand, used_at=at + 10)  # she sold it at `at`
    early_buyer = env.signed_item(license_id, 0, 5, signer=a.brand2, used_at=at - 10)  # he did not hold it yet
    stranger = env.signed_item(license_id, 0, 5, signer=a.stranger, used_at=at - 10)
    result = env.settle(early_buyer, stranger)
    assert env.skips(result) == [(license_id, 0, 5, NOT_HOLDER)] * 2
    assert env.digest() == before, "a skipped item changed the state"
    # The seller's late report is not hers to pay either, and is voided rather than left to block the buyer
    # (test_handover_void.py).
    result = env.settle(late_seller)
    assert env.skips(result) == [] and settled(env, result) == []
    assert len(env.events(result, "LicenseToken", "UsesVoided")) == 1


def test_the_seller_reclaims_what_is_left_after_the_grace(env, a, sold):
    license_id, at, seller_item = sold
    paid(env, seller_item)
    left = ESCROW - 5 * FEE
    for caller in (a.brand2, a.stranger, a.model):
        env.refused(caller, "LicenseToken", "reclaimSellerEscrow", license_id,
                    error="LicenseTokenNotSeller", error_args=(license_id, caller.address))
    env.refused(a.brand, "LicenseToken", "reclaimSellerEscrow", license_id,
                error="LicenseTokenInGrace", error_args=(license_id, at + GRACE))
    mine_at(env, at + GRACE + 1)
    result = env.tx(a.brand, "LicenseToken", "reclaimSellerEscrow", license_id)
    assert env.event(result, "LicenseToken", "SellerEscrowReclaimed") == {
        "licenseId": license_id, "seller": a.brand.address, "amount": left}
    assert env.balance(a.brand) == left
    assert env.call("LicenseToken", "handover", license_id) == (a.brand.address, at, 0)
    assert env.call("LicenseToken", "totalEscrow") == 0
    env.conserved()


def test_a_licence_never_handed_over_has_no_seller(env, a, license):
    env.refused(a.brand, "LicenseToken", "reclaimSellerEscrow", license,
                error="LicenseTokenNotSeller", error_args=(license, a.brand.address))
    assert env.call("LicenseToken", "handover", license) == ("0x" + "00" * 20, 0, 0)


def test_no_second_sale_while_the_sellers_escrow_is_open(env, a, sold):
    license_id, at, _ = sold
    env.refused(a.brand2, "LicenseToken", "transferFrom", a.brand2.address, a.stranger.address, license_id,
                error="LicenseTokenHandoverOpen", error_args=(license_id, a.brand.address, at + GRACE))
    mine_at(env, at + GRACE + 1)
    env.tx(a.brand, "LicenseToken", "reclaimSellerEscrow", license_id)
    env.fund(a.brand2, USDC)
    env.tx(a.brand2, "LicenseToken", "topUpEscrow", license_id, USDC)
    result = env.tx(a.brand2, "LicenseToken", "transferFrom", a.brand2.address, a.stranger.address, license_id)
    second = env.block_time(result)
    assert env.call("LicenseToken", "handover", license_id) == (a.brand2.address, second, USDC)
    assert env.state(license_id).escrow == 0
    env.conserved()


def test_a_seller_escrow_spent_to_zero_lets_the_licence_move_on(env, a, twin):
    offer = env.publish(a.model, twin, Terms(transferable=True))
    license_id = env.buy(a.brand, offer, 3 * FEE)
    seller_item = env.signed_item(license_id, 0, 3, signer=a.brand)
    env.tx(a.brand, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, license_id)
    paid(env, seller_item)
    assert env.call("LicenseToken", "handover", license_id)[2] == 0
    env.tx(a.brand2, "LicenseToken", "transferFrom", a.brand2.address, a.stranger.address, license_id)
    assert env.call("LicenseToken", "ownerOf", license_id) == a.stranger.address
    env.conserved()


def test_a_licence_sold_without_escrow_moves_on_at_once(env, a, twin):
    offer = env.publish(a.model, twin, Terms(transferable=True))
    license_id = env.buy(a.brand, offer, 0)
    result = env.tx(a.brand, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, license_id)
    assert env.event(result, "LicenseToken", "LicenseHandedOver")["sellerEscrow"] == 0
    env.tx(a.brand2, "LicenseToken", "transferFrom", a.brand2.address, a.brand.address, license_id)
    assert env.call("LicenseToken", "ownerOf", license_id) == a.brand.address


def test_the_unvested_upfront_stays_with_the_licence(env, a, twin, sold):
    license_id, at, _ = sold
    result = env.tx(a.model, "TwinRegistry", "revokeConsent", twin)
    effective = env.block_time(result) + NOTICE
    mine_at(env, effective + 1)
    env.refused(a.brand, "LicenseToken", "reclaimUnvested", license_id,
                error="LicenseTokenNotHolder", error_args=(license_id, a.brand.address))
    started = env.terms(license_id).started_at
    upfront, duration = Terms().upfront_fee, Terms().duration
    result = env.tx(a.brand2, "LicenseToken", "reclaimUnvested", license_id)
    refund = upfront - upfront * (effective - started) // duration
    assert env.event(result, "LicenseToken", "UpfrontRefunded") == {
        "licenseId": license_id, "to": a.brand2.address, "amount": refund}
    env.conserved()
