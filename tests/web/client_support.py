"""Steps the `test_client_*` browser tests share: act as a development account, wait for the index, buy on chain,
sign a use report, and read the dev RPC traffic of a page. Not a test module."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from playwright.sync_api import expect

from twin_licensing.chain.client import Chain
from twin_licensing.chain.deployment import read_deployment
from twin_licensing.chain.keys import dev_account
from twin_licensing.chain.use_reports import UseReport, UseReportDomain, sign_report
from twin_licensing.settings import find_project_root


def open_as(page, system, account: dict, route: str) -> None:
    page.goto(f"{system.url}/?as={account['address']}#{route}")
    expect(page.locator("#account-picker")).to_have_value(account["address"], timeout=30_000)


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def post(system, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        system.url + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def chain_of(system) -> Chain:
    deployment = read_deployment(system.deployments_dir, 31337)
    return Chain.connect(system.rpc_url, find_project_root() / "artifacts", deployment)


def token_amount(micro: int, symbol: str = "tUSDC") -> str:
    """As the web client shows an amount: two decimals, more when they are not zero, and the token's symbol."""
    whole, frac = divmod(micro, 1_000_000)
    return f"{whole:,}.{f'{frac:06d}'.rstrip('0').ljust(2, '0')} {symbol}"


def buy(system, chain: Chain, brand: dict, offer: dict, escrow: int) -> int:
    """Buys a licence of `offer` for `brand` on chain and waits until the index has it; returns its id."""
    buyer = dev_account(brand["index"])
    chain.transact(buyer, "PaymentToken", "approve", chain.deployment.license_token, offer["upfront_fee"] + escrow)
    chain.transact(buyer, "LicenseToken", "buyLicense", offer["offer_id"], escrow)
    license_id = chain.call("LicenseToken", "licenseCount")
    wait_for(lambda: _exists(system, f"/api/v1/licenses/{license_id}"), what=f"licence {license_id} in the index")
    return license_id


def _exists(system, path: str) -> bool:
    try:
        system.get(path)
        return True
    except urllib.error.HTTPError:
        return False


def next_seq(system, license_id: int) -> int:
    """The licence's next use number, as the API says (`next_seq`)."""
    return system.get(f"/api/v1/licenses/{license_id}")["next_seq"]


def report_use(system, chain: Chain, brand: dict, license_id: int, use_ref: str, offer: dict) -> dict:
    """Signs and posts a use report as the API's client would (not through the page): as the licence's next use,
    signed again with the number the API expects when another report took it first (409)."""
    buyer = dev_account(brand["index"])
    domain = UseReportDomain(31337, chain.deployment.license_token)
    used_at = max(int(time.time()), chain.timestamp())
    seq = next_seq(system, license_id)
    for _ in range(3):
        report = UseReport(license_id, seq, use_ref, offer["category_ids"][0], offer["territory_ids"][0], used_at)
        status, body = post(system, "/api/v1/uses", {
            "license_id": license_id, "seq": seq, "use_ref": report.use_ref, "category": report.category,
            "territory": report.territory, "used_at": report.used_at, "signature": sign_report(buyer.key, domain, report),
        })
        if status != 409:
            break
        seq = body["expected_seq"]
    assert status in (200, 201, 202), body
    return body


class RpcRecorder:
    """Records the JSON-RPC calls a page sends to the dev relay (one call per request: the client does not batch)
    with their answers, in order."""

    def __init__(self, page) -> None:
        self.calls: list[tuple[dict, dict | None]] = []
        page.on("requestfinished", self._finished)

    def _finished(self, request) -> None:
        if not request.url.endswith("/api/v1/dev/rpc") or request.method != "POST":
            return
        try:
            body = json.loads(request.post_data or "null")
            answer = json.loads(request.response().body())
        except Exception:  # a request the page gave up on: nothing to learn from it
            return
        for call, result in zip(body if isinstance(body, list) else [body],
                                answer if isinstance(answer, list) else [answer]):
            self.calls.append((call, result))

    SIGNING = ("eth_sendTransaction", "eth_signTypedData_v4", "personal_sign", "eth_sign")

    def signed(self) -> list[dict]:
        """What the page asked the wallet to sign or send, signing in (an EIP-4361 message) aside: it moves nothing."""

        def sign_in(call: dict) -> bool:
            message = call["params"][0] if call["method"] == "personal_sign" and call.get("params") else ""
            return isinstance(message, str) and b"wants you to sign in" in bytes.fromhex(message.removeprefix("0x"))

        return [c for c, _ in self.calls if c["method"] in self.SIGNING and not sign_in(c)]

    def of(self, method: str) -> list[tuple[dict, dict | None]]:
        return [(c, r) for c, r in self.calls if c.get("method") == method]
