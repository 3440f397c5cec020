"""Every transaction the web client sends carries an explicit gas limit with a margin over the node's estimate:
a node estimates on the latest block, and a purchase mined right after another of the same twin used more than
estimated and ran out of gas. Recorded from the page's own JSON-RPC traffic to the dev relay."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from client_support import RpcRecorder, open_as

pytestmark = pytest.mark.timeout(240)


def test_every_transaction_has_a_gas_limit_a_quarter_above_the_estimate(page, system):
    brand = system.account("brand", 2)
    twin_id = 15
    offer = system.get(f"/api/v1/twins/{twin_id}")["offers"][0]
    rpc = RpcRecorder(page)
    open_as(page, system, brand, f"/twins/{twin_id}")
    card = page.locator(f'article.offer[data-offer-id="{offer["offer_id"]}"]')
    card.locator("[data-buy-offer]").click()
    form = card.locator("form[data-buy-form]")
    form.locator("select[name=method]").select_option("approve")  # two transactions: approve, then buy
    form.locator("input[name=escrow]").fill("10")
    form.get_by_role("button", name="Pay and license").click()
    # The client confirms the totals before paying (tested in test_client_amounts.py), once it has read the rules
    # from the chain: the dialog opens a moment after the press.
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_be_visible(timeout=30_000)
    confirm.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_url(re.compile(r"#/licenses/\d+$"), timeout=60_000)
    expect(page.locator("#license-status")).to_contain_text("Active", timeout=30_000)

    sent = rpc.of("eth_sendTransaction")
    assert len(sent) >= 2, [c["method"] for c, _ in rpc.calls]
    estimates = {}
    for call, answer in rpc.of("eth_estimateGas"):
        tx = call["params"][0]
        if answer and "result" in answer:
            estimates[(tx.get("to", "").lower(), tx.get("data"))] = int(answer["result"], 16)
    for call, _ in sent:
        tx = call["params"][0]
        key = (tx.get("to", "").lower(), tx.get("data"))
        assert key in estimates, f"no estimate for the transaction to {key[0]}"
        assert "gas" in tx, tx
        assert int(tx["gas"], 16) >= 1.2 * estimates[key], (int(tx["gas"], 16), estimates[key])
    assert not page.js_errors, page.js_errors
