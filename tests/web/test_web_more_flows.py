"""More of what brands and models do in the browser: top up and reclaim escrow, register a twin with its payees
and publish then withdraw an offer, revoke and grant consent again, and find what one owns in "My licences" and
"My twins". Each test uses its own accounts and twins (the session's chain is shared with test_web_flows.py), and
the one that moves the chain's clock runs last and moves it by minutes only."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from client_support import wait_for

from twin_licensing.chain.client import Chain
from twin_licensing.chain.deployment import read_deployment
from twin_licensing.chain.keys import dev_account
from twin_licensing.seed.data import ADMIN
from twin_licensing.settings import find_project_root

pytestmark = pytest.mark.timeout(240)


def open_as(page, system, account: dict, route: str) -> None:
    page.goto(f"{system.url}/?as={account['address']}#{route}")
    expect(page.locator("#account-picker")).to_have_value(account["address"])


def chain_of(system) -> Chain:
    deployment = read_deployment(system.deployments_dir, 31337)
    return Chain.connect(system.rpc_url, find_project_root() / "artifacts", deployment)


def buy(system, chain: Chain, brand: dict, offer: dict, escrow: int) -> int:
    """Buys a licence of `offer` for `brand` on chain (the UI purchase has its own test) and waits for the index."""
    buyer = dev_account(brand["index"])
    held = system.get(f"/api/v1/licenses?holder={buyer.address}")["count"]
    chain.transact(buyer, "PaymentToken", "approve", chain.deployment.license_token, offer["upfront_fee"] + escrow)
    chain.transact(buyer, "LicenseToken", "buyLicense", offer["offer_id"], escrow)
    license_id = chain.call("LicenseToken", "licenseCount")
    wait_for(lambda: system.get(f"/api/v1/licenses?holder={buyer.address}")["count"] > held, what="the licence in the index")
    return license_id


def usdc(micro: int) -> str:
    """As the web client shows an amount: two decimals, more when they are not zero."""
    whole, frac = divmod(micro, 1_000_000)
    return f"{whole:,}.{f'{frac:06d}'.rstrip('0').ljust(2, '0')} tUSDC"


def test_model_registers_a_twin_with_payees_publishes_an_offer_and_withdraws_it(page, system):
    model, agency, crew = system.account("model", 6), system.account("agency", 1), system.account("crew", 0)
    open_as(page, system, model, "/model/twins")
    page.get_by_role("link", name="Register a twin").first.click()
    form = page.locator("#register-twin")
    form.locator("input[name=name]").fill("Mira Okafor (studio twin)")
    form.locator("textarea[name=description]").fill("Editorial and e-commerce; shot in Lagos, spring 2026.")
    form.get_by_role("button", name="+ Agency").click()
    rows = form.locator(".payee-row")
    rows.nth(0).get_by_label("Payee", exact=True).select_option(agency["address"])  # picked by label
    rows.nth(0).get_by_label("Share in percent").fill("15")
    form.get_by_role("button", name="+ Crew member").click()
    rows.nth(1).get_by_label("Payee", exact=True).select_option(crew["address"])
    rows.nth(1).get_by_label("Share in percent").fill("5")
    expect(form).to_contain_text("You keep 80")
    form.get_by_role("button", name="Register the twin").click()
    page.wait_for_url(re.compile(r"#/model/twins/\d+$"), timeout=60_000)
    twin_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("h1")).to_have_text("Mira Okafor (studio twin)")

    twin = system.get(f"/api/v1/twins/{twin_id}")
    assert twin["model"] == model["address"]
    shares = {p["account"]: (p["role"], p["share_bps"]) for p in twin["payees"]}
    assert shares == {model["address"]: ("model", 8000), agency["address"]: ("agency", 1500),
                      crew["address"]: ("crew", 500)}, shares

    # Publish an offer with the form's terms, then withdraw it.
    expect(page.locator("#offers")).to_contain_text("No active offer")
    publish = page.locator("#publish-offer")
    publish.locator("input[name=per_use]").fill("3.25")
    publish.get_by_role("button", name="Publish").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Publish the offer").click()
    offer = page.locator("#offers article.offer")
    expect(offer).to_have_count(1, timeout=30_000)
    expect(offer).to_contain_text("3.25 tUSDC")
    offers = system.get(f"/api/v1/twins/{twin_id}")["offers"]
    assert [o["per_use_fee"] for o in offers] == [3_250_000]

    page.on("dialog", lambda dialog: dialog.accept())
    offer.get_by_role("button", name="Withdraw").click()
    # The client waits for the index (up to a minute) before it lays the page out again: on two busy cores (the
    # whole suite, CI) that took just over 30 s, so wait for its word first, as long as it may wait.
    expect(page.locator("#toasts")).to_contain_text("Offer withdrawn", timeout=90_000)
    expect(page.locator("#offers article.offer")).to_have_count(0, timeout=30_000)
    expect(page.locator("#offers")).to_contain_text("No active offer")
    expect(page.locator("#offers")).to_contain_text("1 withdrawn offer")
    assert system.get(f"/api/v1/twins/{twin_id}")["offers"] == []
    assert not page.js_errors, page.js_errors


def test_model_revokes_consent_and_grants_it_again(page, system):
    model, brand = system.account("model", 7), system.account("brand", 3)
    twin_id = 8
    assert system.get(f"/api/v1/twins/{twin_id}")["model"] == model["address"]
    page.on("dialog", lambda dialog: dialog.accept())
    open_as(page, system, model, f"/model/twins/{twin_id}")
    page.locator("#revoke-consent").click()
    expect(page.locator("#grant-consent")).to_be_visible(timeout=30_000)
    expect(page.locator("#consent")).to_contain_text("Consent revoked")

    page.locator("#grant-consent").click()
    expect(page.locator("#revoke-consent")).to_be_visible(timeout=30_000)
    timeline = page.locator("#consent .timeline li")
    expect(timeline).to_have_count(3)  # registered, revoked, granted: newest first
    expect(timeline.first).to_contain_text("Granted")
    assert system.get(f"/api/v1/twins/{twin_id}")["consent"]["state"] == "granted"

    # Granting again publishes nothing (issue 11): the revocation withdrew her offers, and they stay withdrawn.
    expect(page.locator("#offers")).to_contain_text("No active offer")
    assert system.get(f"/api/v1/twins/{twin_id}")["offers"] == []
    open_as(page, system, brand, f"/twins/{twin_id}")
    expect(page.locator("#not-available")).to_have_count(0)
    expect(page.locator("[data-buy-offer]")).to_have_count(0)
    assert not page.js_errors, page.js_errors


def test_my_licences_and_my_twins_show_what_the_user_owns(page, system):
    brand, model, agency = system.account("brand", 4), system.account("model", 8), system.account("agency", 2)
    chain = chain_of(system)
    bought = {}
    # Twin 10 is the category-consent test's (it may leave a category withdrawn there): twin 5 is nobody else's.
    for twin_id in (9, 5):
        offer = system.get(f"/api/v1/twins/{twin_id}")["offers"][0]
        bought[twin_id] = buy(system, chain, brand, offer, escrow=offer["per_use_fee"] * 4)

    open_as(page, system, brand, "/licenses")
    expect(page.locator("h1")).to_have_text("My licences")
    listing = page.locator("#license-list")
    # Other test files buy with this brand too (one shared system): one row per licence it holds, ours among them.
    held = system.get(f"/api/v1/licenses?holder={brand['address']}&limit=100")
    assert {lic["license_id"] for lic in held["data"]} >= set(bought.values()), held
    expect(listing.locator("tbody tr")).to_have_count(held["count"])
    for twin_id, license_id in bought.items():
        row = listing.locator("tbody tr").filter(has=page.get_by_text(f"Licence #{license_id}", exact=True))
        expect(row).to_have_count(1)
        expect(row).to_contain_text(system.get(f"/api/v1/twins/{twin_id}")["name"])
    listing.locator("tbody tr").filter(has=page.get_by_text(f"Licence #{bought[9]}", exact=True)).click()
    page.wait_for_url(re.compile(r"#/licenses/\d+$"))
    expect(page.locator("#license-status")).to_contain_text("Active")

    # The model of twin 9 sees it, and only her own twin, under "My twins".
    assert system.get("/api/v1/twins/9")["model"] == model["address"]
    open_as(page, system, model, "/model/twins")
    mine = page.locator("#my-twins .twin-card")
    expect(mine).to_have_count(1)
    expect(mine.first).to_have_attribute("data-twin-id", "9")
    expect(mine.first).to_contain_text("1 licence sold")

    # An agency owns no twin but is paid a share of its models' twins: listed apart.
    open_as(page, system, agency, "/model/twins")
    expect(page.locator("#my-twins")).to_have_count(0)
    expect(page.get_by_role("heading", name="Twins that pay you a share")).to_be_visible()
    shared = system.get(f"/api/v1/twins?payee={agency['address']}&limit=100")["count"]
    assert shared > 0
    expect(page.locator(".twin-grid .twin-card")).to_have_count(shared)
    assert not page.js_errors, page.js_errors


def test_brand_tops_up_escrow_and_reclaims_it_after_expiry(page, system):
    """Runs last in this module: it moves the chain's clock forward (by ten minutes), and sets the grace period to
    zero for the moment of the reclaim (then back)."""
    model, brand = system.account("model", 5), system.account("brand", 3)
    chain = chain_of(system)
    twin_id = 6
    seeded = system.get(f"/api/v1/twins/{twin_id}")["offers"][0]
    # A five-minute licence: the model publishes it on chain, the brand buys it with 4 uses of escrow.
    terms = (seeded["upfront_fee"], seeded["per_use_fee"], 300, 0, seeded["categories"], seeded["territories"],
             False, False, 0)
    chain.transact(dev_account(model["index"]), "LicenseToken", "publishOffer", twin_id, terms)
    offer_id = chain.call("LicenseToken", "offerCount")
    wait_for(lambda: any(o["offer_id"] == offer_id for o in system.get(f"/api/v1/twins/{twin_id}")["offers"]),
             what="the offer in the index")
    offer = next(o for o in system.get(f"/api/v1/twins/{twin_id}")["offers"] if o["offer_id"] == offer_id)
    escrow = seeded["per_use_fee"] * 4
    license_id = buy(system, chain, brand, offer, escrow)

    open_as(page, system, brand, f"/licenses/{license_id}")
    stats = page.locator("#license-stats")
    expect(stats).to_contain_text(usdc(escrow))
    expect(page.locator("#wallet-balance")).to_contain_text("Your wallet:")
    expect(page.locator("#reclaim")).to_be_disabled()  # not before it ends

    page.locator("input[name=topup]").fill("12.50")
    page.get_by_role("button", name="Top up").click()
    page.locator("#confirm-dialog").get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(stats).to_contain_text(usdc(escrow + 12_500_000), timeout=30_000)
    assert system.get(f"/api/v1/licenses/{license_id}")["escrow"] == escrow + 12_500_000

    # Time passes on the node: the licence expires.
    chain.rpc("evm_increaseTime", [600])
    chain.rpc("evm_mine")
    head = chain.w3.eth.block_number
    wait_for(lambda: (system.get("/health").get("index_block") or 0) >= head, what="the index to reach the new block")
    page.reload()
    expect(page.locator("#license-status")).to_contain_text("Expired")
    expect(page.get_by_role("button", name="Top up")).to_have_count(0)
    # Uses reported before the expiry are still paid during the grace period: the escrow comes back after it.
    grace_ends = system.get(f"/api/v1/licenses/{license_id}")["grace_ends_at"]
    assert grace_ends >= chain.timestamp() + 6 * 86400, grace_ends
    expect(page.locator("#reclaim-note")).to_contain_text("still paid until", timeout=30_000)
    expect(page.locator("#reclaim")).to_be_disabled()
    balance_before = chain.call("PaymentToken", "balanceOf", brand["address"])

    # The admin shortens the grace period to nothing (restored below): the grace is over, the escrow comes back.
    admin = dev_account(ADMIN)
    grace = chain.call("LicenseToken", "gracePeriod")
    chain.transact(admin, "LicenseToken", "setGracePeriod", 0)
    try:
        wait_for(lambda: system.get(f"/api/v1/licenses/{license_id}")["grace_ends_at"] <= chain.timestamp(),
                 what="the grace period's change in the index")
        page.reload()
        expect(page.locator("#reclaim-note")).to_contain_text(f"you can take back the {usdc(escrow + 12_500_000)} left")
        page.locator("#reclaim").click()
        # Confirmed on chain and seen by the index (the client waits up to a minute) before the stats follow.
        expect(page.locator("#toasts")).to_contain_text("of unspent escrow is back in your wallet", timeout=90_000)
        expect(stats.locator(".stat.accent .value")).to_have_text("0.00 tUSDC", timeout=60_000)
    finally:
        chain.transact(admin, "LicenseToken", "setGracePeriod", grace)
    expect(page.locator("#reclaim")).to_have_text("Nothing to reclaim")
    expect(page.locator("#reclaim")).to_be_disabled()
    expect(page.locator("#wallet-balance")).to_have_text(f"Your wallet: {usdc(balance_before + escrow + 12_500_000)}")
    assert chain.call("PaymentToken", "balanceOf", brand["address"]) == balance_before + escrow + 12_500_000
    assert not page.js_errors, page.js_errors
