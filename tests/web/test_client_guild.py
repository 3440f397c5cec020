"""Consent that cannot be faked, in the browser (issue 10), driven as the guild, a model, an agency, a crew member and
a brand: the guild attests and revokes on its page, and the register page says before any signature when the
account is not (or no longer) attested, when an attested agency listed as crew breaks the agency cap; a payee accepts
or leaves a listing from its earnings page and the model sees who accepted; the offer form asks an exclusive offer's
idle period and checks the guild's minimum before signing; a brand is told before signing that an offer fell below
today's floor; a non-transferable licence reads "locked"; the model ends an exclusive licence left idle, and only
when she may. Screenshots at 1400 and 390 px go to /tmp/shots/C/ (TWIN_SHOTS_DIR overrides)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from client_support import RpcRecorder, buy, chain_of, open_as, wait_for

from twin_licensing.chain.keys import dev_account

pytestmark = pytest.mark.timeout(300)

SHOTS = Path(os.environ.get("TWIN_SHOTS_DIR", "/tmp/shots/C"))
SIGNING = ("eth_sendTransaction", "eth_signTypedData_v4", "personal_sign", "eth_sign")
DAY = 86400
MODEL_ROLE, AGENCY_ROLE, CREW_ROLE = 0, 1, 2


def shots(page, name: str) -> None:
    """The page as it is, at 1400 px and at 390 px wide, then back to 1400."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1400, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("window.scrollTo(0, 0)")  # the sticky header would show where the page was scrolled to
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})


def signed(rpc: RpcRecorder) -> list[dict]:
    """What the page asked the wallet to sign or send, the sign-in message (EIP-4361) aside: it moves nothing."""
    def sign_in(call: dict) -> bool:
        return call["method"] == "personal_sign" and b"wants you to sign in" in bytes.fromhex(call["params"][0][2:])

    return [c for c, _ in rpc.calls if c["method"] in SIGNING and not sign_in(c)]


def test_the_guild_attests_and_revokes_and_the_register_page_says_why_before_signing(page, system):
    guild, newcomer = system.account("guild"), system.account("crew", 5)  # a crew member who now models
    agency = system.account("agency", 3)
    cap = system.get("/api/v1/deployment")["agency_cap_bps"]

    # Not attested: the register page says so, and nothing can be signed.
    rpc = RpcRecorder(page)
    open_as(page, system, newcomer, "/model/twins/new")
    expect(page.locator("#not-attested")).to_contain_text("has not attested this account as a model")
    expect(page.get_by_role("button", name="Register the twin")).to_be_disabled()

    # The guild's page lists the seed's attestations, models and agencies, with their labels.
    open_as(page, system, guild, "/guild")
    listing = page.locator("#attestations")
    expect(listing.locator("tbody tr").first).to_be_visible()
    expect(listing).to_contain_text("Valid")
    page.locator("#filter-role").select_option("agency")
    expect(listing.locator("tbody tr")).to_have_count(4)
    expect(listing).to_contain_text(agency["name"])
    shots(page, "guild-list")

    # Attest the newcomer: each mistake is a sentence under its field, before any signature.
    form = page.locator("#attest-form")
    form.get_by_label("Role").select_option("model")
    form.get_by_label("Who", exact=True).select_option("other")
    form.get_by_label("Wallet address").fill("0x1234")
    form.get_by_label("Label").fill("")
    form.get_by_label("Expires on").fill("2020-01-01")
    form.get_by_role("button", name="Attest").click()
    expect(form).to_contain_text("is not a wallet address")
    expect(form).to_contain_text("Give the attestation a label")
    expect(form).to_contain_text("The expiry must be in the future")
    assert not signed(rpc)
    form.get_by_label("Wallet address").fill(newcomer["address"])
    form.get_by_label("Label").fill("Aiko Mori, ID checked in Tokyo")
    expires = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 200 * DAY))
    form.get_by_label("Expires on").fill(expires)
    shots(page, "guild-attest-form")
    form.get_by_role("button", name="Attest").click()
    page.locator("#confirm-dialog [data-confirm]").click()
    page.locator("#filter-role").select_option("model")  # the page reloads with the new attestation
    row = listing.locator("tbody tr", has_text="Aiko Mori, ID checked in Tokyo")
    expect(row).to_contain_text("Valid", timeout=60_000)

    # Attested: the register page opens, and checks the agency cap under any role an attested agency is listed.
    # The guild's transaction is recorded when its response event reaches the test, which can be after the page
    # shows the attestation: let it arrive (Playwright delivers events while it waits) before starting afresh.
    for _ in range(100):
        if any(c["method"] == "eth_sendTransaction" for c, _ in rpc.calls):
            break
        page.wait_for_timeout(100)
    rpc.calls.clear()  # the guild signed its attestation; the newcomer signs nothing below
    open_as(page, system, newcomer, "/model/twins/new")
    register = page.locator("#register-twin")
    expect(register).to_be_visible()
    expect(page.locator("#not-attested")).to_have_count(0)
    register.get_by_role("button", name="+ Crew member").click()
    payee = register.locator(".payee-row").first
    payee.get_by_label("Payee", exact=True).select_option("other")
    payee.get_by_label("Payee address").fill(agency["address"])
    payee.get_by_label("Share in percent").fill(str(cap // 100 + 5))
    error = register.locator("[data-payee-error]")
    expect(error).to_contain_text(f"at most {cap // 100} %")
    expect(error).to_contain_text("even listed as crew")
    expect(register.get_by_role("button", name="Register the twin")).to_be_disabled()
    shots(page, "register-agency-as-crew")
    # Within the agency cap, but everyone but the model together over the guild's bound (50 % in the seed).
    bound = chain_of(system).call("TwinRegistry", "nonModelCap")
    payee.get_by_label("Share in percent").fill("15")
    for _ in range(2):
        register.get_by_role("button", name="+ Crew member").click()
    for n in (1, 2):
        register.locator(".payee-row").nth(n).get_by_label("Share in percent").fill(str((bound // 100 - 15) // 2 + 1))
    expect(error).to_contain_text(f"at most {bound // 100} % together")
    expect(register.get_by_role("button", name="Register the twin")).to_be_disabled()
    assert not signed(rpc)

    # Within both: she registers her twin, and it shows the guild's verification.
    for n in (1, 2):
        register.locator(".payee-row").nth(n).get_by_label("Share in percent").fill("5")
    expect(error).to_be_hidden()
    register.locator("input[name=name]").fill("Aiko Mori")
    register.get_by_role("button", name="Register the twin").click()
    page.wait_for_url(re.compile(r"#/model/twins/\d+$"), timeout=60_000)
    expect(page.locator("[data-verified]").first).to_contain_text("Verified by the guild")
    twin = system.get(f"/api/v1/twins/{page.url.rsplit('/', 1)[1]}")
    assert {p["account"]: p["share_bps"] for p in twin["payees"]}[agency["address"]] == 1500

    # Revoked: the guild revokes it, and the register page says so.
    open_as(page, system, guild, "/guild?role=model")
    row = page.locator("#attestations tbody tr", has_text="Aiko Mori, ID checked in Tokyo")
    row.locator("[data-revoke]").click()
    page.locator("#confirm-dialog [data-confirm]").click()
    expect(page.locator("#attestations tbody tr", has_text="Aiko Mori, ID checked in Tokyo")).to_contain_text(
        "Revoked", timeout=60_000)
    open_as(page, system, newcomer, "/model/twins/new")
    expect(page.locator("#not-attested")).to_contain_text("revoked")
    expect(page.get_by_role("button", name="Register the twin")).to_be_disabled()
    assert not page.js_errors, page.js_errors


def test_a_payee_accepts_or_leaves_and_the_model_sees_who_accepted(page, system):
    model, agency, crew = system.account("model", 26), system.account("agency", 3), system.account("crew", 4)
    chain = chain_of(system)
    payees = [(model["address"], 8000, MODEL_ROLE), (agency["address"], 1500, AGENCY_ROLE),
              (crew["address"], 500, CREW_ROLE)]
    metadata = "data:application/json;base64,eyJuYW1lIjoiU2Vjb25kIHR3aW4ifQ=="  # {"name":"Second twin"}
    chain.transact(dev_account(model["index"]), "TwinRegistry", "registerTwin", metadata, "0x" + "c0" * 32, payees)
    twin_id = chain.call("TwinRegistry", "twinCount")
    twin = wait_for(lambda: system.get(f"/api/v1/twins/{twin_id}") if twin_id <= system.get("/api/v1/twins")["count"]
                    else None, what="the new twin in the index")
    assert twin["model"] == model["address"]

    # The crew member accepts: the listing leaves her list, and the twin now counts in her withdrawals.
    rpc = RpcRecorder(page)
    open_as(page, system, crew, "/model/earnings")
    listing = page.locator("#listings")
    expect(listing.locator("tbody tr", has_text="Second twin")).to_be_visible()
    shots(page, "earnings-listings")
    listing.locator(f'[data-accept="{twin_id}"]').click()
    expect(page.locator(f'#listings [data-accept="{twin_id}"]')).to_have_count(0, timeout=60_000)
    assert chain.call("TwinRegistry", "isPayeeAccepted", twin_id, crew["address"])

    # The agency leaves (after a confirmation that says what it gives up): its share goes to the model.
    open_as(page, system, agency, "/model/earnings")
    page.locator(f'#listings [data-leave="{twin_id}"]').click()
    expect(page.locator("#confirm-dialog")).to_contain_text("goes to the model")
    page.locator("#confirm-dialog [data-confirm]").click()
    expect(page.locator(f'#listings [data-leave="{twin_id}"]')).to_have_count(0, timeout=60_000)
    assert len([c for c in signed(rpc) if c["method"] == "eth_sendTransaction"]) == 2

    # The model sees who accepted; the agency is gone and its 15 % is hers.
    open_as(page, system, model, f"/model/twins/{twin_id}")
    card = page.locator("#payees")
    expect(card.locator(f'tr[data-payee="{crew["address"]}"]')).to_contain_text("Accepted")
    expect(card.locator(f'tr[data-payee="{agency["address"]}"]')).to_have_count(0)
    expect(card.locator(f'tr[data-payee="{model["address"]}"]')).to_contain_text("95 %")
    expect(page.locator("[data-verified]").first).to_contain_text("Verified by the guild")
    shots(page, "manage-payees")
    assert not page.js_errors, page.js_errors


def publish(chain, model: dict, twin_id: int, **terms) -> int:
    """Publishes an offer on chain (OfferTerms in the contract's order) and returns its id."""
    t = dict(upfront=0, fee=0, duration=30 * DAY, max_uses=0, categories=1, territories=1, exclusive=False,
             transferable=False, idle=0)
    t.update(terms)
    chain.transact(dev_account(model["index"]), "LicenseToken", "publishOffer", twin_id,
                   (t["upfront"], t["fee"], t["duration"], t["max_uses"], t["categories"], t["territories"],
                    t["exclusive"], t["transferable"], t["idle"]))
    return chain.call("LicenseToken", "offerCount")


def test_exclusive_offers_idle_end_floor_at_purchase_and_locked_licences(page, system):
    model, brand, guild = system.account("model", 27), system.account("brand", 4), system.account("guild")
    twin_id = 28
    twin = system.get(f"/api/v1/twins/{twin_id}")
    assert twin["model"] == model["address"], "the seed changed: pick a twin of this model"
    chain = chain_of(system)
    minimum = chain.call("TwinRegistry", "exclusivityMinimum")
    assert minimum > 0, "the seed sets an exclusivity minimum"
    floor = chain.call("TwinRegistry", "categoryFloor", 0)

    # The catalogue and the twin page say the guild verified her.
    open_as(page, system, brand, f"/catalogue?q={twin['name'].split()[0]}")
    expect(page.locator(f'.twin-card[data-twin-id="{twin_id}"] [data-verified]')).to_contain_text("Verified by the guild")
    shots(page, "catalogue-verified")
    open_as(page, system, brand, f"/twins/{twin_id}")
    expect(page.locator(".twin-hero [data-verified]")).to_contain_text("Verified by the guild")

    # The offer form: the idle period shows for an exclusive offer only; the guild's minimum and floor are checked
    # as typed, before any signature.
    rpc = RpcRecorder(page)
    open_as(page, system, model, f"/model/twins/{twin_id}")
    form = page.locator("#publish-offer")
    idle = form.get_by_label("End it if unused for (days)")
    expect(idle).to_be_hidden()
    form.get_by_label(re.compile("^Exclusive")).check()
    expect(idle).to_be_visible()
    form.get_by_label(re.compile("^Upfront fee")).fill(f"{(minimum - 1) // 1_000_000}.{(minimum - 1) % 1_000_000:06d}")
    expect(form).to_contain_text("the guild's exclusivity minimum")
    form.get_by_label(re.compile("^Per-use fee")).fill("0.01")
    expect(form).to_contain_text("below the guild's minimum")
    form.get_by_role("button", name="Publish").click()
    shots(page, "offer-exclusive-refused")
    assert not signed(rpc)
    form.get_by_label(re.compile("^Upfront fee")).fill(str(minimum // 1_000_000 + 1))
    form.get_by_label(re.compile("^Per-use fee")).fill(str(floor // 1_000_000 + 20))
    idle.fill("7")
    form.get_by_role("button", name="Publish").click()
    expect(page.locator("#confirm-dialog")).to_contain_text("after 7 days without a settled use")
    page.locator("#confirm-dialog [data-confirm]").click()
    published = wait_for(lambda: next((o for o in system.get(f"/api/v1/twins/{twin_id}")["offers"]
                                       if o["exclusive"] and o["upfront_fee"] == minimum + 1_000_000), None),
                         timeout=60, what="the exclusive offer from the form")
    assert chain.call("LicenseToken", "offer", published["offer_id"])[2][8] == 7 * DAY  # terms.idleEndAfter

    # An exclusive offer with a short idle period, bought and left idle: the model may end it once it is idle.
    offer_id = publish(chain, model, twin_id, upfront=minimum, fee=floor, categories=0b10, territories=0b10,
                       exclusive=True, idle=30)
    offer = wait_for(lambda: next((o for o in system.get(f"/api/v1/twins/{twin_id}")["offers"]
                                   if o["offer_id"] == offer_id), None), what="the idle offer in the index")
    license_id = buy(system, chain, brand, offer, escrow=floor * 2)

    # The brand's licence is locked, and says so.
    open_as(page, system, brand, f"/licenses/{license_id}")
    expect(page.locator("[data-lock]")).to_contain_text("locked (cannot be transferred)")
    shots(page, "licence-locked")
    assert chain.call("LicenseToken", "locked", license_id)

    open_as(page, system, model, f"/model/twins/{twin_id}")
    card = page.locator(f'#exclusive-licences [data-license-id="{license_id}"]')
    expect(card.locator(f'[data-end-idle-reason="{license_id}"]')).to_contain_text("You may end it from")
    expect(card.locator("[data-end-idle]")).to_have_count(0)
    shots(page, "idle-not-yet")
    chain.rpc("evm_increaseTime", [31])
    chain.rpc("evm_mine", [])
    page.reload()
    button = card.locator(f'[data-end-idle="{license_id}"]')
    expect(button).to_be_enabled()
    shots(page, "idle-endable")
    button.click()
    page.locator("#confirm-dialog [data-confirm]").click()
    wait_for(lambda: system.get(f"/api/v1/licenses/{license_id}")["status"] != "active", timeout=60,
             what="the ended licence in the index")
    expect(page.locator(f'#exclusive-licences [data-license-id="{license_id}"]')).to_have_count(0, timeout=60_000)

    # The guild raises the floor of a category after an offer was published: the brand is told before signing.
    seeded = twin["offers"][0]
    category = seeded["category_ids"][0]
    before = chain.call("TwinRegistry", "categoryFloor", category)
    chain.transact(dev_account(guild["index"]), "TwinRegistry", "setCategoryFloor", category,
                   seeded["per_use_fee"] + 1_000_000)
    try:
        brand_rpc = RpcRecorder(page)
        open_as(page, system, brand, f"/twins/{twin_id}")
        page.locator(f'[data-buy-offer="{seeded["offer_id"]}"]').click()
        buy_form = page.locator(f'form[data-buy-form="{seeded["offer_id"]}"]')
        expect(buy_form.locator("[data-rules]")).to_contain_text("can no longer be bought")
        expect(buy_form.get_by_role("button", name="Pay and license")).to_be_disabled()
        shots(page, "buy-below-floor")
        assert not signed(brand_rpc)
    finally:
        chain.transact(dev_account(guild["index"]), "TwinRegistry", "setCategoryFloor", category, before)
    assert not page.js_errors, page.js_errors
