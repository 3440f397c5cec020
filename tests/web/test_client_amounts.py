"""Amounts in the web client: typed in either decimal mark and read exactly (micro-units, never floats), refused
with a sentence under the field when unreadable, named by the token's on-chain symbol, and confirmed with their
totals before any payment or publication."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from client_support import open_as, token_amount, wait_for

pytestmark = pytest.mark.timeout(240)

PARSE = """async (cases) => {
  const { parseAmount } = await import('/static/js/format.js');
  return cases.map((text) => { try { return String(parseAmount(text, 'escrow')); } catch (e) { return 'refused: ' + e.message; } });
}"""


def test_amounts_are_read_in_both_decimal_marks_and_refused_when_ambiguous(page, system):
    page.goto(system.url + "/#/catalogue")
    expect(page.locator("#twin-grid")).to_be_visible(timeout=30_000)
    cases = ["2.5", "2,5", "2,50", "1,000.50", "1.000,50", "1,000,000", "0.000001", "2,500.5,1", "1,000", "-3",
             "1e3", "2.5000001", ""]
    got = dict(zip(cases, page.evaluate(PARSE, cases)))
    assert got["2.5"] == got["2,5"] == got["2,50"] == "2500000"
    assert got["1,000.50"] == got["1.000,50"] == "1000500000"
    assert got["1,000,000"] == "1000000000000"
    assert got["0.000001"] == "1"
    for refused in ("2,500.5,1", "1,000", "-3", "1e3", "2.5000001", ""):
        assert got[refused].startswith("refused: "), (refused, got[refused])
    assert "1000 or 1.00" in got["1,000"]  # the question says both readings


def test_a_model_publishes_an_offer_typed_with_a_decimal_comma_after_confirming_it(page, system):
    model = system.account("model", 11)
    twin_id = 12
    assert system.get(f"/api/v1/twins/{twin_id}")["model"] == model["address"]
    before = {o["offer_id"] for o in system.get(f"/api/v1/twins/{twin_id}")["all_offers"]}
    open_as(page, system, model, f"/model/twins/{twin_id}")
    form = page.locator("#publish-offer")
    expect(form).to_contain_text("Per-use fee (tUSDC)", timeout=30_000)
    per_use = form.locator("input[name=per_use]")
    per_use.fill("2,500.5,1")
    form.get_by_role("button", name="Publish").click()
    error = form.locator(".field-error:visible")
    expect(error).to_contain_text("is not an amount", timeout=30_000)
    expect(page.locator("#confirm-dialog")).to_be_hidden(timeout=30_000)
    per_use.fill("3,5")  # the fixed field loses its error at once
    expect(form.locator(".field-error:visible")).to_have_count(0, timeout=30_000)
    form.locator("input[name=upfront]").fill("10")
    form.locator("input[name=max_uses]").fill("40")
    form.get_by_role("button", name="Publish").click()

    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible(timeout=30_000)
    for text in ("3.50 tUSDC", "10.00 tUSDC", "40", "90 days"):
        expect(dialog).to_contain_text(text, timeout=30_000)
    dialog.get_by_role("button", name="Publish the offer").click()
    wait_for(lambda: {o["offer_id"] for o in system.get(f"/api/v1/twins/{twin_id}")["all_offers"]} - before,
             what="the new offer in the index")
    new = [o for o in system.get(f"/api/v1/twins/{twin_id}")["all_offers"] if o["offer_id"] not in before]
    assert [(o["per_use_fee"], o["upfront_fee"], o["max_uses"]) for o in new] == [(3_500_000, 10_000_000, 40)]
    assert not page.js_errors, page.js_errors


def test_a_brand_pays_escrow_typed_with_a_decimal_comma_after_seeing_the_totals(page, system):
    brand = system.account("brand", 1)
    twin_id = 13
    twin = system.get(f"/api/v1/twins/{twin_id}")
    offer = twin["offers"][0]
    fee, upfront = offer["per_use_fee"], offer["upfront_fee"]
    held = system.get(f"/api/v1/licenses?holder={brand['address']}")["count"]
    open_as(page, system, brand, f"/twins/{twin_id}")
    card = page.locator(f'article.offer[data-offer-id="{offer["offer_id"]}"]')
    card.locator("[data-buy-offer]").click()
    form = card.locator("form[data-buy-form]")
    expect(form).to_contain_text("tUSDC", timeout=30_000)
    assert not re.search(r"(?<!t)USDC", form.inner_text()), form.inner_text()  # the on-chain symbol, only
    escrow = form.locator("input[name=escrow]")
    escrow.fill("2,500.5,1")
    expect(form.locator(".field-error:visible")).to_contain_text("is not an amount", timeout=30_000)
    form.get_by_role("button", name="Pay and license").click()
    expect(page.locator("#confirm-dialog")).to_be_hidden(timeout=30_000)

    # Twice the fee, typed the way a German keyboard does: "6,00".
    typed = f"{2 * fee // 1_000_000},{(2 * fee % 1_000_000) // 10_000:02d}"
    escrow.fill(typed)
    expect(form.locator(".field-error:visible")).to_have_count(0, timeout=30_000)
    form.get_by_role("button", name="Pay and license").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible(timeout=30_000)
    for text in (token_amount(upfront), token_amount(2 * fee), token_amount(upfront + 2 * fee), token_amount(fee),
                 "2 uses"):
        expect(dialog).to_contain_text(text, timeout=30_000)
    dialog.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_url(re.compile(r"#/licenses/\d+$"), timeout=60_000)
    license_id = int(page.url.rsplit("/", 1)[1])
    assert system.get(f"/api/v1/licenses?holder={brand['address']}")["count"] == held + 1
    assert system.get(f"/api/v1/licenses/{license_id}")["escrow"] == 2 * fee
    assert not page.js_errors, page.js_errors


def test_the_escrow_field_is_capped_at_what_the_offer_can_use(page, system):
    brand = system.account("brand", 2)
    twin_id = 14
    offer = next(o for o in system.get(f"/api/v1/twins/{twin_id}")["offers"] if 0 < o["max_uses"] <= 100)
    cap = offer["max_uses"] * offer["per_use_fee"]
    open_as(page, system, brand, f"/twins/{twin_id}")
    card = page.locator(f'article.offer[data-offer-id="{offer["offer_id"]}"]')
    card.locator("[data-buy-offer]").click()
    form = card.locator("form[data-buy-form]")
    expect(form).to_contain_text(f"at most {token_amount(cap)}", timeout=30_000)
    form.locator("input[name=escrow]").fill(str(cap // 1_000_000 + 1))
    expect(form.locator(".field-error:visible")).to_contain_text(token_amount(cap), timeout=30_000)
    form.get_by_role("button", name="Pay and license").click()
    expect(page.locator("#confirm-dialog")).to_be_hidden(timeout=30_000)
    form.locator("input[name=escrow]").fill(str(cap // 1_000_000))
    expect(form.locator(".field-error:visible")).to_have_count(0, timeout=30_000)
    assert not page.js_errors, page.js_errors
