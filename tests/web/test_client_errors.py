"""Every refusal reaches the person as one sentence they can act on: each custom error of the deployed contracts
has its own, and the API's `detail` is shown as it is, never with a field path or an HTTP code."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from client_support import open_as

pytestmark = pytest.mark.timeout(240)

EXPLAIN_ALL = """async () => {
  const { ethers } = await import('/static/js/chain.js');
  const { explain } = await import('/static/js/errors.js');
  const abis = await (await fetch('/api/v1/deployment/abi')).json();
  const out = {};
  for (const abi of Object.values(abis)) {
    const iface = new ethers.Interface(abi);
    iface.forEachError((fragment) => {
      const values = fragment.inputs.map((input) =>
        input.type === 'address' ? ethers.ZeroAddress : input.type === 'string' ? 'x' :
        input.type === 'bytes32' ? ethers.ZeroHash : input.type.startsWith('bytes') ? '0x' : 1n);
      out[fragment.name] = explain({ data: iface.encodeErrorResult(fragment, values) });
    });
  }
  return out;
}"""


def test_every_contract_error_has_a_sentence(page, system):
    page.goto(system.url + "/#/catalogue")
    expect(page.locator("#twin-grid")).to_be_visible(timeout=30_000)
    sentences = page.evaluate(EXPLAIN_ALL)
    assert len(sentences) > 40
    unnamed = {name: text for name, text in sentences.items() if name in text or "refused the transaction" in text}
    assert not unnamed, unnamed
    for name, text in sentences.items():
        assert text[0].isupper() and text.rstrip().endswith((".", "?")), (name, text)


def test_a_fee_range_upside_down_is_explained_under_the_filter(page, system):
    page.goto(system.url + "/#/catalogue")
    expect(page.locator("#twin-grid")).to_be_visible(timeout=30_000)
    page.locator("#filter-min-fee").fill("9")
    page.locator("#filter-max-fee").fill("2")
    page.get_by_role("button", name="Apply filters").click()
    error = page.locator("#filters [role=alert], #filters .field-error:visible").first
    expect(error).to_be_visible(timeout=30_000)
    text = error.inner_text()
    assert "min_fee" not in text and "HTTP" not in text, text
    assert "9.00" in text and "2.00" in text, text


def test_the_apis_detail_is_shown_as_a_sentence(page, system):
    page.goto(system.url + "/#/twins/999")
    box = page.locator("#main [role=alert]")
    expect(box).to_be_visible(timeout=30_000)
    text = box.inner_text()
    assert "999" in text and text[0].isupper() and text.endswith("."), text
    assert "HTTP" not in text and "detail" not in text, text

    # A 422 with a field path: the person reads the sentence, not the path.
    page.goto(system.url + "/#/catalogue?min_fee=9000000&max_fee=2000000")
    box = page.locator("#main [role=alert]").first
    expect(box).to_be_visible(timeout=30_000)
    assert "min_fee:" not in box.inner_text() and "query" not in box.inner_text(), box.inner_text()
    assert not page.js_errors, page.js_errors
