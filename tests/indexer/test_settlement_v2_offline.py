"""Issue 11's events through the indexer's own write and rollback paths, without a node: synthetic blocks of decoded
events (as the fetcher hands them over) are written batch by batch, one branch is rolled back and another indexed,
and the result must equal a fresh index of the surviving chain, on SQLite and PostgreSQL. The chain tests
(test_settlement_v2.py) check the same handlers against the contracts themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from kit.index_dump import assert_same_index
from twin_licensing.chain.events import DecodedEvent
from twin_licensing.chain.logs import BlockHeader
from twin_licensing.db.license_state import License, Offer, SettleSkip, Settlement
from twin_licensing.db.registry_state import PausePeriod, ProtocolParam, Twin
from twin_licensing.domain import skip_reasons
from twin_licensing.domain.licence_end import licence_end, parse_consent_ends
from twin_licensing.indexer.fetcher import Batch
from twin_licensing.indexer.handlers import IndexInconsistency, event_values
from twin_licensing.indexer.reorg import rollback
from twin_licensing.indexer.store import Cursor, read_cursor, save_cursor, write_batch, write_transaction

CHAIN_ID = 31_337
T0 = 1_800_000_000
MODEL, BRAND, BUYER = ("0x" + c * 20 for c in ("a1", "b2", "c3"))
ROOT = "0x" + "11" * 32
DAY = 86_400


def _hash(branch: str, number: int) -> str:
    return "0x" + f"{branch}{number:x}".rjust(64, "0")


@dataclass
class FakeChain:
    """Blocks of decoded events; each block one second after the previous unless told otherwise."""

    branch: str = "a"
    blocks: list[tuple[BlockHeader, list[DecodedEvent]]] = field(default_factory=list)

    def head(self) -> BlockHeader:
        return self.blocks[-1][0] if self.blocks else BlockHeader(0, _hash("g", 0), _hash("g", 0), T0)

    def block(self, *events: tuple[str, str, dict], at: int | None = None) -> int:
        parent = self.head()
        number = parent.number + 1
        header = BlockHeader(number, _hash(self.branch, number), parent.hash, at or parent.timestamp + 1)
        tx = "0x" + f"{self.branch}{number:x}".rjust(64, "e")
        decoded = [DecodedEvent(number, header.hash, tx, 0, n, contract, name, dict(args))
                   for n, (contract, name, args) in enumerate(events)]
        self.blocks.append((header, decoded))
        return header.timestamp

    def fork(self, at: int, branch: str) -> "FakeChain":
        return FakeChain(branch, list(self.blocks[:at]))


def _cursor() -> Cursor:
    return Cursor(CHAIN_ID, _hash("g", 0), "0x" + "22" * 20, "0x" + "11" * 20, 1, 0, _hash("g", 0), 0)


def _index(engine, chain: FakeChain, start: int = 1) -> None:
    with write_transaction(engine) as conn:
        cursor = read_cursor(conn, CHAIN_ID)
        if cursor is None:
            cursor = _cursor()
            save_cursor(conn, cursor)
    for header, events in chain.blocks[start - 1:]:
        batch = Batch(header.number, header.number, header.parent_hash, header.hash, header.number,
                      {header.number: header}, events, [event_values(CHAIN_ID, ev, header.timestamp) for ev in events])
        with write_transaction(engine) as conn:
            cursor = write_batch(conn, cursor, batch, 0, 64)


def _rollback(engine, chain: FakeChain, ancestor: int) -> None:
    with write_transaction(engine) as conn:
        rollback(conn, read_cursor(conn, CHAIN_ID), ancestor, chain.blocks[ancestor - 1][0].hash)


# ---------------------------------------------------------------------------------------------- events


def lt(name: str, **args) -> tuple[str, str, dict]:
    return ("LicenseToken", name, args)


def reg(name: str, **args) -> tuple[str, str, dict]:
    return ("TwinRegistry", name, args)


def _terms(categories: int, duration: int = 10 * DAY) -> dict:
    return {"upfrontFee": 1_000_000, "perUseFee": 10_000, "duration": duration, "maxUses": 0,
            "categories": categories, "territories": 1, "exclusive": False, "transferable": True, "idleEndAfter": 0}


def _common() -> FakeChain:
    """A twin, offers in e-commerce (1), in social (2) and in both (3), and licence 1 bought under offer 1."""
    chain = FakeChain()
    chain.block(reg("TwinRegistered", twinId=1, model=MODEL, uri="ipfs://t", consentHash="0x" + "01" * 32,
                    attestationId=1, noticePeriod=3_600),
                reg("PayeesSet", twinId=1, accounts=[MODEL], sharesBps=[10_000], roles=[0]))
    chain.block(lt("OfferPublished", offerId=1, twinId=1, terms=_terms(0b1)),
                lt("OfferPublished", offerId=2, twinId=1, terms=_terms(0b10)),
                lt("OfferPublished", offerId=3, twinId=1, terms=_terms(0b11)))
    t = chain.head().timestamp + 1
    chain.block(lt("LicensePurchased", licenseId=1, offerId=1, twinId=1, buyer=BRAND, upfrontFee=1_000_000,
                   escrow=500_000, expiry=t + 10 * DAY),
                lt("Transfer", **{"from": "0x" + "00" * 20, "to": BRAND, "tokenId": 1}))
    return chain


def _branch_a(chain: FakeChain) -> None:
    """Settled, vested, handed over, seller-paid, skipped, paused, grace set, revoked (offers withdrawn), ended."""
    chain.block(lt("UsesSettled", licenseId=1, twinId=1, firstSeq=0, count=3, amount=30_000, usesRoot=ROOT,
                   payer=BRAND),
                lt("UpfrontVested", licenseId=1, twinId=1, amount=1_000))
    handover = chain.head().timestamp + 1
    chain.block(lt("LicenseHandedOver", licenseId=1, seller=BRAND, buyer=BUYER, sellerEscrow=470_000, at=handover),
                lt("Transfer", **{"from": BRAND, "to": BUYER, "tokenId": 1}))
    chain.block(lt("UsesSettled", licenseId=1, twinId=1, firstSeq=3, count=2, amount=20_000, usesRoot=ROOT,
                   payer=BRAND),
                lt("SettleItemSkipped", licenseId=1, firstSeq=5, count=4, reason=skip_reasons.INSUFFICIENT_ESCROW),
                lt("SettleItemSkipped", licenseId=77, firstSeq=0, count=1, reason=skip_reasons.UNKNOWN_LICENSE))
    chain.block(lt("EscrowToppedUp", licenseId=1, **{"from": BUYER}, amount=100_000, escrow=100_000),
                lt("UsesSettled", licenseId=1, twinId=1, firstSeq=5, count=4, amount=40_000, usesRoot=ROOT,
                   payer=BUYER))
    chain.block(lt("Paused", account=MODEL), lt("GracePeriodSet", gracePeriod=3_600))
    revoked_at = chain.block(lt("Unpaused", account=MODEL),
                             reg("ConsentRevoked", twinId=1, effectiveAt=chain.head().timestamp + 1 + 3_600),
                             lt("TwinOffersWithdrawn", twinId=1, categories=0xFF))
    effective = revoked_at + 3_600
    chain.block(lt("UpfrontVested", licenseId=1, twinId=1, amount=4_000),
                lt("UpfrontRefunded", licenseId=1, to=BUYER, amount=995_000), at=effective + 10)
    chain.block(lt("EscrowReclaimed", licenseId=1, to=BUYER, amount=60_000),
                lt("SellerEscrowReclaimed", licenseId=1, seller=BRAND, amount=450_000), at=effective + 3_700)
    chain.block(reg("ConsentGranted", twinId=1, consentHash="0x" + "02" * 32, noticePeriod=3_600))
    chain.block(lt("OfferPublished", offerId=4, twinId=1, terms=_terms(0b1)))


def _branch_b(chain: FakeChain) -> None:
    """Another history: a social revocation withdraws offers 2 and 3 only; paused and left so; one skip."""
    chain.block(lt("Paused", account=MODEL))
    chain.block(reg("CategoryConsentRevoked", twinId=1, category=1, effectiveAt=chain.head().timestamp + 3_601),
                lt("TwinOffersWithdrawn", twinId=1, categories=0b10))
    chain.block(lt("SettleItemSkipped", licenseId=1, firstSeq=0, count=2, reason=skip_reasons.GRACE_OVER))
    chain.block(reg("ConsentRevoked", twinId=1, effectiveAt=chain.head().timestamp + 3_601))
    chain.block(reg("ConsentGranted", twinId=1, consentHash="0x" + "03" * 32, noticePeriod=3_600))  # before effect


def _rows(engine, model, *where) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(model).where(*where)).mappings()]


def test_branch_a_lands_as_its_events_say(db):
    chain = _common()
    _branch_a(chain)
    _index(db, chain)

    (lic,) = _rows(db, License)
    assert (lic["duration"], lic["uses_settled"], lic["holder"]) == (10 * DAY, 9, BUYER)
    # Licence escrow: 500k, 30k spent, 470k handed over, 100k topped up, 40k spent, 60k reclaimed.
    assert (lic["escrow"], lic["escrow_deposited"], lic["escrow_spent"], lic["escrow_handed_over"],
            lic["escrow_reclaimed"]) == (0, 600_000, 70_000, 470_000, 60_000)
    assert lic["escrow"] == (lic["escrow_deposited"] - lic["escrow_spent"] - lic["escrow_reclaimed"]
                             - lic["escrow_handed_over"])
    # The seller's: 470k at the handover, 20k paid for her uses, 450k reclaimed.
    assert (lic["seller"], lic["handover_escrow"], lic["seller_escrow"], lic["seller_escrow_spent"],
            lic["seller_escrow_reclaimed"]) == (BRAND, 470_000, 0, 20_000, 450_000)
    assert lic["escrow_handed_over"] == (lic["seller_escrow"] + lic["seller_escrow_spent"]
                                         + lic["seller_escrow_reclaimed"])
    assert (lic["upfront_fee"], lic["upfront_released"], lic["upfront_refunded"]) == (1_000_000, 5_000, 995_000)
    assert (lic["last_skip_reason"], lic["last_skip_first_seq"], lic["last_skip_count"]) == (
        skip_reasons.INSUFFICIENT_ESCROW, 5, 4)
    settled = sorted(_rows(db, Settlement), key=lambda r: r["first_seq"])
    payers = [(r["first_seq"], r["holder"], r["payer"]) for r in settled]
    assert payers == [(0, BRAND, BRAND), (3, BUYER, BRAND), (5, BUYER, BUYER)]
    assert sorted((r["license_id"], r["reason"]) for r in _rows(db, SettleSkip)) == [
        (1, skip_reasons.INSUFFICIENT_ESCROW), (77, skip_reasons.UNKNOWN_LICENSE)]
    assert _rows(db, License, License.license_id == 77) == []  # a skip of an unknown licence creates none

    # The twin earned the uses and the vested upfront only; the refund is no earning of hers.
    (twin,) = _rows(db, Twin)
    assert (twin["earned"], twin["undistributed"], twin["upfront_sold"], twin["upfront_released"]) == (
        90_000 + 5_000, 95_000, 1_000_000, 5_000)
    revocation = parse_consent_ends(twin["consent_ends"])
    assert twin["revocation_effective_at"] == 0 and len(revocation) == 1
    assert licence_end(lic["expiry"], lic["started_at"], twin["revocation_effective_at"], twin["consent_ends"]) == (
        revocation[0])
    offers = {o["offer_id"]: (o["active"], o["withdrawn_by"]) for o in _rows(db, Offer)}
    assert offers == {1: (False, "consent"), 2: (False, "consent"), 3: (False, "consent"), 4: (True, None)}
    pauses = _rows(db, PausePeriod)
    assert [(p["unpaused_at"] - p["paused_at"]) for p in pauses] == [1]
    params = {p["name"]: p["value"] for p in _rows(db, ProtocolParam)}
    assert params["grace_period"] == "3600" and params["paused"] == "false"


def test_a_category_revocation_withdraws_only_the_offers_with_that_category_and_an_early_grant_ends_nothing(db):
    chain = _common()
    _branch_b(chain)
    _index(db, chain)
    offers = {o["offer_id"]: (o["active"], o["withdrawn_by"]) for o in _rows(db, Offer)}
    assert offers == {1: (True, None), 2: (False, "consent"), 3: (False, "consent")}
    (twin,) = _rows(db, Twin)
    assert twin["consent_ends"] == "" and twin["revocation_effective_at"] == 0  # granted before it took effect
    (pause,) = _rows(db, PausePeriod)
    assert pause["unpaused_at"] is None  # still paused


@pytest.mark.parametrize("ancestor", [3, 5, 8])
def test_a_reorganisation_across_the_new_events_equals_a_fresh_index(db, databases, ancestor):
    chain = _common()
    _branch_a(chain)
    _index(db, chain)
    other = chain.fork(ancestor, "b")
    _branch_b(other)
    _rollback(db, chain, ancestor)
    _index(db, other, ancestor + 1)
    fresh = databases.new()
    _index(fresh, other)
    assert_same_index(db, fresh)
    # And back again: branch B rolled back, A indexed once more, equals a fresh index of A.
    _rollback(db, other, ancestor)
    _index(db, chain, ancestor + 1)
    fresh_a = databases.new()
    _index(fresh_a, chain)
    assert_same_index(db, fresh_a)


@pytest.mark.parametrize(("event", "why"), [
    (lt("LicenseHandedOver", licenseId=1, seller=BRAND, buyer=BUYER, sellerEscrow=1, at=T0 + 10),
     "hands over 1 as the seller's escrow, the escrow is 500000"),
    (lt("UpfrontRefunded", licenseId=1, to=BRAND, amount=1_000_001), "refunds 1000001 of an upfront fee of 1000000"),
    (lt("UpfrontVested", licenseId=1, twinId=1, amount=1_000_001), "vests 1000001 of an upfront fee of 1000000"),
    (lt("SellerEscrowReclaimed", licenseId=1, seller=BRAND, amount=5), "reclaimed 5, the seller's escrow is 0"),
    (lt("UsesSettled", licenseId=1, twinId=1, firstSeq=0, count=1, amount=500_001, usesRoot=ROOT, payer=BRAND),
     "escrow 500000 is less than the amount 500001"),
])
def test_money_that_does_not_add_up_is_refused_and_nothing_of_the_batch_is_stored(db, event, why):
    chain = _common()
    _index(db, chain)
    chain.block(event)
    with pytest.raises(IndexInconsistency, match=why):
        _index(db, chain, 4)
    with db.connect() as conn:
        assert read_cursor(conn, CHAIN_ID).block_number == 3

