"""The admin's emergency pause: stops purchases, top-ups and settlements, never withdrawals; a reclaim waits only
while the pause keeps the recorder from settling uses signed in time (issue 11: paused time does not count as
grace)."""

import pytest

from kit.signed_items import GRACE, mine_at, paid
from kit.twin_env import ADMIN_ROLE, DAY, GAS, USDC, Terms, item


@pytest.fixture
def paused(env, a, license):
    paid(env, item(license, 0, 2))
    result = env.tx(a.admin, "LicenseToken", "pause")
    assert env.event(result, "LicenseToken", "Paused") == {"account": a.admin.address}
    assert env.call("LicenseToken", "paused") is True
    return license


def test_only_the_admin_pauses_and_unpauses(env, a):
    for caller in (a.guild, a.recorder, a.model, a.brand):
        env.refused(caller, "LicenseToken", "pause",
                    error="AccessControlUnauthorizedAccount", error_args=(caller.address, ADMIN_ROLE))
    env.tx(a.admin, "LicenseToken", "pause")
    for caller in (a.guild, a.recorder):
        env.refused(caller, "LicenseToken", "unpause",
                    error="AccessControlUnauthorizedAccount", error_args=(caller.address, ADMIN_ROLE))
    assert env.call("LicenseToken", "paused") is True


def test_pause_and_unpause_cannot_be_repeated(env, a):
    env.refused(a.admin, "LicenseToken", "unpause", error="ExpectedPause")
    env.tx(a.admin, "LicenseToken", "pause")
    env.refused(a.admin, "LicenseToken", "pause", error="EnforcedPause")


def test_pause_blocks_purchases_top_ups_and_settlements(env, a, offer, paused):
    license = paused
    env.fund(a.brand2, 10 * USDC)
    env.refused(a.brand2, "LicenseToken", "buyLicense", offer, USDC, error="EnforcedPause")
    deadline = env.now() + 3600
    v, r, s = env.permit(a.brand2, Terms().upfront_fee + USDC, deadline)
    env.refused(a.brand2, "LicenseToken", "buyLicenseWithPermit", offer, USDC, deadline, v, r, s, error="EnforcedPause")
    env.refused(a.brand2, "LicenseToken", "topUpEscrow", license, USDC, error="EnforcedPause")
    env.refused(a.recorder, "LicenseToken", "settle", [item(license, 2, 1)], error="EnforcedPause")


def test_pause_never_blocks_withdrawals(env, a, paused):
    owed = env.claimable(a.model)
    assert owed > 0
    env.tx(a.model, "LicenseToken", "withdraw")
    assert env.balance(a.model) == owed
    env.conserved()


def test_pause_never_blocks_a_reclaim_whose_grace_ended_before_it(env, a, license):
    paid(env, item(license, 0, 2))
    escrow = env.state(license).escrow
    expiry = env.state(license).expiry
    mine_at(env, expiry + GRACE + 1)
    env.tx(a.admin, "LicenseToken", "pause")
    env.advance(DAY)
    env.tx(a.brand, "LicenseToken", "reclaimEscrow", license)
    assert env.balance(a.brand) == escrow
    env.conserved()


def test_a_pause_across_the_grace_holds_the_reclaim_until_the_recorder_had_its_time(env, a, paused):
    license = paused
    expiry = env.state(license).expiry
    mine_at(env, expiry + GRACE + DAY)  # paused since before the end: none of the grace has run
    assert env.call("LicenseToken", "graceEndsAt", license) == expiry + 2 * GRACE + DAY
    env.next_block_at(expiry + GRACE + DAY + 1)
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license, gas=GAS,
                error="LicenseTokenInGrace", error_args=(license, expiry + 2 * GRACE + DAY + 1))
    unpaused = expiry + GRACE + 2 * DAY
    env.next_block_at(unpaused)
    env.tx(a.admin, "LicenseToken", "unpause", gas=GAS)
    assert env.call("LicenseToken", "graceEndsAt", license) == unpaused + GRACE
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenInGrace", error_args=(license, unpaused + GRACE))
    mine_at(env, unpaused + GRACE + 1)
    escrow = env.state(license).escrow
    env.tx(a.brand, "LicenseToken", "reclaimEscrow", license)
    assert env.balance(a.brand) == escrow


def test_unpause_resumes_business(env, a, offer, paused):
    license = paused
    result = env.tx(a.admin, "LicenseToken", "unpause")
    assert env.event(result, "LicenseToken", "Unpaused") == {"account": a.admin.address}
    paid(env, item(license, 2, 1))
    env.buy(a.brand2, offer, USDC)
    assert env.call("LicenseToken", "licenseCount") == 2
