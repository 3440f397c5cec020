"""What the client says before any wallet signature: an exclusivity clash with a licence already sold, and an
agency share above the guild's cap; an error goes away as soon as its field is fixed. Payees are picked by label,
the model's own agency first, and a twin registered with an agency is not shown as independent."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from client_support import RpcRecorder, buy, chain_of, open_as, wait_for

from twin_licensing.chain.keys import dev_account

pytestmark = pytest.mark.timeout(240)


def publish_exclusive(chain, model: dict, twin_id: int, seeded: dict) -> None:
    """An exclusive offer over the same categories and territories as `seeded`, at the guild's exclusivity minimum
    upfront and with an idle period of 30 days (both required of an exclusive offer)."""
    minimum = chain.call("TwinRegistry", "exclusivityMinimum")
    chain.transact(dev_account(model["index"]), "LicenseToken", "publishOffer", twin_id,
                   (minimum, seeded["per_use_fee"], 30 * 86400, 0, seeded["categories"], seeded["territories"], True,
                    False, 30 * 86400))


def test_an_exclusivity_clash_is_shown_before_any_signature(page, system):
    model, first, second = system.account("model", 17), system.account("brand", 3), system.account("brand", 4)
    twin_id = 18
    assert system.get(f"/api/v1/twins/{twin_id}")["model"] == model["address"]
    chain = chain_of(system)
    seeded = system.get(f"/api/v1/twins/{twin_id}")["offers"][0]
    # An exclusive offer over the same categories and territories as the seeded one, which a brand then buys.
    publish_exclusive(chain, model, twin_id, seeded)
    offer_id = chain.call("LicenseToken", "offerCount")
    exclusive = wait_for(lambda: next((o for o in system.get(f"/api/v1/twins/{twin_id}")["offers"]
                                       if o["offer_id"] == offer_id), None), what="the exclusive offer")
    buy(system, chain, first, exclusive, escrow=seeded["per_use_fee"])

    rpc = RpcRecorder(page)
    open_as(page, system, second, f"/twins/{twin_id}")
    card = page.locator(f'article.offer[data-offer-id="{seeded["offer_id"]}"]')
    card.locator("[data-buy-offer]").click()
    form = card.locator("form[data-buy-form]")
    clash = form.locator("[data-clash]")
    expect(clash).to_contain_text("exclusive licence", timeout=30_000)
    expect(clash).to_contain_text(seeded["category_names"][0], timeout=30_000)
    expect(form.get_by_role("button", name="Pay and license")).to_be_disabled(timeout=30_000)
    assert not rpc.signed()
    assert not page.js_errors, page.js_errors


def test_payees_by_label_with_the_agency_cap_checked_as_typed(page, system):
    model = system.account("model", 19)
    accounts = system.get("/api/v1/accounts")["data"]
    me = next(a for a in accounts if a["address"] == model["address"])
    own_agency = me["extra"]["agency"]
    agency = next(a for a in accounts if a["role"] == "agency" and a["name"] == own_agency)
    cap = system.get("/api/v1/deployment")["agency_cap_bps"]

    rpc = RpcRecorder(page)
    open_as(page, system, model, "/model/twins/new")
    form = page.locator("#register-twin")
    form.locator("input[name=name]").fill("Test twin with an agency")
    form.get_by_role("button", name="+ Agency").click()
    row = form.locator(".payee-row").first
    picker = row.get_by_label("Payee", exact=True)
    expect(picker).to_have_value(agency["address"], timeout=30_000)  # her own agency, pre-selected
    first_option = picker.locator("option").nth(0)
    expect(first_option).to_contain_text(own_agency, timeout=30_000)
    share = row.get_by_label("Share in percent")
    share.fill(str(cap // 100 + 5))
    error = form.locator("[data-payee-error]")
    expect(error).to_contain_text(f"at most {cap // 100} %", timeout=30_000)
    expect(form.get_by_role("button", name="Register the twin")).to_be_disabled(timeout=30_000)
    share.fill("15")
    expect(error).to_be_hidden(timeout=30_000)
    assert not rpc.signed()

    form.get_by_role("button", name="Register the twin").click()
    page.wait_for_url(re.compile(r"#/model/twins/\d+$"), timeout=60_000)
    twin_id = int(page.url.rsplit("/", 1)[1])
    twin = system.get(f"/api/v1/twins/{twin_id}")
    assert {p["account"]: p["share_bps"] for p in twin["payees"]}[agency["address"]] == 1500
    assert twin["agency"] == own_agency  # brands see who represents her, not "Independent"
    page.goto(f"{system.url}/#/twins/{twin_id}")
    expect(page.locator(".twin-hero")).to_contain_text(f"Represented by {own_agency}", timeout=30_000)
    assert not page.js_errors, page.js_errors


def test_plus_agency_preselects_each_models_own_agency(page, system):
    accounts = system.get("/api/v1/accounts")["data"]
    models = [a for a in accounts if a["role"] == "model"]
    seen = set()
    for model in (models[20], models[21]):
        open_as(page, system, model, "/model/twins/new")
        page.get_by_role("button", name="+ Agency").click()
        picker = page.locator(".payee-row").first.get_by_label("Payee", exact=True)
        agency = next(a for a in accounts if a["role"] == "agency" and a["name"] == model["extra"]["agency"])
        expect(picker).to_have_value(agency["address"], timeout=30_000)
        seen.add(agency["address"])
    assert len(seen) == 2
    assert not page.js_errors, page.js_errors


def test_buying_exclusive_over_a_running_licence_is_refused_before_signing(page, system):
    model, first, second = system.account("model", 22), system.account("brand", 0), system.account("brand", 1)
    twin_id = 23
    assert system.get(f"/api/v1/twins/{twin_id}")["model"] == model["address"]
    chain = chain_of(system)
    seeded = system.get(f"/api/v1/twins/{twin_id}")["offers"][0]
    buy(system, chain, first, seeded, escrow=seeded["per_use_fee"])  # an ordinary licence, running
    publish_exclusive(chain, model, twin_id, seeded)
    offer_id = chain.call("LicenseToken", "offerCount")
    wait_for(lambda: any(o["offer_id"] == offer_id for o in system.get(f"/api/v1/twins/{twin_id}")["offers"]),
             what="the exclusive offer")

    rpc = RpcRecorder(page)
    open_as(page, system, second, f"/twins/{twin_id}")
    card = page.locator(f'article.offer[data-offer-id="{offer_id}"]')
    card.locator("[data-buy-offer]").click()
    form = card.locator("form[data-buy-form]")
    expect(form.locator("[data-clash]")).to_contain_text("This offer is exclusive", timeout=30_000)
    expect(form.get_by_role("button", name="Pay and license")).to_be_disabled(timeout=30_000)
    # The ordinary offer, next to it, can still be bought.
    page.locator(f'article.offer[data-offer-id="{seeded["offer_id"]}"] [data-buy-offer]').click()
    other = page.locator(f'form[data-buy-form="{seeded["offer_id"]}"]')
    expect(other.get_by_role("button", name="Pay and license")).to_be_enabled(timeout=30_000)
    expect(other.locator("[data-clash]")).to_have_count(0, timeout=30_000)
    assert not rpc.signed()
    assert not page.js_errors, page.js_errors
