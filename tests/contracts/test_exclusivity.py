"""Exclusivity: an exclusive licence keeps overlapping licences (same twin, category and territory) from being
bought until it expires, and is itself refused while an overlapping licence is active."""

import pytest

from kit.twin_env import DAY, ECOMMERCE, EU, IDLE, PRINT, SOCIAL, US, ASIA, VIDEO, GAS, USDC, Terms, MODEL, payee

# Categories and territories are bit masks; the error names the first colliding (category, territory) bit index.
BIT = {ECOMMERCE: 0, SOCIAL: 1, PRINT: 2, VIDEO: 3, EU: 0, US: 1, ASIA: 2}


@pytest.fixture(autouse=True)
def cheap_exclusivity(env, a):
    """These tests are about which cells a licence holds, not its price: the guild sets no exclusivity minimum."""
    env.tx(a.guild, "TwinRegistry", "setExclusivityMinimum", 0)


@pytest.fixture
def exclusive(env, a, twin):
    """An exclusive 10-day licence for social and video in the EU, held by `brand`; returns (id, expiry)."""
    offer_id = env.publish(a.model, twin, Terms(categories=SOCIAL | VIDEO, territories=EU, duration=10 * DAY, exclusive=True, idle_end_after=IDLE))
    license_id = env.buy(a.brand, offer_id, USDC)
    return license_id, env.state(license_id).expiry


def test_exclusive_licence_blocks_an_overlapping_purchase(env, a, twin, exclusive):
    _, until = exclusive
    overlapping = env.publish(a.model, twin, Terms(categories=ECOMMERCE | VIDEO, territories=US | EU))
    env.fund(a.brand2, 10 * USDC)
    env.refused(a.brand2, "LicenseToken", "buyLicense", overlapping, USDC,
                error="LicenseTokenExclusivityConflict", error_args=(twin, BIT[VIDEO], BIT[EU], until))
    assert env.call("LicenseToken", "licenseCount") == 1


def test_exclusive_licence_blocks_even_its_own_offer_and_its_holder(env, a, twin, exclusive):
    license_id, until = exclusive
    offer_id = env.terms(license_id).offer_id
    env.fund(a.brand, 10 * USDC)
    env.refused(a.brand, "LicenseToken", "buyLicense", offer_id, USDC,
                error="LicenseTokenExclusivityConflict", error_args=(twin, BIT[SOCIAL], BIT[EU], until))


def test_other_territory_category_or_twin_is_not_blocked(env, a, twin, exclusive):
    other_territory = env.publish(a.model, twin, Terms(categories=SOCIAL | VIDEO, territories=US | ASIA))
    other_category = env.publish(a.model, twin, Terms(categories=ECOMMERCE | PRINT, territories=EU))
    env.buy(a.brand2, other_territory, USDC)
    env.buy(a.brand2, other_category, USDC)
    other_twin = env.register(a.model2, [payee(a.model2, 10_000, MODEL)])
    same_terms_other_twin = env.publish(a.model2, other_twin, Terms(categories=SOCIAL | VIDEO, territories=EU))
    env.buy(a.brand2, same_terms_other_twin, USDC)
    assert env.call("LicenseToken", "licenseCount") == 4


def test_exclusivity_ends_when_the_exclusive_licence_expires(env, a, twin, exclusive):
    _, until = exclusive
    overlapping = env.publish(a.model, twin, Terms(categories=SOCIAL, territories=EU))
    env.fund(a.brand2, 10 * USDC)
    env.next_block_at(until - 1)
    env.refused(a.brand2, "LicenseToken", "buyLicense", overlapping, USDC,
                error="LicenseTokenExclusivityConflict", error_args=(twin, BIT[SOCIAL], BIT[EU], until), gas=GAS)
    env.next_block_at(until)
    env.tx(a.brand2, "LicenseToken", "buyLicense", overlapping, USDC, gas=GAS)
    assert env.call("LicenseToken", "ownerOf", 2) == a.brand2.address


def test_exclusive_purchase_is_refused_while_an_overlapping_licence_is_active(env, a, twin):
    plain = env.publish(a.model, twin, Terms(categories=PRINT, territories=US, duration=5 * DAY))
    longer = env.publish(a.model, twin, Terms(categories=PRINT, territories=US, duration=8 * DAY))
    env.buy(a.brand, plain, 0)
    second = env.buy(a.brand, longer, 0)
    until = env.state(second).expiry  # the latest expiry of the overlapping licences counts

    exclusive_offer = env.publish(a.model, twin, Terms(categories=PRINT | SOCIAL, territories=US | EU, exclusive=True, idle_end_after=IDLE))
    env.fund(a.brand2, 10 * USDC)
    env.refused(a.brand2, "LicenseToken", "buyLicense", exclusive_offer, USDC,
                error="LicenseTokenExclusivityConflict", error_args=(twin, BIT[PRINT], BIT[US], until))
    env.advance(5 * DAY + 60)  # the first expired, the second still runs
    env.refused(a.brand2, "LicenseToken", "buyLicense", exclusive_offer, USDC,
                error="LicenseTokenExclusivityConflict", error_args=(twin, BIT[PRINT], BIT[US], until))
    env.advance(3 * DAY)
    env.tx(a.brand2, "LicenseToken", "buyLicense", exclusive_offer, USDC)
    assert env.terms(3).exclusive is True


def test_exclusive_purchase_is_refused_against_another_exclusive(env, a, twin, exclusive):
    _, until = exclusive
    rival = env.publish(a.model, twin, Terms(categories=VIDEO, territories=EU | US, exclusive=True, idle_end_after=IDLE))
    env.fund(a.brand2, 10 * USDC)
    env.refused(a.brand2, "LicenseToken", "buyLicense", rival, USDC,
                error="LicenseTokenExclusivityConflict", error_args=(twin, BIT[VIDEO], BIT[EU], until))


def test_exclusive_purchase_next_to_a_non_overlapping_licence_is_allowed(env, a, twin):
    env.buy(a.brand, env.publish(a.model, twin, Terms(categories=SOCIAL, territories=US)), 0)
    env.buy(a.brand2, env.publish(a.model, twin, Terms(categories=SOCIAL, territories=EU, exclusive=True, idle_end_after=IDLE)), 0)
    env.buy(a.brand2, env.publish(a.model, twin, Terms(categories=PRINT, territories=US, exclusive=True, idle_end_after=IDLE)), 0)
    assert env.call("LicenseToken", "licenseCount") == 3
