"""Issue 11 in the web client: the signed use number, grace after a licence's end, the upfront fee that vests.

- Two tabs of one brand report a use on one licence at once: both sign the same number, the API takes one and
  answers the other 409 with the number it expects; that tab signs again by itself (a development account signs
  silently) and both uses are stored, with consecutive numbers.
- A model sees her upfront fees vested and still vesting (in all, and licence by licence), and Withdraw calls
  withdrawVested, so the vested upfront is paid too.
- A brand whose licence ended early (the model revoked consent with no notice) sees until when the uses it reported
  are still paid, the escrow it gets back and from when (the button waits for the grace), and reclaims the upfront
  fee that did not vest.

Each test registers a twin of its own for model 29 (whose seeded twin no other browser test uses): no other test's
twin, offers or licences change, and nothing moves the chain's clock. Screenshots at 1400 and 390 px in
/tmp/shots/E/."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from client_support import RpcRecorder, buy, chain_of, open_as, report_use, token_amount, wait_for
from test_accessibility import axe_violations, readable
from twin_licensing.chain.hashing import keccak256
from twin_licensing.chain.keys import dev_account
from twin_licensing.domain import skip_reasons
from twin_licensing.seed.data import ADMIN

pytestmark = pytest.mark.timeout(300)

SHOTS = Path("/tmp/shots/E")
WIDE, PHONE = (1400, 900), (390, 844)
MODEL_ROLE = 0  # TwinTypes.PayeeRole.Model
MODEL, BRAND = ("model", 29), ("brand", 3)
UPFRONT, FEE, TERM = 900_000_000, 2_000_000, 30 * 86400  # 900 tUSDC over 30 days; e-commerce's floor per use


def shoot(page, name: str) -> None:
    """Saves the page at its size, once it fits its width and axe finds no serious violation in it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} overflows {width} px"
    if not page.locator("dialog[open]").count():
        assert not (found := axe_violations(page)), f"{name}:\n{readable(found)}"
    assert not page.js_errors, page.js_errors


def pump(page, predicate, timeout: float = 30.0, what: str = "condition"):
    """wait_for that lets Playwright run the page's handlers (a route held, a request seen) while it waits."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(100)
    return value


def own_twin(system, chain, name: str, notice: int | None = None) -> int:
    """Registers a twin of model 29 (all its earnings hers) under the registry's notice period, or `notice` for it
    alone (the admin's period is restored at once); waits until the index has it."""
    model, admin = dev_account(system.account(*MODEL)["index"]), dev_account(ADMIN)
    before = chain.call("TwinRegistry", "noticePeriod")
    if notice is not None:
        chain.transact(admin, "TwinRegistry", "setNoticePeriod", notice)
    try:
        metadata = "data:application/json;base64," + base64.b64encode(json.dumps({"name": name}).encode()).decode()
        chain.transact(model, "TwinRegistry", "registerTwin", metadata, "0x" + "e1" * 32,
                       [(model.address, 10_000, MODEL_ROLE)])
    finally:
        if notice is not None:
            chain.transact(admin, "TwinRegistry", "setNoticePeriod", before)
    twin_id = chain.call("TwinRegistry", "twinCount")
    wait_for(lambda: twin_id <= system.get("/api/v1/twins")["count"], what="the new twin in the index")
    return twin_id


def publish(system, chain, twin_id: int, transferable: bool = False) -> dict:
    """Publishes a 30-day e-commerce offer in Europe with a 900 tUSDC upfront fee; returns it as the API shows it."""
    model = dev_account(system.account(*MODEL)["index"])
    chain.transact(model, "LicenseToken", "publishOffer", twin_id,
                   (UPFRONT, FEE, TERM, 0, 1, 1, False, transferable, 0))
    offer_id = chain.call("LicenseToken", "offerCount")
    return wait_for(lambda: next((o for o in system.get(f"/api/v1/twins/{twin_id}")["offers"]
                                  if o["offer_id"] == offer_id), None), what="the offer in the index")


def typed(rpc: RpcRecorder) -> list[dict]:
    """The EIP-712 signatures a page asked of its wallet (use reports)."""
    return [c for c in rpc.signed() if c["method"] == "eth_signTypedData_v4"]


def signed_seq(call: dict) -> int:
    """The use number a use report's signature request signs."""
    return int(json.loads(call["params"][1])["message"]["seq"])


def day(seconds: int) -> str:
    """A date as the client writes it ("1 Dec 2026"), in this machine's time zone (the browser's)."""
    return dt.datetime.fromtimestamp(seconds).strftime("%-d %b %Y")


# A browser wallet for the page (window.ethereum), which forwards every request to the development relay (it holds
# the development keys) and notes what the page's progress dialog said when each use report was put to it to sign.
BROWSER_WALLET = """(address) => {
  window.walletNotes = [];
  const relay = async (method, params) => {
    const answer = await (await fetch('/api/v1/dev/rpc', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: params || [] }) })).json();
    if (answer.error) throw Object.assign(new Error(answer.error.message), answer.error);
    return answer.result;
  };
  window.ethereum = {
    request: async ({ method, params }) => {
      if (method === 'eth_accounts' || method === 'eth_requestAccounts') return [address];
      if (method === 'eth_signTypedData_v4') window.walletNotes.push(document.querySelector('#progress-steps').innerText);
      return relay(method, params);
    },
    on() {},
    removeListener() {},
  };
}"""


def hold_next_report(page) -> list:
    """Holds the page's next use report on its way to the API (the route, to continue later); the rest pass."""
    held: list = []
    page.route("**/api/v1/uses", lambda route: held.append(route) if route.request.method == "POST" and not held
               else route.continue_())
    return held


def report(page, label: str) -> None:
    page.locator("#report-use input[name=reference]").fill(label)
    page.get_by_role("button", name="Sign and report").click()


def race(winner, loser, labels: tuple[str, str], number: int) -> None:
    """`loser` signs use #`number` first, but its report reaches the API after `winner`'s, which takes the number."""
    held = hold_next_report(loser)
    report(loser, labels[1])
    pump(loser, lambda: held, what="the report on its way")
    report(winner, labels[0])
    expect(winner.locator("#report-use .form-ok")).to_contain_text(f"Use #{number}", timeout=30_000)
    held[0].continue_()
    loser.unroute("**/api/v1/uses")


def test_two_tabs_report_at_once_and_the_one_that_lost_the_number_signs_again(open_page, system):
    chain = chain_of(system)
    brand = system.account(*BRAND)
    twin_id = own_twin(system, chain, "Race twin")
    license_id = buy(system, chain, brand, publish(system, chain, twin_id), escrow=FEE * 10)
    assert system.get(f"/api/v1/licenses/{license_id}")["next_seq"] == 0

    # One tab acts as the development account, the other through a browser wallet (signed in by it).
    dev, wallet = open_page(*WIDE), open_page(*WIDE)
    open_as(dev, system, brand, f"/licenses/{license_id}")
    wallet.add_init_script(script=f"({BROWSER_WALLET})({brand['address']!r})")
    wallet.goto(f"{system.url}/#/licenses/{license_id}")
    wallet.locator("#sign-in-to-see, #sign-in").first.click()
    for tab in (dev, wallet):
        expect(tab.locator("#report-use button[type=submit]")).to_be_enabled(timeout=30_000)
    signed_dev, signed_wallet = RpcRecorder(dev), RpcRecorder(wallet)

    # The wallet's report loses use #1 to the development account's: the API answers 409 and names #2; the wallet
    # is asked again, and the page says why first.
    race(dev, wallet, ("Race 1, development account", "Race 1, browser wallet"), 1)
    expect(wallet.locator("#report-use .form-ok")).to_contain_text("Use #2", timeout=30_000)
    expect(wallet.locator("#report-use .form-error")).to_have_count(0)
    notes = wallet.evaluate("window.walletNotes")
    assert len(notes) == 2 and "Sign use #1 in your wallet" in notes[0], notes
    assert "took use #1 first: sign again in your wallet, as use #2" in notes[1], notes
    assert [signed_seq(c) for c in typed(signed_wallet)] == [0, 1]
    assert [signed_seq(c) for c in typed(signed_dev)] == [0]

    # The other way round: the development account's report loses use #3 and is signed again without a question.
    race(wallet, dev, ("Race 2, browser wallet", "Race 2, development account"), 3)
    expect(dev.locator("#report-use .form-ok")).to_contain_text("Use #4", timeout=30_000)
    expect(dev.locator("#report-use .form-error")).to_have_count(0)
    assert [signed_seq(c) for c in typed(signed_dev)] == [0, 2, 3]
    assert len(wallet.evaluate("window.walletNotes")) == 3  # its one signature of race 2

    uses = {u["label"]: u["seq"] for u in system.get(f"/api/v1/licenses/{license_id}/uses")["data"]}
    assert uses == {"Race 1, development account": 0, "Race 1, browser wallet": 1, "Race 2, browser wallet": 2,
                    "Race 2, development account": 3}, uses
    wait_for(lambda: system.get(f"/api/v1/licenses/{license_id}")["uses_settled"] == 4, what="the four uses settled")
    expect(dev.locator("#uses .tracker[data-status=settled]")).to_have_count(4, timeout=30_000)
    shoot(dev, "licence-race-1400")
    phone = open_page(*PHONE)
    open_as(phone, system, brand, f"/licenses/{license_id}")
    expect(phone.locator("#uses")).to_contain_text("Race 2, development account", timeout=30_000)
    shoot(phone, "licence-race-390")


def test_a_model_sees_upfront_vested_and_vesting_and_withdraws_the_vested_part(open_page, system):
    chain = chain_of(system)
    model, brand = system.account(*MODEL), system.account(*BRAND)
    twin_id = own_twin(system, chain, "Vesting twin")
    license_id = buy(system, chain, brand, publish(system, chain, twin_id), escrow=FEE * 2)
    # The chain's clock moves with its blocks (no time travel: a block a second later, as any transaction makes).
    time.sleep(1.1)
    chain.rpc("evm_mine")
    # A second or two of a 30-day term: a sliver has vested, nearly all of the 900 tUSDC is still vesting.
    lic = wait_for(lambda: (lic := system.get(f"/api/v1/licenses/{license_id}"))["upfront"]["vested"] > 0 and lic,
                   what="the index at the new block")
    assert lic["upfront"]["vested"] < UPFRONT // 1000 and lic["upfront"]["refundable"] == 0, lic["upfront"]

    page = open_page(*WIDE)
    open_as(page, system, model, "/model/earnings")
    vested, vesting = page.locator(f"[data-vested='{license_id}']"), page.locator(f"[data-vesting='{license_id}']")
    expect(vested).to_be_visible(timeout=30_000)
    expect(vesting).to_contain_text("899.")
    assert vested.inner_text() != "0.00 tUSDC"
    for stat in ("#upfront-vested", "#upfront-vesting"):
        expect(page.locator(stat)).not_to_have_text("0.00 tUSDC")
    shoot(page, "earnings-1400")
    phone = open_page(*PHONE)
    open_as(phone, system, model, "/model/earnings")
    expect(phone.locator(f"[data-vesting='{license_id}']")).to_be_visible(timeout=30_000)
    shoot(phone, "earnings-390")

    # Her twin's page lists its licences' upfront fees the same way.
    twin_page = open_page(*WIDE)
    open_as(twin_page, system, model, f"/model/twins/{twin_id}")
    expect(twin_page.locator(f"#upfront-licences [data-vesting='{license_id}']")).to_contain_text("899.", timeout=30_000)
    shoot(twin_page, "model-twin-1400")
    open_as(phone, system, model, f"/model/twins/{twin_id}")
    expect(phone.locator(f"#upfront-licences [data-vesting='{license_id}']")).to_be_visible(timeout=30_000)
    shoot(phone, "model-twin-390")

    # Withdraw vests what vested of each licence (withdrawVested with the API's list) and pays it.
    rpc = RpcRecorder(page)
    balance = chain.call("PaymentToken", "balanceOf", model["address"])
    page.locator("#withdraw").click()
    expect(page.locator("#toasts")).to_contain_text("are in your wallet", timeout=60_000)
    expect(page.locator("#claimable")).to_have_text("0.00 tUSDC", timeout=30_000)
    sent = [c for c in rpc.signed() if c["method"] == "eth_sendTransaction"]
    assert len(sent) == 1, sent
    withdraw_vested = "0x" + keccak256(b"withdrawVested(uint256[])")[:4].hex()
    assert sent[0]["params"][0]["data"].startswith(withdraw_vested), sent[0]["params"][0]["data"][:10]
    upfront, released = chain.call("LicenseToken", "vesting", license_id)[:3:2]
    assert upfront == UPFRONT and released > 0, (upfront, released)
    assert chain.call("PaymentToken", "balanceOf", model["address"]) >= balance + released
    assert chain.call("LicenseToken", "claimable", model["address"]) == 0


def test_a_brand_whose_licence_lost_consent_sees_the_grace_and_reclaims_the_unvested_fee(open_page, system):
    chain = chain_of(system)
    model, brand = system.account(*MODEL), system.account(*BRAND)
    twin_id = own_twin(system, chain, "Revoked twin", notice=0)  # a revocation takes effect at once
    license_id = buy(system, chain, brand, publish(system, chain, twin_id), escrow=FEE * 5)
    chain.transact(dev_account(model["index"]), "TwinRegistry", "revokeConsent", twin_id)
    lic = wait_for(lambda: (fresh := system.get(f"/api/v1/licenses/{license_id}"))["status"] == "revoked" and fresh,
                   what="the revocation in the index")
    ends, grace_ends = lic["ends_at"], lic["grace_ends_at"]
    assert ends < lic["expiry"] and grace_ends == ends + chain.call("LicenseToken", "gracePeriod"), lic
    refund = lic["upfront"]["refundable"]
    assert 0 < refund < UPFRONT and refund + lic["upfront"]["vested"] == UPFRONT, lic["upfront"]

    page = open_page(*WIDE)
    open_as(page, system, brand, f"/licenses/{license_id}")
    end = page.locator("#licence-end [data-licence-end]")
    expect(end).to_contain_text(f"still paid until {day(grace_ends)}", timeout=30_000)
    expect(end).to_contain_text("revocation of consent")
    # The escrow comes back after the grace: said with its amount and date, and the button agrees.
    note = page.locator("#reclaim-note")
    expect(note).to_contain_text(token_amount(FEE * 5))
    expect(note).to_contain_text(f"from {day(grace_ends)}")
    expect(page.locator("#reclaim")).to_be_disabled()
    # The upfront fee that did not vest comes back now.
    part = page.locator("#upfront [data-upfront-refund]")
    expect(part).to_contain_text(token_amount(refund))
    button = page.locator("#reclaim-unvested")
    expect(button).to_be_enabled()
    shoot(page, "licence-revoked-1400")
    phone = open_page(*PHONE)
    open_as(phone, system, brand, f"/licenses/{license_id}")
    expect(phone.locator("#reclaim-unvested")).to_be_enabled(timeout=30_000)
    shoot(phone, "licence-revoked-390")

    balance = chain.call("PaymentToken", "balanceOf", brand["address"])
    button.click()
    expect(page.locator("#toasts")).to_contain_text(f"{token_amount(refund)} of upfront fee is back", timeout=60_000)
    assert chain.call("PaymentToken", "balanceOf", brand["address"]) == balance + refund
    wait_for(lambda: system.get(f"/api/v1/licenses/{license_id}")["upfront"]["refundable"] == 0,
             what="the refund in the index")
    expect(page.locator("#reclaim-unvested")).to_have_count(0, timeout=30_000)
    expect(page.locator("#reclaim")).to_be_disabled()  # the escrow still waits for the grace
    shoot(page, "licence-refunded-1400")


def test_a_licence_sold_second_hand_shows_the_buyer_the_seller_and_the_seller_its_escrow(open_page, system):
    chain = chain_of(system)
    seller, buyer = system.account(*BRAND), system.account("brand", 2)
    twin_id = own_twin(system, chain, "Second-hand twin")
    offer = publish(system, chain, twin_id, transferable=True)
    license_id = buy(system, chain, seller, offer, escrow=FEE * 3)
    report_use(system, chain, seller, license_id, "0x" + "e4" * 32, offer)
    wait_for(lambda: system.get(f"/api/v1/licenses/{license_id}")["uses_settled"] == 1, what="the seller's use settled")
    chain.transact(dev_account(seller["index"]), "LicenseToken", "transferFrom", seller["address"], buyer["address"],
                   license_id)
    lic = wait_for(lambda: (fresh := system.get(f"/api/v1/licenses/{license_id}"))["handover"] and fresh,
                   what="the handover in the index")
    handover = lic["handover"]
    assert handover["seller_escrow"] == FEE * 2 and lic["escrow"] == 0, lic
    assert handover["reclaimable_from"] > chain.timestamp() + 6 * 86400, handover

    # The buyer: bought second-hand, from whom and when; its escrow pays only the uses it reports.
    page = open_page(*WIDE)
    open_as(page, system, buyer, f"/licenses/{license_id}")
    part = page.locator("#handover [data-inherited-uses]")
    expect(part).to_contain_text(f"bought this licence second-hand from {handover['seller_label']}", timeout=30_000)
    expect(part).to_contain_text("your escrow pays only the uses you report")
    shoot(page, "licence-bought-second-hand-1400")

    # The seller: the API no longer shows her the licence, the chain shows her escrow, reclaimable after the grace.
    page = open_page(*WIDE)
    open_as(page, system, seller, f"/licenses/{license_id}")
    card = page.locator("#licence-end [data-seller-escrow]")
    expect(card).to_contain_text(f"Your seller escrow of {token_amount(FEE * 2)}", timeout=30_000)
    expect(card).to_contain_text(f"reclaim from {day(handover['reclaimable_from'])}")
    expect(page.locator("#reclaim-seller-escrow")).to_be_disabled()
    shoot(page, "licence-sold-1400")
    phone = open_page(*PHONE)
    open_as(phone, system, seller, f"/licenses/{license_id}")
    expect(phone.locator("#reclaim-seller-escrow")).to_be_disabled(timeout=30_000)
    shoot(phone, "licence-sold-390")


def test_a_skipped_settlement_is_said_in_words_on_the_licence(open_page, system):
    """The licence's last skipped settle item (the API's `last_skip`, its sentence from domain/skip_reasons.py) is
    said above its uses while they are unsettled, with whether they will ever be charged. The settler rarely lets
    the contract skip (it caps items by escrow and max uses), so the page is given the API's answer with one."""
    chain = chain_of(system)
    brand = system.account(*BRAND)
    twin_id = own_twin(system, chain, "Skipped twin")
    license_id = buy(system, chain, brand, publish(system, chain, twin_id), escrow=FEE * 2)
    page = open_page(*WIDE)

    def with_skip(code: int):
        def answer(route):
            body = route.fetch().json()
            body["last_skip"] = {"reason": code, "name": skip_reasons.name(code),
                                 "sentence": skip_reasons.sentence(code), "final": skip_reasons.is_final(code),
                                 "first_seq": 0, "count": 2, "block_number": 1}
            route.fulfill(json=body)
        return answer

    page.route(f"**/api/v1/licenses/{license_id}", with_skip(skip_reasons.INSUFFICIENT_ESCROW))
    open_as(page, system, brand, f"/licenses/{license_id}")
    notice = page.locator("#uses [data-last-skip]")
    escrow_short = skip_reasons.sentence(skip_reasons.INSUFFICIENT_ESCROW)
    expect(notice).to_have_text(f"Use #1 to use #2 were not settled: {escrow_short}.", timeout=30_000)
    page.unroute(f"**/api/v1/licenses/{license_id}")
    page.route(f"**/api/v1/licenses/{license_id}", with_skip(skip_reasons.GRACE_OVER))
    page.reload()
    expect(notice).to_contain_text(f"{skip_reasons.sentence(skip_reasons.GRACE_OVER)}. They will not be charged.",
                                   timeout=30_000)
    shoot(page, "licence-skipped-1400")
