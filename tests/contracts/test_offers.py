"""Offers: only the twin's model publishes and withdraws them; terms must be sane and meet the guild floors."""

from kit.signed_items import paid
from kit.twin_env import ECOMMERCE, EU, EXCLUSIVITY_MINIMUM, IDLE, PRINT, SOCIAL, US, VIDEO, Terms, item


def test_model_publishes_an_offer(env, a, twin):
    terms = Terms(upfront_fee=EXCLUSIVITY_MINIMUM, per_use_fee=70_000, max_uses=100, exclusive=True, transferable=True,
                  idle_end_after=IDLE)
    result = env.tx(a.model, "LicenseToken", "publishOffer", twin, terms.tuple())
    assert env.call("LicenseToken", "offerCount") == 1
    assert env.call("LicenseToken", "offer", 1) == (twin, True, terms.tuple())
    assert env.event(result, "LicenseToken", "OfferPublished") == {
        "offerId": 1,
        "twinId": twin,
        "terms": {
            "upfrontFee": EXCLUSIVITY_MINIMUM,
            "perUseFee": 70_000,
            "duration": terms.duration,
            "maxUses": 100,
            "categories": terms.categories,
            "territories": terms.territories,
            "exclusive": True,
            "transferable": True,
            "idleEndAfter": IDLE,
        },
    }


def test_a_twin_may_have_several_offers(env, a, twin):
    assert env.publish(a.model, twin, Terms(categories=ECOMMERCE)) == 1
    assert env.publish(a.model, twin, Terms(categories=SOCIAL, territories=US)) == 2
    assert env.call("LicenseToken", "offer", 2)[2][4:6] == (SOCIAL, US)


def test_only_the_model_publishes(env, a, twin):
    for caller in (a.agency, a.guild, a.admin, a.brand, a.model2):
        env.refused(caller, "LicenseToken", "publishOffer", twin, Terms().tuple(),
                    error="LicenseTokenNotModel", error_args=(twin, caller.address))
    assert env.call("LicenseToken", "offerCount") == 0


def test_offer_for_an_unknown_twin_is_refused(env, a, twin):
    env.refused(a.model, "LicenseToken", "publishOffer", 42, Terms().tuple(),
                error="ERC721NonexistentToken", error_args=(42,))


def test_insane_terms_are_refused(env, a, twin):
    for terms, reason in (
        (Terms(categories=0), "no usage category"),
        (Terms(territories=0), "no territory"),
        (Terms(duration=0), "zero duration"),
        (Terms(per_use_fee=0), "zero per-use fee"),
        (Terms(upfront_fee=EXCLUSIVITY_MINIMUM, exclusive=True), "exclusive without idle period"),
        (Terms(idle_end_after=IDLE), "idle period without exclusivity"),
    ):
        env.refused(a.model, "LicenseToken", "publishOffer", twin, terms.tuple(),
                    error="LicenseTokenInvalidTerms", error_args=(reason,))
    assert env.call("LicenseToken", "offerCount") == 0


def test_offer_below_the_highest_floor_of_its_categories_is_refused(env, a, twin):
    env.tx(a.guild, "TwinRegistry", "setCategoryFloor", 0, 100_000)  # e-commerce
    env.tx(a.guild, "TwinRegistry", "setCategoryFloor", 2, 300_000)  # print
    env.tx(a.guild, "TwinRegistry", "setCategoryFloor", 3, 200_000)  # video

    env.refused(a.model, "LicenseToken", "publishOffer", twin,
                Terms(categories=ECOMMERCE | PRINT | VIDEO, per_use_fee=299_999).tuple(),
                error="LicenseTokenFeeBelowFloor", error_args=(299_999, 300_000))
    env.refused(a.model, "LicenseToken", "publishOffer", twin, Terms(categories=ECOMMERCE, per_use_fee=99_999).tuple(),
                error="LicenseTokenFeeBelowFloor", error_args=(99_999, 100_000))
    assert env.call("LicenseToken", "offerCount") == 0

    # Exactly at the floor passes; a category without floor only needs a non-zero fee.
    env.publish(a.model, twin, Terms(categories=ECOMMERCE | PRINT | VIDEO, per_use_fee=300_000))
    env.publish(a.model, twin, Terms(categories=ECOMMERCE, per_use_fee=100_000))
    env.publish(a.model, twin, Terms(categories=SOCIAL, per_use_fee=1))
    assert env.call("LicenseToken", "offerCount") == 3


def test_model_withdraws_an_offer_and_it_can_no_longer_be_bought(env, a, twin, offer):
    result = env.tx(a.model, "LicenseToken", "withdrawOffer", offer)
    assert env.event(result, "LicenseToken", "OfferWithdrawn") == {"offerId": offer, "twinId": twin}
    assert env.call("LicenseToken", "offer", offer)[1] is False
    env.fund(a.brand, 10 * 1_000_000)
    env.refused(a.brand, "LicenseToken", "buyLicense", offer, 1_000_000,
                error="LicenseTokenOfferInactive", error_args=(offer,))
    env.refused(a.model, "LicenseToken", "withdrawOffer", offer, error="LicenseTokenOfferInactive", error_args=(offer,))


def test_withdrawing_an_offer_leaves_bought_licences_alone(env, a, offer, license):
    env.tx(a.model, "LicenseToken", "withdrawOffer", offer)
    paid(env, item(license, 0, 2))
    assert env.state(license).uses_settled == 2
    assert env.terms(license).offer_id == offer


def test_only_the_model_withdraws_an_offer(env, a, twin, offer):
    for caller in (a.agency, a.brand, a.admin):
        env.refused(caller, "LicenseToken", "withdrawOffer", offer,
                    error="LicenseTokenNotModel", error_args=(twin, caller.address))
    assert env.call("LicenseToken", "offer", offer)[1] is True


def test_unknown_offers_are_refused(env, a, offer):
    env.refused(a.model, "LicenseToken", "withdrawOffer", 9, error="LicenseTokenUnknownOffer", error_args=(9,))
    with env.reverts("LicenseTokenUnknownOffer", 9):
        env.call("LicenseToken", "offer", 9)
    env.fund(a.brand, 1_000_000)
    env.refused(a.brand, "LicenseToken", "buyLicense", 9, 0, error="LicenseTokenUnknownOffer", error_args=(9,))
    env.refused(a.brand, "LicenseToken", "buyLicense", 0, 0, error="LicenseTokenUnknownOffer", error_args=(0,))


def test_offer_territories_other_than_eu_us(env, a, twin):
    offer_id = env.publish(a.model, twin, Terms(territories=EU))
    assert env.call("LicenseToken", "offer", offer_id)[2][5] == EU
