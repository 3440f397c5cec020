"""The pages the client's behaviour changed, at a desktop width (1400 px) and a phone width (390 px): each renders
without a script error and without a horizontal scroll, and leaves a screenshot in screenshots/web/ to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from client_support import buy, chain_of
from conftest import SCREENSHOTS

pytestmark = pytest.mark.timeout(240)

PAGES = [
    ("catalogue", "brand", 0, "/catalogue", "#twin-grid"),
    ("twin-buy", "brand", 0, "/twins/21", "[data-buy-form]"),
    ("licences", "brand", 0, "/licenses", "h1"),
    ("licence", "brand", 0, "/licenses/{license_id}", "#uses"),
    ("manage-twin", "model", 21, "/model/twins/22", "#publish-offer"),
    ("register-twin", "model", 21, "/model/twins/new", "#register-twin"),
    ("earnings", "model", 21, "/model/earnings", "#earnings-stats"),
]


@pytest.mark.parametrize("width", [1400, 390])
def test_changed_pages_fit_the_screen(browser, system, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        offer = system.get("/api/v1/twins/21")["offers"][0]
        license_id = buy(system, chain_of(system), system.account("brand", 0), offer, escrow=offer["per_use_fee"] * 5)
        for name, role, n, route, ready in PAGES:
            account = system.account(role, n)
            page.goto(f"{system.url}/?as={account['address']}#{route.format(license_id=license_id)}")
            expect(page.locator("#account-picker")).to_have_value(account["address"], timeout=30_000)
            if name == "twin-buy":
                page.locator("[data-buy-offer]").first.click()
            if name == "register-twin":
                page.get_by_role("button", name="+ Agency").click()
                page.get_by_role("button", name="+ Crew member").click()
            expect(page.locator(ready).first).to_be_visible(timeout=30_000)
            page.wait_for_timeout(300)
            page.screenshot(path=str(SCREENSHOTS / f"client-{name}-{width}.png"), full_page=True)
            if name == "twin-buy":  # the totals a brand confirms before paying
                page.get_by_role("button", name="Pay and license").click()
                dialog = page.locator("#confirm-dialog")
                expect(dialog).to_be_visible(timeout=30_000)
                page.screenshot(path=str(SCREENSHOTS / f"client-confirm-{width}.png"))
                dialog.get_by_role("button", name="Cancel").click()
                expect(dialog).to_be_hidden(timeout=30_000)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name} at {width} px scrolls sideways by {overflow} px"
        assert not errors, errors
    finally:
        context.close()
