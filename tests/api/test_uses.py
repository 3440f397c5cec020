"""POST /api/v1/uses, GET /api/v1/uses/{id} and /proof: status codes, bodies and reasons, as a client sees them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from twin_licensing.api.app import create_app
from twin_licensing.chain.hashing import keccak256
from twin_licensing.chain.merkle import UseRecord, verify
from twin_licensing.chain.settlement import SettlementClient
from twin_licensing.settlement.config import SettlerConfig
from twin_licensing.settlement.settler import Settler
from kit.signin import sign_in
from kit.uses import DAY, PRINT, USDC, domain_of, post_report, signed_report


@pytest.fixture
def licence(market, model, agency, brand):
    twin = market.twin(model, agency)
    offer = market.offer(model, twin, per_use_fee=2 * USDC)
    return market.licence(brand, offer, 20 * USDC)


@pytest.fixture
def api(index_settings, deployment, engine, licence, sync_index, brand):
    sync_index(engine)
    with TestClient(create_app(index_settings, deployment=deployment, engine=engine)) as client:
        sign_in(client, brand.key)  # a use is seen by its licence's holder (and its twin's model, payees, guild)
        yield client


def body(brand, chain, licence, tag, **kw):
    kw.setdefault("used_at", chain.timestamp())
    return signed_report(brand, domain_of(chain), licence, tag, **kw)


def post(api, signer, chain, report):
    """POST /uses as the web client does: signed again with the expected number after a 409 for it."""
    return post_report(api, signer, domain_of(chain), report)


def test_report_is_created_then_found_again(api, brand, chain, licence):
    report = body(brand, chain, licence, "a")
    created = api.post("/api/v1/uses", json=report)
    assert created.status_code == 201, created.text
    use = created.json()
    assert use["seq"] == 0 and use["status"] == "pending" and use["signer"] == brand.address
    assert created.headers["location"] == f"/uses/{use['id']}"
    again = api.post("/api/v1/uses", json=report)
    assert again.status_code == 200 and again.json()["id"] == use["id"]
    assert api.get(f"/api/v1/uses/{use['id']}").json()["status"] == "pending"


@pytest.mark.parametrize(
    "change, status, words",
    [
        ({"signature": "0x" + "ab" * 65}, 422, "signature"),
        ({"category": PRINT}, 403, "held by"),  # changed after signing: recovers another signer
        ({"license_id": 0}, 422, "licence id must be"),
        ({"use_ref": "0xzz"}, 422, "64 hex digits"),
        ({"unexpected": 1}, 422, '"unexpected"'),
        ({"category": 8}, 422, "from 0 to 7"),
        ({"label": "not what the reference hashes"}, 422, "not the hash of the label"),
        ({"label": "x" * 201}, 422, "1 to 200 characters"),
    ],
)
def test_bad_reports_are_4xx_with_a_reason(api, brand, chain, licence, change, status, words):
    response = api.post("/api/v1/uses", json={**body(brand, chain, licence, "b"), **change})
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail[0].isupper() and detail.endswith("."), detail  # one sentence
    if words:
        assert words in detail


def test_refusals_from_the_terms_say_what_to_do(api, brand, brand2, chain, licence):
    wrong_category = api.post("/api/v1/uses", json=body(brand, chain, licence, "c", category=PRINT))
    assert wrong_category.status_code == 422
    assert wrong_category.json()["code"] == "category_not_allowed"
    assert "not allowed by licence" in wrong_category.json()["detail"]
    stranger = api.post("/api/v1/uses", json=body(brand2, chain, licence, "d"))
    assert stranger.status_code == 403 and "holder's wallet" in stranger.json()["detail"]
    unknown = api.post("/api/v1/uses", json=body(brand, chain, licence + 9, "e"))
    assert unknown.status_code == 404
    # The refused reports took no number: the first accepted one is use #1 (re-signed after one 409).
    for tag in range(10):
        assert post(api, brand, chain, body(brand, chain, licence, tag)).status_code == 201
    broke = post(api, brand, chain, body(brand, chain, licence, "eleventh"))
    assert broke.status_code == 402 and "top up the escrow" in broke.json()["detail"]


def test_expired_licence_is_409(api, brand, chain, licence, engine, sync_index):
    chain.rpc("evm_increaseTime", [31 * DAY])
    chain.rpc("evm_mine")
    sync_index(engine)
    response = api.post("/api/v1/uses", json=body(brand, chain, licence, "late", used_at=chain.timestamp()))
    assert response.status_code == 409 and response.json()["code"] == "license_expired"


def test_unknown_use_is_404_and_unsettled_proof_is_409(api, brand, chain, licence):
    assert api.get("/api/v1/uses/999").status_code == 404
    use = api.post("/api/v1/uses", json=body(brand, chain, licence, "p")).json()
    response = api.get(f"/api/v1/uses/{use['id']}/proof")
    assert response.status_code == 409 and "not settled" in response.json()["detail"]


def test_use_goes_pending_submitted_settled_and_its_proof_verifies(api, brand, chain, licence, engine, recorder,
                                                                   sync_index, deployment):
    ids = [api.post("/api/v1/uses", json=body(brand, chain, licence, t)).json()["id"] for t in range(3)]
    settler = Settler(engine, SettlementClient(chain, recorder), SettlerConfig(window_s=0.0))
    settler.reconcile()
    assert settler.step().uses == 3
    submitted = api.get(f"/api/v1/uses/{ids[1]}").json()
    assert submitted["status"] == "submitted" and submitted["tx_hash"]
    sync_index(engine)
    settled = api.get(f"/api/v1/uses/{ids[1]}").json()
    assert settled["status"] == "settled" and settled["tx_hash"] == submitted["tx_hash"]
    assert settled["fee"] == 2 * USDC
    assert [(p["role"], p["amount"]) for p in settled["payees"]] == [("model", 1_600_000), ("agency", 400_000)]

    proof = api.get(f"/api/v1/uses/{ids[1]}/proof").json()
    record = proof["record"]
    assert proof["settlement"]["first_seq"] == 0 and proof["settlement"]["count"] == 3
    assert proof["root"] == proof["settlement"]["uses_root"]
    assert verify(proof["root"], proof["proof"], UseRecord(**record))
    verifier = chain.contract("UseProofVerifier", deployment.use_proof_verifier)
    assert verifier.functions.verify(
        bytes.fromhex(proof["root"][2:]),
        [bytes.fromhex(p[2:]) for p in proof["proof"]],
        (record["license_id"], record["seq"], bytes.fromhex(record["use_ref"][2:]), record["category"],
         record["territory"], record["used_at"]),
    ).call()


def test_typed_data_is_what_the_wallet_signs(api, brand, chain, licence):
    report = body(brand, chain, licence, "td")
    fields = {k: v for k, v in report.items() if k != "signature"}
    typed = api.post("/api/v1/uses/typed-data", json=fields).json()
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    message = encode_typed_data(full_message=typed["typed_data"])
    assert Account.recover_message(message, signature=report["signature"]) == brand.address
    created = api.post("/api/v1/uses", json=report).json()
    assert created["digest"] == typed["digest"]


def test_out_of_range_ids_are_422_not_500(api, brand, chain, licence):
    assert api.get(f"/api/v1/uses/{2**70}").status_code == 422
    assert api.get("/api/v1/uses/0/proof").status_code == 422
    response = api.post("/api/v1/uses", json={**body(brand, chain, licence, "big"), "license_id": 2**64})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("The licence id must be")


def test_reports_after_an_effective_revocation_are_refused_with_the_reason(api, brand, chain, licence, model, engine,
                                                                         sync_index):
    twin_id = chain.call("LicenseToken", "licenseState", licence)[5]
    chain.transact(model, "TwinRegistry", "revokeConsent", twin_id)
    chain.rpc("evm_increaseTime", [3 * DAY + 1])
    chain.rpc("evm_mine")
    sync_index(engine)
    response = api.post("/api/v1/uses", json=body(brand, chain, licence, "after"))
    assert response.status_code == 409 and response.json()["code"] == "consent_revoked"
    assert "revoked consent" in response.json()["detail"] and "reclaim" in response.json()["detail"]


ISO_UTC = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"


def test_a_labelled_use_has_one_shape_in_every_view(api, brand, chain, licence, engine, recorder, sync_index):
    import re

    label = "Look 12, spring e-shop"
    report = body(brand, chain, licence, "shape", ref="0x" + keccak256(label.encode()).hex())
    created = api.post("/api/v1/uses", json={**report, "label": label})
    assert created.status_code == 201, created.text
    use = created.json()
    assert use["label"] == label and use["category_name"] == "e-commerce" and use["territory_name"] == "Europe"
    assert re.match(ISO_UTC, use["accepted_at"]) and use["settled_at"] is None and use["fee"] == 2 * USDC

    def views() -> tuple[dict, dict]:
        single = api.get(f"/api/v1/uses/{use['id']}").json()
        listed = api.get(f"/api/v1/licenses/{licence}/uses").json()["data"]
        return single, next(u for u in listed if u["id"] == use["id"])

    single, listed = views()
    assert single == listed == use  # pending: the same in the report's answer, by id and in the licence's list

    settler = Settler(engine, SettlementClient(chain, recorder), SettlerConfig(window_s=0.0))
    settler.reconcile()
    assert settler.step().uses == 1
    sync_index(engine)
    single, listed = views()
    assert single == listed
    assert single["status"] == "settled" and single["tx_hash"] and single["block_number"]
    assert re.match(ISO_UTC, single["settled_at"]) and single["accepted_at"] == use["accepted_at"]


# ------------------------------------------------------------------ issue 11: signed sequence numbers, hostile input


def test_a_sequence_mismatch_is_409_with_the_expected_number(api, brand, chain, licence):
    first = body(brand, chain, licence, "first", seq=0)
    assert api.post("/api/v1/uses", json=first).status_code == 201
    raced = api.post("/api/v1/uses", json=body(brand, chain, licence, "second", seq=0))
    assert raced.status_code == 409, raced.text
    answer = raced.json()
    assert answer["code"] == "sequence_mismatch" and answer["expected_seq"] == 1
    assert answer["detail"] == (
        f"Use #1 of licence {licence} was reported by someone else a moment ago (or by an earlier report of yours): "
        "sign the report again as use #2."
    )
    ahead = api.post("/api/v1/uses", json=body(brand, chain, licence, "ahead", seq=5)).json()
    assert ahead["code"] == "sequence_mismatch" and ahead["expected_seq"] == 1
    assert "numbers cannot be skipped" in ahead["detail"]
    signed_again = post(api, brand, chain, body(brand, chain, licence, "second", seq=0))
    assert signed_again.status_code == 201 and signed_again.json()["seq"] == 1 and signed_again.resigned == 1
    # The original of a report accepted is still answered with its use, and its typed data carries the number.
    assert api.post("/api/v1/uses", json=first).status_code == 200
    unsigned = {k: v for k, v in signed_again.report.items() if k != "signature"}
    typed = api.post("/api/v1/uses/typed-data", json=unsigned).json()
    assert typed["typed_data"]["message"]["seq"] == 1 and typed["digest"] == signed_again.json()["digest"]
    spec = api.get("/api/v1/openapi.json").json()  # documented for client authors
    conflict = spec["paths"]["/api/v1/uses"]["post"]["responses"]["409"]
    assert conflict["content"]["application/json"]["schema"]["$ref"].endswith("/SequenceMismatchOut")
    assert "expected_seq" in spec["components"]["schemas"]["SequenceMismatchOut"]["required"]


def test_a_strangers_signature_on_an_accepted_body_is_403_not_the_use(api, brand, brand2, chain, licence, engine):
    accepted = api.post("/api/v1/uses", json=body(brand, chain, licence, "mine"))
    assert accepted.status_code == 201
    use = accepted.json()
    stolen = body(brand2, chain, licence, None, seq=use["seq"], ref=use["use_ref"], used_at=use["used_at"])
    response = api.post("/api/v1/uses", json=stolen)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "not_license_holder" and "digest" not in response.json()
    assert "holder's wallet" in response.json()["detail"]
    assert api.get(f"/api/v1/licenses/{licence}/uses").json()["data"][0]["signer"] == brand.address
