"""The web client on a phone (390 x 844): no page scrolls sideways, the header stays small and its navigation folds
behind a menu button, the catalogue's filters scroll away with the page, and tables turn into cards whose every cell
says which column it is."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from client_support import buy, chain_of, open_as, report_use, wait_for
from conftest import PHONE, first_load

pytestmark = pytest.mark.timeout(300)

# Accounts and twins no other browser test uses: a brand, and the model of TWIN_ID (checked against the index).
BRAND, MODEL, TWIN_ID = ("brand", 2), ("model", 25), 26
HEADER_MAX = 64  # px: a twelfth of the screen; the header follows the page down, so every pixel of it is lost


@pytest.fixture(scope="module")
def licensed(system) -> dict:
    """A licence of TWIN_ID bought by BRAND with a use settled, so that every table has rows."""
    brand, model = system.account(*BRAND), system.account(*MODEL)
    twin = system.get(f"/api/v1/twins/{TWIN_ID}")
    assert twin["model"] == model["address"], "the seed changed: pick a twin of MODEL"
    offer = twin["offers"][0]
    chain = chain_of(system)
    license_id = buy(system, chain, brand, offer, escrow=offer["per_use_fee"] * 5)
    report_use(system, chain, brand, license_id, "0x" + f"{0x390:064x}", offer)
    wait_for(lambda: system.get(f"/api/v1/licenses/{license_id}")["uses_settled"] == 1, what="the use to settle")
    return {"brand": brand, "model": model, "guild": system.account("guild"), "license_id": license_id}


# Every route of the client, as the person it is for, and what shows it is fully drawn.
ROUTES = [
    ("brand", "/catalogue", "#twin-grid .twin-card"),
    ("brand", f"/twins/{TWIN_ID}", "#twin-name"),
    ("brand", "/licenses", "#license-list table"),
    ("brand", "/licenses/{license_id}", "#uses table"),
    ("model", "/model/twins", "#my-twins .twin-card"),
    ("model", f"/model/twins/{TWIN_ID}", "#publish-offer"),
    ("model", "/model/twins/new", "#register-twin"),
    ("model", "/model/earnings", "#earnings-history table"),
    ("guild", "/guild", "#attestations table"),
]


def test_no_page_scrolls_sideways_on_a_phone(open_page, screenshot, system, licensed):
    page = first_load(open_page(*PHONE), system)
    too_wide = []
    for who, route, drawn in ROUTES:
        route = route.format(license_id=licensed["license_id"])
        open_as(page, system, licensed[who], route)
        expect(page.locator(drawn).first).to_be_visible()
        page.wait_for_load_state("networkidle")
        screenshot(page, route)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE[0]:
            widest = page.evaluate("""limit => [...document.querySelectorAll("body *")]
              .filter((el) => el.getBoundingClientRect().right > limit + 0.5)
              .slice(0, 3).map((el) => `${el.tagName.toLowerCase()}.${el.className}`)""", PHONE[0])
            too_wide.append(f"{route}: {width} px wide ({', '.join(widest)})")
    assert not too_wide, "pages wider than the phone:\n" + "\n".join(too_wide)
    assert not page.js_errors, page.js_errors


def test_the_header_is_compact_and_its_menu_opens_and_closes(open_page, system, licensed):
    page = first_load(open_page(*PHONE), system)
    open_as(page, system, licensed["brand"], "/catalogue")
    expect(page.locator("#twin-grid")).to_be_visible()
    assert page.locator("header").bounding_box()["height"] <= HEADER_MAX
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="My licences")).to_be_hidden()
    expect(page.locator("#account-picker")).to_be_visible()  # who you are stays in view

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#" + menu.get_attribute("aria-controls"))).to_be_visible()
    for name in ("Catalogue", "My licences", "My twins", "Earnings"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    assert page.locator("header").bounding_box()["height"] <= HEADER_MAX  # the menu opens over the page

    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(nav.get_by_role("link", name="My licences")).to_be_hidden()

    page.keyboard.press("Enter")  # the keyboard opens it too
    expect(menu).to_have_attribute("aria-expanded", "true")
    nav.get_by_role("link", name="My licences").click()
    page.wait_for_url(re.compile(r"#/licenses$"))
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="My licences")).to_be_hidden()
    expect(page.locator("h1")).to_have_text("My licences")

    # On a desktop there is no menu button: the navigation is always there.
    page.set_viewport_size({"width": 1400, "height": 900})
    expect(menu).to_be_hidden()
    expect(nav.get_by_role("link", name="Earnings")).to_be_visible()
    assert not page.js_errors, page.js_errors


def test_the_catalogue_filters_scroll_away_on_a_phone(open_page, system):
    page = first_load(open_page(*PHONE), system)  # the catalogue
    expect(page.locator("#twin-grid .twin-card").first).to_be_visible()
    filters = page.locator("aside.filters")
    page.mouse.wheel(0, 2500)
    page.wait_for_function("window.scrollY > 2000")
    box = filters.bounding_box()
    assert box["y"] + box["height"] <= 0, f"the filters stay on screen while the cards scroll: {box}"


@pytest.mark.parametrize("route, table", [
    ("/model/earnings", "#earnings-history table"),
    ("/licenses/{license_id}", "#uses table"),
    ("/licenses", "#license-list table"),
])
def test_tables_become_cards_whose_cells_name_their_column(open_page, system, licensed, route, table):
    page = first_load(open_page(*PHONE), system)
    who = "model" if route.startswith("/model") else "brand"
    open_as(page, system, licensed[who], route.format(license_id=licensed["license_id"]))
    listing = page.locator(table)
    expect(listing.locator("tbody tr").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    layout = listing.evaluate("""table => {
      const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
      const rows = [...table.querySelectorAll("tbody tr")].map((tr) => [...tr.children].map((td, i) => ({
        column: heads[i], label: td.dataset.label ?? "", shown: getComputedStyle(td, "::before").content,
        empty: td.textContent.trim() === "" && !td.querySelector("img"),
      })));
      const container = table.parentElement.getBoundingClientRect();
      return { heads, rows, width: table.getBoundingClientRect().width, room: container.width,
               headVisible: table.querySelector("thead").getBoundingClientRect().height > 1,
               rowDisplay: getComputedStyle(table.querySelector("tbody tr")).display };
    }""")
    assert layout["width"] <= layout["room"] <= PHONE[0], layout
    assert layout["rowDisplay"] != "table-row" and not layout["headVisible"], "still a table on a phone"
    for row in layout["rows"]:
        for cell in row:
            if not cell["column"] or cell["empty"]:
                continue  # a picture's column has no name; an empty cell is not shown
            assert cell["label"] == cell["column"], cell
            assert cell["shown"] == f'"{cell["column"]}"', f"the cell does not show its column's name: {cell}"
    assert not page.js_errors, page.js_errors
