"""Each contract event lands in its state table with the values the contracts themselves report."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from kit.scenario import GRACE, USDC, Scenario, claimable_from_index, root
from twin_licensing.chain.client import role_id
from twin_licensing.db.chain_log import ChainEvent, IndexCursor
from twin_licensing.db.license_state import Earning, License, Offer, SettleSkip, Settlement
from twin_licensing.db.registry_state import (
    ConsentChange, GuildFloor, PausePeriod, ProtocolParam, RoleMember, Twin, TwinPayee,
)
from twin_licensing.domain import category_consent, skip_reasons
from twin_licensing.domain.grace import grace_ends_at
from twin_licensing.domain.licence_end import licence_end, parse_consent_ends


def _rows(engine, model, *where, order=None):
    with engine.connect() as conn:
        query = select(model).where(*where)
        if order is not None:
            query = query.order_by(*order)
        return [dict(r) for r in conn.execute(query).mappings()]


def test_every_event_type_lands_in_its_state_table(chain, db, make_indexer):
    s = Scenario(chain)
    ids = s.everything()
    cursor = make_indexer(db).sync()
    cid = chain.chain_id
    twin_id, offer_id, license_id = ids["twin"], ids["offer"], ids["license"]

    # The event log: one row per log of the two contracts, none missing, none doubled.
    logs = chain.w3.eth.get_logs({"fromBlock": chain.deployment.block_number, "toBlock": cursor.block_number,
                                  "address": [chain.deployment.twin_registry, chain.deployment.license_token]})
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ChainEvent)).scalar_one() == len(logs)
        names = set(conn.execute(select(ChainEvent.name)).scalars())
        stored_cursor = conn.execute(select(IndexCursor)).mappings().one()
    assert {"TwinRegistered", "PayeesSet", "TwinUriSet", "ConsentRevoked", "ConsentGranted", "CategoryFloorSet",
            "AgencyCapSet", "NoticePeriodSet", "LicenseContractSet", "OfferPublished", "OfferWithdrawn",
            "LicensePurchased", "EscrowToppedUp", "EscrowReclaimed", "UsesSettled", "EarningsDistributed",
            "Withdrawn", "Transfer", "Locked", "Paused", "Unpaused", "RoleGranted", "RoleRevoked", "GracePeriodSet",
            "SettleItemSkipped", "UpfrontVested", "UpfrontRefunded", "LicenseHandedOver", "SellerEscrowReclaimed",
            "TwinOffersWithdrawn"} <= names
    assert stored_cursor["events"] == len(logs)
    assert stored_cursor["block_hash"] == chain.w3.eth.get_block(cursor.block_number)["hash"].to_0x_hex()

    # Licence: holder, terms, expiry, escrow and settled count as the contract has them.
    (lic,) = _rows(db, License, License.license_id == license_id)
    escrow, uses_settled, max_uses, expiry, per_use_fee, lic_twin = s.call("LicenseToken", "licenseState", license_id)
    terms = s.call("LicenseToken", "licenseTerms", license_id)
    assert (lic["escrow"], lic["uses_settled"], lic["expiry"], lic["per_use_fee"], lic["twin_id"]) == (
        escrow, uses_settled, expiry, per_use_fee, lic_twin)
    assert lic["holder"] == s.call("LicenseToken", "ownerOf", license_id) == s.brand2.address
    assert lic["buyer"] == s.brand.address
    assert (lic["offer_id"], lic["upfront_fee"], lic["started_at"], lic["categories"], lic["territories"],
            lic["exclusive"], lic["transferable"], lic["idle_end_after"]) == tuple(terms)
    assert lic["duration"] == 86_400 and lic["expiry"] == lic["started_at"] + lic["duration"]
    assert uses_settled == 12 and escrow == 0
    # The brand's 120 (bought with 100, topped up 20) paid 5 uses, then became her seller's escrow at the sale; it
    # paid the 4 uses she had signed before, and she took back the rest. The buyer's 10 paid 3 uses; he took 4 back.
    assert (lic["escrow_deposited"], lic["escrow_spent"], lic["escrow_handed_over"], lic["escrow_reclaimed"]) == (
        130 * USDC, 8 * 2 * USDC, 110 * USDC, 4 * USDC)
    assert lic["escrow"] == (lic["escrow_deposited"] - lic["escrow_spent"] - lic["escrow_reclaimed"]
                             - lic["escrow_handed_over"])
    seller, handover_at, seller_escrow = s.call("LicenseToken", "handover", license_id)
    assert (lic["seller"], lic["handover_at"], lic["seller_escrow"]) == (seller, handover_at, seller_escrow) == (
        s.brand.address, handover_at, 0)
    assert (lic["handover_escrow"], lic["seller_escrow_spent"], lic["seller_escrow_reclaimed"]) == (
        110 * USDC, 4 * 2 * USDC, 102 * USDC)
    # The upfront fee: part vested before the sale, the rest up to the revocation's effect, the remainder refunded.
    upfront, vested, released, refundable = s.call("LicenseToken", "vesting", license_id)
    assert (lic["upfront_fee"], lic["upfront_released"], refundable) == (upfront, released, 0)
    assert lic["upfront_released"] == vested > 0 and lic["upfront_refunded"] == upfront - vested > 0
    # Its end: the revocation that took effect, although consent was granted again.
    (twin,) = _rows(db, Twin, Twin.twin_id == twin_id)
    end = licence_end(lic["expiry"], lic["started_at"], twin["revocation_effective_at"], twin["consent_ends"])
    assert end == s.call("LicenseToken", "licenseEnd", license_id) < lic["expiry"]
    assert parse_consent_ends(twin["consent_ends"]) == [end]
    (live,) = _rows(db, License, License.license_id == ids["live"])
    live_end = licence_end(live["expiry"], live["started_at"], twin["revocation_effective_at"], twin["consent_ends"])
    assert live_end == s.call("LicenseToken", "licenseEnd", ids["live"]) == live["expiry"]
    # The grace in force and the pause: the contract's graceEndsAt, from the index alone.
    params = {p["name"]: p["value"] for p in _rows(db, ProtocolParam)}
    pauses = [(p["paused_at"], p["unpaused_at"]) for p in _rows(db, PausePeriod)]
    assert len(pauses) == 1 and pauses[0][0] < pauses[0][1]
    now = chain.w3.eth.get_block("latest")["timestamp"]
    assert grace_ends_at(end, int(params["grace_period"]), pauses, now) == s.call(
        "LicenseToken", "graceEndsAt", license_id)

    # Settlements, each with the brand that held the licence when it was paid and the one whose escrow paid.
    settlements = _rows(db, Settlement, Settlement.license_id == license_id, order=[Settlement.first_seq])
    assert [(r["first_seq"], r["count"], r["amount"], r["holder"], r["payer"], r["uses_root"])
            for r in settlements] == [
        (0, 3, 6 * USDC, s.brand.address, s.brand.address, "0x" + root(1).hex()),
        (3, 2, 4 * USDC, s.brand.address, s.brand.address, "0x" + root(2).hex()),
        (5, 4, 8 * USDC, s.brand2.address, s.brand.address, "0x" + root(3).hex()),
        (9, 1, 2 * USDC, s.brand2.address, s.brand2.address, "0x" + root(4).hex()),
        (10, 2, 4 * USDC, s.brand2.address, s.brand2.address, "0x" + root(5).hex()),
    ]
    # The items settle skipped, each with its reason; the licence keeps its last.
    skips = _rows(db, SettleSkip, order=[SettleSkip.log_index])
    assert [(r["license_id"], r["first_seq"], r["count"], r["reason"]) for r in skips] == [
        (license_id, 99, 1, skip_reasons.SEQUENCE_MISMATCH), (10**9, 0, 1, skip_reasons.UNKNOWN_LICENSE)]
    assert (lic["last_skip_reason"], lic["last_skip_first_seq"], lic["last_skip_count"], lic["last_skip_block"]) == (
        skip_reasons.SEQUENCE_MISMATCH, 99, 1, skips[0]["block_number"])

    # Twin: model, payees, consent, money; the payees' earnings agree with claimable() and totalEarned().
    assert twin["model"] == s.model.address and twin["uri"] == "ipfs://twin-a-v2"
    assert twin["revocation_effective_at"] == 0 and twin["consent_hash"] == "0x" + "02" * 32
    # Earned: the uses, and of the upfront fees only what vested (the live licence's has not been vested yet).
    assert twin["earned"] == 24 * USDC + 4 * USDC + lic["upfront_released"]
    assert (twin["upfront_sold"], twin["upfront_released"]) == (20 * USDC, lic["upfront_released"])
    assert twin["undistributed"] == s.call("LicenseToken", "undistributed", twin_id)
    assert twin["distributed"] + twin["undistributed"] == twin["earned"]
    assert twin["uses_settled"] == 14 and twin["licenses_sold"] == 2
    payees = _rows(db, TwinPayee, TwinPayee.twin_id == twin_id, order=[TwinPayee.position])
    assert [(p["account"], p["share_bps"], p["role"]) for p in payees] == [
        (a, bps, ("model", "agency", "crew")[role]) for a, bps, role in s.call("TwinRegistry", "payeesOf", twin_id)]
    for payee in (s.model, s.agency, s.crew):
        assert claimable_from_index(db, cid, payee.address) == (
            s.call("LicenseToken", "claimable", payee.address), s.call("LicenseToken", "totalEarned", payee.address))

    # Earnings history: every split and every withdrawal, per payee.
    earnings = _rows(db, Earning)
    by_kind: dict[tuple[str, str], int] = {}
    for row in earnings:
        key = (row["payee"], row["kind"])
        by_kind[key] = by_kind.get(key, 0) + row["amount"]
    assert by_kind[(s.agency.address, "distributed")] - by_kind[(s.agency.address, "withdrawn")] == s.call(
        "LicenseToken", "claimable", s.agency.address)
    assert sum(v for (p, k), v in by_kind.items() if k == "distributed") == twin["distributed"]
    assert by_kind[(s.crew.address, "withdrawn")] > 0

    # Consent history, in order.
    consents = _rows(db, ConsentChange, order=[ConsentChange.block_number, ConsentChange.log_index])
    assert [(c["kind"], c["category"]) for c in consents] == [
        ("registered", None), ("revoked", None), ("granted", None), ("revoked", 1), ("granted", 1), ("revoked", 7)]
    assert consents[1]["effective_at"] > consents[1]["block_time"]
    # Per usage category: the twin keeps the one still revoked, with the time the registry says it takes effect.
    assert category_consent.parse(twin["category_revocations"]) == {
        7: s.call("TwinRegistry", "categoryConsentOf", twin_id, 7)[1]} == {7: consents[-1]["effective_at"]}

    # Offers: the model withdrew one, the revocation the other; the one published since is active.
    offers = {o["offer_id"]: o for o in _rows(db, Offer)}
    for offer in offers.values():
        assert offer["active"] is s.call("LicenseToken", "offer", offer["offer_id"])[1]
    assert offers[offer_id]["licenses_sold"] == 1
    assert offers[offer_id]["per_use_fee"] == 2 * USDC and offers[offer_id]["transferable"]
    assert [(offers[o]["active"], offers[o]["withdrawn_by"])
            for o in (ids["spare_offer"], offer_id, ids["live_offer"])] == [
        (False, "model"), (False, "consent"), (True, None)]
    assert offers[ids["spare_offer"]]["withdrawn_block"] < offers[offer_id]["withdrawn_block"]

    # The guild's and the admin's settings, and who holds which role now.
    (floor,) = _rows(db, GuildFloor, GuildFloor.category == 0)
    assert floor["min_per_use_fee"] == s.call("TwinRegistry", "categoryFloor", 0) == 1 * USDC
    assert params == {"agency_cap_bps": "1800", "notice_period": "3600", "paused": "false",
                      "license_contract": chain.deployment.license_token,
                      "grace_period": str(GRACE)}
    assert s.call("LicenseToken", "gracePeriod") == GRACE
    recorders = _rows(db, RoleMember, RoleMember.contract == "LicenseToken",
                      RoleMember.role == "0x" + role_id("RECORDER_ROLE").hex())
    assert [(r["account"], r["role_name"]) for r in recorders] == [(s.recorder.address, "RECORDER_ROLE")]

    # The event rows name their entities, and their arguments are exact JSON.
    with db.connect() as conn:
        settled = conn.execute(select(ChainEvent).where(ChainEvent.name == "UsesSettled")
                               .order_by(ChainEvent.block_number)).mappings().first()
    assert settled["license_id"] == license_id and settled["twin_id"] == twin_id and settled["final"]
    assert json.loads(settled["args"]) == {"licenseId": license_id, "twinId": twin_id, "firstSeq": 0, "count": 3,
                                           "amount": 6 * USDC, "usesRoot": "0x" + root(1).hex(),
                                           "payer": s.brand.address}
