"""Earnings: split by shares with the rounding remainder to the model, pulled by each payee, payee changes."""

import pytest

from kit.signed_items import paid
from kit.twin_env import AGENCY, CREW, DAY, MODEL, USDC, Terms, item, payee


@pytest.fixture
def thirds(env, a):
    """A twin shared 3334 / 3333 / 3333 between model, agency and crew, with a 7-micro-unit per-use offer."""
    env.tx(a.guild, "TwinRegistry", "setAgencyCap", 3_333)
    env.tx(a.guild, "TwinRegistry", "setNonModelCap", 6_666)
    twin_id = env.register(
        a.model2, [payee(a.model2, 3_334, MODEL), payee(a.agency2, 3_333, AGENCY), payee(a.crew, 3_333, CREW)]
    )
    offer_id = env.publish(a.model2, twin_id, Terms(upfront_fee=0, per_use_fee=7))
    license_id = env.buy(a.brand, offer_id, 1_000)
    return twin_id, license_id


def test_rounding_remainder_goes_to_the_model(env, a, thirds):
    twin_id, license_id = thirds
    paid(env, item(license_id, 0, 1))  # 7 micro-units: 2 + 2 + remainder 3
    assert env.call("LicenseToken", "undistributed", twin_id) == 7
    assert (env.claimable(a.model2), env.claimable(a.agency2), env.claimable(a.crew)) == (3, 2, 2)
    assert env.call("LicenseToken", "totalOwed") == 7

    for who, amount in ((a.agency2, 2), (a.crew, 2), (a.model2, 3)):
        result = env.tx(who, "LicenseToken", "withdraw")
        assert env.event(result, "LicenseToken", "Withdrawn") == {"payee": who.address, "amount": amount}
        assert env.balance(who) == amount
    assert env.call("LicenseToken", "totalOwed") == 0
    assert env.balance(env.address("LicenseToken")) == 1_000 - 7
    env.conserved()


def split(amount: int) -> tuple[int, int, int]:
    """What the contract gives (model, agency, crew) out of `amount` at 3334 / 3333 / 3333."""
    agency = crew = amount * 3_333 // 10_000
    return amount - agency - crew, agency, crew


def test_claimable_always_sums_to_what_was_credited(env, a, thirds):
    twin_id, license_id = thirds
    payees = (a.model2, a.agency2, a.crew)
    split_so_far = [0, 0, 0]  # distributed into each payee's balance
    withdrawn = [0, 0, 0]
    pool = 0  # undistributed
    credited = seq = 0
    for step, count in enumerate((1, 2, 3, 5, 11, 13, 1, 1)):
        paid(env, item(license_id, seq, count))
        seq += count
        credited += 7 * count
        pool += 7 * count
        if step in (2, 5):  # a withdrawal splits the whole pool; later amounts are split on their own
            who = payees[step % 3]
            split_so_far = [have + part for have, part in zip(split_so_far, split(pool))]
            pool = 0
            index = payees.index(who)
            env.tx(who, "LicenseToken", "withdraw")
            withdrawn[index] += split_so_far[index]
            split_so_far[index] = 0
        expected = [have + part for have, part in zip(split_so_far, split(pool))]
        claimable = [env.claimable(x) for x in payees]
        assert claimable == expected
        assert sum(claimable) == env.call("LicenseToken", "totalOwed")
        assert sum(claimable) + sum(withdrawn) == credited
        assert [env.balance(x) for x in payees] == withdrawn
        assert [env.call("LicenseToken", "totalEarned", x.address) for x in payees] == [
            c + w for c, w in zip(claimable, withdrawn)
        ]
    env.conserved()


def test_withdraw_pays_everything_claimable_and_keeps_total_earned(env, a, twin, license):
    paid(env, item(license, 0, 10))
    earned = 10 * Terms().per_use_fee  # the upfront fee vests over the term (issue 11): none of it yet
    model_share = earned * 8 // 10
    assert env.call("LicenseToken", "totalEarned", a.model.address) == model_share

    result = env.tx(a.model, "LicenseToken", "withdraw")
    assert env.event(result, "LicenseToken", "Withdrawn") == {"payee": a.model.address, "amount": model_share}
    # Withdrawing split the twin's pool among all its payees.
    assert {(e["payee"], e["amount"]) for e in env.events(result, "LicenseToken", "EarningsDistributed")} == {
        (a.model.address, model_share),
        (a.agency.address, earned - model_share),
    }
    assert env.call("LicenseToken", "undistributed", twin) == 0
    assert env.balance(a.model) == model_share
    assert env.claimable(a.model) == 0
    assert env.call("LicenseToken", "totalEarned", a.model.address) == model_share
    assert env.claimable(a.agency) == earned - model_share
    assert env.call("LicenseToken", "totalOwed") == earned - model_share
    env.conserved()

    env.refused(a.model, "LicenseToken", "withdraw", error="LicenseTokenNothingToWithdraw", error_args=(a.model.address,))
    paid(env, item(license, 10, 2))
    assert env.call("LicenseToken", "totalEarned", a.model.address) == model_share + 2 * Terms().per_use_fee * 8 // 10


def test_withdraw_with_nothing_owed_is_refused(env, a, twin):
    for who in (a.stranger, a.model, a.agency):
        env.refused(who, "LicenseToken", "withdraw", error="LicenseTokenNothingToWithdraw", error_args=(who.address,))


def vest_all(env, a, days=31):
    """Lets every licence's term run out and vests all their upfront fees (issue 11: they are earnings only then)."""
    env.advance(days * DAY)
    env.tx(a.stranger, "LicenseToken", "vest", list(range(1, env.call("LicenseToken", "licenseCount") + 1)))


def test_a_payee_of_several_twins_withdraws_all_at_once(env, a, twin, license):
    twin2 = env.register(a.model2, [payee(a.model2, 9_000, MODEL), payee(a.agency, 1_000, AGENCY)])
    offer2 = env.publish(a.model2, twin2, Terms(upfront_fee=3 * USDC))
    env.buy(a.brand2, offer2, 0)
    vest_all(env, a)
    expected = Terms().upfront_fee * 2 // 10 + 3 * USDC // 10
    assert env.claimable(a.agency) == expected
    env.tx(a.agency, "LicenseToken", "withdraw")
    assert env.balance(a.agency) == expected
    assert env.call("LicenseToken", "undistributed", twin) == 0
    assert env.call("LicenseToken", "undistributed", twin2) == 0
    env.conserved()


def test_payee_change_pays_earlier_earnings_under_the_old_shares(env, a, twin, license):
    paid(env, item(license, 0, 20))
    earned = 20 * Terms().per_use_fee  # 1 tUSDC (the upfront fee is still vesting, issue 11)
    result = env.tx(a.model, "TwinRegistry", "setPayees", twin, [payee(a.model, 7_000, MODEL), payee(a.crew, 3_000, CREW)])
    distributed = env.events(result, "LicenseToken", "EarningsDistributed")
    assert {(e["payee"], e["amount"]) for e in distributed} == {
        (a.model.address, earned * 8 // 10),
        (a.agency.address, earned * 2 // 10),
    }
    env.tx(a.crew, "TwinRegistry", "acceptPayee", twin)  # so that the twin counts in its claimable()
    # The agency, no longer a payee, keeps what it earned; the new crew payee gets none of it.
    assert env.claimable(a.agency) == earned * 2 // 10
    assert env.claimable(a.crew) == 0
    assert env.claimable(a.model) == earned * 8 // 10

    env.fund(a.brand, 10 * USDC)
    env.tx(a.brand, "LicenseToken", "topUpEscrow", license, 10 * USDC)
    paid(env, item(license, 20, 100))  # 5 tUSDC under the new shares
    assert env.claimable(a.agency) == earned * 2 // 10
    assert env.claimable(a.crew) == 5 * USDC * 3 // 10
    assert env.claimable(a.model) == earned * 8 // 10 + 5 * USDC * 7 // 10

    env.tx(a.agency, "LicenseToken", "withdraw")
    assert env.balance(a.agency) == earned * 2 // 10
    assert env.call("LicenseToken", "totalEarned", a.agency.address) == earned * 2 // 10
    env.conserved()


def test_payee_change_with_nothing_undistributed_emits_no_distribution(env, a, twin):
    result = env.tx(a.model, "TwinRegistry", "setPayees", twin, [payee(a.model, 10_000, MODEL)])
    assert env.events(result, "LicenseToken", "EarningsDistributed") == []


def test_withdraw_from_chosen_twins_pays_their_split_and_leaves_the_others(env, a, twin, license):
    """A payee named on very many twins can bound her withdrawal's gas by naming the twins to split."""
    twin2 = env.register(a.model2, [payee(a.model2, 9_000, MODEL), payee(a.agency, 1_000, AGENCY)])
    offer2 = env.publish(a.model2, twin2, Terms(upfront_fee=3 * USDC))
    env.buy(a.brand2, offer2, 0)
    vest_all(env, a)
    from_twin2 = 3 * USDC // 10
    from_twin = Terms().upfront_fee * 2 // 10
    result = env.tx(a.agency, "LicenseToken", "withdrawFrom", [twin2])
    assert env.event(result, "LicenseToken", "Withdrawn") == {"payee": a.agency.address, "amount": from_twin2}
    assert env.balance(a.agency) == from_twin2
    assert env.call("LicenseToken", "undistributed", twin2) == 0
    assert env.call("LicenseToken", "undistributed", twin) == Terms().upfront_fee  # untouched
    assert env.claimable(a.agency) == from_twin
    assert env.claimable(a.model2) == 3 * USDC - from_twin2  # split into her balance, not paid to her
    env.conserved()
