"""Issue 10, payees who consent to being payees: a listed payee other than the model counts a twin in its
`withdraw()` / `claimable()` only once it accepted (its share is credited all the same and reachable by
`withdrawFrom`); it may leave, its share going to the model and its credited earnings staying its own."""

import pytest

from kit.signed_items import paid
from kit.twin_env import AGENCY, CREW, DAY, MODEL, USDC, Terms, item, payee

FEE = Terms().per_use_fee


@pytest.fixture
def listed(env, a):
    """A twin of `model` listing the agency (20 %) and the crew (10 %), neither of which accepted; one licence with
    10 settled uses (0.5 tUSDC; its upfront fee vests over the term, issue 11). Returns (twin, licence)."""
    twin = env.register(a.model, [payee(a.model, 7_000, MODEL), payee(a.agency, 2_000, AGENCY),
                                  payee(a.crew, 1_000, CREW)], accept=False)
    license_id = env.buy(a.brand, env.publish(a.model, twin, Terms()), USDC)
    paid(env, item(license_id, 0, 10))
    return twin, license_id


EARNED = 10 * FEE  # the upfront fee is still unvested: not earnings yet (issue 11)


def test_an_unaccepted_listing_does_not_count_but_its_share_is_reachable(env, a, listed):
    twin, _ = listed
    assert env.call("TwinRegistry", "twinsOfPayee", a.agency.address) == ()
    assert env.call("TwinRegistry", "isPayeeAccepted", twin, a.agency.address) is False
    assert env.call("TwinRegistry", "isPayeeAccepted", twin, a.model.address) is True  # her own twin, always
    assert env.claimable(a.agency) == 0
    assert env.call("LicenseToken", "claimableFrom", a.agency.address, [twin]) == EARNED * 2 // 10
    assert env.call("LicenseToken", "claimableFrom", a.agency.address, [twin, twin]) == EARNED * 2 // 10  # once
    env.refused(a.agency, "LicenseToken", "withdraw", error="LicenseTokenNothingToWithdraw", error_args=(a.agency.address,))
    # The model's withdrawal splits the twin: the agency's share is credited to it, and then it counts.
    env.tx(a.model, "LicenseToken", "withdraw")
    assert env.balance(a.model) == EARNED - EARNED * 2 // 10 - EARNED // 10
    assert env.claimable(a.agency) == EARNED * 2 // 10
    env.tx(a.crew, "LicenseToken", "withdrawFrom", [twin])
    assert env.balance(a.crew) == EARNED // 10
    env.conserved()


def test_accepting_makes_the_twin_count(env, a, listed):
    twin, license_id = listed
    result = env.tx(a.agency, "TwinRegistry", "acceptPayee", twin)
    assert env.event(result, "TwinRegistry", "PayeeAccepted") == {"twinId": twin, "account": a.agency.address}
    assert env.call("TwinRegistry", "twinsOfPayee", a.agency.address) == (twin,)
    assert env.call("TwinRegistry", "isPayeeAccepted", twin, a.agency.address) is True
    assert env.claimable(a.agency) == EARNED * 2 // 10
    env.tx(a.agency, "LicenseToken", "withdraw")
    assert env.balance(a.agency) == EARNED * 2 // 10
    env.conserved()


def test_bad_accepts_and_leaves_are_refused_and_change_nothing(env, a, listed):
    twin, _ = listed
    env.tx(a.agency, "TwinRegistry", "acceptPayee", twin)
    env.refused(a.agency, "TwinRegistry", "acceptPayee", twin,
                error="TwinRegistryPayeeAlreadyAccepted", error_args=(twin, a.agency.address))
    for function in ("acceptPayee", "leavePayee"):
        env.refused(a.stranger, "TwinRegistry", function, twin,
                    error="TwinRegistryNotPayee", error_args=(twin, a.stranger.address))
        env.refused(a.model, "TwinRegistry", function, twin, error="TwinRegistryModelPayeeFixed", error_args=(twin,))
        env.refused(a.agency, "TwinRegistry", function, 99, error="ERC721NonexistentToken", error_args=(99,))


def test_a_payee_leaves_its_share_to_the_model_and_keeps_what_it_earned(env, a, listed):
    twin, license_id = listed
    env.tx(a.agency, "TwinRegistry", "acceptPayee", twin)
    result = env.tx(a.agency, "TwinRegistry", "leavePayee", twin)
    # Earnings so far were split under the old shares first.
    distributed = {(e["payee"], e["amount"]) for e in env.events(result, "LicenseToken", "EarningsDistributed")}
    assert (a.agency.address, EARNED * 2 // 10) in distributed
    assert env.event(result, "TwinRegistry", "PayeeLeft") == {"twinId": twin, "account": a.agency.address, "shareBps": 2_000}
    assert env.event(result, "TwinRegistry", "PayeesSet") == {
        "twinId": twin, "accounts": [a.model.address, a.crew.address], "sharesBps": [9_000, 1_000], "roles": [MODEL, CREW],
    }
    assert env.call("TwinRegistry", "payeesOf", twin) == ((a.model.address, 9_000, MODEL), (a.crew.address, 1_000, CREW))
    assert env.call("TwinRegistry", "twinsOfPayee", a.agency.address) == ()
    assert env.claimable(a.agency) == EARNED * 2 // 10

    paid(env, item(license_id, 10, 10))  # under the new shares: nothing to the agency
    env.tx(a.agency, "LicenseToken", "withdraw")
    assert env.balance(a.agency) == EARNED * 2 // 10
    env.tx(a.model, "LicenseToken", "withdraw")
    assert env.balance(a.model) == EARNED * 7 // 10 + 10 * FEE * 9 // 10
    env.refused(a.agency, "TwinRegistry", "leavePayee", twin, error="TwinRegistryNotPayee",
                error_args=(twin, a.agency.address))
    env.conserved()


def test_a_payee_that_never_accepted_may_leave_too(env, a, listed):
    twin, _ = listed
    env.tx(a.crew, "TwinRegistry", "leavePayee", twin)
    assert env.call("TwinRegistry", "payeesOf", twin)[0] == (a.model.address, 8_000, MODEL)
    assert env.claimable(a.crew) == EARNED // 10  # credited when it left: its own now, wherever it is listed


def test_setting_payees_keeps_the_acceptance_of_those_who_stay(env, a, listed):
    twin, _ = listed
    env.tx(a.agency, "TwinRegistry", "acceptPayee", twin)
    env.tx(a.crew, "TwinRegistry", "acceptPayee", twin)
    env.tx(a.model, "TwinRegistry", "setPayees", twin, [payee(a.model, 8_500, MODEL), payee(a.agency, 1_500, AGENCY)])
    assert env.call("TwinRegistry", "isPayeeAccepted", twin, a.agency.address) is True
    assert env.call("TwinRegistry", "isPayeeAccepted", twin, a.crew.address) is False
    # Listed again later, the crew must accept again.
    env.tx(a.model, "TwinRegistry", "setPayees", twin, [payee(a.model, 8_000, MODEL), payee(a.crew, 2_000, CREW)])
    assert env.call("TwinRegistry", "twinsOfPayee", a.crew.address) == ()


def test_junk_listings_cost_the_listed_address_nothing(env, a):
    """An address listed on many twins it never accepted withdraws and reads `claimable` at the gas it did when listed
    on none of them (scripts/bench_payee_listings.py measures it with 2 000 twins)."""
    victim = a.crew
    shared = env.register(a.model, [payee(a.model, 8_000, MODEL), payee(victim, 2_000, CREW)])
    env.buy(a.brand, env.publish(a.model, shared, Terms(upfront_fee=10 * USDC)), 0)
    lic = env.license

    def vest_everything():
        """Upfront fees are earnings once vested (issue 11): let the terms run out and vest every licence."""
        env.advance(31 * DAY)
        env.tx(a.stranger, "LicenseToken", "vest", list(range(1, env.call("LicenseToken", "licenseCount") + 1)))

    def gas():
        return (
            lic.functions.claimable(victim.address).estimate_gas(),
            lic.functions.withdraw().estimate_gas({"from": victim.address}),
        )

    vest_everything()
    before = gas()
    for _ in range(10):  # the attacker: an attested model naming the victim on junk twins that earn
        junk = env.register(a.model2, [payee(a.model2, 9_999, MODEL), payee(victim, 1, CREW)], accept=False)
        env.buy(a.brand2, env.publish(a.model2, junk, Terms(upfront_fee=USDC)), 0)
    vest_everything()
    assert gas() == before
    assert env.claimable(victim) == 2 * USDC
    assert env.call("LicenseToken", "claimableFrom", victim.address, [shared, 3, 4]) == 2 * USDC + 2 * (USDC // 10_000)
