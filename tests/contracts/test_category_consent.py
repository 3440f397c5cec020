"""Consent per usage category (issue 12): the model revokes one category with the twin's notice period; offers and
purchases including it stop at once, its uses stop settling after the notice, the other categories go on."""

from kit.signed_items import CATEGORIES_INVALID, SIGNED_AFTER_END, mine_at, paid
from kit.twin_env import (
    DAY, ECOMMERCE, GAS, GRANTED, NOTICE, PENDING, PRINT, REVOKED, SOCIAL, USDC, VIDEO, Terms, item,
)

ECOMMERCE_BIT, SOCIAL_BIT, PRINT_BIT = 0, 1, 2


def revoke(env, a, twin, category):
    result = env.tx(a.model, "TwinRegistry", "revokeCategoryConsent", twin, category)
    return result, env.block_time(result) + NOTICE


def test_revoking_a_category_starts_the_twins_notice_period(env, a, twin):
    result, effective_at = revoke(env, a, twin, SOCIAL_BIT)
    assert env.event(result, "TwinRegistry", "CategoryConsentRevoked") == {
        "twinId": twin, "category": SOCIAL_BIT, "effectiveAt": effective_at}
    assert env.call("TwinRegistry", "categoryConsentOf", twin, SOCIAL_BIT) == (PENDING, effective_at)
    assert env.call("TwinRegistry", "categoryConsentOf", twin, ECOMMERCE_BIT) == (GRANTED, 0)
    assert env.call("TwinRegistry", "consentOf", twin)[0] == GRANTED  # the whole twin is untouched
    env.advance(NOTICE)
    assert env.call("TwinRegistry", "categoryConsentOf", twin, SOCIAL_BIT) == (REVOKED, effective_at)
    result = env.tx(a.model, "TwinRegistry", "grantCategoryConsent", twin, SOCIAL_BIT)
    assert env.event(result, "TwinRegistry", "CategoryConsentGranted") == {"twinId": twin, "category": SOCIAL_BIT}
    assert env.call("TwinRegistry", "categoryConsentOf", twin, SOCIAL_BIT) == (GRANTED, 0)


def test_the_notice_is_the_one_the_twins_consent_keeps(env, a, twin):
    env.tx(a.admin, "TwinRegistry", "setNoticePeriod", DAY)  # applies to consent granted later, not to this twin's
    _, effective_at = revoke(env, a, twin, PRINT_BIT)
    assert effective_at - env.now() == NOTICE


def test_refusals_name_their_error_and_change_nothing(env, a, twin):
    for caller in (a.agency, a.admin, a.guild, a.brand):
        env.refused(caller, "TwinRegistry", "revokeCategoryConsent", twin, SOCIAL_BIT,
                    error="TwinRegistryNotModel", error_args=(twin, caller.address))
        env.refused(caller, "TwinRegistry", "grantCategoryConsent", twin, SOCIAL_BIT,
                    error="TwinRegistryNotModel", error_args=(twin, caller.address))
    env.refused(a.model, "TwinRegistry", "revokeCategoryConsent", twin, 8,
                error="TwinRegistryUnknownCategory", error_args=(8,))
    env.refused(a.model, "TwinRegistry", "grantCategoryConsent", twin, 255,
                error="TwinRegistryUnknownCategory", error_args=(255,))
    env.refused(a.model, "TwinRegistry", "grantCategoryConsent", twin, SOCIAL_BIT,
                error="TwinRegistryCategoryConsentNotRevoked", error_args=(twin, SOCIAL_BIT))
    env.refused(a.model, "TwinRegistry", "revokeCategoryConsent", 99, SOCIAL_BIT,
                error="TwinRegistryUnknownTwin", error_args=(99,))
    revoke(env, a, twin, SOCIAL_BIT)
    env.refused(a.model, "TwinRegistry", "revokeCategoryConsent", twin, SOCIAL_BIT,
                error="TwinRegistryCategoryConsentAlreadyRevoked", error_args=(twin, SOCIAL_BIT))
    env.advance(NOTICE + 1)
    env.refused(a.model, "TwinRegistry", "revokeCategoryConsent", twin, SOCIAL_BIT,
                error="TwinRegistryCategoryConsentAlreadyRevoked", error_args=(twin, SOCIAL_BIT))


def test_only_the_registry_mirrors_category_consent(env, a, twin):
    env.refused(a.model, "LicenseToken", "onCategoryConsentChanged", twin, SOCIAL_BIT, 0,
                error="LicenseTokenNotRegistry", error_args=(a.model.address,))


def test_offers_and_purchases_including_a_revoked_category_stop_at_once(env, a, twin, offer):
    other = env.publish(a.model, twin, Terms(categories=PRINT | VIDEO))
    revoke(env, a, twin, SOCIAL_BIT)  # the default offer is e-commerce and social: withdrawn with it (issue 11)
    env.fund(a.brand, 10 * USDC)
    env.refused(a.brand, "LicenseToken", "buyLicense", offer, USDC,
                error="LicenseTokenOfferInactive", error_args=(offer,))
    deadline = env.now() + 3600
    v, r, s = env.permit(a.brand, Terms().upfront_fee + USDC, deadline)
    env.refused(a.brand, "LicenseToken", "buyLicenseWithPermit", offer, USDC, deadline, v, r, s,
                error="LicenseTokenOfferInactive", error_args=(offer,))
    env.refused(a.model, "LicenseToken", "publishOffer", twin, Terms(categories=SOCIAL | PRINT).tuple(),
                error="LicenseTokenCategoryConsentNotGranted", error_args=(twin, SOCIAL))
    # The other categories go on: an offer without social is published and bought.
    env.publish(a.model, twin, Terms(categories=ECOMMERCE))
    assert env.buy(a.brand, other, USDC) == 1
    # Granted again, an offer including social can be published and bought (the old one stays withdrawn).
    env.tx(a.model, "TwinRegistry", "grantCategoryConsent", twin, SOCIAL_BIT)
    assert env.buy(a.brand, env.publish(a.model, twin, Terms(categories=SOCIAL | PRINT)), USDC) == 2
    env.conserved()


def test_a_category_stops_settling_after_notice_and_the_others_go_on(env, a, twin, license):
    paid(env, item(license, 0, 2, categories=ECOMMERCE | SOCIAL))
    _, effective_at = revoke(env, a, twin, SOCIAL_BIT)
    env.next_block_at(effective_at - 1)  # the last second of the notice: social still settles
    paid(env, item(license, 2, 1, categories=SOCIAL), gas=GAS)
    mine_at(env, effective_at)
    before = env.digest()
    # Signed at or after the effective time, with social in the mask: skipped (issue 11), whatever else it holds.
    result = env.settle(item(license, 3, 1, categories=SOCIAL), item(license, 3, 2, categories=ECOMMERCE | SOCIAL))
    assert env.skips(result) == [(license, 3, 1, SIGNED_AFTER_END), (license, 3, 2, SIGNED_AFTER_END)]
    assert env.digest() == before, "a skipped item changed the state"
    before = env.call("LicenseToken", "undistributed", twin)
    paid(env, item(license, 3, 2, categories=ECOMMERCE))
    assert env.state(license).uses_settled == 5
    assert env.call("LicenseToken", "undistributed", twin) == before + 2 * Terms().per_use_fee
    # Granted again: social settles again.
    env.tx(a.model, "TwinRegistry", "grantCategoryConsent", twin, SOCIAL_BIT)
    assert env.skips(env.settle(item(license, 5, 1, categories=SOCIAL))) == []
    assert env.state(license).uses_settled == 6
    env.conserved()


def test_an_item_mask_must_be_non_empty_and_within_the_licence(env, a, twin, license):
    before = env.digest()
    for mask in (0, PRINT, ECOMMERCE | PRINT, 0xFF):
        result = env.settle(item(license, 0, 1, categories=mask))
        assert env.skips(result) == [(license, 0, 1, CATEGORIES_INVALID)]
    # The last report's category must be in the mask too.
    result = env.settle(env.signed_item(license, 0, 1, categories=ECOMMERCE, category=1))
    assert env.skips(result) == [(license, 0, 1, CATEGORIES_INVALID)]
    assert env.digest() == before, "a skipped item changed the state"
    # A valid item before an invalid one: the valid one settles, the invalid one is skipped (issue 11).
    result = env.settle(item(license, 0, 1, categories=ECOMMERCE), item(license, 1, 1, categories=PRINT))
    assert env.skips(result) == [(license, 1, 1, CATEGORIES_INVALID)]
    assert env.state(license).uses_settled == 1


def test_whole_twin_consent_and_category_consent_are_independent(env, a, twin, license):
    _, category_at = revoke(env, a, twin, SOCIAL_BIT)
    env.tx(a.model, "TwinRegistry", "revokeConsent", twin)
    env.tx(a.model, "TwinRegistry", "grantConsent", twin, b"\x09" * 32)  # a new document: social stays revoked
    assert env.call("TwinRegistry", "categoryConsentOf", twin, SOCIAL_BIT) == (PENDING, category_at)
    mine_at(env, category_at)
    result = env.settle(item(license, 0, 1, categories=SOCIAL))
    assert env.skips(result) == [(license, 0, 1, SIGNED_AFTER_END)]
    assert env.skips(env.settle(item(license, 0, 1, categories=ECOMMERCE))) == []
    # The whole twin's revocation still stops every category, granted ones included.
    result = env.tx(a.model, "TwinRegistry", "revokeConsent", twin)
    twin_at = env.block_time(result) + NOTICE
    mine_at(env, twin_at)
    result = env.settle(item(license, 1, 1, categories=ECOMMERCE))
    assert env.skips(result) == [(license, 1, 1, SIGNED_AFTER_END)]
