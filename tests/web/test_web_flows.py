"""What brands and models do in the browser, end to end on a local chain: buy a licence and report a use, watch
earnings rise and withdraw them, find a revoked twin unbuyable, and read a wrong input's message."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from client_support import report_use

from twin_licensing.chain.client import Chain
from twin_licensing.chain.deployment import read_deployment
from twin_licensing.chain.keys import dev_account
from twin_licensing.settings import find_project_root

pytestmark = pytest.mark.timeout(240)


def open_as(page, system, account: dict, route: str) -> None:
    page.goto(f"{system.url}/?as={account['address']}#{route}")
    expect(page.locator("#account-picker")).to_have_value(account["address"])


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_brand_buys_a_licence_and_reports_a_use(page, system):
    brand = system.account("brand", 0)
    open_as(page, system, brand, "/twins/1")
    expect(page.locator("#twin-name")).to_have_text("Ava Lindqvist")
    offer = page.locator("article.offer").first
    offer.locator("[data-buy-offer]").click()
    form = offer.locator("form[data-buy-form]")
    expect(form.locator("select[name=method]")).to_have_value("permit")
    form.locator("input[name=escrow]").fill("25")
    form.get_by_role("button", name="Pay and license").click()
    page.locator("#confirm-dialog").get_by_role("button", name=re.compile(r"^Pay ")).click()  # totals confirmed
    page.wait_for_url(re.compile(r"#/licenses/\d+$"), timeout=60_000)
    expect(page.locator("#license-status")).to_contain_text("Active")
    expect(page.locator("#license-stats")).to_contain_text("25.00 tUSDC")

    page.locator("input[name=reference]").fill("SS26 lookbook, image 1")
    page.get_by_role("button", name="Sign and report").click()
    expect(page.locator("#report-use .form-ok")).to_contain_text("Use #1")
    # pending -> submitted -> settled, shown by the tracker as the settler and the indexer do their work.
    expect(page.locator("#uses .tracker").first).to_have_attribute("data-status", "settled", timeout=30_000)
    expect(page.locator("#license-stats")).to_contain_text("Uses settled1")
    expect(page.locator("#report-use .form-ok")).to_contain_text("Use #1 settled")
    assert not page.js_errors, page.js_errors


def test_model_sees_her_earnings_rise_and_withdraws(page, system):
    model, brand = system.account("model", 1), system.account("brand", 1)
    twin = system.get("/api/v1/twins/2")
    assert twin["model"] == model["address"]
    offer = twin["offers"][0]
    deployment = read_deployment(system.deployments_dir, 31337)
    chain = Chain.connect(system.rpc_url, find_project_root() / "artifacts", deployment)
    buyer = dev_account(brand["index"])
    escrow = offer["per_use_fee"] * 10
    chain.transact(buyer, "PaymentToken", "approve", deployment.license_token, offer["upfront_fee"] + escrow)
    chain.transact(buyer, "LicenseToken", "buyLicense", offer["offer_id"], escrow)
    license_id = chain.call("LicenseToken", "licenseCount")
    wait_for(lambda: system.get(f"/api/v1/licenses?holder={buyer.address}")["count"], what="the licence in the index")

    open_as(page, system, model, "/model/earnings")
    # The upfront fee is not hers at once: it vests over the licence's term, so her share of it shows as vesting.
    expect(page.locator("#upfront-vesting")).not_to_have_text("0.00 tUSDC", timeout=30_000)
    claimable = page.locator("#claimable")
    before = claimable.inner_text()

    report_use(system, chain, brand, license_id, "0x" + "5e" * 32, offer)
    # The page follows the chain: once the use settles, her claimable balance rises on its own.
    expect(claimable).not_to_have_text(before, timeout=30_000)
    expect(page.locator("#earnings-history")).to_contain_text("1 use of licence")

    # Withdraw vests what vested of the upfront fee too (withdrawVested), and pays it with the uses.
    page.locator("#withdraw").click()
    expect(page.locator("#claimable")).to_have_text("0.00 tUSDC", timeout=30_000)
    assert chain.call("LicenseToken", "claimable", model["address"]) == 0
    assert not page.js_errors, page.js_errors


def test_a_revoked_twin_cannot_be_bought(page, system):
    model, brand = system.account("model", 2), system.account("brand", 2)
    open_as(page, system, model, "/model/twins/3")
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#revoke-consent").click()
    expect(page.locator("#grant-consent")).to_be_visible(timeout=30_000)
    expect(page.locator("#consent")).to_contain_text("Consent revoked")

    open_as(page, system, brand, "/twins/3")
    expect(page.locator("#not-available")).to_contain_text("has revoked her consent: this twin cannot be licensed")
    for button in page.locator("[data-buy-offer]").all():
        expect(button).to_be_disabled()
    # The catalogue does not offer it either.
    page.goto(f"{system.url}/#/catalogue")
    expect(page.locator("#twin-grid")).to_be_visible(timeout=30_000)
    expect(page.locator('#twin-grid [data-twin-id="3"]')).to_have_count(0)
    assert not page.js_errors, page.js_errors


def test_a_wrong_input_shows_its_message(page, system):
    model = system.account("model", 3)
    open_as(page, system, model, "/model/twins/4")
    form = page.locator("#publish-offer")
    expect(form.locator("#floor-hint")).to_contain_text("2.00 tUSDC per use")
    form.locator("input[name=per_use]").fill("0.50")
    form.get_by_role("button", name="Publish").click()
    # Said under the field before anything is signed; the person reads why, in words.
    expected = "below the guild's minimum of 2.00 tUSDC"
    expect(form.locator(".field-error:visible")).to_contain_text(expected)
    expect(page.locator("#confirm-dialog")).to_be_hidden()

    form.locator("input[name=per_use]").fill("two dollars")
    form.get_by_role("button", name="Publish").click()
    expect(form.locator(".field-error:visible")).to_contain_text("“two dollars” is not an amount")
    assert not page.js_errors, page.js_errors
