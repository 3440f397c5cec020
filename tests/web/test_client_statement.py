"""The earnings page's statement and chart, in the browser: a signed-in model picks a period and sees totals that tie
to the chain, downloads the CSV and the PDF, reads a sentence for a reversed period; the "Over time" chart has one
scale and one date per bar. Screenshots at 1400 and 390 px wide in /tmp/shots/F/."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from kit.signin import sign_in
from playwright.sync_api import expect

from twin_licensing.chain.keys import dev_account
from twin_licensing.settings import find_project_root
from client_support import buy, chain_of, open_as, report_use, wait_for

pytestmark = pytest.mark.timeout(300)
SHOTS = Path("/tmp/shots/F")


def _signed_in(page, system, account: dict) -> None:
    """The page's browser context carries `account`'s session cookie (Sign-In with Ethereum through the API)."""
    with httpx.Client(base_url=system.url, timeout=30) as client:
        cookies = sign_in(client, dev_account(account["index"]).key)
    page.context.add_cookies([{"name": k, "value": v, "url": system.url} for k, v in cookies.items()])


def test_model_reads_downloads_and_checks_her_statement(open_page, system):
    model, brand = system.account("model", 5), system.account("brand", 4)
    twin = system.get("/api/v1/twins/6")
    assert twin["model"] == model["address"]
    offer = twin["offers"][0]
    chain = chain_of(system)
    # The upfront fee vests over the term (issue 11): buying earns nothing yet, the settled use below does.
    license_id = buy(system, chain, brand, offer, escrow=offer["per_use_fee"] * 5)
    earnings = f"/api/v1/earnings/{model['address']}"
    report_use(system, chain, brand, license_id, "0x" + "5f" * 32, offer)
    wait_for(lambda: (series := system.get(earnings)["series"]) and series[-1]["uses"] >= 1, timeout=60,
             what="the use settled and indexed")

    SHOTS.mkdir(parents=True, exist_ok=True)
    page = open_page(1400, 1000)
    _signed_in(page, system, model)
    open_as(page, system, model, "/model/earnings")
    check = page.locator("#statement-check")
    expect(check).to_contain_text("Totals tie to the chain", timeout=30_000)
    expect(page.locator("#statement-earned")).not_to_have_text("0.00 tUSDC")
    expect(page.locator("#statement table")).to_contain_text(twin["name"])

    # The downloads are the same period's statement, for this signed-in payee only.
    csv_href = page.locator("#statement-csv").get_attribute("href")
    pdf_href = page.locator("#statement-pdf").get_attribute("href")
    assert "period=month" in csv_href and "/csv?" in csv_href and "/pdf?" in pdf_href
    csv_answer = page.request.get(system.url + csv_href)
    assert csv_answer.ok and csv_answer.text().startswith("kind,")
    assert "opening claimable" in csv_answer.text() and "uses" in csv_answer.text()
    pdf_answer = page.request.get(system.url + pdf_href)
    assert pdf_answer.ok and pdf_answer.body().startswith(b"%PDF")
    with httpx.Client(base_url=system.url, timeout=30) as stranger:  # not signed in: the same 404 as for nothing
        assert stranger.get(csv_href).status_code == 404

    # "Over time": one dataset on one scale, one distinct date per bar.
    chart = page.evaluate("""() => {
        const c = window.Chart.getChart(document.getElementById('chart-time'));
        return { labels: c.data.labels, datasets: c.data.datasets.length, scales: Object.keys(c.options.scales) };
    }""")
    assert chart["datasets"] == 1 and "y1" not in chart["scales"]
    assert len(chart["labels"]) >= 7 and len(set(chart["labels"])) == len(chart["labels"])
    # The statement card and the chart pass axe-core (labels, contrast) with nothing serious or critical.
    page.add_script_tag(path=str(find_project_root() / "node_modules" / "axe-core" / "axe.min.js"))
    found = page.evaluate("""async () => (await axe.run({ include: [['#statement'], ['#chart-time']] },
                                                       { resultTypes: ['violations'] })).violations""")
    serious = [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    page.locator("#statement").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "earnings-statement-1400.png"), full_page=True)

    # A reversed custom period: one sentence in the page, nothing else shown.
    page.select_option("#statement-kind", "custom")
    page.fill("#statement-from", "2026-11-20")
    page.fill("#statement-to", "2026-11-03")
    page.click("#statement-show")
    expect(page.locator("#statement-result")).to_contain_text("before it starts")
    expect(page.locator("#statement-check")).to_have_count(0)
    page.select_option("#statement-kind", "year")
    expect(page.locator("#statement-check")).to_contain_text("Totals tie to the chain")
    assert not page.js_errors, page.js_errors

    phone = open_page(390, 844)
    _signed_in(phone, system, model)
    open_as(phone, system, model, "/model/earnings")
    expect(phone.locator("#statement-check")).to_contain_text("Totals tie to the chain", timeout=30_000)
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    phone.screenshot(path=str(SHOTS / "earnings-statement-390.png"), full_page=True)
    assert not phone.js_errors, phone.js_errors
