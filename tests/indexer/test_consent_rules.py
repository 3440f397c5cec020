"""Issue 10's events in the index: the guild's attestations, the attestation each twin was registered under, payees'
acceptance and departure, the guild's new parameters, locked licences and exclusive licences the model ends for being
idle; each compared with what the contracts themselves report, and rebuilt alike after a reorganisation."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from kit.guild import attest
from kit.index_dump import assert_same_index
from kit.scenario import AGENCY_ROLE, CREW_ROLE, MODEL_ROLE, USDC, Scenario, claimable_from_index, root
from twin_licensing.api.app import create_app
from twin_licensing.db.license_state import License, Offer
from twin_licensing.db.registry_state import Attestation, ProtocolParam, Twin, TwinPayee
from twin_licensing.domain.guild import attestation_state, idle_endable_at
from twin_licensing.settings import get_settings

DAY = 86_400
IDLE = 10 * DAY


def _rows(engine, model, *where):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(model).where(*where)).mappings()]


def _notice(engine, twin_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(select(Twin.notice_period).where(Twin.twin_id == twin_id)).scalar_one()


def _exclusive(s: Scenario, twin_id: int, territories: int, *, transferable: bool = False) -> int:
    """An exclusive offer of the twin in e-commerce and `territories`, bought by the brand; returns the licence."""
    terms = (60 * USDC, 2 * USDC, 90 * DAY, 0, 0b1, territories, True, transferable, IDLE)
    s.tx(s.model, "LicenseToken", "publishOffer", twin_id, terms, gas=500_000)
    return s.licence(s.call("LicenseToken", "offerCount"), 20 * USDC)


def _consent_rules(s: Scenario) -> dict[str, int]:
    """Every issue-10 event: parameters, attestations (one revoked), a pending payee who leaves, an exclusive
    licence ended for being idle, another still running, a locked licence."""
    s.tx(s.guild, "TwinRegistry", "setNonModelCap", 4_000)
    s.tx(s.guild, "TwinRegistry", "setExclusivityMinimum", 50 * USDC)
    s.tx(s.admin, "TwinRegistry", "setNoticePeriod", 2 * DAY)
    twin_id = s.twin()  # the model attested, the agency (15 %) accepted; its consent keeps the 2-day notice
    s.tx(s.admin, "TwinRegistry", "setNoticePeriod", 5 * DAY)  # for consent granted from now on
    agency_attestation = attest(s.chain, s.agency, AGENCY_ROLE, label="Agency A")
    revoked = attest(s.chain, s.brand2, MODEL_ROLE, label="not a model after all")
    s.tx(s.guild, "TwinRegistry", "revokeAttestation", revoked)
    payees = [(s.model.address, 8_000, MODEL_ROLE), (s.agency.address, 1_500, AGENCY_ROLE),
              (s.crew.address, 500, CREW_ROLE)]
    s.tx(s.model, "TwinRegistry", "setPayees", twin_id, payees, gas=900_000)  # the crew is listed, pending
    ended = _exclusive(s, twin_id, 0b1)
    running = _exclusive(s, twin_id, 0b10, transferable=True)
    s.settle((ended, 0, 1, root("ended")), (running, 0, 2, root("running")))
    s.tx(s.crew, "TwinRegistry", "leavePayee", twin_id, gas=600_000)  # its 5 % go to the model
    s.chain.rpc("evm_increaseTime", [IDLE + 1])
    s.mine()
    s.tx(s.model, "LicenseToken", "endIdleExclusive", ended, gas=300_000)
    return {"twin": twin_id, "agency_attestation": agency_attestation, "revoked": revoked, "ended": ended,
            "running": running}


def test_issue_10_events_land_in_their_tables_as_the_contracts_report_them(chain, db, make_indexer):
    s = Scenario(chain)
    ids = _consent_rules(s)
    make_indexer(db).sync()
    now = chain.w3.eth.get_block("latest")["timestamp"]

    # Attestations: one row each, with the contract's fields, the event's label and the guild that attested.
    rows = {r["attestation_id"]: r for r in _rows(db, Attestation)}
    assert sorted(rows) == list(range(1, s.call("TwinRegistry", "attestationCount") + 1))
    for attestation_id, row in rows.items():
        subject, role, issued_at, expires_at, revoked = s.call("TwinRegistry", "attestation", attestation_id)
        assert (row["subject"], row["role"], row["issued_at"], row["expires_at"], row["revoked"]) == (
            subject, ("model", "agency")[role], issued_at, expires_at, revoked)
        assert row["guild"] == s.guild.address
        assert (attestation_state(row["revoked"], row["expires_at"], now) == "valid") == (
            s.call("TwinRegistry", "attestationOf", subject)[0] == attestation_id
            and s.call("TwinRegistry", "isAttested", subject, role))
    assert rows[ids["agency_attestation"]]["label"] == "Agency A"
    assert rows[ids["revoked"]]["revoked"] and rows[ids["revoked"]]["revoked_at"] >= rows[ids["revoked"]]["issued_at"]

    # The twin: the attestation it was registered under; payees with their acceptance, the leaver gone.
    (twin,) = _rows(db, Twin, Twin.twin_id == ids["twin"])
    assert twin["attestation_id"] == s.call("TwinRegistry", "twinAttestation", ids["twin"]) > 0
    assert twin["notice_period"] == s.call("TwinRegistry", "noticePeriodOf", ids["twin"]) == 2 * DAY
    payees = sorted(_rows(db, TwinPayee, TwinPayee.twin_id == ids["twin"]), key=lambda p: p["position"])
    on_chain = s.call("TwinRegistry", "payeesOf", ids["twin"])
    assert [(p["account"], p["share_bps"]) for p in payees] == [(a, bps) for a, bps, _ in on_chain]
    assert [p["share_bps"] for p in payees] == [8_500, 1_500]
    assert [p["accepted"] for p in payees] == [
        s.call("TwinRegistry", "isPayeeAccepted", ids["twin"], p["account"]) for p in payees] == [True, True]
    for payee in (s.model, s.agency, s.crew):
        assert claimable_from_index(db, chain.chain_id, payee.address) == (
            s.call("LicenseToken", "claimable", payee.address), s.call("LicenseToken", "totalEarned", payee.address))

    # The guild's parameters.
    params = {p["name"]: p["value"] for p in _rows(db, ProtocolParam)}
    assert params["non_model_cap_bps"] == "4000" == str(s.call("TwinRegistry", "nonModelCap"))
    assert params["exclusivity_minimum"] == str(50 * USDC) == str(s.call("TwinRegistry", "exclusivityMinimum"))

    # Licences: locked as ERC-5192 says, the idle period from the offer, the end as the contract dates it.
    licences = {r["license_id"]: r for r in _rows(db, License)}
    ended, running = licences[ids["ended"]], licences[ids["running"]]
    for lic in (ended, running):
        assert lic["locked"] is s.call("LicenseToken", "locked", lic["license_id"])
        assert lic["expiry"] == s.call("LicenseToken", "licenseState", lic["license_id"])[3]
        assert lic["idle_end_after"] == IDLE and lic["last_settled_at"] > lic["started_at"] > 0
    assert (ended["locked"], running["locked"]) == (True, False)
    assert ended["ended_at"] == ended["expiry"] <= now and running["ended_at"] is None
    assert idle_endable_at(running["started_at"], running["last_settled_at"], running["idle_end_after"]) == s.call(
        "LicenseToken", "idleEndableAt", ids["running"])
    offers = _rows(db, Offer, Offer.exclusive.is_(True))
    assert [o["idle_end_after"] for o in offers] == [IDLE, IDLE]


def test_a_reorganisation_across_issue_10_events_equals_a_fresh_index(chain, db, databases, make_indexer):
    s = Scenario(chain)
    indexer = make_indexer(db)
    default = s.call("TwinRegistry", "noticePeriod")  # the contract's own, never set by an admin
    twin_id = s.twin()  # its TwinRegistered states that default
    payees = [(s.model.address, 9_000, MODEL_ROLE), (s.crew.address, 1_000, CREW_ROLE)]
    indexer.sync()
    assert _notice(db, twin_id) == default > 0
    fork_point = chain.rpc("evm_snapshot")
    # Branch A: the agency is dropped, the crew listed and accepted; an attestation; an exclusive licence ended.
    s.tx(s.model, "TwinRegistry", "setPayees", twin_id, payees, gas=900_000)
    s.tx(s.crew, "TwinRegistry", "acceptPayee", twin_id, gas=200_000)
    attest(s.chain, s.agency, AGENCY_ROLE, label="on branch A")
    s.tx(s.guild, "TwinRegistry", "setExclusivityMinimum", 50 * USDC)
    licence = _exclusive(s, twin_id, 0b1)
    s.chain.rpc("evm_increaseTime", [IDLE + 1])
    s.mine()
    s.tx(s.model, "LicenseToken", "endIdleExclusive", licence, gas=300_000)
    s.tx(s.admin, "TwinRegistry", "setNoticePeriod", 5 * DAY)
    s.tx(s.model, "TwinRegistry", "grantConsent", twin_id, b"\x02" * 32, gas=300_000)  # keeps the 5 days
    indexer.sync()
    with db.connect() as conn:
        assert conn.execute(select(TwinPayee.accepted).where(TwinPayee.account == s.crew.address)).scalar_one()
    assert _notice(db, twin_id) == 5 * DAY

    # Branch B: the crew is listed but leaves without accepting; the agency stays, accepted, and gets attested.
    assert chain.rpc("evm_revert", [fork_point])
    chain.resync_nonces()
    s.mine(3)
    three = [(s.model.address, 8_000, MODEL_ROLE), (s.agency.address, 1_500, AGENCY_ROLE),
             (s.crew.address, 500, CREW_ROLE)]
    s.tx(s.model, "TwinRegistry", "setPayees", twin_id, three, gas=900_000)
    s.tx(s.crew, "TwinRegistry", "leavePayee", twin_id, gas=600_000)
    attest(s.chain, s.agency, AGENCY_ROLE, label="on branch B")
    s.tx(s.admin, "TwinRegistry", "setNoticePeriod", DAY)  # later consent only: the twin keeps its period
    s.tx(s.model, "TwinRegistry", "revokeConsent", twin_id, gas=300_000)  # after the default notice
    indexer.sync()

    fresh = databases.new()
    make_indexer(fresh).sync()
    assert_same_index(db, fresh)
    with db.connect() as conn:
        listed = conn.execute(select(TwinPayee.account, TwinPayee.accepted).where(TwinPayee.twin_id == twin_id)
                              .order_by(TwinPayee.position)).all()
        labels = conn.execute(select(Attestation.label).where(Attestation.subject == s.agency.address)).scalars().all()
        licences = conn.execute(select(License.license_id)).scalars().all()
    # Branch A's grant is gone: the period is again the default its registration stated, not the admin's new one.
    assert _notice(db, twin_id) == s.call("TwinRegistry", "noticePeriodOf", twin_id) == default != DAY
    assert [tuple(r) for r in listed] == [(s.model.address, True), (s.agency.address, True)]
    assert labels == ["on branch B"] and licences == []


def test_each_twin_keeps_the_notice_period_its_consent_was_granted_under(chain, db, deployment, make_indexer,
                                                                           tmp_path):
    """The events alone tell each twin's period, the contract's default included: an admin's change binds consent
    granted after it, not the twins registered before; the API answers it with the node out of reach."""
    s = Scenario(chain)
    default = s.call("TwinRegistry", "noticePeriod")
    kept, regranted = s.twin(), s.twin()  # both under the default, no NoticePeriodSet ever emitted
    s.tx(s.admin, "TwinRegistry", "setNoticePeriod", 7 * DAY)
    s.tx(s.model, "TwinRegistry", "grantConsent", regranted, b"\x03" * 32, gas=300_000)  # under the 7 days
    later = s.twin()  # registered after the change
    make_indexer(db).sync()

    on_chain = {t: s.call("TwinRegistry", "noticePeriodOf", t) for t in (kept, regranted, later)}
    assert on_chain == {kept: default, regranted: 7 * DAY, later: 7 * DAY} and default != 7 * DAY
    assert {t: _notice(db, t) for t in on_chain} == on_chain
    # No contract read behind the answer: the API's node is a port nothing listens on.
    settings = get_settings(rpc_url="http://127.0.0.1:9", deployments_dir=tmp_path / "deployments",
                            media_dir=tmp_path / "media", var_dir=tmp_path)
    with TestClient(create_app(settings, deployment=deployment, engine=db)) as client:
        assert {t: client.get(f"/api/v1/twins/{t}").json()["notice_period"] for t in on_chain} == on_chain
