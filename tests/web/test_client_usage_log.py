"""The usage log in the browser, as a model: her twin's uses with brand, licence, category, territory, asset and
settlement; "new since your last visit"; filters; a use that settles while the page is open comes in without a
reload; "Verify proof" checks a use against the root read from the chain, in the browser, and says "Failed" when
the proof does not match it. Screenshots at 1400 and 390 px in /tmp/shots/E/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from client_support import buy, chain_of, open_as, report_use, wait_for
from conftest import PHONE, first_load
from test_accessibility import axe_violations, readable


pytestmark = pytest.mark.timeout(300)

SHOTS = Path("/tmp/shots/E")
WIDE = (1400, 900)
# A model, and so a twin, no other browser test uses (checked against the index below).
MODEL = ("model", 27)


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def settled(system, use_id: int) -> bool:
    return system.get(f"/api/v1/uses/{use_id}")["status"] == "settled"


def test_the_model_reads_her_usage_log_verifies_a_proof_and_sees_a_use_settle_live(open_page, system):
    model, brand = system.account(*MODEL), system.account("brand", 4)
    twin = next(t for t in system.get("/api/v1/twins?limit=100")["data"] if t["model"] == model["address"])
    offer = next(o for o in system.get(f"/api/v1/twins/{twin['twin_id']}")["offers"] if o["active"] and not o["exclusive"])
    chain = chain_of(system)
    license_id = buy(system, chain, brand, offer, escrow=offer["per_use_fee"] * 6)
    first = [report_use(system, chain, brand, license_id, "0x" + f"{0xe10 + n:064x}", offer)["id"] for n in range(2)]
    wait_for(lambda: all(settled(system, u) for u in first), timeout=60, what="the first uses to settle")

    page = first_load(open_page(*WIDE), system)
    open_as(page, system, model, "/usage")  # picking a development account signs in as it
    rows = page.locator("#usage-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#usage-new")).to_contain_text("2 uses so far: this is your first visit")
    newest = rows.first
    expect(newest).to_contain_text(f"#{license_id}")
    expect(newest).to_contain_text(twin["name"])
    expect(newest).to_contain_text(brand["name"])
    category = system.get("/api/v1/deployment")["categories"][offer["category_ids"][0]]
    expect(newest).to_contain_text(category)
    expect(newest).not_to_contain_text("Not settled yet")
    page.evaluate("window.__stillTheSamePage = true")

    # Verify proof: the leaf computed here, checked against the root of the settlement's event read on chain.
    newest.get_by_role("button", name="Verify proof").click()
    expect(newest.locator(".proof-result")).to_contain_text("Verified: this use is in the root", timeout=30_000)
    expect(newest.locator(".proof-result.ok")).to_be_visible()

    # A use that settles while the log is open comes in on top, without a reload.
    third = report_use(system, chain, brand, license_id, "0x" + f"{0xe20:064x}", offer)["id"]
    expect(page.locator(f'#usage-table tbody tr[data-use="{third}"]')).to_be_visible(timeout=60_000)
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_attribute("data-use", str(third))
    expect(page.locator("#usage-live")).to_contain_text("was just settled on chain")
    assert page.evaluate("window.__stillTheSamePage") is True
    shoot(page, "usage-log-1400")
    violations = axe_violations(page)
    assert not violations, readable(violations)

    # A proof the server got wrong (another territory in the record) fails in the browser, in words.
    def tampered(route):
        body = route.fetch().json()
        body["record"]["territory"] = (body["record"]["territory"] + 1) % 8
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/v1/uses/*/proof", tampered)
    second = rows.nth(1)
    second.get_by_role("button", name="Verify proof").click()
    expect(second.locator(".proof-result.failed")).to_contain_text("Failed: this use does not match the root")
    page.unroute("**/api/v1/uses/*/proof")

    # Filters: a category none of her uses has leaves the log empty, in words. The first visit was recorded: only
    # the use reported since then is new.
    other = next(i for i in range(8) if i != offer["category_ids"][0])
    page.locator("#usage-filter-category").select_option(str(other))
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#usage-filters ~ .card")).to_contain_text("No uses yet")
    expect(page.locator("#usage-new")).to_contain_text("1 new use since your last visit")  # the one that came live
    page.get_by_role("link", name="Clear").click()
    expect(rows).to_have_count(3)

    # The earnings page links each licence line to that licence's uses in the log.
    open_as(page, system, model, "/model/earnings")
    page.locator("#earnings-history a.usage-link", has_text=f"of licence #{license_id}").first.click()
    expect(page.locator("#usage-licence-only")).to_contain_text(f"licence #{license_id} only")
    expect(rows).to_have_count(3)

    phone = first_load(open_page(*PHONE), system)
    open_as(phone, system, model, "/usage")
    expect(phone.locator("#usage-table tbody tr")).to_have_count(3)
    shoot(phone, "usage-log-390")
    assert not page.js_errors and not phone.js_errors, page.js_errors + phone.js_errors
