"""Settlement bound to the holder's signature (issue 11): each item carries the holder's EIP-712 report of its last
use, the contract pays only what the holder at the report's time signed for, and an item that cannot settle is
skipped with its reason while the rest of the batch settles.

Attacker tests first: each of them paid the recorder's fabrication on the contracts before issue 11.
"""

import pytest

from kit.twin_env import (
    DAY,
    ECOMMERCE,
    GAS,
    PRINT,
    SOCIAL,
    USDC,
    ZERO_ROOT,
    Terms,
    high_s_signature,
    hx,
    item,
    root,
    sign_report,
    use_ref,
)

FEE = Terms().per_use_fee
(
    UNKNOWN_LICENSE,
    SEQUENCE_MISMATCH,
    ZERO_COUNT,
    CATEGORIES_INVALID,
    EMPTY_USES_ROOT,
    BAD_SIGNATURE,
    NOT_HOLDER,
    SIGNED_AFTER_END,
    GRACE_OVER,
    MAX_USES_EXCEEDED,
    INSUFFICIENT_ESCROW,
) = range(11)  # TwinTypes.SkipReason


def skipped_alone(env, full_item, reason):
    """Settling only `full_item` skips it with `reason` and changes nothing at all (escrow, earnings, counts...)."""
    before = env.digest()
    result = env.settle(full_item)
    assert env.skips(result) == [(full_item[0], full_item[1], full_item[2], reason)]
    assert env.events(result, "LicenseToken", "UsesSettled") == []
    assert env.digest() == before, "a skipped item changed the state"
    env.conserved()
    return result


@pytest.fixture
def transferable(env, a, twin):
    """Licence of `brand` under a transferable offer, with 1 tUSDC of escrow."""
    offer = env.publish(a.model, twin, Terms(transferable=True))
    return env.buy(a.brand, offer, 1 * USDC)


# ---------------------------------------------------------------------------------------------- the recorder alone


def test_the_recorder_cannot_fabricate_uses_with_its_own_key(env, a, license):
    skipped_alone(env, env.signed_item(license, 0, 5, signer=a.recorder), NOT_HOLDER)


def test_the_recorder_cannot_fabricate_uses_with_a_colluding_model(env, a, license):
    skipped_alone(env, env.signed_item(license, 0, 5, signer=a.model), NOT_HOLDER)


def test_a_missing_or_garbage_signature_pays_nothing(env, a, license):
    zero = (b"\x00" * 32, b"\x00" * 32)
    skipped_alone(env, env.signed_item(license, 0, 5, signature=zero), BAD_SIGNATURE)
    # r beyond the curve order: malformed.
    skipped_alone(env, env.signed_item(license, 0, 5, signature=(b"\xff" * 32, b"\x01" * 32)), BAD_SIGNATURE)
    # Well-formed numbers that are nobody's signature recover some stranger (or nobody): never the holder.
    garbage = (root("garbage r"), (int.from_bytes(root("garbage s"), "big") >> 2).to_bytes(32, "big"))
    result = env.settle(env.signed_item(license, 0, 5, signature=garbage))
    assert env.skips(result)[0][3] in (BAD_SIGNATURE, NOT_HOLDER)
    assert env.state(license).uses_settled == 0


def test_a_zero_uses_root_is_refused_even_when_signed(env, a, license):
    skipped_alone(env, env.signed_item(license, 0, 3, uses_root=ZERO_ROOT), EMPTY_USES_ROOT)


def test_a_signature_over_use_n_pays_no_use_beyond_it(env, a, license):
    """The holder signed use #3 (seq 2): an item of 5 uses claims her signature over seq 4, which she never gave."""
    skipped_alone(env, env.signed_item(license, 0, 5, report_seq=2), NOT_HOLDER)
    env.settle(env.signed_item(license, 0, 3, report_seq=2))
    assert env.state(license).uses_settled == 3


def test_a_changed_report_field_breaks_the_signature(env, a, license):
    good = env.signed_item(license, 0, 2)
    for index, value in ((5, use_ref("other")), (6, good[6] + 1 if good[6] + 1 < 8 else 0), (7, 1), (8, good[8] - 5)):
        bent = list(good)
        bent[index] = value
        if index == 6:  # keep the category inside the mask, so that only the signature is wrong
            bent[4] |= 1 << value
        result = env.settle(tuple(bent))
        assert env.skips(result)[0][3] in (NOT_HOLDER, BAD_SIGNATURE, CATEGORIES_INVALID)
    assert env.state(license).uses_settled == 0


# ---------------------------------------------------------------------------------------------- replays


def test_digest_is_the_backends(env, a, license):
    report = (license, 7, use_ref("x"), 1, 0, 1_700_000_000)
    assert env.call("LicenseToken", "useReportDigest", *report) == env.report_digest(*report)


def test_a_signature_for_another_licence_is_refused(env, a, offer, license):
    other = env.buy(a.brand, offer, 1 * USDC)  # same holder, same seq: only the licence id differs
    signed_for_other = env.signed_item(other, 0, 2)
    replay = (license, *signed_for_other[1:])
    skipped_alone(env, replay, NOT_HOLDER)
    env.settle(signed_for_other)
    assert env.state(other).uses_settled == 2


def test_a_signature_for_another_chain_is_refused(env, a, license):
    skipped_alone(env, env.signed_item(license, 0, 2, chain_id=env.w3.eth.chain_id + 1), NOT_HOLDER)


def test_a_signature_for_another_licence_contract_is_refused(env, a, license):
    deployed = env.chain.deploy(
        a.admin, "LicenseToken", a.admin.address, env.address("TwinRegistry"), env.address("PaymentToken"),
        libraries=env.chain.deployment.libraries,
    )
    other = deployed.contract_address
    report = (license, 1, use_ref("y"), 0, 0, 1_700_000_000)
    other_digest = env.w3.eth.contract(address=other, abi=env.license.abi).functions.useReportDigest(*report).call()
    assert bytes(other_digest) == env.report_digest(*report, contract=other) != env.report_digest(*report)
    skipped_alone(env, env.signed_item(license, 0, 2, contract=other), NOT_HOLDER)


def test_a_high_s_signature_is_refused_and_its_low_s_twin_settles(env, a, transferable):
    """The holder here is an address whose key nobody has: the signature is chosen first, its signer recovered,
    and the licence handed to that signer (a wallet never makes a high s that fits the compact form)."""
    used_at = env.now() + 1000  # after the handover below: the buyer's report
    categories = env.licence_categories(transferable)
    ref = use_ref("high-s")
    digest = env.report_digest(transferable, 1, ref, 0, 0, used_at)
    high, low, holder = high_s_signature(digest)
    env.tx(a.brand, "LicenseToken", "transferFrom", a.brand.address, holder, transferable)
    env.fund(a.brand2, 1 * USDC)
    env.tx(a.brand2, "LicenseToken", "topUpEscrow", transferable, 1 * USDC)

    head = (transferable, 0, 2, root("high-s"), categories, ref, 0, 0, used_at)
    skipped_alone(env, (*head, *high), BAD_SIGNATURE)
    result = env.settle((*head, *low))
    assert env.event(result, "LicenseToken", "UsesSettled")["payer"] == holder
    assert env.state(transferable).escrow == 1 * USDC - 2 * FEE


# ---------------------------------------------------------------------------------------------- former holders


def test_a_former_holder_cannot_sign_after_the_handover(env, a, transferable):
    env.tx(a.brand, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, transferable)
    env.fund(a.brand2, 1 * USDC)
    env.tx(a.brand2, "LicenseToken", "topUpEscrow", transferable, 1 * USDC)
    # The buyer cannot sign for the time the seller held it.
    at = env.call("LicenseToken", "handover", transferable)[1]
    skipped_alone(env, env.signed_item(transferable, 0, 3, signer=a.brand2, used_at=at - 1), NOT_HOLDER)
    # The seller signs a report dated after she handed the licence over: she is not the holder then, nobody pays
    # it, and it is voided so that it blocks nothing (test_handover_void.py).
    result = env.settle(env.signed_item(transferable, 0, 3, signer=a.brand))
    assert env.event(result, "LicenseToken", "UsesVoided")["reason"] == NOT_HOLDER
    assert env.events(result, "LicenseToken", "UsesSettled") == []
    # The buyer's own report settles, from the buyer's escrow.
    result = env.settle(item(transferable, 3, 3))
    assert env.event(result, "LicenseToken", "UsesSettled")["payer"] == a.brand2.address


def test_the_sellers_uses_before_the_handover_are_paid_from_her_escrow(env, a, transferable):
    env.tx(a.brand, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, transferable)
    seller, at, seller_escrow = env.call("LicenseToken", "handover", transferable)
    assert (seller, seller_escrow) == (a.brand.address, 1 * USDC)
    assert env.state(transferable).escrow == 0
    result = env.settle(item(transferable, 0, 4), as_seller=True)
    settled = env.event(result, "LicenseToken", "UsesSettled")
    assert (settled["payer"], settled["amount"]) == (a.brand.address, 4 * FEE)
    assert env.call("LicenseToken", "handover", transferable)[2] == 1 * USDC - 4 * FEE
    env.conserved()


def test_a_first_seller_cannot_sign_after_a_second_handover(env, a, transferable):
    env.tx(a.brand, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, transferable)
    env.settle(item(transferable, 0, 20), as_seller=True)  # the seller's escrow is spent: the licence may move on
    assert env.call("LicenseToken", "handover", transferable)[2] == 0
    first_at = env.call("LicenseToken", "handover", transferable)[1]
    env.advance(10)
    env.tx(a.brand2, "LicenseToken", "transferFrom", a.brand2.address, a.stranger.address, transferable)
    env.fund(a.brand2, 1 * USDC)
    env.tx(a.brand2, "LicenseToken", "topUpEscrow", transferable, 1 * USDC)
    skipped_alone(env, env.signed_item(transferable, 20, 1, signer=a.brand, used_at=first_at - 1), NOT_HOLDER)


# ---------------------------------------------------------------------------------------------- the batch


def test_one_bad_item_in_three_is_skipped_and_the_others_settle(env, a, twin, offer, license):
    second = env.buy(a.brand2, offer, 1 * USDC)
    third = env.buy(a.brand, offer, 1 * USDC)
    result = env.settle(
        item(license, 0, 2),
        env.signed_item(second, 0, 3, signer=a.recorder),  # forged
        item(third, 0, 4),
    )
    assert env.skips(result) == [(second, 0, 3, NOT_HOLDER)]
    settled = env.events(result, "LicenseToken", "UsesSettled")
    assert [(e["licenseId"], e["count"], e["payer"]) for e in settled] == [
        (license, 2, a.brand.address), (third, 4, a.brand.address)
    ]
    assert [env.state(i).uses_settled for i in (license, second, third)] == [2, 0, 4]
    assert env.call("LicenseToken", "totalOwed") == 6 * FEE
    env.conserved()


def test_uses_settled_names_the_payer_and_the_root(env, a, twin, license):
    result = env.settle(item(license, 0, 3, root("batch-1")))
    assert env.event(result, "LicenseToken", "UsesSettled") == {
        "licenseId": license, "twinId": twin, "firstSeq": 0, "count": 3, "amount": 3 * FEE,
        "usesRoot": hx(root("batch-1")), "payer": a.brand.address,
    }


def test_settle_reverts_only_for_a_stranger_a_pause_or_an_empty_batch(env, a, license):
    env.refused(a.stranger, "LicenseToken", "settle", [env.signed_item(license, 0, 1)],
                error="AccessControlUnauthorizedAccount")
    env.refused(a.recorder, "LicenseToken", "settle", [], error="LicenseTokenEmptyBatch")
    env.tx(a.admin, "LicenseToken", "pause")
    env.refused(a.recorder, "LicenseToken", "settle", [env.signed_item(license, 0, 1)], error="EnforcedPause")


# ---------------------------------------------------------------------------------------------- every reason


def test_unknown_licence(env, a, license):
    skipped_alone(env, env.signed_item(99, 0, 1, signer=a.brand), UNKNOWN_LICENSE)


def test_sequence_mismatch_replay_and_gap(env, a, license):
    env.settle(item(license, 0, 3))
    skipped_alone(env, env.signed_item(license, 0, 3), SEQUENCE_MISMATCH)  # replay
    skipped_alone(env, env.signed_item(license, 2, 2), SEQUENCE_MISMATCH)  # overlap
    skipped_alone(env, env.signed_item(license, 4, 1), SEQUENCE_MISMATCH)  # gap


def test_zero_count(env, a, license):
    skipped_alone(env, env.signed_item(license, 0, 0, report_seq=0), ZERO_COUNT)


def test_categories_invalid(env, a, license):
    skipped_alone(env, env.signed_item(license, 0, 1, categories=0, category=0), CATEGORIES_INVALID)
    skipped_alone(env, env.signed_item(license, 0, 1, categories=ECOMMERCE | PRINT), CATEGORIES_INVALID)
    # The last report's category (social) is not in the item's mask (e-commerce).
    skipped_alone(env, env.signed_item(license, 0, 1, categories=ECOMMERCE, category=1), CATEGORIES_INVALID)
    skipped_alone(env, env.signed_item(license, 0, 1, categories=ECOMMERCE, category=200), CATEGORIES_INVALID)


def test_signed_after_the_end(env, a, license):
    expiry = env.state(license).expiry
    skipped_alone(env, env.signed_item(license, 0, 1, used_at=expiry), SIGNED_AFTER_END)


def test_signed_after_a_category_revocation_took_effect(env, a, twin, license):
    env.tx(a.model, "TwinRegistry", "revokeCategoryConsent", twin, 1)  # social
    effective = env.call("TwinRegistry", "categoryConsentOf", twin, 1)[1]
    skipped_alone(env, env.signed_item(license, 0, 1, categories=SOCIAL, used_at=effective), SIGNED_AFTER_END)
    # e-commerce is not revoked: its uses at that time settle.
    env.settle(env.signed_item(license, 0, 1, categories=ECOMMERCE, used_at=effective))
    assert env.state(license).uses_settled == 1


def test_grace_over(env, a, license):
    expiry = env.state(license).expiry
    signed_in_time = env.signed_item(license, 0, 2, used_at=expiry - 1)
    env.advance(expiry - env.now() + 7 * DAY)
    skipped_alone(env, signed_in_time, GRACE_OVER)


def test_a_report_just_before_expiry_settles_an_hour_after_it(env, a, license):
    expiry = env.state(license).expiry
    signed = env.signed_item(license, 0, 2, used_at=expiry - 1)
    env.next_block_at(expiry + 3600)
    result = env.settle(signed, gas=GAS)
    assert env.event(result, "LicenseToken", "UsesSettled")["count"] == 2


def test_max_uses_exceeded(env, a, twin):
    offer = env.publish(a.model, twin, Terms(max_uses=3))
    license = env.buy(a.brand, offer, 1 * USDC)
    skipped_alone(env, env.signed_item(license, 0, 4), MAX_USES_EXCEEDED)
    env.settle(item(license, 0, 3))
    assert env.state(license).uses_settled == 3


def test_insufficient_escrow(env, a, license):
    skipped_alone(env, env.signed_item(license, 0, 21), INSUFFICIENT_ESCROW)  # 1 tUSDC pays 20 uses
    env.fund(a.brand, FEE)
    env.tx(a.brand, "LicenseToken", "topUpEscrow", license, FEE)
    env.settle(item(license, 0, 21))
    assert env.state(license).escrow == 0


def test_insufficient_seller_escrow(env, a, transferable):
    env.tx(a.brand, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, transferable)
    env.fund(a.brand2, 5 * USDC)
    env.tx(a.brand2, "LicenseToken", "topUpEscrow", transferable, 5 * USDC)
    # The buyer's escrow would cover it, but the seller's uses are paid by the seller's escrow only: voided
    # (test_handover_void.py), no money moves.
    escrows = (env.state(transferable).escrow, env.call("LicenseToken", "handover", transferable))
    result = env.settle(env.signed_item(transferable, 0, 21, as_seller=True))
    assert env.event(result, "LicenseToken", "UsesVoided")["reason"] == INSUFFICIENT_ESCROW
    assert (env.state(transferable).escrow, env.call("LicenseToken", "handover", transferable)) == escrows


def test_a_pause_after_the_grace_ran_out_does_not_reopen_it(env, a, license):
    expiry = env.state(license).expiry
    signed_in_time = env.signed_item(license, 0, 2, used_at=expiry - 1)
    grace_ends = env.call("LicenseToken", "graceEndsAt", license)
    assert grace_ends == expiry + 7 * DAY
    env.advance(grace_ends - env.now() + DAY)
    env.tx(a.admin, "LicenseToken", "pause")
    env.advance(3 * DAY)
    assert env.call("LicenseToken", "graceEndsAt", license) == grace_ends
    env.tx(a.admin, "LicenseToken", "unpause")
    assert env.call("LicenseToken", "graceEndsAt", license) == grace_ends
    skipped_alone(env, signed_in_time, GRACE_OVER)
    env.tx(a.brand, "LicenseToken", "reclaimEscrow", license)


def test_a_pause_inside_the_grace_lengthens_it_by_its_length(env, a, license):
    expiry = env.state(license).expiry
    signed_in_time = env.signed_item(license, 0, 2, used_at=expiry - 1)
    env.next_block_at(expiry + DAY)
    env.tx(a.admin, "LicenseToken", "pause", gas=GAS)
    env.next_block_at(expiry + 4 * DAY)
    env.tx(a.admin, "LicenseToken", "unpause", gas=GAS)
    assert env.call("LicenseToken", "graceEndsAt", license) == expiry + 10 * DAY
    env.next_block_at(expiry + 9 * DAY)  # past expiry + 7 days, inside the lengthened grace
    result = env.settle(signed_in_time, gas=GAS)
    assert env.event(result, "LicenseToken", "UsesSettled")["count"] == 2
