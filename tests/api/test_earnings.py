"""Earnings: the index's totals (as the contract computes them), the chain's beside them, the agreement flag,
history per use and per brand (upfront fees as they vest), vested vs still-vesting upfront per twin with the
licences a withdraw passes to withdrawVested, and refusals."""

from __future__ import annotations

import json

import pytest
from kit.read_api import DAY, NOW, USDC, app_client, app_settings, market, read_with_clock, tx  # noqa: F401
from sqlalchemy import update
from sqlmodel import Session

from twin_licensing.db.chain_log import ChainEvent
from twin_licensing.db.license_state import License

from twin_licensing.api.read.chain_reader import ChainEarnings
from twin_licensing.api.read.earnings import share_of
from twin_licensing.db.registry_state import TwinPayee

MODEL_SPLIT = 1_006 * USDC * 8_000 // 10_000  # split to the model at the payee change
# UpfrontVested before the payee change (block 50): licence 1 (90-day term, 30 days in) 100 USDC of its 500; licence 2
# (ended a day ago) all its 500; licence 4 (90-day term, 30 days in) 1 000 of its 5 000.
VESTED = {1: (46, 100 * USDC), 2: (47, 500 * USDC), 4: (48, 1_000 * USDC)}


@pytest.fixture(autouse=True)
def upfront_vested(market):
    """The index as it holds vesting since issue 11: UpfrontVested events, and what each licence released."""
    with Session(market.engine) as session:
        for license_id, (block, amount) in VESTED.items():
            session.merge(ChainEvent(
                chain_id=31337, tx_hash=tx(block), log_index=5, block_number=block, block_hash=tx(200_000 + block),
                block_time=NOW - (100 - block) * DAY, tx_index=0, contract="LicenseToken", name="UpfrontVested",
                twin_id=1, license_id=license_id,
                args=json.dumps({"licenseId": license_id, "twinId": 1, "amount": amount})))
            lic = session.get(License, (31337, license_id))
            lic.upfront_released = amount
            session.add(lic)
        session.commit()


class StubChain:
    def __init__(self, values: dict[str, tuple[int, int]] | None) -> None:
        self.values = values
        self.asked: list[tuple[str, int | None]] = []

    def earnings(self, payee, block):
        self.asked.append((payee, block))
        if self.values is None:
            return None
        claimable, total = self.values.get(payee, (0, 0))
        return ChainEarnings(block, claimable, total)

    def head(self):
        return 100


def test_share_of_follows_the_contract_rounding():
    payees = [("m", 7_001), ("a", 2_000), ("c", 999)]
    assert share_of(payees, 101, "a") == 101 * 2_000 // 10_000
    assert share_of(payees, 101, "c") == 101 * 999 // 10_000
    assert share_of(payees, 101, "m") == 101 - 20 - 10  # the remainder goes to the model
    assert share_of(payees, 101, "x") == 0


def test_index_totals_match_the_contract_rule(app_client, market):
    body = app_client.get(f"/api/v1/earnings/{market.model_a}").json()
    index = body["index"]
    # 10 USDC undistributed on twin 1, split now 80/15/5: the model's 8 are claimable beside what was split.
    assert index["distributed"] == MODEL_SPLIT and index["withdrawn"] == MODEL_SPLIT
    assert index["undistributed_share"] == 8 * USDC
    assert index["claimable"] == 8 * USDC and index["total_earned"] == MODEL_SPLIT + 8 * USDC
    agency = app_client.get(f"/api/v1/earnings/{market.agency}").json()["index"]
    assert agency["claimable"] == 1_006 * USDC - MODEL_SPLIT + 1_500_000
    # The crew never accepted its listing: twin 1 does not count in its claimable() (its 0.5 USDC part waits for
    # withdrawFrom or an acceptance); once accepted, it does.
    crew = app_client.get(f"/api/v1/earnings/{market.crew}").json()["index"]
    assert crew["claimable"] == crew["total_earned"] == 0


def test_an_accepted_listing_counts_in_the_index_totals(market, app_client):
    with Session(market.engine) as session:
        session.execute(update(TwinPayee).where(TwinPayee.account == market.crew).values(accepted=True))
        session.commit()
    crew = app_client.get(f"/api/v1/earnings/{market.crew}").json()["index"]
    assert crew["claimable"] == crew["total_earned"] == 500_000


def test_chain_unreachable_is_said_not_failed(app_client, market):
    body = app_client.get(f"/api/v1/earnings/{market.model_a}").json()
    assert body["chain"] == {"available": False, "block_number": None, "claimable": None, "total_earned": None,
                             "withdrawn": None}
    assert body["agree"] is None


def test_agreement_flag_compares_index_and_chain_at_the_index_block(app_client, market):
    total = MODEL_SPLIT + 8 * USDC
    stub = StubChain({market.model_a: (8 * USDC, total)})
    app_client.app.state.context.chain_reader = stub
    body = app_client.get(f"/api/v1/earnings/{market.model_a}").json()
    assert body["agree"] is True and body["chain"]["claimable"] == 8 * USDC and body["chain"]["withdrawn"] == MODEL_SPLIT
    assert stub.asked == [(market.model_a, 100)] and body["chain"]["block_number"] == 100


def test_disagreement_is_flagged(app_client, market):
    app_client.app.state.context.chain_reader = StubChain({market.agency: (1, 1)})
    body = app_client.get(f"/api/v1/earnings/{market.agency}").json()
    assert body["agree"] is False


def test_earnings_per_brand_and_per_twin(app_client, market):
    body = app_client.get(f"/api/v1/earnings/{market.model_a}").json()
    assert body["label"] == "Model: Ava Lindqvist"
    brands = {b["key"]: b for b in body["by_brand"]}
    # Upfronts as they vested (80 % under the first payees): 100 + 1 000 from brand 1, 500 from brand 2 (not the fees
    # bought: only vested money is earned); uses 6+4 and 6 USDC.
    assert brands[market.brand_1]["amount"] == (80 + 800) * USDC + 4_800_000 + 3_200_000
    assert brands[market.brand_1]["uses"] == 5 and brands[market.brand_1]["licenses"] == 2
    assert brands[market.brand_1]["label"] == "Brand: Maison Verre"
    assert brands[market.brand_2]["amount"] == 400 * USDC + 4_800_000
    assert [t["key"] for t in body["by_twin"]] == ["1"] and body["by_twin"][0]["label"] == "Ava Lindqvist"
    series = body["series"]
    assert series[-1]["cumulative"] == sum(b["amount"] for b in body["by_brand"])
    assert [p["timestamp"] for p in series] == sorted(p["timestamp"] for p in series)


def test_history_uses_the_shares_in_force_at_each_block(app_client, market):
    crew = app_client.get(f"/api/v1/earnings/{market.crew}/history").json()
    # The crew joined at block 50: nothing of the earlier upfronts or settlement, 5 % of the two later ones.
    assert [(i["kind"], i["block_number"], i["amount"]) for i in crew["data"]] == [
        ("uses", 61, 300_000), ("uses", 60, 200_000)
    ]
    assert crew["data"][0]["share_bps"] == 500 and crew["data"][0]["brand"] == market.brand_2


def test_history_lists_withdrawals_and_filters_by_kind(app_client, market):
    page = app_client.get(f"/api/v1/earnings/{market.model_a}/history", params={"limit": 2}).json()
    assert page["count"] == 7  # 3 upfront vestings, 3 settlements, 1 withdrawal
    assert page["data"][0]["kind"] == "withdrawal" and page["data"][0]["amount"] == MODEL_SPLIT
    uses = app_client.get(f"/api/v1/earnings/{market.model_a}/history", params={"kind": "uses"}).json()
    assert uses["count"] == 3 and all(i["twin_name"] == "Ava Lindqvist" for i in uses["data"])


def test_upfront_vested_vs_still_vesting_and_what_withdraw_vests(app_client, market):
    body, clock = read_with_clock(lambda: app_client.get(f"/api/v1/earnings/{market.model_a}").json())
    (twin,) = body["vesting"]
    # Licences 1 and 4 (500 and 5 000 USDC) vest over 90 days from NOW - 30 days, each rounded down, up to the second
    # the API read its clock; licence 2 ended: its 500 all vested.
    start, term = NOW - 30 * DAY, 90 * DAY
    vested_at = lambda t: 500 * USDC * (t - start) // term + 500 * USDC + 5_000 * USDC * (t - start) // term  # noqa: E731
    assert twin["twin"]["twin_id"] == 1 and twin["upfront"] == 6_000 * USDC
    assert any(twin["vested"] == vested_at(t) for t in clock), (twin["vested"], [vested_at(t) for t in clock])
    assert twin["released"] == 1_600 * USDC and twin["vestable"] == twin["vested"] - 1_600 * USDC
    assert twin["still_vesting"] == 6_000 * USDC - twin["vested"] and twin["refunded"] == 0
    # Licence 2 released all it vested: only 1 and 4 have vested upfront to credit on withdraw.
    assert body["vestable_license_ids"] == [1, 4]
    # The crew has not accepted twin 1: it does not count in her withdraw.
    crew = app_client.get(f"/api/v1/earnings/{market.crew}").json()
    assert crew["vesting"] == [] and crew["vestable_license_ids"] == []


def test_an_account_that_never_earned_has_zeros(app_client):
    body = app_client.get("/api/v1/earnings/" + "0x" + "77" * 20).json()
    assert body["index"]["total_earned"] == 0 and body["by_brand"] == [] and body["series"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/earnings/0x12",
        "/api/v1/earnings/" + "0x" + "g1" * 20,
        "/api/v1/earnings/" + "0xA1A1A1A1A1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
        "/api/v1/earnings/" + "a1" * 21,
        "/api/v1/earnings/" + "0x" + "a1" * 20 + "/history?kind=bonus",
        "/api/v1/earnings/" + "0x" + "a1" * 20 + "/history?offset=-3",
    ],
)
def test_bad_inputs_are_422(app_client, path):
    response = app_client.get(path)
    assert response.status_code == 422, response.text
