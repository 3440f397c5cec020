"""The audit recomputes earnings and escrow from chain events alone and compares them with the contract and the
database; any difference makes it fail. `verify-use` proves one use on chain."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from sqlalchemy import update
from sqlmodel import Session

from twin_licensing.audit.compare import audit
from twin_licensing.chain.settlement import SettlementClient
from twin_licensing.db.license_state import PayeeBalance
from twin_licensing.db.uses import Use
from twin_licensing.settlement.config import SettlerConfig
from twin_licensing.settlement.settler import Settler
from kit.uses import DAY, TWINCTL, USDC, backend_env, insert_uses, kill, spawn


@pytest.fixture
def busy_market(market, model, agency, model2, brand, brand2, chain, engine, recorder):
    """Two twins, three licences, settled uses, a top-up, a withdrawal and an expired licence's reclaim."""
    twin = market.twin(model, agency, agency_bps=1_750)
    twin2 = market.twin(model2)
    offer = market.offer(model, twin, per_use_fee=3 * USDC + 7)  # odd fee: exercises rounding to the model
    short = market.offer(model2, twin2, per_use_fee=2 * USDC, duration=2 * DAY)
    a = market.licence(brand, offer, 100 * USDC)
    b = market.licence(brand2, offer, 50 * USDC)
    c = market.licence(brand2, short, 10 * USDC)
    insert_uses(engine, chain, brand, a, 7)
    insert_uses(engine, chain, brand2, b, 3)
    insert_uses(engine, chain, brand2, c, 2)
    settler = Settler(engine, SettlementClient(chain, recorder), SettlerConfig(window_s=0.0))
    settler.reconcile()
    assert settler.step().uses == 12
    market.tx(brand2, "PaymentToken", "faucet", brand2.address, 5 * USDC)
    market.tx(brand2, "PaymentToken", "approve", chain.deployment.license_token, 5 * USDC)
    market.tx(brand2, "LicenseToken", "topUpEscrow", b, 5 * USDC)
    market.tx(agency, "LicenseToken", "withdraw")
    insert_uses(engine, chain, brand, a, 2, start_seq=7, tag="later")
    assert settler.step().uses == 2
    # The short licence's escrow is reclaimable once the grace after its expiry (7 days by default) is over.
    chain.rpc("evm_increaseTime", [10 * DAY])
    chain.rpc("evm_mine")
    market.tx(brand2, "LicenseToken", "reclaimEscrow", c)
    return {"a": a, "b": b, "c": c, "settler": settler}


def test_audit_agrees_with_contract_and_database(busy_market, chain, engine, sync_index):
    sync_index(engine)
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, [*report.differences, *report.problems]
    assert report.uses_total == 14 and report.uses_proven == 14 and report.uses_pending == 0
    checks = {row.check for row in report.rows}
    assert {"total earned", "claimable", "escrow", "uses settled", "token balance = escrow + unvested + owed",
            "upfront vested", "grace ends at", "seller escrow", "total unvested"} <= checks
    escrow_a = next(r for r in report.rows if r.check == "escrow" and r.subject == f"licence {busy_market['a']}")
    assert escrow_a.events == escrow_a.contract == escrow_a.database == 100 * USDC - 9 * (3 * USDC + 7)


def test_audit_command_prints_a_table_and_exits_zero(busy_market, chain, engine, sync_index, index_settings):
    sync_index(engine)
    done = subprocess.run([str(TWINCTL), "audit"], env=backend_env(index_settings), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no difference" in done.stdout and "14 proven" in done.stdout


def test_audit_fails_on_a_database_difference(busy_market, chain, engine, sync_index, index_settings, agency):
    sync_index(engine)
    with Session(engine) as session:
        session.execute(update(PayeeBalance).where(PayeeBalance.payee == agency.address)
                        .values(distributed=PayeeBalance.distributed + 1))
        session.commit()
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert not report.ok
    (diff,) = report.differences
    assert diff.subject == agency.address and diff.database == diff.events + 1 == diff.contract + 1
    done = subprocess.run([str(TWINCTL), "audit"], env=backend_env(index_settings), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1 and "DIFF" in done.stdout


def test_audit_fails_when_a_recorded_use_differs_from_what_was_settled(busy_market, chain, engine, sync_index):
    sync_index(engine)
    with Session(engine) as session:
        session.execute(update(Use).where(Use.license_id == busy_market["a"], Use.seq == 3)
                        .values(category=1))
        session.commit()
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert not report.ok
    assert any("do not hash to the root" in p for p in report.problems)


def test_verify_use_command_proves_a_use_on_chain(busy_market, chain, engine, sync_index, index_settings):
    sync_index(engine)
    env = backend_env(index_settings)
    done = subprocess.run([str(TWINCTL), "verify-use", "5"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "UseProofVerifier" in done.stdout and "VALID" in done.stdout
    missing = subprocess.run([str(TWINCTL), "verify-use", "999"], env=env, capture_output=True, text=True,
                             timeout=120)
    assert missing.returncode == 1 and "no use 999" in missing.stderr


def test_reorganisation_during_settlement_leaves_no_use_unpaid_or_paid_twice(market, model, brand, brand2, chain,
                                                                             engine, sync_index, index_settings,
                                                                             tmp_path):
    twin = market.twin(model)
    offer = market.offer(model, twin, per_use_fee=USDC)
    licences = [(market.licence(brand, offer, 200 * USDC), brand), (market.licence(brand2, offer, 200 * USDC), brand2)]
    sync_index(engine)
    log = tmp_path / "settler.log"
    settler = spawn(["settle", "--window", "0.05"], backend_env(index_settings), log)
    try:
        next_seq = {lid: 0 for lid, _ in licences}

        def feed(rounds: int) -> None:
            for _ in range(rounds):
                for lid, who in licences:
                    insert_uses(engine, chain, who, lid, 5, start_seq=next_seq[lid], tag="reorg")
                    next_seq[lid] += 5
                time.sleep(0.1)

        def settled() -> int:
            return sum(market.settled(lid) for lid, _ in licences)

        feed(4)
        deadline = time.monotonic() + 60
        while settled() < 40 and time.monotonic() < deadline:
            time.sleep(0.1)
        sync_index(engine)
        snapshot = chain.rpc("evm_snapshot")
        feed(6)  # settled on a branch about to disappear
        while settled() < 100 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert settled() == 100
        sync_index(engine)  # the index follows the doomed branch too
        assert chain.rpc("evm_revert", [snapshot])  # the branch with 60 settled uses is gone
        chain.resync_nonces()
        chain.rpc("hardhat_mine", ["0x3"])  # the other branch grows past it
        feed(2)
        while settled() < 120 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert settled() == 120, log.read_text()[-2000:]
    finally:
        kill(settler, signal.SIGTERM)
    sync_index(engine)
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, [*report.differences, *report.problems]
    assert report.uses_total == 120 and report.uses_proven == 120 and report.uses_pending == 0
    for lid, _ in licences:
        assert market.escrow(lid) == 200 * USDC - 60 * USDC


def test_audit_recomputes_payee_leave_and_withdrawals_from_unaccepted_twins(market, model, agency, crew, brand, chain,
                                                                           engine, recorder, sync_index):
    """Issue 10: a payee counts a twin in claimable() only once it accepted; one that never accepted still reaches
    its part with withdrawFrom; one that leaves keeps what was split to it and its share goes to the model. The
    events alone give every balance, and `claimableFrom` over the twins listing each payee."""
    leaver, stayer = crew[0], crew[1]  # neither ever accepts
    twin = market.twin(model, agency, agency_bps=1_500)  # the agency accepts
    market.tx(model, "TwinRegistry", "setPayees", twin, [(model.address, 8_000, 0), (agency.address, 1_500, 1),
                                                          (leaver.address, 300, 2), (stayer.address, 200, 2)])
    fee = 3 * USDC + 7
    lic = market.licence(brand, market.offer(model, twin, per_use_fee=fee), 100 * USDC)
    settler = Settler(engine, SettlementClient(chain, recorder), SettlerConfig(window_s=0.0))
    settler.reconcile()
    insert_uses(engine, chain, brand, lic, 4)
    assert settler.step().uses == 4
    assert market.chain.call("LicenseToken", "claimable", leaver.address) == 0  # not accepted: not counted ...
    market.tx(leaver, "LicenseToken", "withdrawFrom", [twin])  # ... but reachable
    insert_uses(engine, chain, brand, lic, 3, start_seq=4, tag="after")
    assert settler.step().uses == 3
    market.tx(leaver, "TwinRegistry", "leavePayee", twin)  # splits first (its part stays its own); 3 % to the model
    insert_uses(engine, chain, brand, lic, 2, start_seq=7, tag="left")
    assert settler.step().uses == 2  # not split yet: the accepted agency's claimable holds its share of them
    sync_index(engine)

    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, [*report.differences, *report.problems]
    rows = {(r.check, r.subject): r for r in report.rows}
    unsplit = 2 * fee
    agency_row = rows[("claimable", agency.address)]
    assert agency_row.events == agency_row.contract and agency_row.events >= unsplit * 1_500 // 10_000 > 0
    leaver_row = rows[("claimable", leaver.address)]
    assert leaver_row.events == leaver_row.contract == 3 * fee * 300 // 10_000  # split when it left
    assert ("claimable from listed twins", leaver.address) not in rows  # no twin lists it any more
    # The stayer: its split balance counts; its part of the two uses settled since only through withdrawFrom.
    stayer_from, stayer_row = rows[("claimable from listed twins", stayer.address)], rows[("claimable", stayer.address)]
    assert stayer_from.events == stayer_from.contract and stayer_row.events == stayer_row.contract
    assert stayer_from.events - stayer_row.events == unsplit * 200 // 10_000
    assert rows[("total owed", "LicenseToken")].events == rows[("total owed", "LicenseToken")].contract
    assert report.uses_proven == 9
