"""Sign-in and the consent document in the browser: a licence page asks an anonymous visitor to sign in; picking a
development account signs in with one click (the header says so); the holder and the twin's model see the licence,
another brand gets "not found"; signing out hides it again. Brands read the consent text on the twin page; the
model amends it when she grants consent again, and her consent timeline shows both versions. Screenshots at 1400
and 390 px in /tmp/shots/D/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from client_support import buy, chain_of, wait_for
from twin_licensing.chain.hashing import keccak256

pytestmark = pytest.mark.timeout(300)

SHOTS = Path("/tmp/shots/D")
TWIN_ID, MODEL_N = 24, 23  # the seed's twin 24, of model 23: no other browser test uses it (twin 10 is the category-consent test's, whose entries join the timeline)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def choose(page, account: dict) -> None:
    """Picks a development account in the header: one click signs in as it."""
    page.select_option("#account-picker", account["address"])
    expect(page.locator("#signed-in")).to_be_visible(timeout=30_000)


@pytest.fixture(scope="module")
def licence(system):
    model, brand = system.account("model", MODEL_N), system.account("brand", 3)
    twin = system.get(f"/api/v1/twins/{TWIN_ID}")
    assert twin["model"] == model["address"]
    return buy(system, chain_of(system), brand, twin["offers"][0], escrow=twin["offers"][0]["per_use_fee"] * 2)


@pytest.mark.parametrize("width, height", [(1400, 900), (390, 844)], ids=["desktop", "phone"])
def test_sign_in_as_a_brand_and_as_the_model(open_page, system, licence, width, height):
    model, brand, other = system.account("model", MODEL_N), system.account("brand", 3), system.account("brand", 2)
    size = "desktop" if width > 900 else "phone"
    page = open_page(width, height)
    page.goto(f"{system.url}/#/licenses/{licence}")
    expect(page.locator("#account-picker")).to_be_attached(timeout=30_000)
    expect(page.locator("#sign-in-prompt")).to_contain_text("connect a wallet", timeout=30_000)

    choose(page, brand)  # the holder
    expect(page.locator("#license-stats")).to_be_visible(timeout=30_000)
    expect(page.locator("#signed-in")).to_have_attribute("title", f"Signed in as {brand['address']}")
    shot(page, f"{size}-1-brand-signed-in-licence")

    choose(page, other)  # another brand: the same answer as for a licence that does not exist
    expect(page.locator("#not-found")).to_contain_text(f"There is no licence {licence} you can see", timeout=30_000)
    shot(page, f"{size}-2-other-brand-not-found")

    page.locator("#sign-out").click()
    expect(page.locator("#sign-in-prompt")).to_be_visible(timeout=30_000)
    expect(page.locator("#sign-in")).to_be_visible()
    shot(page, f"{size}-3-signed-out-prompt")

    choose(page, model)  # the twin's model sees the licences of her twin
    expect(page.locator("#license-stats")).to_be_visible(timeout=30_000)
    page.goto(f"{system.url}/#/twins/{TWIN_ID}")
    document = page.locator("#consent-document .consent-text")
    expect(document).to_contain_text("CONSENT TO THE CREATION AND LICENSED USE OF A DIGITAL TWIN", timeout=30_000)
    expect(page.locator("#consent-document")).to_contain_text("Checked in your browser")
    shot(page, f"{size}-4-model-twin-page-consent")
    assert not page.js_errors, page.js_errors


def test_the_model_amends_her_consent_and_sees_each_version(page, system, licence):
    model = system.account("model", MODEL_N)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{system.url}/?as={model['address']}#/model/twins/{TWIN_ID}")
    expect(page.locator("#signed-in")).to_be_visible(timeout=30_000)
    first = page.locator("#consent-timeline li").first
    first.locator("summary").click()
    expect(first.locator(".consent-text")).to_contain_text("CONSENT TO THE CREATION", timeout=30_000)

    page.locator("#revoke-consent").click()
    text = page.locator("#consent-text")
    expect(page.locator("#grant-consent")).to_be_visible(timeout=60_000)
    expect(text).not_to_have_value("", timeout=30_000)  # the current document, to amend
    amended = text.input_value() + "5. E-commerce and social only; no AI-generated campaigns.\n"
    text.fill(amended)
    page.locator("#grant-consent").click()
    expect(page.locator("#revoke-consent")).to_be_visible(timeout=60_000)

    new_hash = "0x" + keccak256(amended.encode()).hex()
    stored = wait_for(lambda: system.get(f"/api/v1/consent-documents/{new_hash}", anonymous=True), what="the document")
    assert stored["text"] == amended and TWIN_ID in stored["twins"]
    timeline = page.locator("#consent-timeline li")
    expect(timeline).to_have_count(3, timeout=30_000)  # granted (amended), revoked, registered
    newest = page.locator(f"#consent-timeline li[data-consent-hash='{new_hash}']")
    newest.locator("summary").click()
    expect(newest.locator(".consent-text")).to_contain_text("no AI-generated campaigns", timeout=30_000)
    shot(page, "desktop-5-model-consent-timeline")
    # A brand reads the amended text on the twin page before buying.
    page.goto(f"{system.url}/#/twins/{TWIN_ID}")
    expect(page.locator("#consent-document .consent-text")).to_contain_text("no AI-generated campaigns", timeout=30_000)
    assert not page.js_errors, page.js_errors
