"""Consent and funds: the revoke confirmation says how long the notice is and when it takes effect, the brand's
licence under revocation shows the deadline and when the escrow can come back (and the reclaim button agrees),
and on the local chain a brand short of test tokens gets them from the faucet."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from client_support import buy, chain_of, open_as, token_amount, wait_for

pytestmark = pytest.mark.timeout(240)


def human(seconds: int) -> str:
    """The notice period as the client words it (whole days, else hours)."""
    if seconds % 86400 == 0:
        days = seconds // 86400
        return "1 day" if days == 1 else f"{days} days"
    hours = round(seconds / 3600)
    return "1 hour" if hours == 1 else f"{hours} hours"


def test_revoking_consent_states_the_notice_and_the_brand_sees_the_deadline(page, system):
    model, brand = system.account("model", 18), system.account("brand", 0)
    twin_id = 19
    assert system.get(f"/api/v1/twins/{twin_id}")["model"] == model["address"]
    chain = chain_of(system)
    offer = system.get(f"/api/v1/twins/{twin_id}")["offers"][0]
    license_id = buy(system, chain, brand, offer, escrow=offer["per_use_fee"] * 2)
    notice = system.get(f"/api/v1/twins/{twin_id}")["notice_period"]  # the period its consent keeps
    assert isinstance(notice, int) and notice > 0

    messages: list[str] = []

    def answer(dialog):
        messages.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    open_as(page, system, model, f"/model/twins/{twin_id}")
    expect(page.locator("#consent")).to_contain_text(human(notice), timeout=30_000)
    page.locator("#revoke-consent").click()
    expect(page.locator("#grant-consent")).to_be_visible(timeout=30_000)
    assert messages, "no confirmation before revoking"
    effective = dt.datetime.fromtimestamp(chain.timestamp() + notice, dt.timezone.utc)
    assert human(notice) in messages[0], messages[0]
    assert effective.strftime("%b") in messages[0] and str(effective.year) in messages[0], messages[0]

    consent = system.get(f"/api/v1/twins/{twin_id}")["consent"]
    assert consent["state"] == "revocation_pending"
    open_as(page, system, brand, f"/licenses/{license_id}")
    deadline = page.locator("[data-consent-deadline]")
    expect(deadline).to_be_visible(timeout=30_000)
    expect(deadline).to_contain_text("revoked", timeout=30_000)
    when = dt.datetime.fromtimestamp(consent["effective_at"]).strftime("%H:%M")
    expect(deadline).to_contain_text(when, timeout=30_000)
    # The reclaim note says when the button will be enabled, and the button agrees with it.
    note = page.locator("#reclaim-note")
    expect(note).not_to_contain_text("once the model revokes consent", timeout=30_000)
    expect(note).to_contain_text(when, timeout=30_000)
    expect(page.locator("#reclaim")).to_be_disabled(timeout=30_000)
    assert not page.js_errors, page.js_errors


def test_a_brand_gets_test_tokens_from_the_faucet(page, system):
    brand = system.account("brand", 4)
    deployment = system.get("/api/v1/deployment")
    assert deployment["faucet"] is True and deployment["token"]["symbol"] == "tUSDC"
    chain = chain_of(system)
    before = chain.call("PaymentToken", "balanceOf", brand["address"])
    open_as(page, system, brand, "/twins/20")
    page.locator("[data-buy-offer]").first.click()
    button = page.get_by_role("button", name="Get test tUSDC")
    expect(button).to_be_visible(timeout=30_000)
    button.click()
    wait_for(lambda: chain.call("PaymentToken", "balanceOf", brand["address"]) > before, what="the faucet's tokens")
    after = chain.call("PaymentToken", "balanceOf", brand["address"])
    expect(page.locator("form[data-buy-form]").first).to_contain_text(f"Your balance: {token_amount(after)}", timeout=30_000)
    assert not page.js_errors, page.js_errors
