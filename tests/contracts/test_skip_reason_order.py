"""Which reason the contract reports for an item that fails several checks: a final one (the uses are rejected for
good) before the curable InsufficientEscrow, so the settler never holds uses for a top-up that could not pay them.

The contract vets in `TwinTypes.SkipReason` order (LicenseToken._vet, then _vetTime) and looks at the escrow last
(_settleItem); the invariant run's model follows the same order. Each item below is short of escrow too.
"""

from kit.twin_env import SOCIAL, USDC, Terms
from twin_licensing.domain import skip_reasons as skip

FEE = Terms().per_use_fee
SHORT = 1 * USDC // FEE + 1  # one use more than the licence's 1 tUSDC of escrow pays


def skipped_for(env, full_item) -> int:
    """Settles `full_item` alone; it is skipped (nothing moves) and the reason is returned."""
    before = env.digest()
    result = env.settle(full_item)
    assert env.events(result, "LicenseToken", "UsesSettled") == []
    assert env.digest() == before, "a skipped item changed the state"
    ((licence, first, count, reason),) = env.skips(result)
    assert (licence, first, count) == full_item[:3]
    return reason


def test_signed_after_the_end_and_short_of_escrow_is_final(env, a, license):
    expiry = env.state(license).expiry
    reason = skipped_for(env, env.signed_item(license, 0, SHORT, used_at=expiry))
    assert reason == skip.SIGNED_AFTER_END and skip.is_final(reason)


def test_signed_after_a_category_revocation_and_short_of_escrow_is_final(env, a, twin, license):
    env.tx(a.model, "TwinRegistry", "revokeCategoryConsent", twin, 1)  # social
    effective = env.call("TwinRegistry", "categoryConsentOf", twin, 1)[1]
    reason = skipped_for(env, env.signed_item(license, 0, SHORT, categories=SOCIAL, used_at=effective))
    assert reason == skip.SIGNED_AFTER_END and skip.is_final(reason)


def test_grace_over_and_short_of_escrow_is_final(env, a, license):
    expiry = env.state(license).expiry
    signed_in_time = env.signed_item(license, 0, SHORT, used_at=expiry - 1)
    env.advance(expiry - env.now() + env.call("LicenseToken", "gracePeriod"))
    reason = skipped_for(env, signed_in_time)
    assert reason == skip.GRACE_OVER and skip.is_final(reason)


def test_past_the_maximum_and_short_of_escrow_is_final(env, a, twin):
    offer = env.publish(a.model, twin, Terms(max_uses=SHORT - 1))
    license = env.buy(a.brand, offer, 1 * USDC)
    reason = skipped_for(env, env.signed_item(license, 0, SHORT))
    assert reason == skip.MAX_USES_EXCEEDED and skip.is_final(reason)


def test_short_of_escrow_alone_is_held_for_a_top_up(env, a, license):
    """The control: the same item signed in time, within the maximum, is the curable reason."""
    reason = skipped_for(env, env.signed_item(license, 0, SHORT))
    assert reason == skip.INSUFFICIENT_ESCROW and not skip.is_final(reason)
