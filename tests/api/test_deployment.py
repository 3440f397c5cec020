"""`GET /api/v1/deployment`: what the web client needs to start, with the facts read from the contracts - the token's
symbol and decimals, the notice period, the agency and non-model caps, the exclusivity minimum - and whether the test
faucet may be offered."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient
from kit.read_api import app_client, app_settings, fake_deployment, market  # noqa: F401
from sqlmodel import Session, delete

from twin_licensing.api.app import create_app
from twin_licensing.api.read.chain_reader import RegistryRules, TokenFacts
from twin_licensing.db.registry_state import ProtocolParam

DAY = 86_400
USDC = 10**6


class StubChain:
    """The contracts as the chain reader would read them; `None` for a node that does not answer."""

    def __init__(self, token: TokenFacts | None, rules: RegistryRules | None) -> None:
        self._token, self._rules = token, rules

    def token(self):
        return self._token

    def rules(self):
        return self._rules


def test_token_symbol_and_decimals_come_from_the_token_contract(app_client):
    app_client.app.state.context.chain_reader = StubChain(TokenFacts("tUSDC", 6), None)
    body = app_client.get("/api/v1/deployment").json()
    assert body["token"] == {"address": body["contracts"]["PaymentToken"], "symbol": "tUSDC", "decimals": 6}
    app_client.app.state.context.chain_reader = StubChain(TokenFacts("EURC", 6), None)
    assert app_client.get("/api/v1/deployment").json()["token"]["symbol"] == "EURC"  # never a hard-coded name


def test_rules_changed_on_chain_come_from_the_index(app_client):
    app_client.app.state.context.chain_reader = StubChain(
        None, RegistryRules(notice_period=7, agency_cap_bps=1, non_model_cap_bps=2, exclusivity_minimum=3))
    body = app_client.get("/api/v1/deployment").json()
    # The indexed Set events.
    assert body["notice_period"] == 3 * DAY and body["agency_cap_bps"] == 2_000
    assert body["non_model_cap_bps"] == 4_000 and body["exclusivity_minimum"] == 2_000 * USDC


def test_default_rules_come_from_the_contract(app_client, market):
    # No NoticePeriodSet / AgencyCapSet / ... event yet: the contract's defaults are in force, and only it knows them.
    with Session(market.engine) as session:
        session.exec(delete(ProtocolParam))
        session.commit()
    app_client.app.state.context.chain_reader = StubChain(None, RegistryRules(
        notice_period=72 * 3600, agency_cap_bps=2_000, non_model_cap_bps=5_000, exclusivity_minimum=1_000 * USDC))
    body = app_client.get("/api/v1/deployment").json()
    assert body["notice_period"] == 72 * 3600 and body["agency_cap_bps"] == 2_000
    assert body["non_model_cap_bps"] == 5_000 and body["exclusivity_minimum"] == 1_000 * USDC


def test_rules_are_null_while_neither_the_index_nor_the_node_knows_them(app_client, market):
    with Session(market.engine) as session:
        session.exec(delete(ProtocolParam))
        session.commit()
    app_client.app.state.context.chain_reader = StubChain(None, None)
    body = app_client.get("/api/v1/deployment").json()
    assert (body["notice_period"], body["agency_cap_bps"], body["non_model_cap_bps"], body["exclusivity_minimum"]) == (
        None, None, None, None)


def test_the_faucet_is_offered_on_the_local_chain_with_the_test_token_only(market, app_settings):
    cases = [(fake_deployment(), True), (replace(fake_deployment(), test_token=False), False),
             (replace(fake_deployment(), chain_id=1), False)]
    for deployment, faucet in cases:
        with TestClient(create_app(app_settings, deployment=deployment, engine=market.engine)) as client:
            assert client.get("/api/v1/deployment").json()["faucet"] is faucet


def test_deployment_facts_read_from_a_real_chain(index_settings, deployment, engine, sync_index):
    sync_index(engine)
    with TestClient(create_app(index_settings, deployment=deployment, engine=engine)) as client:
        body = client.get("/api/v1/deployment").json()
    assert body["token"] == {"address": deployment.payment_token, "symbol": "tUSDC", "decimals": 6}
    # The contract's defaults, read from it.
    assert body["notice_period"] == 72 * 3600 and body["agency_cap_bps"] == 2_000
    assert body["non_model_cap_bps"] == 5_000 and body["exclusivity_minimum"] == 1_000 * USDC
    assert body["faucet"] is True and body["local"] is True
    assert body["index"]["ready"] is True and len(body["floors"]) == len(body["categories"])
