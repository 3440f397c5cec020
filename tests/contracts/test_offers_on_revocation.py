"""Issue 11, revoking consent withdraws offers: the whole twin's revocation withdraws all its offers, a category's
the offers including that category; granting consent again publishes nothing (old offers stay withdrawn), and
offers published after the grant sell as usual."""

import pytest

from kit.twin_env import ECOMMERCE, MODEL, PRINT, SOCIAL, USDC, Terms, payee

SOCIAL_BIT = 1
WHOLE_TWIN = 0xFF


@pytest.fixture
def offers(env, a, twin):
    """Three offers of `twin`: e-commerce + social, print only, social only."""
    return (
        env.publish(a.model, twin, Terms(categories=ECOMMERCE | SOCIAL)),
        env.publish(a.model, twin, Terms(categories=PRINT)),
        env.publish(a.model, twin, Terms(categories=SOCIAL)),
    )


def active(env, offer_id):
    return env.call("LicenseToken", "offer", offer_id)[1]


def test_revoking_consent_withdraws_every_offer_of_the_twin(env, a, twin, offers):
    other_twin = env.register(a.model2, [payee(a.model2, 10_000, MODEL)], uri="ipfs://other")
    elsewhere = env.publish(a.model2, other_twin, Terms())
    result = env.tx(a.model, "TwinRegistry", "revokeConsent", twin)
    assert env.event(result, "LicenseToken", "TwinOffersWithdrawn") == {"twinId": twin, "categories": WHOLE_TWIN}
    assert [active(env, o) for o in offers] == [False, False, False]
    assert active(env, elsewhere) is True  # another twin's offer is untouched
    env.fund(a.brand, 10 * USDC)
    for offer_id in offers:
        env.refused(a.brand, "LicenseToken", "buyLicense", offer_id, USDC,
                    error="LicenseTokenOfferInactive", error_args=(offer_id,))
        env.refused(a.model, "LicenseToken", "withdrawOffer", offer_id,
                    error="LicenseTokenOfferInactive", error_args=(offer_id,))
    env.buy(a.brand, elsewhere, USDC)


def test_granting_consent_again_revives_no_offer(env, a, twin, offers):
    env.tx(a.model, "TwinRegistry", "revokeConsent", twin)
    result = env.tx(a.model, "TwinRegistry", "grantConsent", twin, b"\x0c" * 32)
    assert env.events(result, "LicenseToken", "TwinOffersWithdrawn") == []
    assert env.events(result, "LicenseToken", "OfferPublished") == []
    assert [active(env, o) for o in offers] == [False, False, False]
    env.fund(a.brand, 10 * USDC)
    env.refused(a.brand, "LicenseToken", "buyLicense", offers[0], USDC,
                error="LicenseTokenOfferInactive", error_args=(offers[0],))
    deadline = env.now() + 3600
    v, r, s = env.permit(a.brand, Terms().upfront_fee + USDC, deadline)
    env.refused(a.brand, "LicenseToken", "buyLicenseWithPermit", offers[1], USDC, deadline, v, r, s,
                error="LicenseTokenOfferInactive", error_args=(offers[1],))
    # A new offer, published after the grant, sells.
    fresh = env.publish(a.model, twin, Terms(categories=ECOMMERCE | SOCIAL))
    assert active(env, fresh) is True
    license_id = env.buy(a.brand2, fresh, USDC)
    assert env.terms(license_id).offer_id == fresh
    env.conserved()


def test_a_revocation_cancelled_before_it_takes_effect_still_withdrew_the_offers(env, a, twin, offers):
    env.tx(a.model, "TwinRegistry", "revokeConsent", twin)
    env.tx(a.model, "TwinRegistry", "grantConsent", twin, b"\x0d" * 32)  # within the notice period
    assert [active(env, o) for o in offers] == [False, False, False]


def test_a_category_revocation_withdraws_only_the_offers_including_it(env, a, twin, offers):
    with_social, print_only, social_only = offers
    result = env.tx(a.model, "TwinRegistry", "revokeCategoryConsent", twin, SOCIAL_BIT)
    assert env.event(result, "LicenseToken", "TwinOffersWithdrawn") == {"twinId": twin, "categories": SOCIAL}
    assert [active(env, o) for o in offers] == [False, True, False]
    env.fund(a.brand, 10 * USDC)
    for offer_id in (with_social, social_only):
        env.refused(a.brand, "LicenseToken", "buyLicense", offer_id, USDC,
                    error="LicenseTokenOfferInactive", error_args=(offer_id,))
    env.buy(a.brand2, print_only, USDC)

    # Granted again: the withdrawn offers stay withdrawn, the print offer still sells.
    result = env.tx(a.model, "TwinRegistry", "grantCategoryConsent", twin, SOCIAL_BIT)
    assert env.events(result, "LicenseToken", "TwinOffersWithdrawn") == []
    assert [active(env, o) for o in offers] == [False, True, False]
    env.refused(a.brand, "LicenseToken", "buyLicense", with_social, USDC,
                error="LicenseTokenOfferInactive", error_args=(with_social,))
    again = env.publish(a.model, twin, Terms(categories=SOCIAL))
    env.buy(a.brand, again, USDC)
    env.buy(a.brand, print_only, USDC)
    env.conserved()


def test_a_second_category_revocation_leaves_earlier_survivors_alone_until_it_meets_them(env, a, twin, offers):
    with_social, print_only, social_only = offers
    env.tx(a.model, "TwinRegistry", "revokeCategoryConsent", twin, SOCIAL_BIT)
    env.tx(a.model, "TwinRegistry", "grantCategoryConsent", twin, SOCIAL_BIT)
    fresh_social = env.publish(a.model, twin, Terms(categories=SOCIAL))
    result = env.tx(a.model, "TwinRegistry", "revokeCategoryConsent", twin, 2)  # print
    assert env.event(result, "LicenseToken", "TwinOffersWithdrawn") == {"twinId": twin, "categories": PRINT}
    assert [active(env, o) for o in (*offers, fresh_social)] == [False, False, False, True]
    # And the whole twin's revocation withdraws the survivor too.
    env.tx(a.model, "TwinRegistry", "revokeConsent", twin)
    assert active(env, fresh_social) is False


def test_licences_already_bought_are_not_withdrawn_with_their_offer(env, a, twin, offers):
    license_id = env.buy(a.brand, offers[0], USDC)
    env.tx(a.model, "TwinRegistry", "revokeCategoryConsent", twin, SOCIAL_BIT)
    assert env.call("LicenseToken", "ownerOf", license_id) == a.brand.address
    assert env.state(license_id).escrow == USDC
    assert env.call("LicenseToken", "licenseEnd", license_id) == env.state(license_id).expiry
