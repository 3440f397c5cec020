"""Accessibility in the browser: axe-core finds no serious or critical violation on the main pages, on a desktop and on
a phone; every control shows where the keyboard focus is; a row that opens something is a link the keyboard reaches;
the portraits' caption is readable; and toasts neither pile up nor stay forever.

axe-core comes from node_modules and is injected by the test (the web client does not serve it)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from client_support import buy, chain_of, open_as, report_use, wait_for
from conftest import PHONE, ROOT, first_load

pytestmark = pytest.mark.timeout(300)

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDE = (1400, 900)
# Accounts and twins no other browser test uses: a brand, and the model of TWIN_ID (checked against the index).
BRAND, MODEL, TWIN_ID = ("brand", 2), ("model", 24), 25


@pytest.fixture(scope="module")
def licensed(system) -> dict:
    """A licence of TWIN_ID bought by BRAND, with two uses reported and settled: the licence page shows its uses, the
    model's earnings page its history."""
    brand, model = system.account(*BRAND), system.account(*MODEL)
    twin = system.get(f"/api/v1/twins/{TWIN_ID}")
    assert twin["model"] == model["address"], "the seed changed: pick a twin of MODEL"
    offer = twin["offers"][0]
    chain = chain_of(system)
    license_id = buy(system, chain, brand, offer, escrow=offer["per_use_fee"] * 5)
    for n in range(2):
        report_use(system, chain, brand, license_id, "0x" + f"{0xa11 + n:064x}", offer)
    wait_for(lambda: system.get(f"/api/v1/licenses/{license_id}")["uses_settled"] == 2, what="the uses to settle")
    return {"brand": brand, "model": model, "guild": system.account("guild"), "license_id": license_id}


# Each page as its user sees it, and what shows it is fully drawn.
PAGES = [
    ("catalogue", "brand", "/catalogue", "#twin-grid .twin-card"),
    ("twin", "brand", f"/twins/{TWIN_ID}", "#twin-name"),
    ("licence", "brand", "/licenses/{license_id}", "#uses table"),
    ("my-twins", "model", "/model/twins", "#my-twins .twin-card"),
    ("earnings", "model", "/model/earnings", "#earnings-history table"),
    ("register", "model", "/model/twins/new", "#register-twin"),
    ("guild", "guild", "/guild", "#attestations table"),
    ("check-image", "brand", "/check", "#drop-zone"),
    ("unlicensed-uses", "guild", "/guild/unlicensed", "#unlicensed-uses"),
]


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    if not page.evaluate("() => typeof axe !== 'undefined'"):  # once per page load
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document, { resultTypes: ['violations'] })).violations")
    return [v for v in found if v["impact"] in impacts]


def readable(violations: list[dict]) -> str:
    """One paragraph per violation: what, how bad, where (the first few elements) and why."""
    out = []
    for v in violations:
        out.append(f"{v['impact'].upper()} {v['id']}: {v['help']} ({len(v['nodes'])} element(s); {v['helpUrl']})")
        for node in v["nodes"][:5]:
            why = " ".join(line.strip() for line in (node.get("failureSummary") or "").splitlines()[1:2])
            out.append(f"    {' '.join(node['target'])}: {why}")
    return "\n".join(out)


def resize(page, size: tuple[int, int]) -> None:
    """The page's window at `size`: the layout follows the width at once (the client's layout is CSS media queries
    alone, no script reads the window's size), so a page loaded once is checked as a desktop and as a phone."""
    page.set_viewport_size({"width": size[0], "height": size[1]})


def test_axe_finds_no_serious_violation_on_a_desktop_or_a_phone(page, screenshot, system, licensed):
    first_load(page, system)
    failures = []
    for name, who, route, drawn in PAGES:
        route = route.format(license_id=licensed["license_id"])
        resize(page, WIDE)
        open_as(page, system, licensed[who], route)
        expect(page.locator(drawn).first).to_be_visible()
        page.wait_for_load_state("networkidle")
        for size in (WIDE, PHONE):
            resize(page, size)
            expect(page.locator(drawn).first).to_be_visible()
            screenshot(page, f"{size[0]}-{name}")
            if violations := axe_violations(page):
                failures.append(f"--- {name} ({route}) at {size[0]} px\n{readable(violations)}")
    assert not failures, "axe-core found serious or critical violations:\n" + "\n".join(failures)
    assert not page.js_errors, page.js_errors


# A focus ring must stand out from what is around it: 3:1, the contrast WCAG asks of any visual indicator.
FOCUS_RING = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  // A visually hidden checkbox (a chip) shows its focus on the chip drawn next to it.
  const shown = getComputedStyle(el).opacity === "0" && el.nextElementSibling ? el.nextElementSibling : el;
  const style = getComputedStyle(shown);
  let back = shown.parentElement;
  let background = "rgb(255, 255, 255)";
  for (; back; back = back.parentElement) {
    const bg = getComputedStyle(back).backgroundColor;
    if (bg !== "rgba(0, 0, 0, 0)" && bg !== "transparent") { background = bg; break; }
  }
  const what = el.id ? `#${el.id}` : `${el.tagName.toLowerCase()} "${(el.innerText || el.value || el.getAttribute("aria-label") || el.name || "").trim().slice(0, 30)}"`;
  return { what, style: style.outlineStyle, width: parseFloat(style.outlineWidth), color: style.outlineColor, background };
}"""


def contrast(a: str, b: str) -> float:
    def luminance(css: str) -> float:
        r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def tab_through(page, stops: int) -> list[dict]:
    """Presses Tab `stops` times from the top of the page and reads the focus ring of each control reached."""
    page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
    seen = []
    for _ in range(stops):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring:
            seen.append(ring)
    return seen


def test_focus_is_visible_on_every_control_on_a_desktop_and_a_phone(page, system, licensed):
    first_load(page, system)
    pages = [
        ("brand", "/catalogue", "#twin-grid .twin-card", 30),  # navigation, wallet, filters, cards
        ("brand", "/licenses", "#license-list tbody tr", 20),  # row links
        ("model", "/model/twins/new", "#register-twin", 30),  # text fields, text areas, selects, buttons
        ("model", f"/model/twins/{TWIN_ID}", "#publish-offer", 45),  # chips (hidden checkboxes)
        ("guild", "/guild", "#attest-form", 25),  # the guild's form, filters and revoke buttons
        ("brand", "/check", "#drop-zone", 20),  # the drop zone (a hidden file input)
    ]
    weak = []
    reached = {WIDE: 0, PHONE: 0}
    for who, route, drawn, stops in pages:
        resize(page, WIDE)
        open_as(page, system, licensed[who], route)
        for size in (WIDE, PHONE):
            resize(page, size)
            expect(page.locator(drawn).first).to_be_visible()
            for ring in tab_through(page, stops):
                reached[size] += 1
                visible = ring["style"] not in ("none", "auto") and ring["width"] >= 2
                if not visible or contrast(ring["color"], ring["background"]) < 3:
                    weak.append(f"{route} at {size[0]} px {ring['what']}: outline {ring['style']} {ring['width']}px "
                                f"{ring['color']} on {ring['background']}")
    assert all(n > 60 for n in reached.values()), f"focus stops reached at each width: {reached}"
    assert not weak, "focus is hard to see on:\n" + "\n".join(sorted(set(weak)))


def test_every_row_that_opens_a_licence_is_a_link_the_keyboard_reaches(page, system, licensed):
    first_load(page, system)
    open_as(page, system, licensed["brand"], "/licenses")
    rows = page.locator("#license-list tbody tr")
    expect(rows.first).to_be_visible()
    held = system.get(f"/api/v1/licenses?holder={licensed['brand']['address']}&limit=100")["data"]
    expect(rows).to_have_count(min(len(held), 20))
    for n in range(rows.count()):
        links = rows.nth(n).locator("a[href]")
        expect(links).to_have_count(1)
        expect(links).to_have_attribute("href", re.compile(r"^#/licenses/\d+$"))
    ours = page.locator(f'#license-list a[href="#/licenses/{licensed["license_id"]}"]')
    expect(ours).to_contain_text(f"Licence #{licensed['license_id']}")  # named by its cell, not "click here"

    # By keyboard alone: Tab until the link has the focus, then Enter.
    for _ in range(60):
        page.keyboard.press("Tab")
        if ours.evaluate("a => a === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the licence's row link")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"#/licenses/{licensed['license_id']}$"))
    expect(page.locator("#license-status")).to_be_visible()

    # A click anywhere on a row still opens it.
    page.go_back()
    page.locator(f"#license-list tbody tr:has(a[href='#/licenses/{licensed['license_id']}']) td").last.click()
    page.wait_for_url(re.compile(rf"#/licenses/{licensed['license_id']}$"))
    assert not page.js_errors, page.js_errors


def test_the_portrait_caption_is_readable(open_page, system):
    """The seed's portraits carry a small white caption in their bottom 7 % ("AL · digital twin", see
    seed/portraits.py) that is unreadable on their light backdrops: the page crops it away and writes the same words
    itself, in text that passes 4.5:1 on any picture."""
    page = first_load(open_page(*WIDE), system)
    page.goto(f"{system.url}/#/twins/1")
    for size in (WIDE, PHONE):
        resize(page, size)
        image = page.locator(".twin-hero .portrait > img")
        expect(image).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        shown = page.evaluate("""img => {
          const box = img.parentElement.getBoundingClientRect(), r = img.getBoundingClientRect();
          // object-fit: cover, anchored at the top: the picture's scale is the larger of the two ratios.
          const scale = Math.max(r.width / img.naturalWidth, r.height / img.naturalHeight);
          const caption = getComputedStyle(img.parentElement, "::after");
          return { bottom: (box.bottom - r.top) / (img.naturalHeight * scale), position: getComputedStyle(img).objectPosition,
                   text: caption.content, color: caption.color, background: caption.backgroundColor };
        }""", image.element_handle())
        assert shown["bottom"] <= 0.92, f"{shown['bottom']:.0%} of the picture shows, its caption with it"
        assert shown["text"] == '"Digital twin"', shown
        # The caption's backdrop is translucent: judge it over the lightest picture possible, white.
        rgba = [float(v) for v in re.findall(r"[\d.]+", shown["background"])]
        alpha = rgba[3] if len(rgba) == 4 else 1.0
        over_white = "rgb({}, {}, {})".format(*(round(c * alpha + 255 * (1 - alpha)) for c in rgba[:3]))
        assert contrast(shown["color"], over_white) >= 4.5, shown


def test_toasts_stack_to_three_and_errors_stay_longer_and_can_be_dismissed(page, system):
    first_load(page, system)
    expect(page.locator("#twin-grid")).to_be_visible()
    page.evaluate("""async () => {
      const { toast } = await import("/static/js/ui.js");
      toast("Something went wrong: first", "bad");
      for (let n = 1; n <= 4; n++) toast(`Done ${n}`, "ok");
      toast("Something went wrong: second", "bad");
    }""")
    toasts = page.locator("#toasts .toast")
    expect(toasts).to_have_count(3)
    expect(toasts).to_have_text([re.compile("Done 3"), re.compile("Done 4"), re.compile("second")])
    # Successes go after a few seconds; the error is still there to be read, and its reader can close it.
    expect(page.locator("#toasts .toast.ok")).to_have_count(0, timeout=10_000)
    error = page.locator("#toasts .toast.bad")
    expect(error).to_have_count(1)
    error.get_by_role("button", name="Dismiss this message").click()
    expect(toasts).to_have_count(0)
    # Left alone, an error goes too, in the end.
    page.evaluate("""async () => (await import("/static/js/ui.js")).toast("Something went wrong: third", "bad")""")
    expect(error).to_have_count(1)
    expect(error).to_have_count(0, timeout=20_000)
    assert not page.js_errors, page.js_errors
