"""The audit flags a `NotHolder` void that swallowed uses the seller signed before the handover (docs/contracts.md,
"Known limits", "Seller voids"): a recorder that bundles her payable uses with one she dated after the sale makes the
contract void them all, and the model loses their pay. The honest settler cuts items at the handover, so its voids
are not flagged; `GraceOver` and `InsufficientEscrow` voids are meant for pre-handover uses and are not either."""

from __future__ import annotations

import subprocess

import pytest

from twin_licensing.audit.compare import audit
from twin_licensing.audit.voids import SellerVoid, StoredUse, payable_uses_voided
from twin_licensing.domain.skip_reasons import GRACE_OVER, INSUFFICIENT_ESCROW, NOT_HOLDER
from twin_licensing.domain.times import when
from twin_licensing.settlement.batch import item_of
from twin_licensing.settlement.config import SettlerConfig
from twin_licensing.settlement.settler import Settler
from twin_licensing.usage.intake import UseIntake, parse_report
from kit.uses import DAY, ECOMMERCE, TWINCTL, USDC, backend_env, domain_of, mask, signed_report

SELLER = "0x" + "ab" * 20
BUYER = "0x" + "cd" * 20
AT = 1_000_000


def _void(first: int, count: int, reason: int = NOT_HOLDER) -> SellerVoid:
    return SellerVoid(7, first, count, reason, SELLER, AT, "0xfeed")


# ---- the rule, on rows ----------------------------------------------------------------------------------------------

def test_a_not_holder_void_over_the_sellers_pre_handover_uses_is_a_problem():
    uses = [StoredUse(0, SELLER, AT - 100), StoredUse(1, SELLER.upper().replace("0X", "0x"), AT - 1),
            StoredUse(2, SELLER, AT + 5), StoredUse(3, SELLER, AT - 50)]
    sentence = payable_uses_voided(_void(0, 3), uses)  # use 3 (seq 3) is outside the void
    assert sentence is not None
    assert "licence 7" in sentence and "use #1, use #2 " in sentence and "use #3" not in sentence
    assert "use #4" not in sentence and "before the handover" in sentence and "0xfeed" in sentence


def test_an_honest_void_and_other_reasons_are_not_flagged():
    uses = [StoredUse(0, SELLER, AT - 100), StoredUse(1, SELLER, AT), StoredUse(2, SELLER, AT + 9),
            StoredUse(3, BUYER, AT - 100)]  # a stranger's early use is not the seller's pay
    assert payable_uses_voided(_void(1, 2), uses) is None  # cut at the handover: only late uses
    assert payable_uses_voided(_void(3, 1), uses) is None
    for reason in (GRACE_OVER, INSUFFICIENT_ESCROW):  # voids meant for her pre-handover uses
        assert payable_uses_voided(_void(0, 3, reason), uses) is None
    never_sold = SellerVoid(7, 0, 3, NOT_HOLDER, None, 0, "0xfeed")
    assert payable_uses_voided(never_sold, uses) is None


# ---- against the contract -------------------------------------------------------------------------------------------

FEE = 2 * USDC


def _report(intake, chain, signer, licence, tag, used_at, seq):
    return intake.submit(parse_report(signed_report(signer, domain_of(chain), licence, tag, used_at=used_at,
                                                    seq=seq))).use


@pytest.fixture
def sold(market, model, brand, brand2, chain, engine, sync_index):
    """Seller `brand` reports uses 0, 1 in time and use 2 dated past the sale (within the intake's skew), then sells
    the licence to `brand2` at `at`. Returns (licence, at, uses)."""
    twin = market.twin(model)
    market.tx(model, "LicenseToken", "publishOffer", twin,
              (10 * USDC, FEE, 30 * DAY, 0, mask(ECOMMERCE), 0b1, False, True, 0))  # transferable
    lic = market.licence(brand, chain.call("LicenseToken", "offerCount"), 100 * USDC)
    sync_index(engine)
    intake = UseIntake(engine, domain_of(chain), chain.deployment.genesis_hash)
    now = chain.timestamp()
    uses = [_report(intake, chain, brand, lic, "in-time-0", now, 0),
            _report(intake, chain, brand, lic, "in-time-1", now, 1),
            _report(intake, chain, brand, lic, "ahead", now + 200, 2)]
    chain.rpc("evm_increaseTime", [60])
    market.tx(brand, "LicenseToken", "transferFrom", brand.address, brand2.address, lic)
    at = chain.call("LicenseToken", "handover", lic)[1]
    assert uses[1].used_at < at <= uses[2].used_at
    sync_index(engine)
    return lic, at, uses


def test_a_recorder_bundling_payable_uses_into_a_void_fails_the_audit(market, chain, engine, sync_index, recorder,
                                                                    sold, index_settings):
    lic, at, uses = sold
    # The recorder sends the seller's three uses as one item: its last report is dated after the sale.
    receipt = market.tx(recorder, "LicenseToken", "settle", [item_of(uses).as_tuple()])
    [void] = chain.events(receipt, "LicenseToken", "UsesVoided")
    assert (void["firstSeq"], void["count"], void["reason"]) == (0, 3, NOT_HOLDER)
    sync_index(engine)

    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert not report.ok and not report.differences
    [problem] = [p for p in report.problems if "NotHolder" in p]
    assert f"licence {lic}" in problem and "use #1, use #2 " in problem and "use #3" not in problem
    assert when(at) in problem
    done = subprocess.run([str(TWINCTL), "audit"], env=backend_env(index_settings), capture_output=True, text=True,
                          timeout=180)
    assert done.returncode != 0, done.stdout + done.stderr
    assert "use #1, use #2" in " ".join(done.stdout.split())  # rich wraps long lines


def test_the_honest_settlers_void_passes_the_audit(chain, engine, sync_index, settlement_client, sold):
    lic, _at, _uses = sold
    settler = Settler(engine, settlement_client, SettlerConfig(window_s=0.0, poll_s=0.01))
    settler.reconcile()
    result = settler.step()
    assert result.succeeded and result.uses == 2  # the seller's two in time, paid from her escrow
    voided = chain.events(chain.wait(result.tx_hash), "LicenseToken", "UsesVoided")
    assert [(e["firstSeq"], e["count"], e["reason"]) for e in voided] == [(2, 1, NOT_HOLDER)]
    sync_index(engine)
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, [*report.differences, *report.problems]
