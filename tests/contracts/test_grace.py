"""Issue 11, grace after the end: uses the holder signed before a licence's end (expiry, an idle-exclusive end, a
revocation's effective time, a category's) stay payable for the grace period after it, time spent paused not
counting; the escrow comes back only once the grace is over; the admin sets the grace, at most 90 days."""

from kit.signed_items import GRACE, GRACE_OVER, SIGNED_AFTER_END, mine_at, paid, settled
from kit.twin_env import ADMIN_ROLE, DAY, ECOMMERCE, GAS, NOTICE, SOCIAL, USDC, Terms

HOUR = 3600
FEE = Terms().per_use_fee
MAX_GRACE = 90 * DAY
SOCIAL_BIT = 1


def expiry_of(env, license_id):
    return env.state(license_id).expiry


# ---------------------------------------------------------------------------------------------- expiry


def test_a_report_signed_a_second_before_expiry_settles_an_hour_after(env, a, twin, license):
    expiry = expiry_of(env, license)
    assert env.call("LicenseToken", "gracePeriod") == GRACE == 604_800
    assert env.call("LicenseToken", "licenseEnd", license) == expiry
    assert env.call("LicenseToken", "graceEndsAt", license) == expiry + GRACE
    items = env.signed_item(license, 0, 3, used_at=expiry - 1)
    env.next_block_at(expiry + HOUR)
    result = env.settle(items, gas=GAS)
    assert env.skips(result) == []
    [event] = settled(env, result)
    assert (event["licenseId"], event["firstSeq"], event["count"], event["amount"]) == (license, 0, 3, 3 * FEE)
    assert event["payer"] == a.brand.address
    state = env.state(license)
    assert (state.escrow, state.uses_settled) == (USDC - 3 * FEE, 3)
    assert env.call("LicenseToken", "undistributed", twin) == 3 * FEE
    env.conserved()


def test_the_last_second_of_grace_settles_and_the_next_is_grace_over(env, a, license):
    expiry = expiry_of(env, license)
    late = env.signed_item(license, 0, 1, used_at=expiry - 60)
    env.next_block_at(expiry + GRACE - 1)
    paid(env, late, gas=GAS)
    assert env.state(license).uses_settled == 1
    after = env.signed_item(license, 1, 1, used_at=expiry - 30)
    before = env.digest()
    env.next_block_at(expiry + GRACE + 1)
    result = env.settle(after, gas=GAS)
    assert env.skips(result) == [(license, 1, 1, GRACE_OVER)]
    assert settled(env, result) == []
    assert env.digest() == before, "a skipped item changed the state"


def test_settling_after_the_grace_is_skipped_and_the_rest_of_the_batch_settles(env, a, offer, license):
    expiry = expiry_of(env, license)
    env.advance(expiry + GRACE + HOUR - env.now())
    other = env.buy(a.brand2, offer, USDC)  # bought now: live
    stale = env.signed_item(license, 0, 2, used_at=expiry - 1)
    fresh = env.signed_item(other, 0, 2)
    result = env.settle(stale, fresh)
    assert env.skips(result) == [(license, 0, 2, GRACE_OVER)]
    assert [e["licenseId"] for e in settled(env, result)] == [other]
    assert env.state(license).uses_settled == 0
    assert env.state(license).escrow == USDC
    assert env.state(other).uses_settled == 2


def test_a_report_signed_at_or_after_the_end_is_skipped(env, a, license):
    expiry = expiry_of(env, license)
    before = env.digest()
    for used_at in (expiry, expiry + 5):
        item = env.signed_item(license, 0, 1, used_at=used_at)
        env.next_block_at(max(env.now() + 1, used_at + 1))
        result = env.settle(item, gas=GAS)
        assert env.skips(result) == [(license, 0, 1, SIGNED_AFTER_END)]
    assert env.digest() == before, "a skipped item changed the state"


# ---------------------------------------------------------------------------------------------- pause


def pause_between(env, a, start, end):
    env.next_block_at(start)
    env.tx(a.admin, "LicenseToken", "pause", gas=GAS)
    env.next_block_at(end)
    env.tx(a.admin, "LicenseToken", "unpause", gas=GAS)


def test_a_pause_inside_grace_extends_it_by_the_paused_time(env, a, license):
    expiry = expiry_of(env, license)
    pause_between(env, a, expiry + DAY, expiry + 3 * DAY)  # paused two days inside the grace
    assert env.call("LicenseToken", "graceEndsAt", license) == expiry + GRACE + 2 * DAY
    first = env.signed_item(license, 0, 1, used_at=expiry - 1)
    env.next_block_at(expiry + GRACE + 1)  # past the unpaused grace
    result = env.settle(first, gas=GAS)
    assert env.skips(result) == []
    assert env.state(license).uses_settled == 1
    second = env.signed_item(license, 1, 1, used_at=expiry - 1)
    env.next_block_at(expiry + GRACE + 2 * DAY + 1)
    result = env.settle(second, gas=GAS)
    assert env.skips(result) == [(license, 1, 1, GRACE_OVER)]


def test_a_pause_across_expiry_counts_only_after_the_end(env, a, license):
    expiry = expiry_of(env, license)
    pause_between(env, a, expiry - DAY, expiry + DAY)  # one of its two days after the end
    assert env.call("LicenseToken", "graceEndsAt", license) == expiry + GRACE + DAY
    item = env.signed_item(license, 0, 2, used_at=expiry - DAY - 1)
    env.next_block_at(expiry + GRACE + DAY - 1)
    result = env.settle(item, gas=GAS)
    assert env.skips(result) == []
    assert env.state(license).uses_settled == 2
    # The escrow waits for the extended grace.
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenInGrace", error_args=(license, expiry + GRACE + DAY))
    mine_at(env, expiry + GRACE + DAY + 1)
    env.tx(a.brand, "LicenseToken", "reclaimEscrow", license)
    assert env.balance(a.brand) == USDC - 2 * FEE


def test_grace_ends_later_while_still_paused(env, a, license):
    expiry = expiry_of(env, license)
    env.next_block_at(expiry + HOUR)
    env.tx(a.admin, "LicenseToken", "pause", gas=GAS)
    mine_at(env, expiry + HOUR + 3 * DAY)
    assert env.call("LicenseToken", "graceEndsAt", license) == expiry + GRACE + 3 * DAY
    # The brand cannot take back escrow owed for signed uses while the recorder is kept from settling them: not
    # even past the grace it would have had unpaused.
    env.next_block_at(expiry + GRACE + 1)
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license, gas=GAS,
                error="LicenseTokenInGrace", error_args=(license, expiry + 2 * GRACE + 1 - HOUR))


# ---------------------------------------------------------------------------------------------- reclaim


def test_reclaim_waits_for_the_end_of_grace(env, a, license):
    expiry = expiry_of(env, license)
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenStillActive", error_args=(license, expiry))
    mine_at(env, expiry + 1)
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenInGrace", error_args=(license, expiry + GRACE))
    mine_at(env, expiry + GRACE - 10)
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenInGrace", error_args=(license, expiry + GRACE))
    mine_at(env, expiry + GRACE + 1)
    result = env.tx(a.brand, "LicenseToken", "reclaimEscrow", license)
    assert env.event(result, "LicenseToken", "EscrowReclaimed") == {
        "licenseId": license, "to": a.brand.address, "amount": USDC}
    env.conserved()


def test_settle_and_reclaim_never_both_possible_at_the_end_of_grace(env, a, license):
    """At the grace's last instant either the recorder may still settle or the brand may reclaim, never both."""
    expiry = expiry_of(env, license)
    item = env.signed_item(license, 0, 1, used_at=expiry - 1)
    ends = expiry + GRACE
    snapshot = env.chain.rpc("evm_snapshot")
    env.next_block_at(ends)
    could_settle = env.skips(env.settle(item, gas=GAS)) == []
    assert env.chain.rpc("evm_revert", [snapshot])
    env.next_block_at(ends)
    try:
        env.tx(a.brand, "LicenseToken", "reclaimEscrow", license, gas=GAS)
        could_reclaim = True
    except Exception:
        could_reclaim = False
    assert could_settle != could_reclaim, (could_settle, could_reclaim)


# ---------------------------------------------------------------------------------------------- revocations


def test_a_revocation_ends_the_licence_at_its_effective_time_with_the_same_grace(env, a, twin, license):
    result = env.tx(a.model, "TwinRegistry", "revokeConsent", twin)
    effective = env.block_time(result) + NOTICE
    assert env.call("LicenseToken", "licenseEnd", license) == effective
    assert env.call("LicenseToken", "graceEndsAt", license) == effective + GRACE
    in_time = env.signed_item(license, 0, 2, used_at=effective - 1)
    env.next_block_at(effective + HOUR)
    result = env.settle(in_time, gas=GAS)
    assert env.skips(result) == []
    assert env.state(license).uses_settled == 2
    late = env.signed_item(license, 2, 1, used_at=effective)
    result = env.settle(late)
    assert env.skips(result) == [(license, 2, 1, SIGNED_AFTER_END)]
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenInGrace", error_args=(license, effective + GRACE))
    stale = env.signed_item(license, 2, 1, used_at=effective - 1)
    env.next_block_at(effective + GRACE + 1)
    result = env.settle(stale, gas=GAS)
    assert env.skips(result) == [(license, 2, 1, GRACE_OVER)]
    env.tx(a.brand, "LicenseToken", "reclaimEscrow", license)
    assert env.balance(a.brand) == USDC - 2 * FEE
    env.conserved()


def test_a_category_revocation_gives_its_uses_the_same_grace(env, a, twin, license):
    result = env.tx(a.model, "TwinRegistry", "revokeCategoryConsent", twin, SOCIAL_BIT)
    effective = env.block_time(result) + NOTICE
    assert env.call("LicenseToken", "licenseEnd", license) == expiry_of(env, license)  # e-commerce goes on
    in_time = env.signed_item(license, 0, 1, used_at=effective - 1, category=SOCIAL_BIT)
    env.next_block_at(effective + HOUR)
    assert env.skips(env.settle(in_time, gas=GAS)) == []
    # Signed after the category's effective time, with social in the mask: skipped, whatever the report's category.
    for item in (env.signed_item(license, 1, 1, used_at=effective, category=SOCIAL_BIT),
                 env.signed_item(license, 1, 1, used_at=effective + 1, category=0, categories=ECOMMERCE | SOCIAL)):
        assert env.skips(env.settle(item)) == [(license, 1, 1, SIGNED_AFTER_END)]
    stale = env.signed_item(license, 1, 1, used_at=effective - 1, category=SOCIAL_BIT)
    env.next_block_at(effective + GRACE + 1)
    assert env.skips(env.settle(stale, gas=GAS)) == [(license, 1, 1, GRACE_OVER)]
    # E-commerce uses, signed now, still settle: the licence lives on.
    assert env.skips(env.settle(env.signed_item(license, 1, 2, categories=ECOMMERCE))) == []
    assert env.state(license).uses_settled == 3
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenStillActive", error_args=(license, expiry_of(env, license)))


# ---------------------------------------------------------------------------------------------- the parameter


def test_only_the_admin_sets_the_grace_period_up_to_90_days(env, a, license):
    for caller in (a.guild, a.recorder, a.model, a.brand):
        env.refused(caller, "LicenseToken", "setGracePeriod", DAY,
                    error="AccessControlUnauthorizedAccount", error_args=(caller.address, ADMIN_ROLE))
    env.refused(a.admin, "LicenseToken", "setGracePeriod", MAX_GRACE + 1,
                error="LicenseTokenGracePeriodTooLong", error_args=(MAX_GRACE + 1, MAX_GRACE))
    assert env.call("LicenseToken", "gracePeriod") == GRACE
    result = env.tx(a.admin, "LicenseToken", "setGracePeriod", MAX_GRACE)
    assert env.event(result, "LicenseToken", "GracePeriodSet") == {"gracePeriod": MAX_GRACE}
    result = env.tx(a.admin, "LicenseToken", "setGracePeriod", DAY)
    assert env.event(result, "LicenseToken", "GracePeriodSet") == {"gracePeriod": DAY}
    assert env.call("LicenseToken", "gracePeriod") == DAY
    expiry = expiry_of(env, license)
    assert env.call("LicenseToken", "graceEndsAt", license) == expiry + DAY
    item = env.signed_item(license, 0, 1, used_at=expiry - 1)
    env.next_block_at(expiry + DAY + 1)
    assert env.skips(env.settle(item, gas=GAS)) == [(license, 0, 1, GRACE_OVER)]
    env.tx(a.brand, "LicenseToken", "reclaimEscrow", license)
    assert env.balance(a.brand) == USDC
