"""Statements: a payee's totals over a period tie to the chain. Opening and closing claimable, earned and withdrawn
equal what `twinctl audit` recomputes from the chain's events at the period's boundary blocks (and what the contract
answers there), over a period with withdrawals and a payee change; the CSV adds up, the PDF parses; bad periods are
refused with one sentence, by the API and by `twinctl statement`."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import zlib
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from twin_licensing.api.app import create_app
from twin_licensing.api.deps import get_viewer
from twin_licensing.api.visibility import Viewer
from twin_licensing.audit.compare import audit
from twin_licensing.chain.settlement import SettlementClient
from twin_licensing.domain.periods import custom
from twin_licensing.domain.shares import BPS
from twin_licensing.settlement.config import SettlerConfig
from twin_licensing.settlement.settler import Settler
from twin_licensing.statements.compute import ROUNDING, UNACCEPTED, USES, build_statement
from twin_licensing.statements.render import Names, to_csv, to_pdf
from kit.uses import AGENCY, CREW, MODEL, SOCIAL, TWINCTL, USDC, backend_env, insert_uses


def _day(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request):
    """The index's database: SQLite, and PostgreSQL when one answers on 127.0.0.1:5432."""
    return request.getfixturevalue("engine" if request.param == "sqlite" else "pg_engine")


@pytest.fixture
def period_market(market, model, agency, brand, brand2, crew, chain, db, recorder, sync_index, admin):
    """Activity before, inside and after a two-day period: settlements in two categories from two brands, the
    agency's and the model's withdrawals, a payee change adding crew (who accepts only after the period), a new
    licence's upfront fee, the model's withdrawal of the social category (its notice an hour: in effect inside the
    period, the other category goes on), earnings still undistributed at the close."""
    settler = Settler(db, SettlementClient(chain, recorder), SettlerConfig(window_s=0.0))
    settler.reconcile()
    market.tx(admin, "TwinRegistry", "setNoticePeriod", 3_600)  # the twin's consent keeps this notice
    twin = market.twin(model, agency, agency_bps=1_750)
    offer = market.offer(model, twin, per_use_fee=3 * USDC + 7)  # odd fee: per-line rounding differs from the sum's
    a = market.licence(brand, offer, 200 * USDC)
    b = market.licence(brand2, offer, 100 * USDC)
    insert_uses(db, chain, brand, a, 5, tag="before")
    assert settler.step().uses == 5
    market.tx(agency, "LicenseToken", "withdraw")  # before the period

    head = chain.w3.eth.get_block("latest")["timestamp"]
    start = _day(head) + timedelta(days=2)
    period = custom(start.date().isoformat(), (start + timedelta(days=1)).date().isoformat())
    chain.rpc("evm_setNextBlockTimestamp", [hex(period.start_unix + 3_600)])
    insert_uses(db, chain, brand, a, 4, start_seq=5, tag="in")
    insert_uses(db, chain, brand, a, 3, start_seq=9, tag="in-social", category=SOCIAL)
    insert_uses(db, chain, brand2, b, 3, tag="in")
    assert settler.step().uses == 10
    # The model's withdraw credits what vested of both licences' upfront fees (UpfrontVested: income now).
    market.tx(model, "LicenseToken", "withdrawVested", [a, b])
    payees = [(model.address, BPS - 1_000 - 500, MODEL), (agency.address, 1_000, AGENCY), (crew[0].address, 500, CREW)]
    market.tx(model, "TwinRegistry", "setPayees", twin, payees)
    insert_uses(db, chain, brand2, b, 7, start_seq=3, tag="after-change", category=SOCIAL)
    assert settler.step().uses == 7
    market.licence(brand2, offer, 10 * USDC)  # an upfront fee inside the period
    market.tx(model, "TwinRegistry", "revokeCategoryConsent", twin, SOCIAL)  # no more purchases of the offer
    chain.rpc("evm_increaseTime", [3_601])  # in effect from here: social settles no more, e-commerce does
    market.tx(agency, "LicenseToken", "withdraw")
    insert_uses(db, chain, brand, a, 2, start_seq=12, tag="pending")  # undistributed when the period closes:
    assert settler.step().uses == 2  # the crew's part of it is not in her claimable, she has not accepted

    chain.rpc("evm_setNextBlockTimestamp", [hex(period.end_unix + 3_600)])
    insert_uses(db, chain, brand, a, 2, start_seq=14, tag="later")
    assert settler.step().uses == 2
    assert chain.call("TwinRegistry", "categoryConsentOf", twin, SOCIAL)[0] == 2  # withdrawn, in effect
    market.tx(crew[0], "TwinRegistry", "acceptPayee", twin)  # after the period: its pending part counts from now
    market.tx(crew[0], "LicenseToken", "withdraw")
    sync_index(db)
    return {"period": period, "payees": [model.address, agency.address, crew[0].address]}


def _books_claimable(chain, block: int, payee: str) -> tuple[int, int, int]:
    """(claimable, total earned, withdrawn) of `payee` before `block` as the contract answers at that block, after
    checking that `twinctl audit`'s recomputation from the chain's events gives the same."""
    views = chain.contract("LicenseToken").functions
    claimable = views.claimable(payee).call(block_identifier=block - 1)
    earned = views.totalEarned(payee).call(block_identifier=block - 1)
    report = audit(chain, None, from_block=chain.deployment.block_number, to_block=block - 1)
    rows = {(r.check, r.subject): r.events for r in report.rows}
    recomputed = (rows.get(("claimable", payee), 0), rows.get(("total earned", payee), 0))  # 0: not a payee yet
    assert recomputed == (claimable, earned), f"the audit's recomputation {recomputed} differs from the contract's"
    return claimable, earned, earned - claimable


def test_statement_totals_equal_the_audits_recomputation_and_the_files_add_up(period_market, chain, db):
    period = period_market["period"]
    with Session(db) as session:
        statements = [build_statement(session, chain.chain_id, p, period, now=0) for p in period_market["payees"]]
    model_statement, agency_statement, crew_statement = statements
    assert model_statement.withdrawals and len(agency_statement.withdrawals) == 1
    assert crew_statement.earned > 0 and crew_statement.opening.total_earned == 0  # crew joined inside the period
    for s in statements:
        assert s.ties, s.payee
        assert not s.closes_at_head and not s.running and s.opening.block < s.closing.block
        for balance in (s.opening, s.closing):
            claimable, earned, withdrawn = _books_claimable(chain, balance.block, s.payee)
            assert (balance.claimable, balance.total_earned, balance.withdrawn) == (claimable, earned, withdrawn)
        assert sum(line.amount for line in s.lines) == s.earned
        # The lines carry their proof; rounding lines only ever move micro-units.
        for line in s.lines:
            if line.kind == USES:
                assert re.fullmatch(r"0x[0-9a-f]{64}", line.tx_hash) and re.fullmatch(r"0x[0-9a-f]{64}", line.uses_root)
            if line.kind == ROUNDING:
                assert abs(line.amount) < 10
    # The crew's part of what was still undistributed at the close is on her lines but not in her claimable.
    (unaccepted,) = [line for line in crew_statement.lines if line.kind == UNACCEPTED]
    assert unaccepted.amount < 0 and crew_statement.closing.undistributed_share == 0
    # 19 uses paid in the period, 10 of them social; each line belongs to one category.
    uses = [line for line in model_statement.lines if line.kind == USES]
    assert sum(line.uses for line in uses) == 19
    assert sum(line.uses for line in uses if line.category == SOCIAL) == 10
    groups = model_statement.groups()
    assert {(g.kind, g.category) for g in groups} >= {("uses", 0), ("uses", SOCIAL), ("upfront", None)}
    # Upfront income is what vested (about 2 of 30 days of two 10 USDC fees), not the fees bought in the period.
    upfront = [line for line in model_statement.lines if line.kind == "upfront"]
    assert len(upfront) == 2 and 0 < sum(line.gross for line in upfront) < 2 * USDC

    # The agency's CSV adds up to her totals; her PDF parses and prints the check.
    s = agency_statement
    rows = list(csv.DictReader(io.StringIO(to_csv(s, Names()))))
    assert rows[0]["kind"] == "opening claimable" and rows[-1]["kind"] == "closing claimable"
    amounts = [Decimal(r["amount"]) for r in rows]
    assert sum(amounts[:-1]) == amounts[-1] == Decimal(s.closing.claimable) / USDC
    earned = sum(Decimal(r["amount"]) for r in rows if r["kind"] in ("upfront", "uses", "rounding", "unaccepted"))
    assert earned == Decimal(s.earned) / USDC
    assert all(r["tx_hash"].startswith("0x") and r["uses_root"].startswith("0x") for r in rows if r["kind"] == "uses")

    pdf = to_pdf(s, Names())
    assert pdf.startswith(b"%PDF")
    text = b"".join(zlib.decompress(m) for m in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S))
    assert b"Totals check" in text and b"ties" in text
    assert f"{s.closing.claimable // USDC:,}.".encode() in text

    # A period still running closes at the index's latest block.
    head_day = _day(chain.w3.eth.get_block("latest")["timestamp"])
    with Session(db) as session:
        s = build_statement(session, chain.chain_id, period_market["payees"][0],
                            custom(head_day.date().isoformat(), (head_day + timedelta(days=1)).date().isoformat()),
                            now=0)
    assert s.closes_at_head and s.running and s.ties
    claimable, _, _ = _books_claimable(chain, s.closing.block, s.payee)
    assert s.closing.claimable == claimable


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # the API and twinctl read the settings' database
def test_api_and_cli_serve_the_payee_and_refuse_bad_periods(period_market, chain, engine, index_settings, tmp_path):
    period = period_market["period"]
    model, agency = period_market["payees"][:2]
    app = create_app(index_settings, engine=engine)
    viewer = {"who": Viewer(model)}
    app.dependency_overrides[get_viewer] = lambda: viewer["who"]
    query = {"period": "custom", "from": period.start.date().isoformat(),
             "to": (period.end - timedelta(days=1)).date().isoformat()}
    with TestClient(app, raise_server_exceptions=False) as client:
        body = client.get(f"/api/v1/statements/{model}", params=query).json()
        assert body["ties"] and body["earned"] == body["closing"]["total_earned"] - body["opening"]["total_earned"]
        csv_answer = client.get(f"/api/v1/statements/{model}/csv", params=query)
        assert csv_answer.status_code == 200 and csv_answer.headers["content-type"].startswith("text/csv")
        pdf_answer = client.get(f"/api/v1/statements/{model}/pdf", params=query)
        assert pdf_answer.status_code == 200 and pdf_answer.content.startswith(b"%PDF")
        # Someone else, or nobody, gets the same 404 as for nothing at all; the guild sees it.
        for who in (Viewer(agency), Viewer()):
            viewer["who"] = who
            refused = client.get(f"/api/v1/statements/{model}/csv", params=query)
            assert refused.status_code == 404 and "sign in as that payee or the guild" in refused.json()["detail"]
        viewer["who"] = Viewer("0x" + "9" * 40, guild=True)
        assert client.get(f"/api/v1/statements/{model}", params=query).status_code == 200
        future = (datetime.now(timezone.utc) + timedelta(days=400)).strftime("%Y-%m")
        for bad, says in (
            ({"period": "month", "value": future}, "starts after today"),
            ({"period": "custom", "from": "2026-11-20", "to": "2026-11-03"}, "ends (2026-11-03) before it starts"),
            ({"period": "month", "value": "2026-13"}, "is not a month"),
            ({"period": "quarter", "value": "2026-Q5"}, "is not a quarter"),
            ({"period": "custom", "from": "2026-11-01"}, "needs both"),
            ({"period": "week", "value": "2026-11"}, "must be one of"),
        ):
            refused = client.get(f"/api/v1/statements/{model}/pdf", params=bad)
            assert 400 <= refused.status_code < 500 and says in refused.json()["detail"], (bad, refused.text)
            assert refused.json()["detail"].count(". ") == 0  # one sentence

    # twinctl statement writes both files and prints their paths; bad input is one line and a failure.
    env = backend_env(index_settings)
    first = period.start.date().isoformat()
    last = (period.end - timedelta(days=1)).date().isoformat()
    done = subprocess.run([str(TWINCTL), "statement", "--payee", model, "--from", first, "--to", last,
                           "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    printed = done.stdout.strip().splitlines()
    csv_path, pdf_path = printed[-2], printed[-1]
    assert csv_path.endswith(".csv") and pdf_path.endswith(".pdf") and "ties" in printed[0]
    assert open(pdf_path, "rb").read(4) == b"%PDF" and open(csv_path).readline().startswith("kind,")
    for args, says in (
        (["--payee", "0x1234", "--month", "2026-11"], "is not an address"),
        (["--payee", model, "--month", "2999-01"], "starts after today"),
    ):
        refused = subprocess.run([str(TWINCTL), "statement", *args, "--out", str(tmp_path / "no")], env=env,
                                 capture_output=True, text=True, timeout=120)
        assert refused.returncode != 0 and says in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
