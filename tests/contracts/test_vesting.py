"""Issue 11, the upfront fee vests: it is held as unvested at purchase, vests linearly over the licence's term
(floor(upfront * elapsed / duration), elapsed counted up to the licence's end), payees claim only what vested, and
when a licence ends early (a revocation took effect, an idle exclusive licence was ended) its holder takes back
exactly the rest."""

import pytest

from kit.signed_items import GRACE, SIGNED_AFTER_END, mine_at
from kit.twin_env import DAY, EXCLUSIVITY_MINIMUM, GAS, IDLE, NOTICE, SOCIAL, EU, USDC, Terms

UPFRONT = 1_000_003  # not a multiple of 4: the quarters round down
TERM = 30 * DAY
MODEL_SHARE, AGENCY_SHARE = 8_000, 2_000  # the `twin` fixture's shares


def vested_at(upfront, started, duration, t):
    """The contract's rule: linear in whole seconds, rounded down."""
    return upfront * (t - started) // duration


def split(amount):
    """(model, agency) parts of `amount` for the `twin` fixture: the agency rounds down, the model keeps the rest."""
    agency = amount * AGENCY_SHARE // 10_000
    return amount - agency, agency


@pytest.fixture
def bought(env, a, twin):
    """A licence with an upfront fee of 1.000003 tUSDC over 30 days and 1 tUSDC of escrow; (id, started)."""
    offer = env.publish(a.model, twin, Terms(upfront_fee=UPFRONT, duration=TERM))
    license_id = env.buy(a.brand, offer, USDC)
    return license_id, env.terms(license_id).started_at


def test_the_upfront_fee_is_unvested_at_purchase(env, a, twin, bought):
    license_id, _ = bought
    assert env.call("LicenseToken", "totalUnvested") == UPFRONT
    assert env.call("LicenseToken", "totalOwed") == 0
    assert env.call("LicenseToken", "totalEscrow") == USDC
    assert env.call("LicenseToken", "undistributed", twin) == 0
    assert env.claimable(a.model) == env.claimable(a.agency) == 0
    assert env.call("LicenseToken", "vesting", license_id)[:3] == (UPFRONT, 0, 0)
    env.conserved()
    # Payees cannot take unvested money, by either way of withdrawing.
    env.refused(a.model, "LicenseToken", "withdraw", error="LicenseTokenNothingToWithdraw", error_args=(a.model.address,))
    env.refused(a.model, "LicenseToken", "withdrawFrom", [twin],
                error="LicenseTokenNothingToWithdraw", error_args=(a.model.address,))
    # Two seconds vest floor(2 * 1 000 003 / 2 592 000) = 0: still nothing to withdraw.
    env.next_block_at(env.terms(license_id).started_at + 2)
    env.refused(a.model, "LicenseToken", "withdrawVested", [license_id], gas=GAS,
                error="LicenseTokenNothingToWithdraw", error_args=(a.model.address,))


def test_vesting_is_linear_with_exact_amounts_at_a_quarter_a_half_and_the_end(env, a, twin, bought):
    license_id, started = bought
    released = 0
    for fraction, expected in ((4, 250_000), (2, 500_001), (1, UPFRONT)):  # floor(1 000 003 / 4), / 2, all
        t = started + TERM // fraction
        assert vested_at(UPFRONT, started, TERM, t) == expected
        mine_at(env, t - 1)
        assert env.call("LicenseToken", "vesting", license_id)[1] == vested_at(UPFRONT, started, TERM, t - 1)
        env.next_block_at(t)
        result = env.tx(a.stranger, "LicenseToken", "vest", [license_id], gas=GAS)  # anyone may vest
        assert env.event(result, "LicenseToken", "UpfrontVested") == {
            "licenseId": license_id, "twinId": twin, "amount": expected - released}
        released = expected
        assert env.call("LicenseToken", "vesting", license_id)[:3] == (UPFRONT, expected, expected)
        assert env.call("LicenseToken", "totalUnvested") == UPFRONT - expected
        assert env.call("LicenseToken", "totalOwed") == expected
        assert env.call("LicenseToken", "undistributed", twin) == expected
        env.conserved()
    # Vesting stops at the end: nothing more, however late.
    env.advance(10 * DAY)
    assert env.call("LicenseToken", "vesting", license_id)[:3] == (UPFRONT, UPFRONT, UPFRONT)
    before = env.digest()
    result = env.tx(a.stranger, "LicenseToken", "vest", [license_id])
    assert env.events(result, "LicenseToken", "UpfrontVested") == []
    assert env.digest() == before, "a skipped item changed the state"
    assert env.claimable(a.model) + env.claimable(a.agency) == UPFRONT


def test_payees_withdraw_only_the_vested_part(env, a, twin, bought):
    license_id, started = bought
    half = started + TERM // 2
    env.next_block_at(half)
    result = env.tx(a.model, "LicenseToken", "withdrawVested", [license_id], gas=GAS)
    vested = vested_at(UPFRONT, started, TERM, half)
    model_part, agency_part = split(vested)
    assert env.event(result, "LicenseToken", "UpfrontVested")["amount"] == vested
    assert env.event(result, "LicenseToken", "Withdrawn") == {"payee": a.model.address, "amount": model_part}
    assert env.balance(a.model) == model_part
    assert env.claimable(a.agency) == agency_part
    assert env.call("LicenseToken", "totalUnvested") == UPFRONT - vested
    env.conserved()
    # The model's part is paid; `withdraw` alone vests nothing more.
    env.refused(a.model, "LicenseToken", "withdraw", error="LicenseTokenNothingToWithdraw", error_args=(a.model.address,))
    env.tx(a.agency, "LicenseToken", "withdraw")
    assert env.balance(a.agency) == agency_part


def test_vest_refuses_an_unknown_licence_and_does_nothing_when_nothing_is_new(env, a, bought):
    license_id, started = bought
    env.refused(a.stranger, "LicenseToken", "vest", [license_id, 99],
                error="LicenseTokenUnknownLicense", error_args=(99,))
    env.refused(a.model, "LicenseToken", "withdrawVested", [0],
                error="LicenseTokenUnknownLicense", error_args=(0,))
    env.next_block_at(started + DAY)
    result = env.tx(a.stranger, "LicenseToken", "vest", [license_id, license_id], gas=GAS)
    # Named twice: the second finds nothing new to vest in the same block.
    assert [e["amount"] for e in env.events(result, "LicenseToken", "UpfrontVested")] == [UPFRONT // 30]
    env.next_block_at(started + DAY + 1)  # one more second vests floor(86 401 * 1 000 003 / 2 592 000) - 33 333 = 0
    before = env.digest()
    result = env.tx(a.stranger, "LicenseToken", "vest", [license_id], gas=GAS)
    assert env.events(result, "LicenseToken", "UpfrontVested") == []
    assert env.digest() == before, "a skipped item changed the state"
    env.next_block_at(started + 2 * DAY)
    result = env.tx(a.stranger, "LicenseToken", "vest", [license_id], gas=GAS)
    assert [e["amount"] for e in env.events(result, "LicenseToken", "UpfrontVested")] == [
        vested_at(UPFRONT, started, TERM, started + 2 * DAY) - UPFRONT // 30]
    env.conserved()


# ---------------------------------------------------------------------------------------------- refunds


@pytest.fixture
def revoked(env, a, twin, bought):
    """The model revokes consent 5 days into the licence; it takes effect 72 h later. (id, started, effective)."""
    license_id, started = bought
    mine_at(env, started + 5 * DAY - 1)
    env.next_block_at(started + 5 * DAY)
    env.tx(a.model, "TwinRegistry", "revokeConsent", twin, gas=GAS)
    return license_id, started, started + 5 * DAY + NOTICE


def test_revocation_refunds_exactly_the_unvested_part_and_the_payees_keep_the_vested(env, a, twin, revoked):
    license_id, started, effective = revoked
    vested = vested_at(UPFRONT, started, TERM, effective)  # 8 days of 30
    assert vested == UPFRONT * 8 // 30
    env.refused(a.brand, "LicenseToken", "reclaimUnvested", license_id,
                error="LicenseTokenNotEnded", error_args=(license_id, effective))
    mine_at(env, effective + 3 * DAY)  # vesting stopped at the effective time
    assert env.call("LicenseToken", "vesting", license_id) == (UPFRONT, vested, 0, UPFRONT - vested)
    env.refused(a.stranger, "LicenseToken", "reclaimUnvested", license_id,
                error="LicenseTokenNotHolder", error_args=(license_id, a.stranger.address))
    env.refused(a.model, "LicenseToken", "reclaimUnvested", license_id,
                error="LicenseTokenNotHolder", error_args=(license_id, a.model.address))

    result = env.tx(a.brand, "LicenseToken", "reclaimUnvested", license_id)
    assert env.event(result, "LicenseToken", "UpfrontRefunded") == {
        "licenseId": license_id, "to": a.brand.address, "amount": UPFRONT - vested}
    assert env.balance(a.brand) == UPFRONT - vested
    assert env.call("LicenseToken", "vesting", license_id) == (UPFRONT, vested, vested, 0)
    assert env.call("LicenseToken", "totalUnvested") == 0
    env.refused(a.brand, "LicenseToken", "reclaimUnvested", license_id,
                error="LicenseTokenNothingToRefund", error_args=(license_id,))

    # The payees keep exactly the vested part; nothing is lost.
    env.tx(a.model, "LicenseToken", "withdraw")
    env.tx(a.agency, "LicenseToken", "withdraw")
    assert (env.balance(a.model), env.balance(a.agency)) == split(vested)
    assert env.balance(a.model) + env.balance(a.agency) + env.balance(a.brand) == UPFRONT
    env.conserved()


def test_payees_who_vested_before_the_revocation_keep_it_and_the_refund_is_the_rest(env, a, twin, revoked):
    license_id, started, effective = revoked
    env.next_block_at(effective - DAY)
    env.tx(a.model, "LicenseToken", "withdrawVested", [license_id], gas=GAS)
    early = vested_at(UPFRONT, started, TERM, effective - DAY)
    assert env.balance(a.model) == split(early)[0]
    mine_at(env, effective + 1)
    result = env.tx(a.brand, "LicenseToken", "reclaimUnvested", license_id)
    vested = vested_at(UPFRONT, started, TERM, effective)
    assert env.event(result, "LicenseToken", "UpfrontRefunded")["amount"] == UPFRONT - vested
    # The day between the withdrawal and the effective time vested to the twin by the refund.
    assert sum(e["amount"] for e in env.events(result, "LicenseToken", "UpfrontVested")) == vested - early
    env.tx(a.model, "LicenseToken", "withdraw")
    env.tx(a.agency, "LicenseToken", "withdraw")
    assert env.balance(a.model) + env.balance(a.agency) == vested
    assert env.balance(a.model) + env.balance(a.agency) + env.balance(a.brand) == UPFRONT
    env.conserved()


def test_granting_consent_again_does_not_revive_an_ended_licence(env, a, twin, revoked):
    license_id, started, effective = revoked
    mine_at(env, effective + DAY)
    env.tx(a.model, "TwinRegistry", "grantConsent", twin, b"\x0a" * 32)
    assert env.call("LicenseToken", "licenseEnd", license_id) == effective
    env.advance(5 * DAY)
    vested = vested_at(UPFRONT, started, TERM, effective)
    assert env.call("LicenseToken", "vesting", license_id)[:2] == (UPFRONT, vested)  # no more vesting
    result = env.settle(env.signed_item(license_id, 0, 1))  # signed now, after the end
    assert env.skips(result) == [(license_id, 0, 1, SIGNED_AFTER_END)]
    result = env.tx(a.brand, "LicenseToken", "reclaimUnvested", license_id)
    assert env.event(result, "LicenseToken", "UpfrontRefunded")["amount"] == UPFRONT - vested


def test_a_revocation_cancelled_before_it_took_effect_ends_nothing(env, a, twin, revoked):
    license_id, started, effective = revoked
    mine_at(env, effective - 10)
    env.tx(a.model, "TwinRegistry", "grantConsent", twin, b"\x0b" * 32)
    expiry = env.state(license_id).expiry
    assert env.call("LicenseToken", "licenseEnd", license_id) == expiry
    mine_at(env, effective + DAY)
    env.refused(a.brand, "LicenseToken", "reclaimUnvested", license_id,
                error="LicenseTokenNotEnded", error_args=(license_id, expiry))


def test_a_licence_run_to_its_term_has_nothing_to_refund(env, a, bought):
    license_id, started = bought
    expiry = env.state(license_id).expiry
    env.refused(a.brand, "LicenseToken", "reclaimUnvested", license_id,
                error="LicenseTokenNotEnded", error_args=(license_id, expiry))
    mine_at(env, expiry + 1)
    env.refused(a.brand, "LicenseToken", "reclaimUnvested", license_id,
                error="LicenseTokenNothingToRefund", error_args=(license_id,))
    env.refused(a.brand, "LicenseToken", "reclaimUnvested", 42, error="LicenseTokenUnknownLicense", error_args=(42,))


def test_an_idle_exclusive_licence_ended_by_the_model_refunds_the_rest_of_its_term(env, a, twin):
    terms = Terms(upfront_fee=EXCLUSIVITY_MINIMUM, categories=SOCIAL, territories=EU, duration=TERM,
                  exclusive=True, idle_end_after=IDLE)
    license_id = env.buy(a.brand, env.publish(a.model, twin, terms), 0)
    started = env.terms(license_id).started_at
    ended = started + IDLE + 3600
    env.next_block_at(ended)
    env.tx(a.model, "LicenseToken", "endIdleExclusive", license_id, gas=GAS)
    assert env.call("LicenseToken", "licenseEnd", license_id) == ended
    vested = vested_at(EXCLUSIVITY_MINIMUM, started, TERM, ended)
    mine_at(env, ended + DAY)
    assert env.call("LicenseToken", "vesting", license_id) == (EXCLUSIVITY_MINIMUM, vested, 0, EXCLUSIVITY_MINIMUM - vested)
    result = env.tx(a.brand, "LicenseToken", "reclaimUnvested", license_id)
    assert env.event(result, "LicenseToken", "UpfrontRefunded")["amount"] == EXCLUSIVITY_MINIMUM - vested
    env.tx(a.model, "LicenseToken", "withdraw")
    env.tx(a.agency, "LicenseToken", "withdraw")
    assert env.balance(a.model) + env.balance(a.agency) == vested
    assert env.balance(a.brand) == EXCLUSIVITY_MINIMUM - vested
    env.conserved()


def test_revoking_every_category_of_a_licence_refunds_it_like_a_whole_revocation(env, a, twin):
    """Issue 11's attack 3 through categories: a model who sells a licence and then revokes each of its categories
    (instead of the whole twin) must not keep the upfront fee for a term the brand can no longer use. Once the last
    of its categories is withdrawn, the licence ends: the unvested part is refunded and the escrow freed after the
    grace."""
    terms = Terms(upfront_fee=UPFRONT, duration=TERM, categories=SOCIAL)
    license_id = env.buy(a.brand, env.publish(a.model, twin, terms), USDC)
    started = env.terms(license_id).started_at
    env.next_block_at(started + DAY)
    env.tx(a.model, "TwinRegistry", "revokeCategoryConsent", twin, 1, gas=GAS)  # social, its only category
    effective = started + DAY + NOTICE
    assert env.call("LicenseToken", "licenseEnd", license_id) == effective
    mine_at(env, effective + 1)
    vested = vested_at(UPFRONT, started, TERM, effective)
    result = env.tx(a.brand, "LicenseToken", "reclaimUnvested", license_id)
    assert env.event(result, "LicenseToken", "UpfrontRefunded")["amount"] == UPFRONT - vested
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license_id,
                error="LicenseTokenInGrace", error_args=(license_id, effective + GRACE))
    mine_at(env, effective + GRACE)
    env.tx(a.brand, "LicenseToken", "reclaimEscrow", license_id)
    assert env.balance(a.brand) == UPFRONT - vested + USDC
    env.conserved()
