"""Licences: purchase (approve and permit), the terms snapshot, top-ups, transfers, reclaiming unspent escrow."""

from kit.signed_items import GRACE, mine_at, paid
from kit.twin_env import (
    DAY,
    EXCLUSIVITY_MINIMUM,
    GAS,
    IDLE,
    UINT32_MAX,
    UINT64_MAX,
    USDC,
    Terms,
    item,
)

ERC721_ID = bytes.fromhex("80ac58cd")


# ---------------------------------------------------------------------------------------------- purchase


def test_buying_mints_the_licence_and_moves_the_money(env, a, twin, offer):
    terms = Terms()
    escrow = 2 * USDC
    env.fund(a.brand, terms.upfront_fee + escrow)
    result = env.tx(a.brand, "LicenseToken", "buyLicense", offer, escrow)
    bought_at = env.block_time(result)

    assert env.call("LicenseToken", "licenseCount") == 1
    assert env.call("LicenseToken", "ownerOf", 1) == a.brand.address
    state = env.state(1)
    assert (state.escrow, state.uses_settled, state.max_uses) == (escrow, 0, UINT32_MAX)  # 0 = unlimited
    assert (state.expiry, state.per_use_fee, state.twin_id) == (bought_at + terms.duration, terms.per_use_fee, twin)
    snapshot = env.terms(1)
    assert (snapshot.offer_id, snapshot.upfront_fee, snapshot.started_at) == (offer, terms.upfront_fee, bought_at)
    assert (snapshot.categories, snapshot.territories) == (terms.categories, terms.territories)
    assert (snapshot.exclusive, snapshot.transferable) == (False, False)

    assert env.balance(a.brand) == 0
    assert env.balance(env.address("LicenseToken")) == terms.upfront_fee + escrow
    assert env.call("LicenseToken", "totalEscrow") == escrow
    # Issue 11: the upfront fee is held unvested; it vests to the payees over the term, none of it at purchase.
    assert env.call("LicenseToken", "totalUnvested") == terms.upfront_fee
    assert env.call("LicenseToken", "totalOwed") == 0
    assert env.call("LicenseToken", "undistributed", twin) == 0
    assert env.claimable(a.model) == env.claimable(a.agency) == 0
    assert env.call("LicenseToken", "vesting", 1) == (terms.upfront_fee, 0, 0, 0)
    env.conserved()

    assert env.event(result, "LicenseToken", "LicensePurchased") == {
        "licenseId": 1,
        "offerId": offer,
        "twinId": twin,
        "buyer": a.brand.address,
        "upfrontFee": terms.upfront_fee,
        "escrow": escrow,
        "expiry": bought_at + terms.duration,
    }
    assert env.event(result, "LicenseToken", "Transfer")["to"] == a.brand.address


def test_licence_token_metadata_and_interfaces(env):
    assert env.call("LicenseToken", "name") == "Twin Licence"
    assert env.call("LicenseToken", "symbol") == "TWINL"
    assert env.call("LicenseToken", "supportsInterface", ERC721_ID) is True
    assert env.call("LicenseToken", "paymentToken") == env.address("PaymentToken")
    assert env.call("LicenseToken", "registry") == env.address("TwinRegistry")


def test_max_uses_and_terms_are_snapshotted_at_purchase(env, a, twin):
    terms = Terms(upfront_fee=EXCLUSIVITY_MINIMUM, max_uses=3, exclusive=True, transferable=True, idle_end_after=IDLE)
    offer_id = env.publish(a.model, twin, terms)
    license_id = env.buy(a.brand, offer_id, USDC)
    env.tx(a.model, "LicenseToken", "withdrawOffer", offer_id)
    assert env.state(license_id).max_uses == 3
    assert (env.terms(license_id).exclusive, env.terms(license_id).transferable) == (True, True)
    assert env.terms(license_id).idle_end_after == IDLE


def test_a_free_licence_moves_no_money(env, a, twin):
    offer_id = env.publish(a.model, twin, Terms(upfront_fee=0))
    result = env.tx(a.brand, "LicenseToken", "buyLicense", offer_id, 0)  # no approval, no balance needed
    assert env.call("LicenseToken", "ownerOf", 1) == a.brand.address
    assert env.events(result, "PaymentToken", "Transfer") == []
    assert env.state(1).escrow == 0
    env.conserved()


def test_purchase_without_enough_allowance_is_refused(env, a, offer):
    needed = Terms().upfront_fee + USDC
    env.fund(a.brand, needed, approve=needed - 1)
    env.refused(a.brand, "LicenseToken", "buyLicense", offer, USDC,
                error="LicenseTokenInsufficientAllowance", error_args=(needed, needed - 1))
    assert env.call("LicenseToken", "licenseCount") == 0
    assert env.balance(a.brand) == needed


def test_purchase_without_enough_balance_is_refused(env, a, offer):
    needed = Terms().upfront_fee + USDC
    env.fund(a.brand, needed - 1, approve=needed)
    env.refused(a.brand, "LicenseToken", "buyLicense", offer, USDC,
                error="LicenseTokenInsufficientBalance", error_args=(needed, needed - 1))
    assert env.call("LicenseToken", "licenseCount") == 0


# ---------------------------------------------------------------------------------------------- permit


def test_purchase_with_a_permit_needs_no_prior_approval(env, a, twin, offer):
    escrow = 3 * USDC
    total = Terms().upfront_fee + escrow
    env.tx(a.brand, "PaymentToken", "faucet", a.brand.address, total)
    deadline = env.now() + 3600
    v, r, s = env.permit(a.brand, total, deadline)
    result = env.tx(a.brand, "LicenseToken", "buyLicenseWithPermit", offer, escrow, deadline, v, r, s)

    assert env.call("LicenseToken", "ownerOf", 1) == a.brand.address
    assert env.state(1).escrow == escrow
    assert env.balance(a.brand) == 0
    assert env.call("PaymentToken", "allowance", a.brand.address, env.address("LicenseToken")) == 0
    assert env.call("PaymentToken", "nonces", a.brand.address) == 1
    assert env.event(result, "LicenseToken", "LicensePurchased")["buyer"] == a.brand.address
    env.conserved()


def test_permit_for_too_little_is_refused_as_missing_allowance(env, a, offer):
    escrow = 3 * USDC
    total = Terms().upfront_fee + escrow
    env.tx(a.brand, "PaymentToken", "faucet", a.brand.address, total)
    deadline = env.now() + 3600
    v, r, s = env.permit(a.brand, total - 1, deadline)  # signed for less than the purchase costs
    env.refused(a.brand, "LicenseToken", "buyLicenseWithPermit", offer, escrow, deadline, v, r, s,
                error="LicenseTokenInsufficientAllowance", error_args=(total, 0))
    assert env.call("PaymentToken", "nonces", a.brand.address) == 0


def test_expired_permit_is_refused_as_missing_allowance(env, a, offer):
    total = Terms().upfront_fee + USDC
    env.tx(a.brand, "PaymentToken", "faucet", a.brand.address, total)
    deadline = env.now() + 5
    v, r, s = env.permit(a.brand, total, deadline)
    env.advance(60)
    env.refused(a.brand, "LicenseToken", "buyLicenseWithPermit", offer, USDC, deadline, v, r, s,
                error="LicenseTokenInsufficientAllowance", error_args=(total, 0))


def test_permit_purchase_without_enough_balance_is_refused(env, a, offer):
    total = Terms().upfront_fee + USDC
    env.tx(a.brand, "PaymentToken", "faucet", a.brand.address, total - 1)
    deadline = env.now() + 3600
    v, r, s = env.permit(a.brand, total, deadline)
    env.refused(a.brand, "LicenseToken", "buyLicenseWithPermit", offer, USDC, deadline, v, r, s,
                error="LicenseTokenInsufficientBalance", error_args=(total, total - 1))
    assert env.call("LicenseToken", "licenseCount") == 0


def test_permit_purchase_succeeds_when_someone_submitted_the_permit_first(env, a, offer):
    total = Terms().upfront_fee + USDC
    env.tx(a.brand, "PaymentToken", "faucet", a.brand.address, total)
    deadline = env.now() + 3600
    v, r, s = env.permit(a.brand, total, deadline)
    # A watcher of the mempool front-runs the permit: the brand's purchase must still go through.
    env.tx(a.stranger, "PaymentToken", "permit", a.brand.address, env.address("LicenseToken"), total, deadline, v, r, s)
    env.tx(a.brand, "LicenseToken", "buyLicenseWithPermit", offer, USDC, deadline, v, r, s)
    assert env.call("LicenseToken", "ownerOf", 1) == a.brand.address


def test_another_account_cannot_spend_a_brands_permit(env, a, offer):
    total = Terms().upfront_fee + USDC
    env.tx(a.brand, "PaymentToken", "faucet", a.brand.address, total)
    deadline = env.now() + 3600
    v, r, s = env.permit(a.brand, total, deadline)
    # The permit names the brand as owner; the thief's purchase is paid from the thief's own (missing) allowance.
    env.refused(a.stranger, "LicenseToken", "buyLicenseWithPermit", offer, USDC, deadline, v, r, s,
                error="LicenseTokenInsufficientAllowance", error_args=(total, 0))
    assert env.balance(a.brand) == total


# ---------------------------------------------------------------------------------------------- top-up


def test_anyone_tops_up_a_licence(env, a, license):
    env.fund(a.stranger, 5 * USDC)
    result = env.tx(a.stranger, "LicenseToken", "topUpEscrow", license, 5 * USDC)
    assert env.state(license).escrow == 6 * USDC
    assert env.call("LicenseToken", "totalEscrow") == 6 * USDC
    assert env.balance(a.stranger) == 0
    assert env.event(result, "LicenseToken", "EscrowToppedUp") == {
        "licenseId": license, "from": a.stranger.address, "amount": 5 * USDC, "escrow": 6 * USDC,
    }
    env.conserved()


def test_top_up_refusals(env, a, license):
    env.fund(a.brand, 5 * USDC, approve=USDC)
    env.refused(a.brand, "LicenseToken", "topUpEscrow", license, 0, error="LicenseTokenZeroAmount")
    env.refused(a.brand, "LicenseToken", "topUpEscrow", 77, USDC, error="LicenseTokenUnknownLicense", error_args=(77,))
    env.refused(a.brand, "LicenseToken", "topUpEscrow", license, 2 * USDC,
                error="LicenseTokenInsufficientAllowance", error_args=(2 * USDC, USDC))
    env.tx(a.brand, "PaymentToken", "approve", env.address("LicenseToken"), 9 * USDC)
    env.refused(a.brand, "LicenseToken", "topUpEscrow", license, 6 * USDC,
                error="LicenseTokenInsufficientBalance", error_args=(6 * USDC, 5 * USDC))
    # Escrow is a uint64: a top-up past it is refused before any money is asked for.
    env.refused(a.brand, "LicenseToken", "topUpEscrow", license, UINT64_MAX,
                error="LicenseTokenEscrowTooLarge", error_args=(UINT64_MAX + USDC, UINT64_MAX))
    assert env.state(license).escrow == USDC


def test_expired_licence_cannot_be_topped_up(env, a, license):
    expiry = env.state(license).expiry
    env.fund(a.brand, USDC)
    env.advance(30 * DAY)
    env.refused(a.brand, "LicenseToken", "topUpEscrow", license, USDC,
                error="LicenseTokenExpired", error_args=(license, expiry))


# ---------------------------------------------------------------------------------------------- transfers


def test_non_transferable_licence_cannot_move(env, a, license):
    for function in ("transferFrom", "safeTransferFrom"):
        env.refused(a.brand, "LicenseToken", function, a.brand.address, a.brand2.address, license,
                    error="LicenseTokenNotTransferable", error_args=(license,))
    # Issue 10: nor can anyone be approved to move it (ERC-5192 locked); an operator for all still cannot move it.
    env.refused(a.brand, "LicenseToken", "approve", a.brand2.address, license,
                error="LicenseTokenNotTransferable", error_args=(license,))
    env.tx(a.brand, "LicenseToken", "setApprovalForAll", a.brand2.address, True)
    env.refused(a.brand2, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, license,
                error="LicenseTokenNotTransferable", error_args=(license,))
    assert env.call("LicenseToken", "ownerOf", license) == a.brand.address


def test_transferable_licence_moves_and_its_new_holder_reclaims(env, a, twin):
    offer_id = env.publish(a.model, twin, Terms(transferable=True))
    license_id = env.buy(a.brand, offer_id, 2 * USDC)
    env.tx(a.brand, "LicenseToken", "transferFrom", a.brand.address, a.brand2.address, license_id)
    assert env.call("LicenseToken", "ownerOf", license_id) == a.brand2.address
    # Only the current owner may move it on.
    env.refused(a.brand, "LicenseToken", "transferFrom", a.brand2.address, a.brand.address, license_id,
                error="ERC721InsufficientApproval", error_args=(a.brand.address, license_id))
    env.fund(a.brand2, USDC)
    env.tx(a.brand2, "LicenseToken", "topUpEscrow", license_id, USDC)

    mine_at(env, env.state(license_id).expiry + GRACE)
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license_id,
                error="LicenseTokenNotHolder", error_args=(license_id, a.brand.address))
    # Issue 11: the escrow held at the transfer stayed the seller's; the new holder reclaims what he paid in.
    result = env.tx(a.brand2, "LicenseToken", "reclaimEscrow", license_id)
    assert env.balance(a.brand2) == USDC
    assert env.event(result, "LicenseToken", "EscrowReclaimed") == {
        "licenseId": license_id, "to": a.brand2.address, "amount": USDC,
    }
    env.tx(a.brand, "LicenseToken", "reclaimSellerEscrow", license_id)
    assert env.balance(a.brand) == 2 * USDC
    env.conserved()


# ---------------------------------------------------------------------------------------------- reclaim


def test_reclaim_refused_while_active(env, a, license):
    expiry = env.state(license).expiry
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenStillActive", error_args=(license, expiry))
    env.next_block_at(expiry - 1)  # the last second it is active
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenStillActive", error_args=(license, expiry), gas=GAS)


def test_reclaim_after_expiry_returns_the_unspent_escrow(env, a, license):
    paid(env, item(license, 0, 4))  # 4 x 0.05 spent out of 1 tUSDC
    expiry = env.state(license).expiry
    env.next_block_at(expiry)  # the first second the licence is expired: its grace begins (issue 11)
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license, gas=GAS,
                error="LicenseTokenInGrace", error_args=(license, expiry + GRACE))
    env.next_block_at(expiry + GRACE)  # the first second after the grace
    result = env.tx(a.brand, "LicenseToken", "reclaimEscrow", license, gas=GAS)
    assert env.block_time(result) == expiry + GRACE
    unspent = USDC - 4 * Terms().per_use_fee
    assert env.event(result, "LicenseToken", "EscrowReclaimed") == {
        "licenseId": license, "to": a.brand.address, "amount": unspent,
    }
    assert env.balance(a.brand) == unspent
    assert env.state(license).escrow == 0
    assert env.call("LicenseToken", "totalEscrow") == 0
    env.conserved()
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenNothingToReclaim", error_args=(license,))


def test_reclaim_refusals(env, a, license):
    env.advance(31 * DAY)
    env.refused(a.stranger, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenNotHolder", error_args=(license, a.stranger.address))
    env.refused(a.model, "LicenseToken", "reclaimEscrow", license,
                error="LicenseTokenNotHolder", error_args=(license, a.model.address))
    env.refused(a.brand, "LicenseToken", "reclaimEscrow", 5, error="LicenseTokenUnknownLicense", error_args=(5,))


def test_views_of_an_unknown_licence_revert(env, license):
    for function in ("licenseState", "licenseTerms"):
        with env.reverts("LicenseTokenUnknownLicense", 2):
            env.call("LicenseToken", function, 2)
