"""Issue 10, floors and exclusivity at purchase, idle exclusive licences, locked licences (ERC-5192).

Buying refuses an offer below today's floors; an exclusive offer costs at least the guild's exclusivity minimum
upfront (at publication and purchase); the model ends an exclusive licence left unused for the idle period she
stated; non-transferable licences are locked and cannot be approved."""

import pytest

from kit.signed_items import GRACE, SIGNED_AFTER_END, mine_at, paid
from kit.twin_env import (
    DAY,
    ECOMMERCE,
    EU,
    EXCLUSIVITY_MINIMUM,
    GAS,
    GUILD_ROLE,
    IDLE,
    PRINT,
    SOCIAL,
    US,
    USDC,
    ZERO_ADDRESS,
    Terms,
    item,
)

ERC5192_ID = bytes.fromhex("b45a3c0e")
EXCLUSIVE = Terms(upfront_fee=EXCLUSIVITY_MINIMUM, categories=SOCIAL, territories=EU, exclusive=True, idle_end_after=IDLE)


# ---------------------------------------------------------------------------------------------- floors


def test_an_offer_below_a_floor_raised_after_publication_cannot_be_bought(env, a, twin):
    offer = env.publish(a.model, twin, Terms(categories=ECOMMERCE | PRINT, per_use_fee=50_000))
    env.tx(a.guild, "TwinRegistry", "setCategoryFloor", 2, 60_000)  # print
    env.fund(a.brand, 10 * USDC)
    env.refused(a.brand, "LicenseToken", "buyLicense", offer, USDC,
                error="LicenseTokenOfferBelowFloor", error_args=(offer, 50_000, 60_000))
    deadline = env.now() + DAY
    v, r, s = env.permit(a.brand, 2 * USDC, deadline)
    env.refused(a.brand, "LicenseToken", "buyLicenseWithPermit", offer, USDC, deadline, v, r, s,
                error="LicenseTokenOfferBelowFloor", error_args=(offer, 50_000, 60_000))
    # The guild lowers it back to the offer's fee: the offer sells again.
    env.tx(a.guild, "TwinRegistry", "setCategoryFloor", 2, 50_000)
    assert env.buy(a.brand, offer, USDC) == 1


# ---------------------------------------------------------------------------------------------- exclusivity minimum


def test_exclusivity_costs_at_least_the_guild_minimum(env, a, twin):
    assert env.call("TwinRegistry", "exclusivityMinimum") == EXCLUSIVITY_MINIMUM
    for upfront in (0, EXCLUSIVITY_MINIMUM - 1):
        cheap = Terms(upfront_fee=upfront, exclusive=True, idle_end_after=IDLE)
        env.refused(a.model, "LicenseToken", "publishOffer", twin, cheap.tuple(),
                    error="LicenseTokenExclusiveUpfrontTooLow", error_args=(upfront, EXCLUSIVITY_MINIMUM))
    # A plain offer needs no minimum.
    env.publish(a.model, twin, Terms(upfront_fee=0))
    offer = env.publish(a.model, twin, EXCLUSIVE)

    for caller in (a.admin, a.model):
        env.refused(caller, "TwinRegistry", "setExclusivityMinimum", 1,
                    error="AccessControlUnauthorizedAccount", error_args=(caller.address, GUILD_ROLE))
    result = env.tx(a.guild, "TwinRegistry", "setExclusivityMinimum", EXCLUSIVITY_MINIMUM + 1)
    assert env.event(result, "TwinRegistry", "ExclusivityMinimumSet") == {"minimumUpfrontFee": EXCLUSIVITY_MINIMUM + 1}
    env.fund(a.brand, 2 * EXCLUSIVITY_MINIMUM)
    env.refused(a.brand, "LicenseToken", "buyLicense", offer, 0,
                error="LicenseTokenExclusiveUpfrontTooLow", error_args=(EXCLUSIVITY_MINIMUM, EXCLUSIVITY_MINIMUM + 1))
    env.tx(a.guild, "TwinRegistry", "setExclusivityMinimum", EXCLUSIVITY_MINIMUM)
    env.tx(a.brand, "LicenseToken", "buyLicense", offer, 0)
    assert env.terms(1).exclusive is True
    env.conserved()


# ---------------------------------------------------------------------------------------------- idle exclusive licences


@pytest.fixture
def exclusive_licence(env, a, twin):
    offer = env.publish(a.model, twin, EXCLUSIVE)
    license_id = env.buy(a.brand, offer, 5 * USDC)
    return license_id


def test_the_model_ends_an_exclusive_licence_left_unused(env, a, twin, exclusive_licence):
    license_id = exclusive_licence
    started = env.terms(license_id).started_at
    expiry = env.state(license_id).expiry
    assert env.call("LicenseToken", "idleEndableAt", license_id) == started + IDLE
    env.refused(a.model, "LicenseToken", "endIdleExclusive", license_id,
                error="LicenseTokenNotIdle", error_args=(license_id, started + IDLE))
    # A settled use restarts the idle clock.
    env.advance(IDLE // 2)
    result = paid(env, item(license_id, 0, 1))
    used_at = env.block_time(result)
    assert env.call("LicenseToken", "idleEndableAt", license_id) == used_at + IDLE
    env.advance(IDLE - 10)
    env.refused(a.model, "LicenseToken", "endIdleExclusive", license_id,
                error="LicenseTokenNotIdle", error_args=(license_id, used_at + IDLE), gas=GAS)
    env.advance(10)
    for caller in (a.brand, a.agency, a.guild):
        env.refused(caller, "LicenseToken", "endIdleExclusive", license_id,
                    error="LicenseTokenNotModel", error_args=(twin, caller.address))

    result = env.tx(a.model, "LicenseToken", "endIdleExclusive", license_id)
    ended_at = env.block_time(result)
    assert env.event(result, "LicenseToken", "ExclusiveLicenseEnded") == {
        "licenseId": license_id, "twinId": twin, "endedAt": ended_at,
    }
    assert env.state(license_id).expiry == ended_at < expiry
    assert env.call("LicenseToken", "licenseEnd", license_id) == ended_at
    # It has stopped: uses signed from now on are skipped, no top-ups; the holder takes back the escrow left after
    # the grace (issue 11), and the unvested part of the upfront fee at once.
    assert env.skips(env.settle(item(license_id, 1, 1))) == [(license_id, 1, 1, SIGNED_AFTER_END)]
    env.refused(a.model, "LicenseToken", "endIdleExclusive", license_id,
                error="LicenseTokenExpired", error_args=(license_id, ended_at))
    # And its cells are free: another brand buys the same exclusivity at once.
    again = env.buy(a.brand2, env.publish(a.model, twin, EXCLUSIVE), 0)
    assert env.terms(again).exclusive is True
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license_id,
                error="LicenseTokenInGrace", error_args=(license_id, ended_at + GRACE))
    mine_at(env, ended_at + GRACE)
    before = env.balance(a.brand)
    env.tx(a.brand, "LicenseToken", "reclaimEscrow", license_id)
    assert env.balance(a.brand) == before + 5 * USDC - Terms().per_use_fee
    env.conserved()


def test_only_exclusive_licences_can_be_ended(env, a, twin, license):
    env.advance(IDLE + 1)
    env.refused(a.model, "LicenseToken", "endIdleExclusive", license,
                error="LicenseTokenNotExclusive", error_args=(license,))
    assert env.call("LicenseToken", "idleEndableAt", license) == 0
    env.refused(a.model, "LicenseToken", "endIdleExclusive", 99, error="LicenseTokenUnknownLicense", error_args=(99,))


def test_ending_an_exclusive_licence_frees_only_its_own_cells(env, a, twin):
    """A plain licence elsewhere (US) keeps its cell; an exclusive one in the EU is freed for a new exclusive buyer."""
    env.tx(a.guild, "TwinRegistry", "setExclusivityMinimum", 0)
    plain = env.buy(a.brand2, env.publish(a.model, twin, Terms(categories=SOCIAL, territories=US)), 0)
    exclusive = env.buy(a.brand, env.publish(a.model, twin, Terms(categories=SOCIAL | PRINT, territories=EU,
                                                                  exclusive=True, idle_end_after=IDLE)), 0)
    env.advance(IDLE)
    env.tx(a.model, "LicenseToken", "endIdleExclusive", exclusive)
    until = env.state(plain).expiry
    rival = env.publish(a.model, twin, Terms(categories=SOCIAL, territories=EU | US, exclusive=True, idle_end_after=IDLE))
    env.fund(a.brand, USDC)
    env.refused(a.brand, "LicenseToken", "buyLicense", rival, 0,
                error="LicenseTokenExclusivityConflict", error_args=(twin, 1, 1, until))
    env.buy(a.brand, env.publish(a.model, twin, Terms(categories=SOCIAL | PRINT, territories=EU, exclusive=True,
                                                      idle_end_after=IDLE)), 0)


# ---------------------------------------------------------------------------------------------- ERC-5192 licences


def test_licences_report_their_lock_as_erc5192(env, a, twin):
    assert env.call("LicenseToken", "supportsInterface", ERC5192_ID) is True
    locked_offer = env.publish(a.model, twin, Terms())
    free_offer = env.publish(a.model, twin, Terms(transferable=True, territories=US))
    env.fund(a.brand, 10 * USDC)
    locked_result = env.tx(a.brand, "LicenseToken", "buyLicense", locked_offer, 0)
    free_result = env.tx(a.brand, "LicenseToken", "buyLicense", free_offer, 0)
    assert env.event(locked_result, "LicenseToken", "Locked") == {"tokenId": 1}
    assert env.events(free_result, "LicenseToken", "Locked") == []
    assert env.call("LicenseToken", "locked", 1) is True
    assert env.call("LicenseToken", "locked", 2) is False
    with env.reverts("ERC721NonexistentToken", 3):
        env.call("LicenseToken", "locked", 3)

    env.refused(a.brand, "LicenseToken", "approve", a.brand2.address, 1,
                error="LicenseTokenNotTransferable", error_args=(1,))
    assert env.call("LicenseToken", "getApproved", 1) == ZERO_ADDRESS
    env.tx(a.brand, "LicenseToken", "approve", a.brand2.address, 2)  # a transferable licence may be approved
    env.tx(a.brand2, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, 2)
    assert env.call("LicenseToken", "ownerOf", 2) == a.brand2.address
