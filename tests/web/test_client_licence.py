"""The licence page: one loader feeds every card (escrow left agrees everywhere and follows each settlement), the
page polls while a use is pending and stops once nothing is, the use history shows the brand's own label and when
each use was reported and settled, a label already used asks first, and the top-up is capped at what the licence
can still use."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from client_support import buy, chain_of, open_as, report_use, token_amount, wait_for

from twin_licensing.chain.keys import dev_account

pytestmark = pytest.mark.timeout(300)


def publish(system, chain, model: dict, twin_id: int, **changes) -> dict:
    seeded = system.get(f"/api/v1/twins/{twin_id}")["offers"][0]
    terms = dict(upfront=seeded["upfront_fee"], fee=seeded["per_use_fee"], duration=30 * 86400, max_uses=0,
                 categories=seeded["categories"], territories=seeded["territories"], exclusive=False)
    terms.update(changes)
    chain.transact(dev_account(model["index"]), "LicenseToken", "publishOffer", twin_id,
                   (terms["upfront"], terms["fee"], terms["duration"], terms["max_uses"], terms["categories"],
                    terms["territories"], terms["exclusive"], False, 0))
    offer_id = chain.call("LicenseToken", "offerCount")
    return wait_for(lambda: next((o for o in system.get(f"/api/v1/twins/{twin_id}")["offers"]
                                  if o["offer_id"] == offer_id), None), what="the offer in the index")


def test_the_licence_page_reads_one_source_follows_settlements_and_stops_polling(page, system):
    brand, model = system.account("brand", 1), system.account("model", 15)
    twin_id = 16
    assert system.get(f"/api/v1/twins/{twin_id}")["model"] == model["address"]
    chain = chain_of(system)
    offer = publish(system, chain, model, twin_id, max_uses=10)
    fee = offer["per_use_fee"]
    license_id = buy(system, chain, brand, offer, escrow=fee * 6)
    report_use(system, chain, brand, license_id, "0x" + "a1" * 32, offer)
    wait_for(lambda: system.get(f"/api/v1/licenses/{license_id}")["uses_settled"] == 1, what="the first use settled")

    open_as(page, system, brand, f"/licenses/{license_id}")
    stats, escrow_card = page.locator("#license-stats"), page.locator("#escrow")
    expect(stats.locator(".stat.accent .value")).to_have_text(token_amount(fee * 5), timeout=30_000)
    expect(escrow_card.locator("[data-escrow-left]")).to_have_text(token_amount(fee * 5), timeout=30_000)

    # A use reported by the brand's label, from the page.
    page.locator("input[name=reference]").fill("SS26 lookbook, look 7")
    page.get_by_role("button", name="Sign and report").click()
    uses = page.locator("#uses")
    expect(uses.locator("tbody tr").first).to_contain_text("SS26 lookbook, look 7", timeout=30_000)
    expect(uses.locator(".tracker").first).to_have_attribute("data-status", "settled", timeout=30_000)
    # Every card follows the settlement, from the same numbers; the "pending" note does not outlive it.
    expect(stats.locator(".stat.accent .value")).to_have_text(token_amount(fee * 4), timeout=30_000)
    expect(escrow_card.locator("[data-escrow-left]")).to_have_text(token_amount(fee * 4), timeout=30_000)
    expect(page.locator("#report-use")).not_to_contain_text("pending settlement", timeout=30_000)
    expect(page.locator("#report-use .form-ok")).to_contain_text("Use #2 settled", timeout=30_000)
    first = uses.locator("tbody tr").first
    expect(first).to_contain_text("Reported", timeout=30_000)
    expect(first).to_contain_text("Settled", timeout=30_000)

    # Nothing pending: the page stops asking.
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/v1/licenses/" in r.url else None)
    time.sleep(4)
    assert requests == [], requests

    # The same label again is confirmed first; declining sends nothing.
    page.locator("input[name=reference]").fill("  SS26 lookbook, look 7 ")
    page.get_by_role("button", name="Sign and report").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible(timeout=30_000)
    expect(dialog).to_contain_text("already reported", timeout=30_000)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden(timeout=30_000)
    time.sleep(1)
    assert system.get(f"/api/v1/licenses/{license_id}/uses")["count"] == 2

    # Top-up capped at what the licence can still use: (10 - 2 settled) uses less the escrow held.
    cap = (10 - 2) * fee - fee * 4
    expect(escrow_card).to_contain_text(f"at most {token_amount(cap)}", timeout=30_000)
    escrow_card.locator("input[name=topup]").fill(str(cap // 1_000_000 + 1))
    expect(escrow_card.locator(".field-error:visible")).to_contain_text(token_amount(cap), timeout=30_000)
    assert not page.js_errors, page.js_errors


def test_a_use_reported_elsewhere_refreshes_the_page_while_pending(page, system):
    brand, model = system.account("brand", 2), system.account("model", 16)
    twin_id = 17
    chain = chain_of(system)
    offer = system.get(f"/api/v1/twins/{twin_id}")["offers"][0]
    fee = offer["per_use_fee"]
    license_id = buy(system, chain, brand, offer, escrow=fee * 3)
    open_as(page, system, brand, f"/licenses/{license_id}")
    stats = page.locator("#license-stats")
    expect(stats.locator(".stat.accent .value")).to_have_text(token_amount(fee * 3), timeout=30_000)
    body = report_use(system, chain, brand, license_id, "0x" + "b2" * 32, offer)
    assert body["seq"] == 0
    # Reported by another client: the page was idle, the licence card on screen learns of it on reload only...
    page.reload()
    # ...and then follows it to settlement on its own.
    expect(stats.locator(".stat.accent .value")).to_have_text(token_amount(fee * 2), timeout=30_000)
    expect(page.locator("#escrow [data-escrow-left]")).to_have_text(token_amount(fee * 2), timeout=30_000)
    expect(page.locator("#uses tbody tr").first).to_contain_text("0xb2b2b2", timeout=30_000)
    assert not page.js_errors, page.js_errors
