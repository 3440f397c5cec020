"""`UsesVoided` in the index, without a node: a handed-over licence's seller-signed item that her escrow never will
pay moves the licence's settled count past it like a settlement, moves no money, and is kept in `settle_skips`
flagged `voided`; a rollback undoes it like any other event, and a void that does not start at the settled count
means an event was missed (the batch is refused)."""

from __future__ import annotations

import pytest

from kit.index_dump import assert_same_index
from test_settlement_v2_offline import BRAND, BUYER, ROOT, _common, _index, _rollback, _rows, lt
from twin_licensing.db.license_state import License, SettleSkip
from twin_licensing.db.registry_state import Twin
from twin_licensing.domain import skip_reasons
from twin_licensing.indexer.handlers import IndexInconsistency


def _sold_and_voided(chain) -> None:
    """Licence 1 handed over with 500k escrow; the seller's uses 0..1 paid from it, 2..3 voided (signed after the
    sale), the buyer's 4 paid from hers."""
    at = chain.head().timestamp + 1
    chain.block(lt("LicenseHandedOver", licenseId=1, seller=BRAND, buyer=BUYER, sellerEscrow=500_000, at=at),
                lt("Transfer", **{"from": BRAND, "to": BUYER, "tokenId": 1}))
    chain.block(lt("EscrowToppedUp", licenseId=1, **{"from": BUYER}, amount=100_000, escrow=100_000))
    chain.block(lt("UsesSettled", licenseId=1, twinId=1, firstSeq=0, count=2, amount=20_000, usesRoot=ROOT,
                   payer=BRAND),
                lt("UsesVoided", licenseId=1, firstSeq=2, count=2, reason=skip_reasons.NOT_HOLDER),
                lt("UsesSettled", licenseId=1, twinId=1, firstSeq=4, count=1, amount=10_000, usesRoot=ROOT,
                   payer=BUYER))


def test_a_void_moves_the_settled_count_and_no_money(db):
    chain = _common()
    _sold_and_voided(chain)
    _index(db, chain)
    (lic,) = _rows(db, License)
    assert lic["uses_settled"] == 5
    assert (lic["seller_escrow"], lic["seller_escrow_spent"], lic["escrow"], lic["escrow_spent"]) == (
        480_000, 20_000, 90_000, 10_000)
    (twin,) = _rows(db, Twin)
    assert (twin["earned"], twin["uses_settled"]) == (30_000, 3)  # the voided uses earned nothing
    assert [(r["first_seq"], r["count"], r["reason"], r["voided"]) for r in _rows(db, SettleSkip)] == [
        (2, 2, skip_reasons.NOT_HOLDER, True)]
    assert lic["last_skip_reason"] is None  # a void is no skip: nothing waits behind it


def test_a_rolled_back_void_is_undone(db, databases):
    chain = _common()
    _sold_and_voided(chain)
    _index(db, chain)
    other = chain.fork(len(chain.blocks) - 1, "b")  # the block with the void never happened
    other.block(lt("UsesSettled", licenseId=1, twinId=1, firstSeq=0, count=4, amount=40_000, usesRoot=ROOT,
                   payer=BRAND))
    _rollback(db, other, len(other.blocks) - 1)
    _index(db, other, start=len(other.blocks))
    assert _rows(db, SettleSkip) == []
    (lic,) = _rows(db, License)
    assert (lic["uses_settled"], lic["seller_escrow"]) == (4, 460_000)
    fresh = databases.new()
    _index(fresh, other)
    assert_same_index(db, fresh)


def test_a_void_off_the_settled_count_is_refused(db):
    chain = _common()
    chain.block(lt("UsesVoided", licenseId=1, firstSeq=3, count=1, reason=skip_reasons.GRACE_OVER))
    with pytest.raises(IndexInconsistency):
        _index(db, chain)
