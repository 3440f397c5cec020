"""What the web client starts from: the deployment, the ABIs, the labelled dev accounts, the RPC relay; and the
body size limit and the static client."""

from __future__ import annotations

import json

from kit.read_api import app_client, app_settings, fake_deployment, market  # noqa: F401

from twin_licensing.api.app import create_app
from twin_licensing.domain.use_record import REPORT_FIELDS, REPORT_TYPE_NAME, eip712_members


def test_accounts_are_labelled_from_the_seed(app_client, market):
    body = app_client.get("/api/v1/accounts").json()
    assert body["count"] == 3
    labels = {a["address"]: a["label"] for a in body["data"]}
    assert labels[market.model_a] == "Model: Ava Lindqvist"
    assert labels[market.agency] == "Agency: Nordlys Models"
    assert labels[market.brand_1] == "Brand: Maison Verre"


def test_accounts_exist_on_the_local_chain_only(market, app_settings):
    from dataclasses import replace

    from fastapi.testclient import TestClient

    app = create_app(app_settings, deployment=replace(fake_deployment(), chain_id=1), engine=market.engine)
    with TestClient(app) as client:
        assert client.get("/api/v1/accounts").status_code == 404
        assert client.post("/api/v1/dev/rpc", json={"method": "eth_chainId"}).status_code == 404
        assert client.get("/api/v1/deployment").json()["local"] is False


def test_deployment_tells_the_client_everything_it_needs(app_client):
    body = app_client.get("/api/v1/deployment").json()
    assert body["chain_id"] == 31337 and body["local"] is True and body["test_token"] is True
    assert set(body["contracts"]) == {"PaymentToken", "TwinRegistry", "LicenseToken"}
    assert body["categories"][0] == "e-commerce" and len(body["territories"]) == 8
    assert body["floors"][3] == {"category": 3, "name": "video", "min_per_use_fee": 12_000_000}
    assert body["agency_cap_bps"] == 2_000 and body["notice_period"] == 3 * 86_400
    domain = body["use_report"]["domain"]
    assert domain["name"] == "Twin Licence" and domain["version"] == "1"
    assert domain["verifyingContract"] == body["contracts"]["LicenseToken"] and domain["chainId"] == 31337
    # The members the holder signs, in order with their types, are the use record's (one home: domain.use_record).
    assert body["use_report"]["primary_type"] == REPORT_TYPE_NAME
    assert body["use_report"]["types"][REPORT_TYPE_NAME] == eip712_members(REPORT_FIELDS)
    assert body["index"] == {"block_number": 100, "events": 42, "ready": True}


def test_abis_come_from_the_artifacts(app_client):
    body = app_client.get("/api/v1/deployment/abi").json()
    errors = {item["name"] for item in body["LicenseToken"] if item["type"] == "error"}
    assert "LicenseTokenFeeBelowFloor" in errors
    assert any(item.get("name") == "permit" for item in body["PaymentToken"])


def test_rpc_relay_refuses_node_administration(app_client):
    response = app_client.post("/api/v1/dev/rpc", json={"jsonrpc": "2.0", "id": 1, "method": "evm_revert", "params": ["0x1"]})
    assert response.status_code == 403 and "evm_revert" in response.json()["detail"]
    batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(21)]
    assert app_client.post("/api/v1/dev/rpc", json=batch).status_code == 422
    assert app_client.post("/api/v1/dev/rpc", content=b"{not json").status_code == 422
    assert app_client.post("/api/v1/dev/rpc", json={"id": 1}).status_code == 422


def test_rpc_relay_without_a_node_is_503(app_client):
    response = app_client.post("/api/v1/dev/rpc", json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
    assert response.status_code == 503 and "node" in response.json()["detail"]


def test_bodies_over_the_limit_are_413(app_client):
    big = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": ["x" * 70_000]})
    response = app_client.post("/api/v1/dev/rpc", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "KiB" in response.json()["detail"]


def test_streamed_bodies_over_the_limit_are_413(app_client):
    def chunks():
        for _ in range(20):
            yield b"x" * 8192

    response = app_client.post("/api/v1/uses", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_web_client_and_its_libraries_are_served(app_client):
    page = app_client.get("/")
    assert page.status_code == 200 and '<script type="module" src="/static/js/app.js">' in page.text
    assert app_client.get("/static/css/app.css").status_code == 200
    ethers = app_client.get("/vendor/ethers.min.js")
    assert ethers.status_code == 200 and ethers.headers["content-type"].startswith("text/javascript")
    assert app_client.get("/vendor/chart.umd.min.js").status_code == 200
    assert app_client.get("/vendor/..%2Fpackage.json").status_code == 404
    assert app_client.get("/vendor/lodash.js").status_code == 404
    assert app_client.get("/media/twins/1.svg").status_code == 200


def test_openapi_documents_the_read_api(app_client):
    paths = app_client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/twins", "/api/v1/twins/{twin_id}", "/api/v1/licenses", "/api/v1/licenses/{license_id}",
                 "/api/v1/licenses/{license_id}/uses", "/api/v1/earnings/{payee}", "/api/v1/earnings/{payee}/history",
                 "/api/v1/accounts", "/api/v1/deployment", "/health", "/metrics"):
        assert path in paths, path
