"""The catalogue and the twin page's API: filters, consent states, payees, history, and every refusal."""

from __future__ import annotations

import re

import pytest
from kit.read_api import DAY, NOW, USDC, app_client, app_settings, market  # noqa: F401


def ids(body: dict) -> list[int]:
    return [t["twin_id"] for t in body["data"]]


def test_catalogue_lists_every_twin_with_its_active_offers(app_client):
    body = app_client.get("/api/v1/twins").json()
    assert body["count"] == 3 and ids(body) == [1, 2, 3]
    ava = body["data"][0]
    assert ava["name"] == "Ava Lindqvist" and ava["agency"] == "Nordlys Models"
    assert ava["image"] == "/media/twins/1.svg"
    assert [o["offer_id"] for o in ava["offers"]] == [1, 2]  # offer 3 was withdrawn; cheapest first
    assert ava["offers"][0]["category_names"] == ["e-commerce", "social"]
    assert ava["offers"][0]["territory_ids"] == list(range(8))


def test_catalogue_available_hides_twins_without_consent(app_client):
    assert ids(app_client.get("/api/v1/twins", params={"available": "true"}).json()) == [1]


def test_catalogue_filters_by_category_territory_and_fee(app_client):
    get = lambda **q: ids(app_client.get("/api/v1/twins", params=q).json())  # noqa: E731
    assert get(category=2) == [2]  # print: only twin 2's offer
    assert get(category=3, territory=2) == [1]  # video in North America: offer 2
    assert get(category=3, territory=0) == []  # ... not in Europe
    assert get(min_fee=10 * USDC) == [1, 3]  # offers of 12 and 20 USDC per use
    assert get(min_fee=10 * USDC, max_fee=15 * USDC) == [1]
    assert get(max_fee=USDC) == []
    assert get(q="ava") == [1]
    assert get(q="chlo") == [3]


def test_catalogue_is_paginated(app_client):
    page = app_client.get("/api/v1/twins", params={"offset": 1, "limit": 1}).json()
    assert page["count"] == 3 and ids(page) == [2]


def test_catalogue_by_model_and_payee(app_client, market):
    assert ids(app_client.get("/api/v1/twins", params={"model": market.model_b}).json()) == [2]
    assert ids(app_client.get("/api/v1/twins", params={"payee": market.crew.lower()}).json()) == [1]


def test_twin_shows_terms_consent_history_and_payees(app_client, market):
    twin = app_client.get("/api/v1/twins/1").json()
    assert twin["consent"] == {"state": "granted", "effective_at": None, "consent_hash": "0x" + f"{501:064x}"}
    assert [p["account"] for p in twin["payees"]] == [market.model_a, market.agency, market.crew]
    assert [p["share_bps"] for p in twin["payees"]] == [8_000, 1_500, 500]
    assert twin["payees"][0]["label"] == "Model: Ava Lindqvist"
    assert [h["kind"] for h in twin["consent_history"]] == ["registered"]
    assert [o["offer_id"] for o in twin["all_offers"]] == [1, 2, 3] and twin["all_offers"][2]["active"] is False
    assert twin["description"] == "Digital twin of Ava." and twin["consent_document"] == "/media/consent/1.txt"
    assert twin["earned"] == 1_016 * USDC


def test_twin_consent_states(app_client):
    revoked = app_client.get("/api/v1/twins/2").json()
    assert revoked["consent"]["state"] == "revoked"
    assert [h["kind"] for h in revoked["consent_history"]] == ["registered", "revoked"]
    assert revoked["name"] == "Twin #2"  # its metadata file is missing: a name, not an error
    pending = app_client.get("/api/v1/twins/3").json()
    assert pending["consent"]["state"] == "revocation_pending"


def test_consent_per_category_on_the_twin_page_and_the_catalogue(app_client):
    twin = app_client.get("/api/v1/twins/3").json()
    by_category = {c["category"]: c for c in twin["category_consent"]}
    assert list(by_category) == list(range(8))
    assert by_category[5] == {"category": 5, "name": "broadcast", "state": "revoked", "effective_at": NOW - DAY}
    assert by_category[7] == {"category": 7, "name": "AI-generated campaign", "state": "revocation_pending",
                              "effective_at": NOW + DAY}
    assert {c["state"] for n, c in by_category.items() if n not in (5, 7)} == {"granted"}
    assert [(h["kind"], h["category"]) for h in twin["consent_history"]] == [
        ("registered", None), ("revoked", None), ("revoked", 5), ("revoked", 7)]
    assert twin["notice_period"] == 3 * DAY
    summary = app_client.get("/api/v1/twins").json()["data"][2]
    assert summary["twin_id"] == 3 and summary["category_consent"] == twin["category_consent"]
    # Its only offer is in the AI-generated category, withdrawn (pending): a search for that category leaves it out.
    assert ids(app_client.get("/api/v1/twins", params={"category": 7}).json()) == []
    assert {c["state"] for c in app_client.get("/api/v1/twins/1").json()["category_consent"]} == {"granted"}


def test_twin_metadata_from_a_data_uri_never_passes_unsafe_urls(app_client):
    twin = app_client.get("/api/v1/twins/3").json()
    assert twin["name"] == "Chloé Dubois"
    assert twin["image"] is None  # it said javascript:...


def test_unknown_twin_is_404(app_client):
    response = app_client.get("/api/v1/twins/99")
    assert response.status_code == 404 and "no twin 99" in response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/twins/0",
        "/api/v1/twins/-1",
        "/api/v1/twins/abc",
        "/api/v1/twins/99999999999999999999999",
        "/api/v1/twins?category=8",
        "/api/v1/twins?territory=-1",
        "/api/v1/twins?min_fee=-5",
        "/api/v1/twins?min_fee=5&max_fee=4",
        "/api/v1/twins?limit=0",
        "/api/v1/twins?limit=101",
        "/api/v1/twins?offset=-1",
        "/api/v1/twins?model=0x123",
        "/api/v1/twins?model=0xA1A1A1A1A1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",  # mixed case, wrong checksum
        "/api/v1/twins?payee=not-an-address",
        "/api/v1/twins?available=maybe",
        "/api/v1/twins?q=" + "x" * 101,
    ],
)
def test_bad_inputs_are_422_with_a_reason(app_client, path):
    response = app_client.get(path)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    # One sentence for a person: capitalised, finished, and not "min_fee: ..." or pydantic's wording.
    assert isinstance(detail, str) and detail[0].isupper() and detail.endswith("."), detail
    assert not re.match(r"^\w+:", detail) and "Input should" not in detail, detail


def test_wrong_checksum_says_so(app_client):
    response = app_client.get("/api/v1/twins", params={"model": "0xA1A1A1A1A1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"})
    assert response.json()["detail"] == (
        "The model's address has a wrong mixed-case checksum (EIP-55): check it for a typo, or enter it in lower case."
    )
    assert response.json()["field"] == "model"
