"""Issue 13 in the browser: a brand attaches the image to a use report (its SHA-256 is the use_ref she signs), gets
the copy carrying its content credential, and sees its thumbnail in her uses; anyone checks an image on "Check an
image": the credentialed copy is licensed and paid, an altered copy's credential is not valid, a stripped and
rescaled copy is likely derived from it, an unrelated image has no licensed match and is reported to the guild, which
reads the report. Picking a development account signs in as it (session.js). Screenshots at 1400 and 390 px in
/tmp/shots/H2/."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from client_support import buy, chain_of, open_as, wait_for
from conftest import PHONE, first_load
from test_accessibility import axe_violations, readable
from kit.images import encoded, picture, png_with_pixel_changed, stripped_copy

pytestmark = pytest.mark.timeout(300)

SHOTS = Path("/tmp/shots/H2")
WIDE = (1400, 900)
# Accounts and a twin no other browser test uses (checked against the index).
BRAND, MODEL, TWIN_ID = ("brand", 3), ("model", 28), 29


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def file_of(name: str, data: bytes, mime: str) -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


def check(page, system, name: str, data: bytes, mime: str = "image/png"):
    """Checks an image on the check page; returns the verdict card once it shows."""
    page.goto(f"{system.url}/#/check")
    page.locator("#check-file").set_input_files(file_of(name, data, mime))
    verdict = page.locator("#verdict")
    expect(verdict).to_be_visible(timeout=30_000)
    return verdict


@pytest.fixture(scope="module")
def licence(system) -> dict:
    brand, model = system.account(*BRAND), system.account(*MODEL)
    twin = system.get(f"/api/v1/twins/{TWIN_ID}")
    assert twin["model"] == model["address"], "the seed changed: pick a twin of MODEL"
    offer = next(o for o in twin["offers"] if o["active"] and not o["exclusive"])
    license_id = buy(system, chain_of(system), brand, offer, escrow=offer["per_use_fee"] * 5)
    return {"brand": brand, "model": model, "license_id": license_id, "offer": offer, "twin": twin}


def test_attach_report_download_and_check(open_page, system, licence):
    """The brand's whole path with an image, then the check page on the copy she got, an altered copy and an
    unrelated image, and the guild reading the report."""
    brand, license_id = licence["brand"], licence["license_id"]
    page = first_load(open_page(*WIDE), system)
    open_as(page, system, brand, f"/licenses/{license_id}")  # picking the account signs in as it
    form = page.locator("#report-use")
    expect(form.locator("#use-asset")).to_be_visible()

    # Checked in the browser before anything is signed: not an image, then too large, each in a sentence.
    form.locator("#use-asset").set_input_files(file_of("notes.png", b"these are notes, not pixels", "image/png"))
    expect(form.locator("#attach-image .field-error")).to_have_text(
        "“notes.png” is not a JPEG, PNG or WebP image. Save it in one of those formats and try again.")
    max_bytes = system.get("/api/v1/deployment")["assets"]["max_bytes"]
    big = encoded(picture(1), "PNG")
    form.locator("#use-asset").set_input_files(file_of("huge.png", big + b"\0" * (max_bytes + 1 - len(big)), "image/png"))
    expect(form.locator("#attach-image .field-error")).to_contain_text("images can be at most 20 MB")
    form.get_by_role("button", name="Sign and report").click()
    expect(page.locator("#progress")).to_be_hidden()
    expect(form.locator("#attach-image .field-error")).to_be_visible()
    assert system.get(f"/api/v1/licenses/{license_id}/uses")["count"] == 0  # nothing reported

    # The image: its SHA-256 is the use's reference, the holder signs, the image goes up, the copy comes back.
    image = encoded(picture(1301), "PNG")
    sha256 = "0x" + hashlib.sha256(image).hexdigest()
    form.locator("#use-asset").set_input_files(file_of("ss26-look-3.png", image, "image/png"))
    expect(form.locator("[data-asset-chosen]")).to_contain_text(sha256[:12])
    expect(form.locator("input[name=reference]")).to_be_disabled()  # the image is the reference: no label to hash
    form.get_by_role("button", name="Sign and report").click()
    download_link = form.locator("a[data-credentialed]")
    expect(download_link).to_be_visible(timeout=30_000)
    use = system.get(f"/api/v1/licenses/{license_id}/uses")["data"][0]
    assert use["use_ref"] == sha256 and use["asset"] is True and use["label"] is None
    with page.expect_download() as waiting:
        download_link.click()
    download = waiting.value
    assert download.suggested_filename == f"licence-{license_id}-use-1.png"  # its first use, "use #1" as every page says
    credentialed = Path(download.path()).read_bytes()
    assert credentialed != image and credentialed[:8] == image[:8]  # a PNG, now carrying its manifest

    # The uses list shows the image, small, and follows the use until it is paid.
    thumb = page.locator("#uses tbody tr").first.locator("img.asset-thumb")
    expect(thumb).to_be_visible(timeout=30_000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    expect(page.locator("#uses tbody tr").first.get_by_role("link", name="Credentialed copy")).to_have_attribute(
        "href", f"/api/v1/uses/{use['id']}/asset/credentialed")
    expect(page.locator("#uses .tracker").first).to_have_attribute("data-status", "settled", timeout=60_000)
    shoot(page, "licence-attached-1400")

    # Anyone (signed in or not) checks the credentialed copy: licensed and paid, with where it was paid.
    anyone = first_load(open_page(*WIDE), system)
    verdict = check(anyone, system, "found-online.png", credentialed)
    expect(verdict).to_have_attribute("data-verdict", "licensed_paid", timeout=30_000)
    expect(verdict).to_contain_text("Licensed and paid")
    expect(verdict.get_by_role("link", name=licence["twin"]["name"])).to_have_attribute("href", f"#/twins/{TWIN_ID}")
    expect(verdict.get_by_role("link", name=f"Licence #{license_id}")).to_be_visible()
    tx_hash = wait_for(lambda: system.get(f"/api/v1/uses/{use['id']}")["tx_hash"], what="the settlement hash")
    expect(verdict.locator("[data-tx]")).to_have_text(tx_hash)
    expect(verdict.locator("#report-unlicensed")).to_have_count(0)
    expect(anyone.locator("#to-unlicensed")).to_have_count(0)  # the reports are the guild's to read
    shoot(anyone, "check-licensed-1400")

    # One pixel changed after signing: the credential no longer holds.
    verdict = check(anyone, system, "edited.png", png_with_pixel_changed(credentialed))
    expect(verdict).to_have_attribute("data-verdict", "credential_invalid")
    expect(verdict).to_contain_text("The credential is not valid")
    expect(verdict.locator("#report-unlicensed")).to_have_count(0)
    shoot(anyone, "check-altered-1400")

    # The manifest stripped, re-encoded and scaled down: no credential, but likely derived from the licensed image.
    verdict = check(anyone, system, "reposted.jpg", stripped_copy(credentialed), "image/jpeg")
    expect(verdict).to_have_attribute("data-verdict", "no_credential/likely_derived")
    expect(verdict).to_contain_text("likely derived from a licensed image")
    expect(verdict.get_by_role("link", name=f"Licence #{license_id}")).to_be_visible()
    expect(verdict.locator("#report-unlicensed")).to_have_count(0)
    shoot(anyone, "check-derived-1400")

    # An unrelated image: no licensed match; reported to the guild, a note required first.
    unrelated = encoded(picture(9_999_001), "JPEG", quality=90)
    verdict = check(anyone, system, "street-poster.jpg", unrelated, "image/jpeg")
    expect(verdict).to_have_attribute("data-verdict", "no_credential/no_licensed_match")
    expect(verdict).to_contain_text("No licensed match")
    report = verdict.locator("#report-unlicensed")
    report.get_by_role("button", name="Report unlicensed use").click()
    expect(report.locator(".field-error")).to_have_text("Say where you saw the image, so the guild can follow it up.")
    violations = axe_violations(anyone)  # the verdict with the report form and its error
    assert not violations, readable(violations)
    note = f"Poster at the Gare du Nord, {TWIN_ID}"
    report.locator("textarea[name=note]").fill(note)
    report.get_by_role("button", name="Report unlicensed use").click()
    expect(verdict.locator(".form-ok")).to_contain_text("Reported to the guild")
    shoot(anyone, "check-unrelated-reported-1400")

    # The guild reads it; a brand is told the list is the guild's.
    open_as(anyone, system, brand, "/guild/unlicensed")
    expect(anyone.locator(".empty")).to_contain_text("For the guild only")
    open_as(anyone, system, system.account("guild"), "/check")  # the guild finds the reports from the check page
    anyone.get_by_role("link", name="Reported unlicensed uses").click()
    row = anyone.locator("#unlicensed-uses tbody tr", has_text=note)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(("0x" + hashlib.sha256(unrelated).hexdigest())[:14])
    shoot(anyone, "guild-unlicensed-1400")

    # The model's usage log shows the image of the use, small.
    open_as(page, system, licence["model"], "/usage")
    row = page.locator(f"#usage-table tbody tr[data-use='{use['id']}']")
    expect(row.locator("img.asset-thumb")).to_be_visible(timeout=30_000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=row.locator("img.asset-thumb").element_handle())
    shoot(page, "usage-log-1400")
    assert not page.js_errors and not anyone.js_errors, page.js_errors + anyone.js_errors


def test_the_pages_on_a_phone(open_page, system, licence):
    """The check page (empty, then a verdict), the licence page's report form with the attached image's thumbnail and
    the model's usage log with it fit a 390 px screen."""
    page = first_load(open_page(*PHONE), system)
    page.goto(f"{system.url}/#/check")
    expect(page.locator("#drop-zone")).to_be_visible()
    shoot(page, "check-390")
    # Dropped on the zone rather than chosen: the same check.
    page.evaluate("""async (bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], "dropped.jpg", { type: "image/jpeg" }));
      document.getElementById("drop-zone").dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }""", list(encoded(picture(9_999_002), "JPEG", quality=90)))
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-verdict", "no_credential/no_licensed_match", timeout=30_000)
    expect(page.locator("#check-picked")).to_contain_text("dropped.jpg")
    shoot(page, "check-verdict-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    violations = axe_violations(page)
    assert not violations, readable(violations)
    open_as(page, system, licence["brand"], f"/licenses/{licence['license_id']}")
    expect(page.locator("#attach-image")).to_be_visible()
    page.wait_for_load_state("networkidle")
    shoot(page, "licence-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    violations = axe_violations(page)
    assert not violations, readable(violations)
    open_as(page, system, licence["model"], "/usage")
    expect(page.locator("#usage-table img.asset-thumb").first).to_be_visible(timeout=30_000)
    page.wait_for_load_state("networkidle")
    shoot(page, "usage-log-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    assert not page.js_errors, page.js_errors
