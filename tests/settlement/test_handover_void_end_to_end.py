"""End to end, the attack on a handed-over licence: its seller reports a use dated a little ahead (the intake allows
clock skew), sells the licence, and reports again before the index has seen the sale (the intake still takes her as
the holder). None of those late uses is anyone's to pay; before issue 11's fix the contract skipped them for good and
every later use of the buyer stayed blocked behind them, so she used the twin for free. Now the settler sends them
to be voided, the contract moves past them, and the buyer's uses are paid in the same step; /uses, the licence's
uses_pending (the rule of usage.status) and `twinctl audit --expect-settled` agree: the late uses are rejected, neither paid nor pending.""" 

from __future__ import annotations

import subprocess
from datetime import datetime, timezone

import pytest
from sqlmodel import Session

from twin_licensing.audit.compare import audit
from twin_licensing.db.uses import Use
from twin_licensing.domain import skip_reasons
from twin_licensing.settlement.config import SettlerConfig
from twin_licensing.settlement.settler import Settler
from twin_licensing.usage import errors
from twin_licensing.usage.index_view import IndexView
from twin_licensing.usage.intake import UseIntake, parse_report
from twin_licensing.usage.status import use_views
from twin_licensing.chain.use_reports import UseReport, report_digest
from kit.uses import DAY, ECOMMERCE, TWINCTL, USDC, backend_env, domain_of, mask, scope_of, signed_report

NOW = SettlerConfig(window_s=0.0, poll_s=0.01)
FEE = 2 * USDC


def report(intake, chain, signer, licence, tag, used_at, seq):
    body = signed_report(signer, domain_of(chain), licence, tag, used_at=used_at, seq=seq)
    return intake.submit(parse_report(body)).use


@pytest.fixture
def sold(market, model, agency, brand, brand2, chain, engine, sync_index):
    """Uses 0, 1 of `brand` in time, use 2 dated 200 s ahead; the sale at `at`; use 3 of `brand` reported after it,
    before the index saw it; then `brand2`'s uses 4, 5 once it did. Returns (licence, at, uses, intake)."""
    twin = market.twin(model, agency)
    terms = (10 * USDC, FEE, 30 * DAY, 0, mask(ECOMMERCE), 0b1, False, True, 0)  # transferable
    market.tx(model, "LicenseToken", "publishOffer", twin, terms)
    lic = market.licence(brand, chain.call("LicenseToken", "offerCount"), 100 * USDC)
    sync_index(engine)
    intake = UseIntake(engine, domain_of(chain), chain.deployment.genesis_hash)
    now = chain.timestamp()
    uses = [report(intake, chain, brand, lic, "in-time-0", now, 0), report(intake, chain, brand, lic, "in-time-1", now, 1),
            report(intake, chain, brand, lic, "ahead", now + 200, 2)]  # within the intake's clock skew
    chain.rpc("evm_increaseTime", [60])  # sold a minute later: the use dated ahead is after the sale all the same
    market.tx(brand, "LicenseToken", "transferFrom", brand.address, brand2.address, lic)
    at = chain.call("LicenseToken", "handover", lic)[1]
    assert uses[2].used_at >= at
    uses.append(report(intake, chain, brand, lic, "after-sale", at + 1, 3))  # the index has not seen the sale yet
    sync_index(engine)
    with pytest.raises(errors.FormerHolder):
        report(intake, chain, brand, lic, "too-late", at + 2, 4)
    market.tx(brand2, "PaymentToken", "faucet", brand2.address, 20 * USDC)
    market.tx(brand2, "PaymentToken", "approve", chain.deployment.license_token, 20 * USDC)
    market.tx(brand2, "LicenseToken", "topUpEscrow", lic, 20 * USDC)
    sync_index(engine)
    uses += [report(intake, chain, brand2, lic, f"buyer-{i}", at + 5, 4 + i) for i in range(2)]
    assert [u.seq for u in uses] == list(range(6))
    return lic, at, uses, intake


def test_the_sellers_late_uses_are_voided_and_the_buyers_paid(market, chain, engine, sync_index, settlement_client,
                                                              brand, brand2, sold, index_settings):
    lic, at, uses, _ = sold
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    result = settler.step()
    assert result.succeeded and result.uses == 4  # paid: the seller's two in time, the buyer's two
    receipt = chain.wait(result.tx_hash)
    paid = chain.events(receipt, "LicenseToken", "UsesSettled")
    assert [(e["firstSeq"], e["count"], e["payer"]) for e in paid] == [(0, 2, brand.address), (4, 2, brand2.address)]
    voided = chain.events(receipt, "LicenseToken", "UsesVoided")
    assert [(e["firstSeq"], e["count"], e["reason"]) for e in voided] == [(2, 2, skip_reasons.NOT_HOLDER)]
    assert chain.events(receipt, "LicenseToken", "SettleItemSkipped") == []
    assert market.settled(lic) == 6
    assert chain.call("LicenseToken", "handover", lic)[2] == 100 * USDC - 2 * FEE  # the void took nothing
    assert market.escrow(lic) == 20 * USDC - 2 * FEE
    assert settler.step().uses == 0  # nothing left, nothing held

    sync_index(engine)
    report_ = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report_.ok, [*report_.differences, *report_.problems]
    assert (report_.uses_settled, report_.uses_pending, report_.uses_rejected) == (4, 0, 2)
    done = subprocess.run([str(TWINCTL), "audit", "--expect-settled"], env=backend_env(index_settings),
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 pending, 2 rejected" in " ".join(done.stdout.split())

    # GET /uses/{id} answers with `use_views` (the one rule; the licence's uses_pending counts with it too).
    with Session(engine) as session:
        rows = [session.get(Use, u.use_id) for u in uses]
        states = [v.model_dump() for v in use_views(session, IndexView(), rows)]
    assert [s["status"] for s in states] == ["settled", "settled", "rejected", "rejected", "settled", "settled"]
    assert states[2]["reason"] == states[3]["reason"] == skip_reasons.void_sentence(skip_reasons.NOT_HOLDER)
    assert "after selling the licence" in states[2]["reason"]


def stored(engine, chain, signer, licence, seq, used_at):
    """A use stored as the intake stores it, signed by `signer` (for a case the intake itself would not take)."""
    domain, scope = domain_of(chain), scope_of(chain)
    body = signed_report(signer, domain, licence, f"stored-{licence}-{seq}", seq=seq, used_at=used_at)
    signed = UseReport(licence, seq, body["use_ref"], body["category"], body["territory"], used_at)
    with Session(engine) as session:
        session.add(Use(chain_id=scope.chain_id, genesis_hash=scope.genesis_hash, license_id=licence,
                        twin_id=chain.call("LicenseToken", "licenseState", licence)[5], seq=seq,
                        use_ref=body["use_ref"], category=body["category"], territory=body["territory"],
                        used_at=used_at, signer=signer.address, signature=body["signature"],
                        digest=report_digest(domain, signed), accepted_at=datetime.now(timezone.utc)))
        session.commit()


def test_a_seller_whose_escrow_is_spent_does_not_hold_the_licence(market, model, agency, brand, brand2, chain,
                                                                 engine, sync_index, settlement_client):
    """Her escrow pays one of her three uses: the settler pays it, then sends the other two to be voided; before the
    fix it held the licence for a top-up that can never come (nobody tops up a seller's escrow)."""
    twin = market.twin(model, agency)
    market.tx(model, "LicenseToken", "publishOffer", twin, (10 * USDC, FEE, 30 * DAY, 0, mask(ECOMMERCE), 0b1, False,
                                                            True, 0))
    lic = market.licence(brand, chain.call("LicenseToken", "offerCount"), FEE)
    now = chain.timestamp()
    for seq in range(3):
        stored(engine, chain, brand, lic, seq, now)
    market.tx(brand, "LicenseToken", "transferFrom", brand.address, brand2.address, lic)
    at = chain.call("LicenseToken", "handover", lic)[1]
    market.tx(brand2, "PaymentToken", "faucet", brand2.address, 20 * USDC)
    market.tx(brand2, "PaymentToken", "approve", chain.deployment.license_token, 20 * USDC)
    market.tx(brand2, "LicenseToken", "topUpEscrow", lic, 20 * USDC)
    stored(engine, chain, brand2, lic, 3, at + 5)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()
    for _ in range(3):
        settler.step()
    assert market.settled(lic) == 4
    assert chain.call("LicenseToken", "handover", lic)[2] == 0
    assert market.escrow(lic) == 20 * USDC - FEE
    sync_index(engine)
    report_ = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report_.ok, [*report_.differences, *report_.problems]
    assert (report_.uses_settled, report_.uses_pending, report_.uses_rejected) == (2, 0, 2)


def test_the_intake_refuses_a_holders_use_dated_before_she_got_the_licence(chain, brand2, sold):
    """The contract pays a report dated before the handover only from the seller's escrow, signed by her: the
    buyer's would be skipped for good and block every later use."""
    lic, at, _, intake = sold
    with pytest.raises(errors.MalformedReport, match="before licence .* passed to"):
        report(intake, chain, brand2, lic, "backdated", at - 5, 6)
