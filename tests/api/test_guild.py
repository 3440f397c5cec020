"""Issue 10 in the read API: the guild's attestations, "verified by the guild" on twins, payees' pending listings,
locked licences and idle exclusive licences the model can end, and every refusal of a bad filter."""

from __future__ import annotations

import pytest
from kit.read_api import CHAIN_ID, DAY, NOW, USDC, addr, app_client, app_settings, market, tx  # noqa: F401
from kit.signin import open_session
from sqlmodel import Session

from twin_licensing.db.license_state import License, Offer
from twin_licensing.domain.grace import DEFAULT_GRACE_PERIOD


def test_attestations_list_newest_first_with_label_and_state(app_client, market):
    body = app_client.get("/api/v1/attestations").json()
    assert body["count"] == 5 and [a["attestation_id"] for a in body["data"]] == [5, 4, 3, 2, 1]
    by_id = {a["attestation_id"]: a for a in body["data"]}
    assert by_id[1]["subject"] == market.model_a and by_id[1]["subject_label"] == "Model: Ava Lindqvist"
    assert by_id[1]["label"] == "label 1" and by_id[1]["role"] == "model"
    assert [by_id[i]["state"] for i in (1, 2, 3, 4, 5)] == ["valid", "valid", "revoked", "expired", "valid"]
    assert by_id[3]["revoked_at"] == NOW - 10 * DAY and by_id[1]["revoked_at"] is None
    # C was attested again: her earlier attestation is history, the new one is the one the contracts check.
    assert by_id[4]["current"] is False and by_id[5]["current"] is True


def test_attestations_filter_by_role_state_subject_and_current(app_client, market):
    get = lambda **q: [a["attestation_id"] for a in app_client.get("/api/v1/attestations", params=q).json()["data"]]  # noqa: E731
    assert get(role="agency") == [2]
    assert get(role="model", state="valid") == [5, 1]
    assert get(state="expired") == [4]
    assert get(state="revoked") == [3]
    assert get(subject=market.model_c.lower()) == [5, 4]
    assert get(subject=market.model_c, current="true") == [5]
    assert get(current="true") == [5, 3, 2, 1]
    page = app_client.get("/api/v1/attestations", params={"limit": 2, "offset": 1}).json()
    assert page["count"] == 5 and [a["attestation_id"] for a in page["data"]] == [4, 3]
    assert app_client.get("/api/v1/attestations/3").json()["state"] == "revoked"


@pytest.mark.parametrize("query", ["role=crew", "state=maybe", "subject=0x123", "current=perhaps", "limit=0",
                                   "offset=-1"])
def test_bad_attestation_filters_are_422_in_a_sentence(app_client, query):
    response = app_client.get(f"/api/v1/attestations?{query}")
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail[0].isupper() and detail.endswith(".") and "Input should" not in detail


@pytest.mark.parametrize("path", ["/api/v1/attestations/0", "/api/v1/attestations/abc",
                                  "/api/v1/attestations/99999999999999999999999"])
def test_bad_attestation_ids_are_422(app_client, path):
    assert app_client.get(path).status_code == 422


def test_unknown_attestation_is_404(app_client):
    response = app_client.get("/api/v1/attestations/77")
    assert response.status_code == 404 and "no attestation 77" in response.json()["detail"]


def test_twins_say_whether_the_guild_verifies_their_model_and_since_when(app_client):
    twins = {t["twin_id"]: t for t in app_client.get("/api/v1/twins").json()["data"]}
    assert twins[1]["verification"] == {"verified": True, "attestation_id": 1, "issued_at": NOW - 100 * DAY,
                                        "expires_at": NOW + 265 * DAY, "state": "valid", "registered_under": 1}
    assert twins[2]["verification"]["verified"] is False and twins[2]["verification"]["state"] == "revoked"
    # C registered under an attestation that expired since; the guild attested her again: verified, newly dated.
    assert twins[3]["verification"]["verified"] is True
    assert (twins[3]["verification"]["attestation_id"], twins[3]["verification"]["registered_under"]) == (5, 4)
    detail = app_client.get("/api/v1/twins/1").json()
    assert detail["verification"] == twins[1]["verification"] and detail["notice_period"] == 3 * DAY


def test_twin_payees_say_who_accepted(app_client, market):
    payees = app_client.get("/api/v1/twins/1").json()["payees"]
    assert [(p["account"], p["accepted"]) for p in payees] == [
        (market.model_a, True), (market.agency, True), (market.crew, False)]


def test_a_payees_pending_listings_with_what_withdraw_from_would_add(app_client, market):
    pending = app_client.get(f"/api/v1/payees/{market.crew}/listings", params={"status": "pending"}).json()
    assert pending["count"] == 1
    (listing,) = pending["data"]
    assert listing["twin"]["twin_id"] == 1 and listing["twin"]["name"] == "Ava Lindqvist"
    assert (listing["model"], listing["model_label"]) == (market.model_a, "Model: Ava Lindqvist")
    assert (listing["share_bps"], listing["role"], listing["accepted"]) == (500, "crew", False)
    assert listing["undistributed_share"] == 10 * USDC * 500 // 10_000  # twin 1 has 10 USDC not split yet
    assert app_client.get(f"/api/v1/payees/{market.crew}/listings", params={"status": "accepted"}).json()["count"] == 0
    agency = app_client.get(f"/api/v1/payees/{market.agency}/listings").json()
    assert [(x["twin"]["twin_id"], x["accepted"]) for x in agency["data"]] == [(1, True)]
    # A model's own twins are hers, not listings to accept.
    assert app_client.get(f"/api/v1/payees/{market.model_a}/listings").json() == {"data": [], "count": 0}


@pytest.mark.parametrize("path", ["/api/v1/payees/0x12/listings", "/api/v1/payees/0x" + "aa" * 20 + "/listings?status=new",
                                  "/api/v1/payees/0x" + "aa" * 20 + "/listings?limit=101"])
def test_bad_listing_requests_are_422(app_client, path):
    response = app_client.get(path)
    assert response.status_code == 422 and response.json()["detail"].endswith(".")


@pytest.fixture
def exclusive_licences(market):
    """Licence 5: exclusive, locked, idle for 35 days under a 30-day idle period (endable); licence 6: ended by the
    model 5 days ago (inside its grace); licence 7: exclusive, used 5 days ago (not endable before 25 days from now);
    licence 8: ended by the model 8 days ago (its grace over)."""
    common = dict(chain_id=CHAIN_ID, twin_id=1, offer_id=6, buyer=market.brand_2, holder=market.brand_2,
                  upfront_fee=3_000 * USDC, per_use_fee=2 * USDC, categories=0b100, territories=0b1, exclusive=True,
                  transferable=False, idle_end_after=30 * DAY, locked=True, started_at=NOW - 40 * DAY,
                  expiry=NOW + 300 * DAY, escrow=20 * USDC, escrow_deposited=20 * USDC)
    with Session(market.engine) as session:
        session.merge(Offer(chain_id=CHAIN_ID, offer_id=6, twin_id=1, upfront_fee=3_000 * USDC, per_use_fee=2 * USDC,
                            duration=340 * DAY, categories=0b100, territories=0b1, exclusive=True, idle_end_after=30 * DAY,
                            published_block=80, published_time=NOW - 50 * DAY))
        session.merge(License(license_id=5, last_settled_at=NOW - 35 * DAY, purchased_block=81, purchased_tx=tx(81),
                              **common))
        session.merge(License(license_id=6, last_settled_at=0, purchased_block=82, purchased_tx=tx(82),
                              **{**common, "expiry": NOW - 5 * DAY}, ended_at=NOW - 5 * DAY))
        session.merge(License(license_id=7, last_settled_at=NOW - 5 * DAY, purchased_block=83, purchased_tx=tx(83),
                              **common))
        session.merge(License(license_id=8, last_settled_at=0, purchased_block=84, purchased_tx=tx(84),
                              **{**common, "expiry": NOW - 8 * DAY}, ended_at=NOW - 8 * DAY))
        session.commit()


def test_licences_show_their_lock_and_whether_the_model_can_end_them(exclusive_licences, app_client, market):
    app_client.cookies.update(open_session(market.engine, addr("0x" + "06" * 20)))  # the guild sees every licence
    idle = app_client.get("/api/v1/licenses/5").json()
    assert idle["locked"] is True and idle["terms"]["exclusive"] and idle["terms"]["idle_end_after"] == 30 * DAY
    assert (idle["idle_since"], idle["endable_at"], idle["endable_now"]) == (NOW - 35 * DAY, NOW - 5 * DAY, True)
    assert idle["status"] == "active" and idle["ended_at"] is None
    used = app_client.get("/api/v1/licenses/7").json()
    assert (used["idle_since"], used["endable_at"], used["endable_now"]) == (NOW - 5 * DAY, NOW + 25 * DAY, False)
    ended = app_client.get("/api/v1/licenses/6").json()
    assert (ended["status"], ended["ended_at"], ended["endable_now"], ended["can_report"]) == (
        "ended", NOW - 5 * DAY, False, False)
    assert "ended this exclusive licence" in ended["report_blocked_reason"]
    # Uses signed before the end still settle for the grace after it: the escrow comes back only once it is over.
    assert ended["grace_ends_at"] == NOW - 5 * DAY + DEFAULT_GRACE_PERIOD and ended["reclaimable"] is False
    assert ended["refundable_escrow"] == {"amount": 20 * USDC, "from": ended["grace_ends_at"]}
    over = app_client.get("/api/v1/licenses/8").json()
    assert (over["status"], over["grace_ends_at"]) == ("ended", NOW - 8 * DAY + DEFAULT_GRACE_PERIOD)
    assert over["reclaimable"] is True and over["refundable_escrow"] == {"amount": 20 * USDC, "from": over["grace_ends_at"]}
    plain = app_client.get("/api/v1/licenses/1").json()
    assert (plain["locked"], plain["idle_since"], plain["endable_at"], plain["endable_now"]) == (False, None, None, False)
    offer = next(o for o in app_client.get("/api/v1/twins/1").json()["all_offers"] if o["offer_id"] == 6)
    assert offer["exclusive"] and offer["idle_end_after"] == 30 * DAY

