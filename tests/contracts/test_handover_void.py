"""A handed-over licence's seller cannot block the buyer's uses. Settlement is sequential and the seller's uses come
first: an item of hers that can never be paid (signed at or after the handover, her escrow short, her grace over)
would otherwise be skipped for good and every later use of the buyer with it, so the buyer used the twin for free.
Such an item is voided: the settled count moves past it, no money moves (`UsesVoided`). Nobody else's signature
voids anything: a buyer's or a stranger's item is skipped as before."""

import pytest

from kit.signed_items import GRACE, INSUFFICIENT_ESCROW, NOT_HOLDER, mine_at, paid, settled
from kit.twin_env import GAS, USDC, Terms

FEE = Terms().per_use_fee
ESCROW = 2 * USDC


def voided(env, result) -> list[tuple[int, int, int, int]]:
    return [(e["licenseId"], e["firstSeq"], e["count"], e["reason"])
            for e in env.events(result, "LicenseToken", "UsesVoided")]


def money(env, license_id: int, twin: int) -> tuple:
    """Everything a void must leave alone: the licence's escrow, the seller's, the twin's earnings, the totals."""
    return (env.state(license_id).escrow, env.call("LicenseToken", "handover", license_id),
            env.call("LicenseToken", "undistributed", twin), env.call("LicenseToken", "totalEscrow"),
            env.call("LicenseToken", "totalOwed"), env.balance(env.address("LicenseToken")))


@pytest.fixture
def sold(env, a, twin):
    """A transferable licence `brand` bought with 2 tUSDC escrow and sold to `brand2` at `at`; the buyer topped
    up 1 tUSDC. Returns (licence, at)."""
    offer = env.publish(a.model, twin, Terms(transferable=True))
    license_id = env.buy(a.brand, offer, ESCROW)
    at = env.now() + 60
    env.next_block_at(at)
    env.tx(a.brand, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, license_id, gas=GAS)
    env.fund(a.brand2, USDC)
    env.tx(a.brand2, "LicenseToken", "topUpEscrow", license_id, USDC)
    return license_id, at


def test_a_use_the_seller_dates_after_the_handover_is_voided_and_the_buyer_goes_on(env, a, twin, sold):
    license_id, at = sold
    paid(env, env.signed_item(license_id, 0, 3, signer=a.brand, used_at=at - 30))
    before = money(env, license_id, twin)
    # She reported use 3 dated a few seconds ahead (the intake allows clock skew) and sold the licence meanwhile.
    late = env.signed_item(license_id, 3, 1, signer=a.brand, used_at=at + 5)
    result = env.settle(late)
    assert env.skips(result) == []
    assert voided(env, result) == [(license_id, 3, 1, NOT_HOLDER)]
    assert settled(env, result) == []
    assert money(env, license_id, twin) == before, "a void moved money"
    assert env.state(license_id).uses_settled == 4
    # The buyer's next uses settle, from her escrow.
    result = paid(env, env.signed_item(license_id, 4, 2, signer=a.brand2))
    [event] = settled(env, result)
    assert (event["firstSeq"], event["count"], event["payer"]) == (4, 2, a.brand2.address)
    assert env.state(license_id).escrow == USDC - 2 * FEE
    env.conserved()


def test_the_handovers_own_second_is_the_buyers(env, a, twin, sold):
    """A seller's report stamped exactly `at` is not hers to pay (the same half-open rule as a licence's end)."""
    license_id, at = sold
    before = money(env, license_id, twin)
    result = env.settle(env.signed_item(license_id, 0, 2, signer=a.brand, used_at=at))
    assert voided(env, result) == [(license_id, 0, 2, NOT_HOLDER)]
    assert money(env, license_id, twin) == before
    # One second earlier it is hers, paid from her escrow.
    result = paid(env, env.signed_item(license_id, 2, 1, signer=a.brand, used_at=at - 1))
    assert settled(env, result)[0]["payer"] == a.brand.address
    env.conserved()


def test_nobody_but_the_seller_voids(env, a, twin, sold):
    license_id, at = sold
    before = env.digest()
    early_buyer = env.signed_item(license_id, 0, 5, signer=a.brand2, used_at=at - 10)  # before he held it
    stranger_late = env.signed_item(license_id, 0, 5, signer=a.stranger, used_at=at + 10)
    stranger_early = env.signed_item(license_id, 0, 5, signer=a.stranger, used_at=at - 10)
    model = env.signed_item(license_id, 0, 5, signer=a.model, used_at=at + 10)
    recorder = env.signed_item(license_id, 0, 5, signer=a.recorder, used_at=at + 10)
    result = env.settle(early_buyer, stranger_late, stranger_early, model, recorder)
    assert voided(env, result) == []
    assert env.skips(result) == [(license_id, 0, 5, NOT_HOLDER)] * 5
    assert env.digest() == before, "a skipped item changed the state"


def test_a_buyer_short_of_escrow_is_skipped_not_voided(env, a, twin):
    offer = env.publish(a.model, twin, Terms(transferable=True))
    license_id = env.buy(a.brand, offer, ESCROW)
    env.tx(a.brand, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, license_id)
    before = env.digest()
    result = env.settle(env.signed_item(license_id, 0, 1, signer=a.brand2))
    assert voided(env, result) == []
    assert env.skips(result) == [(license_id, 0, 1, INSUFFICIENT_ESCROW)]
    assert env.digest() == before


def test_a_seller_short_of_escrow_is_voided(env, a, twin):
    offer = env.publish(a.model, twin, Terms(transferable=True))
    license_id = env.buy(a.brand, offer, 2 * FEE)
    seller_item = env.signed_item(license_id, 0, 3, signer=a.brand)  # three uses, escrow for two
    env.tx(a.brand, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, license_id)
    env.fund(a.brand2, USDC)
    env.tx(a.brand2, "LicenseToken", "topUpEscrow", license_id, USDC)
    before = money(env, license_id, twin)
    result = env.settle(seller_item, env.signed_item(license_id, 3, 1, signer=a.brand2))
    assert voided(env, result) == [(license_id, 0, 3, INSUFFICIENT_ESCROW)]
    [event] = settled(env, result)
    assert (event["firstSeq"], event["payer"]) == (3, a.brand2.address)
    assert env.call("LicenseToken", "handover", license_id)[2] == 2 * FEE, "the void took from the seller's escrow"
    assert env.state(license_id).escrow == USDC - FEE
    assert env.call("LicenseToken", "undistributed", twin) == FEE
    assert money(env, license_id, twin)[3:] == (before[3] - FEE, before[4] + FEE, before[5])
    env.conserved()


def test_a_seller_whose_grace_ran_out_is_voided(env, a, twin, sold):
    license_id, at = sold
    seller_item = env.signed_item(license_id, 0, 2, signer=a.brand, used_at=at - 30)
    mine_at(env, at + GRACE + 1)
    before = money(env, license_id, twin)
    result = env.settle(seller_item, env.signed_item(license_id, 2, 1, signer=a.brand2))
    assert voided(env, result) == [(license_id, 0, 2, 8)]  # GraceOver
    assert settled(env, result)[0]["payer"] == a.brand2.address
    assert money(env, license_id, twin)[1] == before[1], "the seller's escrow is hers to reclaim"
    env.tx(a.brand, "LicenseToken", "reclaimSellerEscrow", license_id)
    assert env.balance(a.brand) == ESCROW
    env.conserved()


def test_a_void_needs_the_sequence_and_stays_within_max_uses(env, a, twin):
    offer = env.publish(a.model, twin, Terms(transferable=True, max_uses=3))
    license_id = env.buy(a.brand, offer, ESCROW)
    at = env.now() + 60
    env.next_block_at(at)
    env.tx(a.brand, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, license_id, gas=GAS)
    before = env.digest()
    replayed_gap = env.signed_item(license_id, 1, 1, signer=a.brand, used_at=at + 5)  # not the next number
    too_many = env.signed_item(license_id, 0, 4, signer=a.brand, used_at=at + 5)  # past maxUses
    result = env.settle(replayed_gap, too_many)
    assert voided(env, result) == []
    assert [s[3] for s in env.skips(result)] == [1, NOT_HOLDER]
    assert env.digest() == before
    # A voided item is counted once: the same item again is a sequence mismatch.
    late = env.signed_item(license_id, 0, 2, signer=a.brand, used_at=at + 5)
    assert voided(env, env.settle(late)) == [(license_id, 0, 2, NOT_HOLDER)]
    result = env.settle(late)
    assert voided(env, result) == [] and [s[3] for s in env.skips(result)] == [1]
