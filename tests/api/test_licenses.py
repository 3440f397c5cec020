"""Licences by holder, one licence (status, escrow, uses settled and pending), a licence's uses, and refusals."""

from __future__ import annotations

import pytest
from kit.read_api import USDC, addr, app_client, app_settings, market  # noqa: F401
from kit.signin import open_session


@pytest.fixture(autouse=True)
def as_guild(app_client, market):
    """Licences are private (tests/api/test_visibility.py): these tests read them as the guild, which sees all."""
    app_client.cookies.update(open_session(market.engine, addr("0x" + "06" * 20)))


def test_licences_by_holder_newest_first(app_client, market):
    page = app_client.get("/api/v1/licenses", params={"holder": market.brand_1}).json()
    assert page["count"] == 3
    assert [lic["license_id"] for lic in page["data"]] == [4, 3, 1]
    assert page["data"][0]["holder_label"] == "Brand: Maison Verre"
    assert page["data"][0]["twin"]["name"] == "Ava Lindqvist"


def test_licences_by_twin_and_paginated(app_client):
    page = app_client.get("/api/v1/licenses", params={"twin_id": 1, "limit": 2}).json()
    assert page["count"] == 3 and [lic["license_id"] for lic in page["data"]] == [4, 2]


def test_licence_shows_terms_escrow_uses_and_status(app_client, market):
    lic = app_client.get("/api/v1/licenses/1").json()
    assert lic["status"] == "active" and lic["holder"] == market.brand_1
    assert lic["escrow"] == 90 * USDC and lic["escrow_deposited"] == 100 * USDC and lic["escrow_spent"] == 10 * USDC
    assert lic["uses_settled"] == 5 and lic["uses_pending"] == 3  # seq 5 submitted, 6 and 7 pending
    assert lic["uses_left"] is None  # unlimited
    assert lic["escrow_uses_left"] == 45 - 3
    assert lic["terms"]["per_use_fee"] == 2 * USDC and lic["terms"]["category_names"] == ["e-commerce", "social"]
    assert lic["can_report"] is True and lic["reclaimable"] is False


def test_expired_licence_is_reclaimable_and_refuses_reports(app_client):
    lic = app_client.get("/api/v1/licenses/2").json()
    assert lic["status"] == "expired" and lic["reclaimable"] is True
    assert lic["can_report"] is False and "expired" in lic["report_blocked_reason"]


def test_licence_of_a_revoked_twin(app_client):
    lic = app_client.get("/api/v1/licenses/3").json()
    assert lic["status"] == "revoked" and lic["consent"]["state"] == "revoked"
    assert lic["reclaimable"] is True and "consent" in lic["report_blocked_reason"]


def test_licence_with_max_uses_counts_what_is_left(app_client):
    lic = app_client.get("/api/v1/licenses/4").json()
    assert lic["uses_left"] == 40 and lic["terms"]["max_uses"] == 40
    assert lic["terms"]["territory_names"] == ["North America"]


def test_licence_uses_with_their_settlement_status(app_client):
    page = app_client.get("/api/v1/licenses/1/uses").json()
    assert page["count"] == 8
    status = {u["seq"]: u["status"] for u in page["data"]}
    assert status == {7: "pending", 6: "pending", 5: "submitted", 4: "settled", 3: "settled", 2: "settled",
                      1: "settled", 0: "settled"}
    submitted = next(u for u in page["data"] if u["seq"] == 5)
    assert submitted["tx_hash"] == "0x" + f"{8888:064x}" and submitted["block_number"] == 99
    assert page["data"][0]["category_name"] == "e-commerce" and page["data"][0]["fee"] == 2 * USDC


def test_licence_uses_filtered_and_paginated(app_client):
    settled = app_client.get("/api/v1/licenses/1/uses", params={"status": "settled"}).json()
    assert settled["count"] == 5 and {u["status"] for u in settled["data"]} == {"settled"}
    unsettled = app_client.get("/api/v1/licenses/1/uses", params={"status": "unsettled", "limit": 2}).json()
    assert unsettled["count"] == 3 and [u["seq"] for u in unsettled["data"]] == [7, 6]


def test_rejected_use_carries_its_reason(app_client):
    (use,) = app_client.get("/api/v1/licenses/3/uses").json()["data"]
    assert use["status"] == "rejected" and "revocation" in use["reason"]


def test_unknown_licence_is_404(app_client):
    assert app_client.get("/api/v1/licenses/77").status_code == 404
    assert app_client.get("/api/v1/licenses/77/uses").status_code == 404


def test_holder_with_no_licence_gets_an_empty_page(app_client):
    page = app_client.get("/api/v1/licenses", params={"holder": "0x" + "99" * 20}).json()
    assert page == {"data": [], "count": 0}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/licenses",  # neither holder nor twin
        "/api/v1/licenses?holder=0xzz11111111111111111111111111111111111111",
        "/api/v1/licenses?holder=0x11",
        "/api/v1/licenses?twin_id=0",
        "/api/v1/licenses/0",
        "/api/v1/licenses/1.5",
        "/api/v1/licenses/9223372036854775808",
        "/api/v1/licenses/1/uses?status=paid",
        "/api/v1/licenses/1/uses?limit=1000",
    ],
)
def test_bad_inputs_are_422(app_client, path):
    response = app_client.get(path)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]
