"""Who sees what, on every route of the application, as seven viewers: anonymous, the licence's holder, its former
holder (who handed it over to the holder: issue 11), another brand, the twin's model, a payee of the twin, and the
guild.

`RULES` names the rule of each route (`app.routes` enumerated, so a route added without a rule here fails
`test_every_route_has_a_rule`), with a request to try it. A private object is a 404 with a sentence to those who
may not see it, the same answer as for one that does not exist; lists show each viewer only what it may see.
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select
from sqlmodel import Session
from starlette.routing import Mount

from kit.read_api import DAY, NOW, addr, app_client, app_settings, market, tx  # noqa: F401
from kit.signin import open_session
from twin_licensing.api.consent_documents import store
from twin_licensing.settings import find_project_root
from twin_licensing.db.chain_log import ChainEvent
from twin_licensing.db.license_state import License
from twin_licensing.db.uses import Use

PROJECT_ROOT = find_project_root()
VIEWERS = ("anonymous", "holder", "former_holder", "other_brand", "model", "payee", "guild")
GUILD = addr("0x" + "06" * 20)  # the read-API fixtures' deployment guild
FORMER_HOLDER = addr("0x" + "f0" * 20)  # bought licence 1 and handed it to brand 1 before any use was reported


def _who(market) -> dict[str, str | None]:
    return {"anonymous": None, "holder": market.brand_1, "former_holder": FORMER_HOLDER, "other_brand": market.brand_2,
            "model": market.model_a, "payee": market.agency, "guild": GUILD}


def _hand_licence_1_over(engine) -> None:
    """Licence 1 was bought by FORMER_HOLDER, who handed it to brand 1 (and its escrow with it: none) 25 days ago;
    every use of it is brand 1's."""
    at = NOW - 25 * DAY
    with Session(engine) as session:
        lic = session.get(License, (31337, 1))
        lic.buyer, lic.seller, lic.handover_at = FORMER_HOLDER, FORMER_HOLDER, at
        session.add(lic)
        session.merge(ChainEvent(
            chain_id=31337, tx_hash=tx(44), log_index=0, block_number=44, block_hash=tx(2044), block_time=at,
            tx_index=0, contract="LicenseToken", name="LicenseHandedOver", license_id=1, account=lic.holder,
            args=json.dumps({"licenseId": 1, "seller": FORMER_HOLDER, "buyer": lic.holder, "sellerEscrow": 0,
                             "at": at})))
        session.commit()


# Rules. PUBLIC: every viewer gets the same answer. PRIVATE: the viewers in the set get the object, the others a
# 404 (licence 1 and its uses: held by brand 1, of twin 1, whose model is A and payees A, the agency, the crew;
# its former holder sees the licence and the uses she signed: none, so a list without a line).
# LIST: each viewer sees its own count. SAME: writes open to anyone, whose answer does not depend on the viewer.
# ELSEWHERE: routes whose bodies are images, whose rule the named test module checks (tests/provenance/test_api.py).
PUBLIC, PRIVATE, LIST, SAME, ELSEWHERE = "public", "private", "list", "same", "elsewhere"
LICENCE_1_AUDIENCE = {"holder", "model", "payee", "guild"}  # and its uses, each signed by its holder
LICENCE_1_VIEWERS = LICENCE_1_AUDIENCE | {"former_holder"}  # the licence and its list of uses
USE = {"license_id": 1, "use_ref": "0x" + "ab" * 32, "category": 0, "territory": 0, "used_at": 1_700_000_000}

RULES: dict[tuple[str, str], tuple] = {
    # Public: the catalogue, twin pages, chain facts, earnings (every number is read from public chain events).
    ("GET", "/api/v1/twins"): (PUBLIC, "/api/v1/twins"),
    ("GET", "/api/v1/twins/{twin_id}"): (PUBLIC, "/api/v1/twins/1"),
    ("GET", "/api/v1/twins/{twin_id}/licences-in-force"): (PUBLIC, "/api/v1/twins/1/licences-in-force"),
    ("GET", "/api/v1/earnings/{payee}"): (PUBLIC, "/api/v1/earnings/{model}"),
    ("GET", "/api/v1/earnings/{payee}/history"): (PUBLIC, "/api/v1/earnings/{model}/history"),
    ("GET", "/api/v1/deployment"): (PUBLIC, "/api/v1/deployment"),
    ("GET", "/api/v1/deployment/abi"): (PUBLIC, "/api/v1/deployment/abi"),
    ("GET", "/api/v1/accounts"): (PUBLIC, "/api/v1/accounts"),
    ("GET", "/health"): (PUBLIC, "/health"),
    ("GET", "/metrics"): (PUBLIC, "/metrics"),
    ("GET", "/api/v1/openapi.json"): (PUBLIC, "/api/v1/openapi.json"),
    ("GET", "/api/v1/docs"): (PUBLIC, "/api/v1/docs"),
    ("GET", "/api/v1/docs/static/{name}"): (PUBLIC, "/api/v1/docs/static/swagger-ui.css"),
    ("GET", "/"): (PUBLIC, "/"),
    ("GET", "/vendor/{name}"): (PUBLIC, "/vendor/ethers.min.js"),
    ("GET", "/vendor/merkle-tree.js"): (PUBLIC, "/vendor/merkle-tree.js"),
    ("MOUNT", "/static"): (PUBLIC, "/static/js/app.js"),
    ("MOUNT", "/media"): (PUBLIC, "/media/twins/1.json"),
    ("GET", "/api/v1/consent-documents/{consent_hash}"): (PUBLIC, "/api/v1/consent-documents/{consent}"),
    # The guild's attestations and a payee's pending listings: facts of the chain (issue 10).
    ("GET", "/api/v1/attestations"): (PUBLIC, "/api/v1/attestations"),
    ("GET", "/api/v1/attestations/{attestation_id}"): (SAME, "/api/v1/attestations/1"),
    ("GET", "/api/v1/payees/{payee}/listings"): (PUBLIC, "/api/v1/payees/{model}/listings"),
    # A payee's statement: the payee herself and the guild. The request names a period (a malformed one is a 422 to
    # anyone, before the viewer is checked: test_a_malformed_statement_request_is_refused_alike...).
    ("GET", "/api/v1/statements/{payee}"): (PRIVATE, "/api/v1/statements/{model}?value={month}", {"model", "guild"}),
    ("GET", "/api/v1/statements/{payee}/csv"): (PRIVATE, "/api/v1/statements/{model}/csv?value={month}",
                                                {"model", "guild"}),
    ("GET", "/api/v1/statements/{payee}/pdf"): (PRIVATE, "/api/v1/statements/{model}/pdf?value={month}",
                                                {"model", "guild"}),
    # The guild's list of images reported as used without a licence.
    ("GET", "/api/v1/unlicensed-uses"): (PRIVATE, "/api/v1/unlicensed-uses", {"guild"}),
    # A use's image: the use's audience (tests/provenance/test_api.py); checking an image and reporting one: anyone.
    ("GET", "/api/v1/uses/{use_id}/asset"): (ELSEWHERE, "tests/provenance/test_api.py"),
    ("GET", "/api/v1/uses/{use_id}/asset/thumbnail"): (ELSEWHERE, "tests/provenance/test_api.py"),
    ("GET", "/api/v1/uses/{use_id}/asset/credentialed"): (ELSEWHERE, "tests/provenance/test_api.py"),
    ("POST", "/api/v1/uses/{use_id}/asset"): (ELSEWHERE, "tests/provenance/test_api.py"),
    ("POST", "/api/v1/verify"): (ELSEWHERE, "tests/provenance/test_api.py"),
    ("POST", "/api/v1/unlicensed-uses"): (ELSEWHERE, "tests/provenance/test_api.py"),
    # The usage log of a twin: its model, payees and guild (tests/api/test_usage_log.py checks every viewer's list
    # and the live stream, which never ends by itself); the summary and the visit are the viewer's own.
    ("GET", "/api/v1/usage-log"): (PRIVATE, "/api/v1/usage-log?twin=1", {"model", "payee", "guild"}),
    ("GET", "/api/v1/usage-log/summary"): ("self", "/api/v1/usage-log/summary"),
    ("POST", "/api/v1/usage-log/visit"): ("self", "/api/v1/usage-log/visit", {}),
    ("GET", "/api/v1/usage-log/stream"): (ELSEWHERE, "tests/api/test_usage_log.py"),
    # Licences: the holder, its former holders, and the twin's model, payees and guild; a use and its label: the
    # account that signed it and the twin's audience (tests/api/test_handover_visibility.py: who sees which line).
    ("GET", "/api/v1/licenses/{license_id}"): (PRIVATE, "/api/v1/licenses/1", LICENCE_1_VIEWERS),
    ("GET", "/api/v1/licenses/{license_id}/uses"): (PRIVATE, "/api/v1/licenses/1/uses", LICENCE_1_VIEWERS),
    ("GET", "/api/v1/uses/{use_id}"): (PRIVATE, "/api/v1/uses/{use}", LICENCE_1_AUDIENCE),
    ("GET", "/api/v1/uses/{use_id}/proof"): (PRIVATE, "/api/v1/uses/{use}/proof", LICENCE_1_AUDIENCE),
    # Brand 1 holds licences 1, 3 (twin 2, model B) and 4; brand 2 licence 2; twin 1's audience sees 1, 2 and 4;
    # the former holder of licence 1 sees it.
    ("GET", "/api/v1/licenses"): (LIST, "/api/v1/licenses?holder={holder}",
                                  {"anonymous": 0, "holder": 3, "former_holder": 1, "other_brand": 0, "model": 2,
                                   "payee": 2, "guild": 3}),
    # Writes anyone may send: a report is authorised by its signature, sign-in by its message.
    ("POST", "/api/v1/uses"): (SAME, "/api/v1/uses", {**USE, "signature": "0x" + "00" * 65}),
    ("POST", "/api/v1/uses/typed-data"): (SAME, "/api/v1/uses/typed-data", USE),
    ("POST", "/api/v1/dev/rpc"): (SAME, "/api/v1/dev/rpc", {"jsonrpc": "2.0", "id": 1, "method": "evm_mine"}),
    ("POST", "/api/v1/auth/nonce"): (SAME, "/api/v1/auth/nonce", {}),
    ("POST", "/api/v1/consent-documents"): (SAME, "/api/v1/consent-documents", {"text": "I consent to what I consent to."}),
    ("POST", "/api/v1/auth/sign-in"): (SAME, "/api/v1/auth/sign-in", {"message": "x", "signature": "0x00"}),
    # Who am I / sign out: about the viewer's own session only.
    ("GET", "/api/v1/auth/me"): ("self", "/api/v1/auth/me"),
    ("POST", "/api/v1/auth/sign-out"): ("self", "/api/v1/auth/sign-out", {}),
}


def app_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route the application serves, with routers included in routers walked; a mounted
    application is ("MOUNT", its path)."""
    found: set[tuple[str, str]] = set()

    def add(route) -> None:
        if isinstance(route, Mount):
            found.add(("MOUNT", route.path))
            return
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                found.add((method, route.path))

    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                add(context)
        else:
            add(route)
    return found


def test_every_route_has_a_rule(app_client):
    routes = app_routes(app_client.app)
    assert routes - set(RULES) == set(), "routes without a visibility rule: add each to RULES"
    assert set(RULES) - routes == set(), "rules of routes that no longer exist"


@pytest.fixture
def viewers(app_client, market) -> dict[str, dict[str, str]]:
    _hand_licence_1_over(market.engine)
    return {name: (open_session(market.engine, address) if address else {}) for name, address in _who(market).items()}


def _url(template: str, market) -> str:
    with Session(market.engine) as session:
        use_id = session.execute(select(Use.use_id).where(Use.license_id == 1, Use.seq == 0)).scalar_one()
        consent = store(session, 31337, "Twin 1's consent.", None).consent_hash
    month = time.strftime("%Y-%m", time.gmtime())
    return template.format(model=market.model_a, holder=market.brand_1, use=use_id, consent=consent, month=month)


@pytest.mark.parametrize("key", sorted(RULES), ids=lambda k: f"{k[0]} {k[1]}")
def test_the_rule_of_each_route(app_client, market, viewers, key):
    method, _ = key
    rule, template, *extra = RULES[key]
    if rule == ELSEWHERE:
        assert (PROJECT_ROOT / template).is_file(), f"{key}: its visibility test {template} is missing"
        return
    url = _url(template, market)
    answers = {}
    for name in VIEWERS:
        app_client.cookies.clear()
        app_client.cookies.update(viewers[name])
        if method == "POST":
            answers[name] = app_client.post(url, json=extra[0])
        else:
            answers[name] = app_client.get(url)
    statuses = {name: a.status_code for name, a in answers.items()}
    assert all(s < 500 for s in statuses.values()), statuses
    if rule in (PUBLIC, SAME):
        assert len({s // 100 for s in statuses.values()}) == 1, statuses  # a write: 201 first, then 200
        if rule == PUBLIC:
            assert statuses["anonymous"] == 200, statuses
    elif rule == PRIVATE:
        audience = extra[0]
        # Those who may see it get the same answer (200, or a 409 such as "no proof yet" that names the object).
        assert len({statuses[name] for name in audience}) == 1 and statuses["guild"] != 404, statuses
        for name, answer in answers.items():
            if name in audience:
                continue
            else:
                assert answer.status_code == 404, (name, answer.text)
                detail = answer.json()["detail"]
                assert "you can see" in detail and "sign in as" in detail, detail
    elif rule == LIST:
        counts = {name: a.json()["count"] for name, a in answers.items()}
        assert counts == extra[0]
    else:  # self
        assert all(s == 200 for s in statuses.values()), statuses


def test_a_hidden_object_is_answered_like_a_missing_one(app_client, market, viewers):
    """The 404 of a licence that exists but is not the viewer's says exactly what a missing one says."""
    app_client.cookies.update(viewers["other_brand"])
    hidden = app_client.get("/api/v1/licenses/1").json()["detail"]
    missing = app_client.get("/api/v1/licenses/999").json()["detail"]
    assert hidden == missing.replace("999", "1")
    hidden_use = app_client.get(_url("/api/v1/uses/{use}", market))
    assert hidden_use.status_code == 404 and app_client.get("/api/v1/uses/99999").status_code == 404


def test_a_former_holder_sees_the_licence_and_only_the_uses_she_signed(app_client, market, viewers):
    """Licence 1's former holder: the licence (its handover), a list of its uses without a line (she signed none), and
    the same 404 as a stranger for each use; the holder still sees every use of the licence in full."""
    app_client.cookies.update(viewers["former_holder"])
    assert app_client.get("/api/v1/licenses/1").json()["handover"]["seller"] == FORMER_HOLDER
    assert app_client.get("/api/v1/licenses/1/uses").json() == {"data": [], "count": 0}
    app_client.cookies.clear()
    app_client.cookies.update(viewers["holder"])
    page = app_client.get("/api/v1/licenses/1/uses").json()
    assert page["count"] == 8 and all("label" in line and line["signer"] == market.brand_1 for line in page["data"])


def test_anyone_sees_the_licences_in_force_a_purchase_is_checked_against(app_client):
    """Holder, terms and expiry of a twin's unexpired licences (public chain facts), and nothing private."""
    page = app_client.get("/api/v1/twins/1/licences-in-force").json()
    assert [lic["license_id"] for lic in page["data"]] == [1, 4]  # licence 2 expired
    assert set(page["data"][0]) == {"license_id", "holder", "holder_label", "expiry", "terms"}


def test_the_guild_sees_every_licence_and_a_brand_only_its_own(app_client, market, viewers):
    app_client.cookies.update(viewers["guild"])
    assert app_client.get("/api/v1/licenses", params={"twin_id": 2}).json()["count"] == 1
    app_client.cookies.clear()
    app_client.cookies.update(viewers["other_brand"])
    page = app_client.get("/api/v1/licenses", params={"twin_id": 1}).json()
    assert [lic["license_id"] for lic in page["data"]] == [2] and page["count"] == 1
    # The model of twin 1 sees its three licences, not twin 2's.
    app_client.cookies.clear()
    app_client.cookies.update(viewers["model"])
    assert app_client.get("/api/v1/licenses", params={"twin_id": 1}).json()["count"] == 3
    assert app_client.get("/api/v1/licenses", params={"twin_id": 2}).json()["count"] == 0
    assert app_client.get("/api/v1/licenses/3").status_code == 404


def test_a_malformed_statement_request_is_refused_alike_for_everyone_before_the_viewer_is_checked(
        app_client, market, viewers):
    """The statement routes check the request's period before the viewer: a 422 that depends on the query alone (the
    same sentence to every viewer, for the model's address and for one that never was a payee) tells nothing about
    the statement. A well-formed request is a 404 to whoever may not see it, even for a period still to come, which
    only the statement's audience is told about."""
    nobody = addr("0x" + "99" * 20)
    future = f"{time.gmtime().tm_year + 1}-01"
    for route in ("", "/csv", "/pdf"):
        for query in ("", "?value=2026-13", "?period=custom&from=2026-11-03", "?period=week&value=2026-11"):
            answers = set()
            for name in VIEWERS:
                for payee in (market.model_a, nobody):
                    app_client.cookies.clear()
                    app_client.cookies.update(viewers[name])
                    answer = app_client.get(f"/api/v1/statements/{payee}{route}{query}")
                    answers.add((answer.status_code, answer.json()["detail"]))
            assert [status for status, _ in answers] == [422], (route, query, answers)
        statuses = {}
        for name in VIEWERS:
            app_client.cookies.clear()
            app_client.cookies.update(viewers[name])
            statuses[name] = app_client.get(f"/api/v1/statements/{market.model_a}{route}?value={future}").status_code
        assert statuses == {name: 422 if name in ("model", "guild") else 404 for name in VIEWERS}, (route, statuses)
