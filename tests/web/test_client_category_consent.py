"""Consent per usage category (issue 12) in the web client, as the model and as brands.

The model withdraws one category of her twin (AI-generated campaigns) on her twin's page: the confirmation says the
notice period in words and when uses stop; her list then shows it pending. Brands see it on the twin page and in
the catalogue; the withdrawal withdrew the offer including it (issue 11), while her other offers can still be bought.
A category whose withdrawal has taken effect is refused in the brand's use report before signing. Granting it again
publishes nothing: the withdrawn offer stays withdrawn. Screenshots at 1400 and 390 px in /tmp/shots/P2/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

from client_support import RpcRecorder, buy, chain_of, open_as, wait_for
from test_accessibility import axe_violations, readable
from twin_licensing.chain.keys import dev_account
from twin_licensing.seed.data import ADMIN

pytestmark = pytest.mark.timeout(300)

SHOTS = Path("/tmp/shots/P2")
WIDE, PHONE = (1400, 900), (390, 844)
AI, SOCIAL = 7, 1  # usage categories: AI-generated campaigns; social media


def human(seconds: int) -> str:
    """The notice period as the client words it (whole days, else hours)."""
    days = round(seconds / 86400)
    if days >= 1:
        return "1 day" if days == 1 else f"{days} days"
    hours = round(seconds / 3600)
    return "1 hour" if hours == 1 else f"{hours} hours"


def category_state(system, twin_id: int, category: int) -> str:
    states = {c["category"]: c for c in system.get(f"/api/v1/twins/{twin_id}")["category_consent"]}
    return states[category]["state"]


def shoot(page, name: str) -> None:
    """Saves the page, once axe finds no serious violation in it (the withdrawn states are on no other test's page)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if not page.locator("dialog[open]").count():
        assert not (found := axe_violations(page)), f"{name}:\n{readable(found)}"
    assert not page.js_errors, page.js_errors


def test_a_model_withdraws_one_category_and_brands_cannot_buy_or_report_it(open_page, system):
    model, brand = system.account("model", 9), system.account("brand", 1)
    twin_id = 10  # Priya Raman: E-commerce & social (0, 1), AI-generated campaign (0, 1, 7), Print & editorial (2, 6)
    twin = system.get(f"/api/v1/twins/{twin_id}")
    assert twin["model"] == model["address"]
    ai_offer = next(o for o in twin["offers"] if AI in o["category_ids"])
    social_offer = next(o for o in twin["offers"] if AI not in o["category_ids"] and SOCIAL in o["category_ids"])
    categories = system.get("/api/v1/deployment")["categories"]
    notice = twin["notice_period"] or system.get("/api/v1/deployment")["notice_period"]
    assert notice > 3600, notice

    chain = chain_of(system)
    ai_license = buy(system, chain, brand, ai_offer, escrow=ai_offer["per_use_fee"] * 2)  # before the withdrawal

    # The model: every category consented; she withdraws AI-generated campaigns, confirming the notice in words.
    page = open_page(*WIDE)
    open_as(page, system, model, f"/model/twins/{twin_id}")
    card = page.locator("#category-consent")
    expect(card.locator("li[data-state=granted]")).to_have_count(len(categories), timeout=30_000)
    card.locator(f"[data-revoke-category='{AI}']").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    uses_stop = dt.datetime.fromtimestamp(chain.timestamp() + notice)
    expect(dialog).to_contain_text(f"notice period of {human(notice)}")
    expect(dialog).to_contain_text(categories[AI])
    expect(dialog).to_contain_text(uses_stop.strftime("%b %Y"))
    shoot(page, "model-confirm-1400")
    dialog.locator("[data-confirm]").click()
    row = card.locator(f"li[data-category='{AI}']")
    expect(row).to_have_attribute("data-state", "revocation_pending", timeout=60_000)
    expect(row).to_contain_text("uses stop")
    assert category_state(system, twin_id, AI) == "revocation_pending"
    # Her own publish form says it as the category is ticked, before any signature.
    page.locator("#publish-offer label.chip-toggle").nth(AI).click()
    expect(page.locator("[data-withheld-slot]")).to_contain_text(f"withdrawn your consent for {categories[AI]}")
    page.locator("#publish-offer input[name=per_use]").fill("30")
    page.locator("#publish-offer button[type=submit]").click()  # checked on chain too, before any dialog or signature
    said = page.locator("#publish-offer .form-error", has_text=f"withdrawn your consent for {categories[AI]}")
    expect(said).to_have_count(2)  # under the categories, and again where the form says why it was not sent
    expect(page.locator("dialog[open]")).to_have_count(0)
    shoot(page, "model-twin-1400")
    phone = open_page(*PHONE)
    open_as(phone, system, model, f"/model/twins/{twin_id}")
    expect(phone.locator(f"#category-consent li[data-category='{AI}']")).to_have_attribute("data-state", "revocation_pending")
    shoot(phone, "model-twin-390")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE[0]

    # A brand: the twin page lists the categories; the revocation withdrew the AI offer (issue 11), the social one
    # can still be bought.
    page = open_page(*WIDE)
    rpc = RpcRecorder(page)
    open_as(page, system, brand, f"/twins/{twin_id}")
    summary = page.locator("#category-consent")
    expect(summary.locator(f"li[data-category='{AI}']")).to_have_attribute("data-state", "revocation_pending", timeout=30_000)
    expect(summary).to_contain_text(f"consents to {len(categories) - 1} of the {len(categories)}")
    expect(page.locator(f"article.offer[data-offer-id='{ai_offer['offer_id']}']")).to_have_count(0)
    assert ai_offer["offer_id"] not in {o["offer_id"] for o in system.get(f"/api/v1/twins/{twin_id}")["offers"]}
    expect(page.locator(f"[data-buy-offer='{social_offer['offer_id']}']")).to_be_enabled()
    shoot(page, "brand-twin-1400")
    assert not rpc.signed(), rpc.signed()
    phone = open_page(*PHONE)
    open_as(phone, system, brand, f"/twins/{twin_id}")
    expect(phone.locator(f"[data-buy-offer='{social_offer['offer_id']}']")).to_be_visible(timeout=30_000)
    shoot(phone, "brand-twin-390")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE[0]

    # The catalogue card says which category she withholds.
    open_as(page, system, brand, f"/catalogue?q={twin['name'].split()[0]}")
    tile = page.locator(f".twin-card[data-twin-id='{twin_id}']")
    expect(tile.locator("[data-withheld]")).to_have_text(f"No consent for {categories[AI]}", timeout=30_000)
    shoot(page, "catalogue-1400")

    # The licence bought before: AI-generated uses may still be reported until the withdrawal takes effect.
    open_as(page, system, brand, f"/licenses/{ai_license}")
    page.locator("#report-use select[name=category]").select_option(str(AI))
    expect(page.locator("#report-use [data-category-refusal]")).to_contain_text(
        f"uses in this category can be reported and paid until {uses_stop.strftime('%-d %b %Y')}", timeout=30_000)
    expect(page.locator("#report-use button[type=submit]")).to_be_enabled()
    shoot(page, "brand-report-pending-1400")

    # A use report: twin 11's model withdraws social media with no notice (the admin sets it to 0 for her grant,
    # then back), so its withdrawal is in effect at once; the brand's licence bought before may not report it.
    other_model, other_twin = system.account("model", 10), 11
    offer = next(o for o in system.get(f"/api/v1/twins/{other_twin}")["offers"] if o["category_ids"] == [0, SOCIAL])
    license_id = buy(system, chain, brand, offer, escrow=offer["per_use_fee"] * 3)
    admin, owner = dev_account(ADMIN), dev_account(other_model["index"])
    before = chain.call("TwinRegistry", "noticePeriod")
    consent_hash = system.get(f"/api/v1/twins/{other_twin}")["consent"]["consent_hash"]
    chain.transact(admin, "TwinRegistry", "setNoticePeriod", 0)
    try:
        chain.transact(owner, "TwinRegistry", "grantConsent", other_twin, consent_hash)
    finally:
        chain.transact(admin, "TwinRegistry", "setNoticePeriod", before)
    # The index cannot tell a notice period of 0 from none known: the confirmation asks the chain (noticePeriodOf).
    open_as(page, system, other_model, f"/model/twins/{other_twin}")
    page.locator(f"#category-consent [data-revoke-category='{SOCIAL}']").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text(f"no notice period: licences already sold can no longer report {categories[SOCIAL]} uses")
    dialog.locator("[data-confirm]").click()
    expect(page.locator(f"#category-consent li[data-category='{SOCIAL}']")).not_to_have_attribute("data-state", "granted", timeout=60_000)
    wait_for(lambda: category_state(system, other_twin, SOCIAL) == "revoked", what="the withdrawal in effect in the index")
    rpc = RpcRecorder(page)
    open_as(page, system, brand, f"/licenses/{license_id}")
    form = page.locator("#report-use")
    expect(form.locator(f"select[name=category] option[value='{SOCIAL}']")).to_contain_text("consent withdrawn", timeout=30_000)
    form.locator("select[name=category]").select_option(str(SOCIAL))
    refusal = form.locator("[data-category-refusal]")
    expect(refusal).to_contain_text(f"withdrew her consent for {categories[SOCIAL]}")
    expect(form.locator("button[type=submit]")).to_be_disabled()
    shoot(page, "brand-report-1400")
    form.locator("select[name=category]").select_option("0")
    expect(refusal).to_be_empty()
    expect(form.locator("button[type=submit]")).to_be_enabled()
    assert not rpc.signed(), rpc.signed()
    phone = open_page(*PHONE)
    open_as(phone, system, brand, f"/licenses/{license_id}")
    phone.locator("#report-use select[name=category]").select_option(str(SOCIAL))
    expect(phone.locator("#report-use [data-category-refusal]")).to_contain_text("withdrew her consent", timeout=30_000)
    shoot(phone, "brand-report-390")

    # The model grants AI-generated campaigns again: that publishes nothing, the AI offer stays withdrawn.
    page = open_page(*WIDE)
    open_as(page, system, model, f"/model/twins/{twin_id}")
    page.locator(f"#category-consent [data-grant-category='{AI}']").click()
    expect(page.locator(f"#category-consent li[data-category='{AI}']")).to_have_attribute("data-state", "granted", timeout=60_000)
    assert category_state(system, twin_id, AI) == "granted"
    open_as(page, system, brand, f"/twins/{twin_id}")
    expect(page.locator(f"[data-buy-offer='{social_offer['offer_id']}']")).to_be_enabled(timeout=30_000)
    expect(page.locator(f"[data-buy-offer='{ai_offer['offer_id']}']")).to_have_count(0)
    expect(page.locator("[data-withheld]")).to_have_count(0)
    # Leave twin 11 as seeded for any later test: social granted again, consent under the registry's notice period.
    chain.transact(owner, "TwinRegistry", "grantCategoryConsent", other_twin, SOCIAL)
    chain.transact(owner, "TwinRegistry", "grantConsent", other_twin, consent_hash)
    assert chain.call("TwinRegistry", "noticePeriodOf", other_twin) == before
