"""Settlement: recorder only; each use paid exactly once (sequence numbers); the end, max uses and escrow enforced.
An item that cannot settle is skipped with its reason (`SettleItemSkipped`) and changes nothing; the rest of the
batch settles (issue 11). The signature rules and every skip reason are in test_signed_settlement.py."""

from kit.twin_env import (
    ADMIN_ROLE,
    AGENCY,
    DAY,
    GAS,
    MODEL,
    RECORDER_ROLE,
    USDC,
    Terms,
    hx,
    item,
    payee,
    root,
)

FEE = Terms().per_use_fee  # 0.05 tUSDC a use
SEQUENCE_MISMATCH, ZERO_COUNT, SIGNED_AFTER_END, MAX_USES_EXCEEDED, INSUFFICIENT_ESCROW = 1, 2, 7, 9, 10
UNKNOWN_LICENSE = 0


def skipped(env, *items, reasons):
    """Settling `items` (short ones, completed and signed by `Env`) skips those named in `reasons` ({index: reason})
    and settles the others; a batch of skipped items only changes nothing at all."""
    before = env.digest()
    result = env.settle(*items)
    assert env.skips(result) == [(items[i][0], items[i][1], items[i][2], r) for i, r in sorted(reasons.items())]
    if len(reasons) == len(items):
        assert env.digest() == before, "a skipped item changed the state"
    env.conserved()
    return result


def test_settle_moves_escrow_to_the_twins_payees(env, a, twin, license):
    owed_before = env.call("LicenseToken", "totalOwed")
    held = env.balance(env.address("LicenseToken"))
    result = env.settle(item(license, 0, 3, root("batch-1")))

    state = env.state(license)
    assert (state.escrow, state.uses_settled) == (USDC - 3 * FEE, 3)
    assert env.call("LicenseToken", "totalEscrow") == USDC - 3 * FEE
    assert env.call("LicenseToken", "totalOwed") == owed_before + 3 * FEE
    # The upfront fee vests over the term (test_vesting.py): only the uses are earnings yet.
    assert env.call("LicenseToken", "undistributed", twin) == 3 * FEE
    assert env.balance(env.address("LicenseToken")) == held  # money moved inside the contract only
    assert env.claimable(a.model) == 3 * FEE * 8 // 10
    assert env.claimable(a.agency) == 3 * FEE * 2 // 10
    env.conserved()
    assert env.event(result, "LicenseToken", "UsesSettled") == {
        "licenseId": license, "twinId": twin, "firstSeq": 0, "count": 3, "amount": 3 * FEE, "usesRoot": hx(root("batch-1")),
        "payer": a.brand.address,
    }


def test_consecutive_settlements_continue_the_sequence(env, a, license):
    env.settle(item(license, 0, 2))
    env.settle(item(license, 2, 5))
    result = env.settle(item(license, 7, 1))
    assert env.state(license).uses_settled == 8
    assert env.event(result, "LicenseToken", "UsesSettled")["firstSeq"] == 7


def test_replayed_settlement_is_skipped(env, a, license):
    env.settle(item(license, 0, 3))
    skipped(env, item(license, 0, 3), reasons={0: SEQUENCE_MISMATCH})
    # An overlapping item (starting inside what is settled) is a replay too.
    skipped(env, item(license, 2, 2), reasons={0: SEQUENCE_MISMATCH})
    assert env.state(license).uses_settled == 3


def test_gapped_settlement_is_skipped(env, a, license):
    skipped(env, item(license, 1, 1), reasons={0: SEQUENCE_MISMATCH})
    env.settle(item(license, 0, 2))
    skipped(env, item(license, 5, 1), reasons={0: SEQUENCE_MISMATCH})


def test_duplicated_item_in_one_batch_settles_once(env, a, license):
    skipped(env, item(license, 0, 2), item(license, 0, 2), reasons={1: SEQUENCE_MISMATCH})
    assert env.state(license).uses_settled == 2
    assert env.state(license).escrow == USDC - 2 * FEE


def test_one_licence_twice_in_a_batch_in_sequence(env, a, twin, license):
    result = env.settle(item(license, 0, 2, root("a")), item(license, 2, 3, root("b")))
    assert env.state(license).uses_settled == 5
    events = env.events(result, "LicenseToken", "UsesSettled")
    assert [(e["firstSeq"], e["count"], e["usesRoot"]) for e in events] == [(0, 2, hx(root("a"))), (2, 3, hx(root("b")))]


def test_batch_of_several_licences_and_twins(env, a, twin, offer, license):
    twin2 = env.register(a.model2, [payee(a.model2, 9_000, MODEL), payee(a.agency2, 1_000, AGENCY)], uri="two")
    offer2 = env.publish(a.model2, twin2, Terms(per_use_fee=80_000))
    license2 = env.buy(a.brand2, offer2, 2 * USDC)
    license3 = env.buy(a.brand2, offer, USDC)
    result = env.settle(item(license, 0, 4), item(license2, 0, 10), item(license3, 0, 1))
    assert [e["licenseId"] for e in env.events(result, "LicenseToken", "UsesSettled")] == [license, license2, license3]
    assert env.state(license2).escrow == 2 * USDC - 10 * 80_000
    assert env.call("LicenseToken", "undistributed", twin2) == 800_000
    assert env.call("LicenseToken", "undistributed", twin) == 5 * FEE
    env.conserved()


def test_an_invalid_item_is_skipped_and_the_rest_of_the_batch_settles(env, a, twin, offer, license):
    license2 = env.buy(a.brand2, offer, USDC)
    skipped(env, item(license, 0, 2), item(license2, 1, 2), reasons={1: SEQUENCE_MISMATCH})
    assert (env.state(license).uses_settled, env.state(license2).uses_settled) == (2, 0)


def test_an_empty_batch_reverts_and_a_zero_count_is_skipped(env, a, license):
    env.refused(a.recorder, "LicenseToken", "settle", [], error="LicenseTokenEmptyBatch")
    skipped(env, item(license, 0, 0), reasons={0: ZERO_COUNT})


def test_an_unknown_licence_is_skipped(env, a, license):
    skipped(env, item(license, 0, 1), item(99, 0, 1), reasons={1: UNKNOWN_LICENSE})
    skipped(env, item(0, 0, 1), reasons={0: UNKNOWN_LICENSE})


def test_only_the_recorder_settles(env, a, license):
    for caller in (a.admin, a.guild, a.model, a.brand, a.stranger):
        env.refused(caller, "LicenseToken", "settle", [item(license, 0, 1)],
                    error="AccessControlUnauthorizedAccount", error_args=(caller.address, RECORDER_ROLE))


def test_admin_grants_and_revokes_the_recorder_role(env, a, license):
    env.refused(a.recorder, "LicenseToken", "grantRole", RECORDER_ROLE, a.stranger.address,
                error="AccessControlUnauthorizedAccount", error_args=(a.recorder.address, ADMIN_ROLE))
    env.tx(a.admin, "LicenseToken", "grantRole", RECORDER_ROLE, a.stranger.address)
    env.tx(a.stranger, "LicenseToken", "settle", [item(license, 0, 1)])
    env.tx(a.admin, "LicenseToken", "revokeRole", RECORDER_ROLE, a.recorder.address)
    env.refused(a.recorder, "LicenseToken", "settle", [item(license, 1, 1)],
                error="AccessControlUnauthorizedAccount", error_args=(a.recorder.address, RECORDER_ROLE))


def test_uses_signed_before_expiry_settle_after_it_and_later_ones_never(env, a, license):
    expiry = env.state(license).expiry
    in_time = env.signed_item(license, 0, 1, used_at=expiry - 1)  # the last second of the licence
    env.next_block_at(expiry + 3600)  # an hour late: within the grace period
    env.settle(in_time, gas=GAS)
    skipped(env, env.signed_item(license, 1, 1, used_at=expiry), reasons={0: SIGNED_AFTER_END})
    env.advance(DAY)
    skipped(env, env.signed_item(license, 1, 1, used_at=expiry + DAY), reasons={0: SIGNED_AFTER_END})
    assert env.state(license).uses_settled == 1


def test_max_uses_are_enforced(env, a, twin):
    offer_id = env.publish(a.model, twin, Terms(max_uses=5))
    license_id = env.buy(a.brand, offer_id, 10 * USDC)
    skipped(env, item(license_id, 0, 6), reasons={0: MAX_USES_EXCEEDED})
    env.settle(item(license_id, 0, 3))
    skipped(env, item(license_id, 3, 3), reasons={0: MAX_USES_EXCEEDED})
    env.settle(item(license_id, 3, 2))
    skipped(env, item(license_id, 5, 1), reasons={0: MAX_USES_EXCEEDED})
    assert env.state(license_id).uses_settled == 5


def test_insufficient_escrow_holds_until_topped_up(env, a, license):
    # 1 tUSDC pays exactly 20 uses.
    skipped(env, item(license, 0, 21), reasons={0: INSUFFICIENT_ESCROW})
    env.settle(item(license, 0, 20))
    assert env.state(license).escrow == 0
    skipped(env, item(license, 20, 1), reasons={0: INSUFFICIENT_ESCROW})
    env.fund(a.brand, FEE)
    env.tx(a.brand, "LicenseToken", "topUpEscrow", license, FEE)
    env.settle(item(license, 20, 1))
    assert env.state(license).uses_settled == 21


def test_settlement_cost_does_not_grow_with_the_number_of_uses(env, a, twin):
    offer_id = env.publish(a.model, twin, Terms(per_use_fee=1))
    first = env.buy(a.brand, offer_id, 10_000)
    second = env.buy(a.brand2, offer_id, 10_000)
    env.settle(item(first, 0, 1), item(second, 0, 1))  # both slots warm: compare like with like
    one = env.settle(item(first, 1, 1)).gas_used
    thousand = env.settle(item(second, 1, 1000)).gas_used
    assert abs(thousand - one) < 100, (one, thousand)
