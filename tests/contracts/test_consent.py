"""Consent: revoking withdraws the twin's offers and stops purchases at once; uses signed before the notice period
ends settle until the grace after it is over; brands then reclaim."""

from web3 import Web3

from kit.signed_items import GRACE, SIGNED_AFTER_END, mine_at, paid
from kit.twin_env import DAY, GAS, GRANTED, NOTICE, PENDING, REVOKED, USDC, Terms, item

FEE = Terms().per_use_fee


def revoke(env, a, twin):
    result = env.tx(a.model, "TwinRegistry", "revokeConsent", twin)
    return result, env.block_time(result) + NOTICE


def test_revoking_starts_the_notice_period(env, a, twin):
    consent_hash = env.call("TwinRegistry", "consentOf", twin)[2]
    result, effective_at = revoke(env, a, twin)
    assert env.event(result, "TwinRegistry", "ConsentRevoked") == {"twinId": twin, "effectiveAt": effective_at}
    assert env.call("TwinRegistry", "consentOf", twin) == (PENDING, effective_at, consent_hash)
    assert env.call("TwinRegistry", "consentEffective", twin) is True
    env.advance(NOTICE)
    assert env.call("TwinRegistry", "consentOf", twin) == (REVOKED, effective_at, consent_hash)
    assert env.call("TwinRegistry", "consentEffective", twin) is False


def test_only_the_model_revokes_or_grants(env, a, twin):
    for caller in (a.agency, a.admin, a.guild, a.brand):
        env.refused(caller, "TwinRegistry", "revokeConsent", twin,
                    error="TwinRegistryNotModel", error_args=(twin, caller.address))
        env.refused(caller, "TwinRegistry", "grantConsent", twin, b"\x05" * 32,
                    error="TwinRegistryNotModel", error_args=(twin, caller.address))
    assert env.call("TwinRegistry", "consentOf", twin)[0] == GRANTED


def test_revoking_twice_is_refused(env, a, twin):
    revoke(env, a, twin)
    env.refused(a.model, "TwinRegistry", "revokeConsent", twin,
                error="TwinRegistryConsentAlreadyRevoked", error_args=(twin,))
    env.advance(NOTICE + 1)
    env.refused(a.model, "TwinRegistry", "revokeConsent", twin,
                error="TwinRegistryConsentAlreadyRevoked", error_args=(twin,))


def test_purchases_and_new_offers_stop_at_once(env, a, twin, offer):
    revoke(env, a, twin)
    env.fund(a.brand, 10 * USDC)
    # Issue 11: the revocation withdrew the offer itself.
    env.refused(a.brand, "LicenseToken", "buyLicense", offer, USDC,
                error="LicenseTokenOfferInactive", error_args=(offer,))
    deadline = env.now() + 3600
    v, r, s = env.permit(a.brand, Terms().upfront_fee + USDC, deadline)
    env.refused(a.brand, "LicenseToken", "buyLicenseWithPermit", offer, USDC, deadline, v, r, s,
                error="LicenseTokenOfferInactive", error_args=(offer,))
    env.refused(a.model, "LicenseToken", "publishOffer", twin, Terms().tuple(),
                error="LicenseTokenConsentNotGranted", error_args=(twin,))
    assert env.call("LicenseToken", "licenseCount") == 0


def test_settlements_and_top_ups_go_on_during_the_notice_period(env, a, twin, license):
    _, effective_at = revoke(env, a, twin)
    paid(env, item(license, 0, 2))
    env.fund(a.brand, USDC)
    env.tx(a.brand, "LicenseToken", "topUpEscrow", license, USDC)
    # The pending revocation is the licence's end now (issue 11).
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenStillActive", error_args=(license, effective_at))
    env.next_block_at(effective_at - 1)  # the last second of the notice
    paid(env, item(license, 2, 1), gas=GAS)
    assert env.state(license).uses_settled == 3


def test_uses_signed_after_the_revocation_took_effect_are_skipped(env, a, twin, license):
    paid(env, item(license, 0, 4))
    _, effective_at = revoke(env, a, twin)
    mine_at(env, effective_at)
    before = env.digest()
    result = env.settle(item(license, 4, 1))  # signed now: at the effective time
    assert env.skips(result) == [(license, 4, 1, SIGNED_AFTER_END)]
    env.advance(DAY)
    result = env.settle(item(license, 4, 1))
    assert env.skips(result) == [(license, 4, 1, SIGNED_AFTER_END)]
    assert env.digest() == before, "a skipped item changed the state"
    env.fund(a.brand, USDC)
    env.refused(a.brand, "LicenseToken", "topUpEscrow", license, USDC,
                error="LicenseTokenConsentRevoked", error_args=(twin, effective_at))


def test_after_revocation_and_grace_brands_reclaim_and_payees_keep_what_was_settled(env, a, twin, license):
    paid(env, item(license, 0, 4))
    earned = 4 * FEE  # the upfront fee vests (issue 11): none of it is in the payees' earnings yet
    _, effective_at = revoke(env, a, twin)
    mine_at(env, effective_at)
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenInGrace", error_args=(license, effective_at + GRACE))
    mine_at(env, effective_at + GRACE)
    expiry = env.state(license).expiry
    assert env.now() < expiry  # still within its term: only the revocation frees the escrow

    result = env.tx(a.brand, "LicenseToken", "reclaimEscrow", license)
    assert env.event(result, "LicenseToken", "EscrowReclaimed")["amount"] == USDC - 4 * FEE
    assert env.balance(a.brand) == USDC - 4 * FEE
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenNothingToReclaim", error_args=(license,))

    assert env.claimable(a.model) + env.claimable(a.agency) == earned
    env.tx(a.model, "LicenseToken", "withdraw")
    env.tx(a.agency, "LicenseToken", "withdraw")
    assert env.balance(a.model) + env.balance(a.agency) == earned
    assert env.call("LicenseToken", "totalOwed") == 0
    assert env.call("LicenseToken", "totalEscrow") == 0
    env.conserved()


def test_grant_again_cancels_a_pending_revocation(env, a, twin, offer, license):
    revoke(env, a, twin)
    new_hash = Web3.keccak(text="consent v2")
    result = env.tx(a.model, "TwinRegistry", "grantConsent", twin, new_hash)
    assert env.event(result, "TwinRegistry", "ConsentGranted") == {
        "twinId": twin, "consentHash": "0x" + new_hash.hex(), "noticePeriod": NOTICE,
    }
    assert env.call("TwinRegistry", "consentOf", twin) == (GRANTED, 0, new_hash)
    env.advance(NOTICE + 1)
    paid(env, item(license, 0, 1))  # the cancelled revocation never takes effect
    assert env.skips(env.settle(item(license, 1, 1))) == []
    # The offers it withdrew stay withdrawn (issue 11); new ones sell.
    env.fund(a.brand2, 10 * USDC)
    env.refused(a.brand2, "LicenseToken", "buyLicense", offer, USDC,
                error="LicenseTokenOfferInactive", error_args=(offer,))
    env.buy(a.brand2, env.publish(a.model, twin), USDC)


def test_grant_after_effective_revocation_reopens_purchases(env, a, twin, offer):
    revoke(env, a, twin)
    env.advance(NOTICE)
    env.tx(a.model, "TwinRegistry", "grantConsent", twin, b"\x07" * 32)
    assert env.call("TwinRegistry", "consentEffective", twin) is True
    license_id = env.buy(a.brand, env.publish(a.model, twin), USDC)  # the old offer stays withdrawn
    assert env.skips(env.settle(item(license_id, 0, 1))) == []
    # and it can be revoked again.
    revoke(env, a, twin)
    assert env.call("TwinRegistry", "consentOf", twin)[0] == PENDING


def test_notice_period_set_by_the_admin_applies_to_consent_granted_after(env, a, twin, license):
    """Issue 10: a twin keeps the notice period of its consent; the admin's change applies to consent granted later."""
    assert env.call("TwinRegistry", "noticePeriodOf", twin) == NOTICE
    env.tx(a.admin, "TwinRegistry", "setNoticePeriod", 365 * DAY)
    assert env.call("TwinRegistry", "noticePeriodOf", twin) == NOTICE  # the 72 h she agreed to
    result, effective_at = revoke(env, a, twin)
    assert env.event(result, "TwinRegistry", "ConsentRevoked")["effectiveAt"] == effective_at  # now + 72 h
    # Consent granted again is granted under the period in force now: a year.
    result = env.tx(a.model, "TwinRegistry", "grantConsent", twin, b"\x08" * 32)
    assert env.event(result, "TwinRegistry", "ConsentGranted")["noticePeriod"] == 365 * DAY  # events alone tell it
    assert env.call("TwinRegistry", "noticePeriodOf", twin) == 365 * DAY
    result = env.tx(a.model, "TwinRegistry", "revokeConsent", twin)
    assert env.event(result, "TwinRegistry", "ConsentRevoked")["effectiveAt"] == env.block_time(result) + 365 * DAY
    # And a twin registered after a change to no notice at all is revoked at once.
    env.tx(a.admin, "TwinRegistry", "setNoticePeriod", 0)
    second = env.register(a.model2, uri="ipfs://twin-2")
    assert env.call("TwinRegistry", "noticePeriodOf", second) == 0
    offer = env.publish(a.model2, second)
    license2 = env.buy(a.brand, offer, USDC)
    result = env.tx(a.model2, "TwinRegistry", "revokeConsent", second)
    effective_at = env.block_time(result)
    assert env.call("TwinRegistry", "consentOf", second)[:2] == (REVOKED, effective_at)
    assert env.skips(env.settle(item(license2, 0, 1))) == [(license2, 0, 1, SIGNED_AFTER_END)]
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license2,
                error="LicenseTokenInGrace", error_args=(license2, effective_at + GRACE))
    mine_at(env, effective_at + GRACE)
    before = env.balance(a.brand)
    env.tx(a.brand, "LicenseToken", "reclaimEscrow", license2)
    assert env.balance(a.brand) == before + USDC
