"""Licences by holder, one licence (status, escrow, uses settled and pending), a licence's uses, and refusals; the
licence's end and grace, upfront vesting, handover and last skip; and the one rule of a use's status (a use whose
licence's grace ran out unsettled, or that a final skip covered, is rejected alike in /uses/{id}, the licence's list
of uses and its uses_pending)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session

from kit.read_api import DAY, GENESIS, NOW, USDC, addr, app_client, app_settings, market, read_with_clock, tx  # noqa: F401
from kit.signin import open_session
from twin_licensing.db.chain_log import ChainEvent
from twin_licensing.db.license_state import License, SettleSkip
from twin_licensing.db.registry_state import PausePeriod, ProtocolParam
from twin_licensing.db.uses import Use
from twin_licensing.domain import skip_reasons
from twin_licensing.domain.grace import DEFAULT_GRACE_PERIOD

CHAIN_ID = 31337


@pytest.fixture(autouse=True)
def as_guild(app_client, market):
    """Licences are private (tests/api/test_visibility.py): these tests read them as the guild, which sees all."""
    app_client.cookies.update(open_session(market.engine, addr("0x" + "06" * 20)))


def _edit_licence(engine, license_id: int, **values) -> None:
    with Session(engine) as session:
        lic = session.get(License, (CHAIN_ID, license_id))
        for name, value in values.items():
            setattr(lic, name, value)
        session.add(lic)
        session.commit()


def _add(engine, *rows) -> None:
    with Session(engine) as session:
        for row in rows:
            session.merge(row)
        session.commit()


def _use_id(engine, license_id: int, seq: int) -> int:
    with Session(engine) as session:
        return session.exec(
            Use.__table__.select().where(Use.license_id == license_id, Use.seq == seq)  # type: ignore[arg-type]
        ).first().use_id


def test_licences_by_holder_newest_first(app_client, market):
    page = app_client.get("/api/v1/licenses", params={"holder": market.brand_1}).json()
    assert page["count"] == 3
    assert [lic["license_id"] for lic in page["data"]] == [4, 3, 1]
    assert page["data"][0]["holder_label"] == "Brand: Maison Verre"
    assert page["data"][0]["twin"]["name"] == "Ava Lindqvist"


def test_licences_by_twin_and_paginated(app_client):
    page = app_client.get("/api/v1/licenses", params={"twin_id": 1, "limit": 2}).json()
    assert page["count"] == 3 and [lic["license_id"] for lic in page["data"]] == [4, 2]


def test_licence_shows_terms_escrow_uses_and_status(app_client, market):
    lic = app_client.get("/api/v1/licenses/1").json()
    assert lic["status"] == "active" and lic["holder"] == market.brand_1
    assert lic["escrow"] == 90 * USDC and lic["escrow_deposited"] == 100 * USDC and lic["escrow_spent"] == 10 * USDC
    assert lic["uses_settled"] == 5 and lic["uses_pending"] == 3  # seq 5 submitted, 6 and 7 pending
    assert lic["uses_left"] is None  # unlimited
    assert lic["escrow_uses_left"] == 45 - 3
    assert lic["terms"]["per_use_fee"] == 2 * USDC and lic["terms"]["category_names"] == ["e-commerce", "social"]
    assert lic["can_report"] is True and lic["reclaimable"] is False


def test_expired_licence_waits_for_its_grace_before_the_escrow_is_reclaimable(app_client, market):
    lic = app_client.get("/api/v1/licenses/2").json()
    assert lic["status"] == "expired" and lic["can_report"] is False and "expired" in lic["report_blocked_reason"]
    # Expired a day ago: uses signed before expiry still settle for 7 days, so the escrow is not reclaimable yet.
    assert lic["ends_at"] == NOW - DAY and lic["grace_ends_at"] == NOW - DAY + DEFAULT_GRACE_PERIOD
    assert lic["reclaimable"] is False
    assert lic["refundable_escrow"] == {"amount": lic["escrow"], "from": lic["grace_ends_at"]}
    _edit_licence(market.engine, 2, expiry=NOW - 8 * DAY)
    lic = app_client.get("/api/v1/licenses/2").json()
    assert lic["grace_ends_at"] == NOW - DAY and lic["reclaimable"] is True


def test_time_paused_and_the_grace_parameter_move_the_grace_end(app_client, market):
    _add(market.engine, ProtocolParam(chain_id=CHAIN_ID, name="grace_period", value=str(2 * DAY), block_number=3),
         PausePeriod(chain_id=CHAIN_ID, paused_block=90, paused_log_index=0, paused_at=NOW - 2 * DAY,
                     unpaused_at=NOW - DAY // 2, unpaused_block=95))
    lic = app_client.get("/api/v1/licenses/2").json()
    # Ended NOW - 1 day; paused from before the end until half a day after it: that half day does not count.
    assert lic["grace_ends_at"] == NOW - DAY + 2 * DAY + DAY // 2


def test_licence_of_a_revoked_twin(app_client):
    lic = app_client.get("/api/v1/licenses/3").json()
    assert lic["status"] == "revoked" and lic["consent"]["state"] == "revoked"
    assert "consent" in lic["report_blocked_reason"]
    # The revocation took effect a day ago: that is the licence's end, and its grace runs on.
    assert lic["ends_at"] == NOW - DAY and lic["reclaimable"] is False
    # 1 000 USDC upfront over 90 days, ended after 29: the rest is the brand's to reclaim.
    vested = 1_000 * USDC * 29 // 90
    assert lic["upfront"] == {"amount": 1_000 * USDC, "vested": vested, "released": 0,
                              "refundable": 1_000 * USDC - vested, "refunded": 0, "still_vesting": 0}


def test_a_revocation_that_took_effect_ends_the_licence_for_good(app_client, market):
    """Twin 1's consent was revoked (in effect ten days ago) and granted again since: licence 1, alive then, ended for
    good (before, it read as active)."""
    from twin_licensing.db.registry_state import Twin

    with Session(market.engine) as session:
        twin = session.get(Twin, (CHAIN_ID, 1))
        twin.consent_ends = str(NOW - 10 * DAY)
        session.add(twin)
        session.commit()
    lic = app_client.get("/api/v1/licenses/1").json()
    assert lic["status"] == "revoked" and lic["consent"]["state"] == "granted"
    assert lic["ends_at"] == NOW - 10 * DAY and lic["can_report"] is False and "for good" in lic["report_blocked_reason"]
    vested = 500 * USDC * 20 // 90  # 20 of its 90 days
    assert lic["upfront"]["vested"] == vested and lic["upfront"]["refundable"] == 500 * USDC - vested
    # Licence 4 was alive then too.
    assert app_client.get("/api/v1/licenses/4").json()["ends_at"] == NOW - 10 * DAY


def test_upfront_vests_over_the_term_and_next_seq_follows_the_uses(app_client, market):
    lic, clock = read_with_clock(lambda: app_client.get("/api/v1/licenses/1").json())
    upfront = lic["upfront"]
    # Bought at NOW - 30 days for a 90-day term: 500 USDC vest linearly, rounded down, up to the second the API read
    # its clock.
    vested_at = lambda t: 500 * USDC * (t - (NOW - 30 * DAY)) // (90 * DAY)  # noqa: E731
    assert any(upfront["vested"] == vested_at(t) for t in clock), (upfront["vested"], [vested_at(t) for t in clock])
    assert upfront["refundable"] == upfront["released"] == upfront["refunded"] == 0
    assert upfront["still_vesting"] == 500 * USDC - upfront["vested"]
    assert lic["next_seq"] == 8 and lic["handover"] is None and lic["last_skip"] is None
    _edit_licence(market.engine, 1, upfront_released=7 * USDC)
    assert app_client.get("/api/v1/licenses/1").json()["upfront"]["released"] == 7 * USDC
    # A licence without uses starts at the chain's settled count.
    assert app_client.get("/api/v1/licenses/4").json()["next_seq"] == 0


def test_handover_counts_the_uses_the_seller_left_unsettled(app_client, market):
    # Brand 1 signed uses 0..7; 0..4 were settled (blocks 45, 60) before it handed the licence to brand 2.
    _edit_licence(market.engine, 1, holder=market.brand_2, seller=market.brand_1, handover_at=NOW - DAY // 2,
                  handover_escrow=90 * USDC, seller_escrow=90 * USDC, escrow_handed_over=90 * USDC, escrow=0)
    _add(market.engine, ChainEvent(
        chain_id=CHAIN_ID, tx_hash=tx(80), log_index=0, block_number=80, block_hash=tx(2080), block_time=NOW - DAY // 2,
        tx_index=0, contract="LicenseToken", name="LicenseHandedOver", license_id=1, account=market.brand_2,
        args=json.dumps({"licenseId": 1, "seller": market.brand_1, "buyer": market.brand_2,
                         "sellerEscrow": 90 * USDC, "at": NOW - DAY // 2})))
    lic = app_client.get("/api/v1/licenses/1").json()
    assert lic["handover"] == {"seller": market.brand_1, "seller_label": "Brand: Maison Verre", "at": NOW - DAY // 2,
                               "seller_escrow": 90 * USDC, "inherited_uses": 3,
                               "reclaimable_from": NOW - DAY // 2 + DEFAULT_GRACE_PERIOD}
    assert lic["escrow"] == 0


def test_final_skip_rejects_the_uses_it_covered_everywhere(app_client, market):
    """SettleItemSkipped(GraceOver) over seq 6..7: rejected in the list, in /uses/{id}, not in uses_pending."""
    _add(market.engine, SettleSkip(chain_id=CHAIN_ID, tx_hash=tx(98), log_index=0, license_id=1, first_seq=6, count=2,
                                   reason=skip_reasons.GRACE_OVER, block_number=98, block_time=NOW - 60))
    _edit_licence(market.engine, 1, last_skip_reason=skip_reasons.GRACE_OVER, last_skip_first_seq=6,
                  last_skip_count=2, last_skip_block=98)
    lic = app_client.get("/api/v1/licenses/1").json()
    assert lic["uses_pending"] == 1  # seq 5, submitted
    assert lic["last_skip"] == {"reason": 8, "name": "GraceOver", "final": True, "first_seq": 6, "count": 2,
                                "block_number": 98, "sentence": skip_reasons.sentence(8)}
    status = {u["seq"]: (u["status"], u["reason"]) for u in app_client.get("/api/v1/licenses/1/uses").json()["data"]}
    assert status[7] == status[6] == ("rejected", skip_reasons.sentence(8)) and status[5] == ("submitted", None)
    one = app_client.get(f"/api/v1/uses/{_use_id(market.engine, 1, 6)}").json()
    assert one["status"] == "rejected" and one["reason"] == skip_reasons.sentence(8)


def test_uses_past_the_licence_limit_are_rejected(app_client, market):
    """MaxUsesExceeded names the uses past the limit: with 7 uses allowed, seq 7 is rejected, 5 and 6 still wait."""
    _add(market.engine, SettleSkip(chain_id=CHAIN_ID, tx_hash=tx(98), log_index=0, license_id=1, first_seq=5, count=3,
                                   reason=skip_reasons.MAX_USES_EXCEEDED, block_number=98, block_time=NOW - 60))
    _edit_licence(market.engine, 1, max_uses=7)
    assert app_client.get("/api/v1/licenses/1").json()["uses_pending"] == 2
    status = {u["seq"]: u["status"] for u in app_client.get("/api/v1/licenses/1/uses").json()["data"]}
    assert (status[5], status[6], status[7]) == ("submitted", "pending", "rejected")


def test_a_non_final_skip_leaves_the_uses_waiting(app_client, market):
    _add(market.engine, SettleSkip(chain_id=CHAIN_ID, tx_hash=tx(98), log_index=0, license_id=1, first_seq=6, count=2,
                                   reason=skip_reasons.INSUFFICIENT_ESCROW, block_number=98, block_time=NOW - 60))
    assert app_client.get("/api/v1/licenses/1").json()["uses_pending"] == 3
    status = {u["seq"]: u["status"] for u in app_client.get("/api/v1/licenses/1/uses").json()["data"]}
    assert status[6] == status[7] == "pending"


def test_use_of_a_licence_past_its_grace_is_rejected_not_pending(app_client, market):
    """The issue's case: the licence expired before its uses settled and its grace is over. /uses/{id} said
    rejected while uses_pending counted them: now all three say rejected."""
    _add(market.engine, *(_unsettled_use(market, 2, seq) for seq in (3, 4)))
    lic = app_client.get("/api/v1/licenses/2").json()
    assert lic["uses_pending"] == 2  # in grace: still payable
    _edit_licence(market.engine, 2, expiry=NOW - 8 * DAY)
    lic = app_client.get("/api/v1/licenses/2").json()
    assert lic["uses_pending"] == 0 and lic["next_seq"] == 5
    page = app_client.get("/api/v1/licenses/2/uses", params={"status": "unsettled"}).json()
    assert page["count"] == 2 and {u["status"] for u in page["data"]} == {"rejected"}
    assert all("grace period" in u["reason"] for u in page["data"])
    one = app_client.get(f"/api/v1/uses/{_use_id(market.engine, 2, 3)}").json()
    assert one["status"] == "rejected" and "grace period" in one["reason"]


def _unsettled_use(market, license_id: int, seq: int) -> Use:
    from datetime import datetime, timezone

    return Use(chain_id=CHAIN_ID, genesis_hash=GENESIS, license_id=license_id, twin_id=1, seq=seq,
               use_ref="0x" + f"{license_id:02x}{seq:02x}" * 16, category=0, territory=0, used_at=NOW - 9 * DAY,
               signer=market.brand_2, signature="0x" + "00" * 65, digest=tx(400_000 + license_id * 100 + seq),
               accepted_at=datetime.fromtimestamp(NOW - 9 * DAY, timezone.utc))


def test_licence_with_max_uses_counts_what_is_left(app_client):
    lic = app_client.get("/api/v1/licenses/4").json()
    assert lic["uses_left"] == 40 and lic["terms"]["max_uses"] == 40
    assert lic["terms"]["territory_names"] == ["North America"]


def test_licence_uses_with_their_settlement_status(app_client):
    page = app_client.get("/api/v1/licenses/1/uses").json()
    assert page["count"] == 8
    status = {u["seq"]: u["status"] for u in page["data"]}
    assert status == {7: "pending", 6: "pending", 5: "submitted", 4: "settled", 3: "settled", 2: "settled",
                      1: "settled", 0: "settled"}
    submitted = next(u for u in page["data"] if u["seq"] == 5)
    assert submitted["tx_hash"] == "0x" + f"{8888:064x}" and submitted["block_number"] == 99
    assert page["data"][0]["category_name"] == "e-commerce" and page["data"][0]["fee"] == 2 * USDC


def test_licence_uses_filtered_and_paginated(app_client):
    settled = app_client.get("/api/v1/licenses/1/uses", params={"status": "settled"}).json()
    assert settled["count"] == 5 and {u["status"] for u in settled["data"]} == {"settled"}
    unsettled = app_client.get("/api/v1/licenses/1/uses", params={"status": "unsettled", "limit": 2}).json()
    assert unsettled["count"] == 3 and [u["seq"] for u in unsettled["data"]] == [7, 6]


def test_held_use_carries_its_reason_and_still_waits(app_client, market):
    # The settler's hold that a later event can cure: held, with its reason, and counted as waiting. (The use was
    # signed before the revocation took effect: signed at or after it, it could never be paid, and is rejected.)
    (use,) = app_client.get("/api/v1/licenses/3/uses").json()["data"]
    assert use["status"] == "rejected" and use["reason"] == skip_reasons.sentence(skip_reasons.SIGNED_AFTER_END)
    with Session(market.engine) as session:
        row = session.get(Use, use["id"])
        row.used_at = NOW - 2 * DAY
        session.add(row)
        session.commit()
    (use,) = app_client.get("/api/v1/licenses/3/uses").json()["data"]
    assert use["status"] == "held" and "revocation" in use["reason"]
    assert app_client.get("/api/v1/licenses/3").json()["uses_pending"] == 1


def test_permanent_hold_rejects_the_use(app_client, market):
    from twin_licensing.db.submissions import UseRejection

    with Session(market.engine) as session:
        row = session.get(Use, _use_id(market.engine, 3, 0))
        row.used_at = NOW - 2 * DAY  # signed in time: only the hold decides
        session.add(row)
        hold = session.get(UseRejection, (CHAIN_ID, GENESIS, 3))
        hold.permanent = True
        session.add(hold)
        session.commit()
    (use,) = app_client.get("/api/v1/licenses/3/uses").json()["data"]
    assert use["status"] == "rejected" and "revocation" in use["reason"]
    assert app_client.get("/api/v1/licenses/3").json()["uses_pending"] == 0


def test_unknown_licence_is_404(app_client):
    assert app_client.get("/api/v1/licenses/77").status_code == 404
    assert app_client.get("/api/v1/licenses/77/uses").status_code == 404


def test_holder_with_no_licence_gets_an_empty_page(app_client):
    page = app_client.get("/api/v1/licenses", params={"holder": "0x" + "99" * 20}).json()
    assert page == {"data": [], "count": 0}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/licenses",  # neither holder nor twin
        "/api/v1/licenses?holder=0xzz11111111111111111111111111111111111111",
        "/api/v1/licenses?holder=0x11",
        "/api/v1/licenses?twin_id=0",
        "/api/v1/licenses/0",
        "/api/v1/licenses/1.5",
        "/api/v1/licenses/9223372036854775808",
        "/api/v1/licenses/1/uses?status=paid",
        "/api/v1/licenses/1/uses?limit=1000",
    ],
)
def test_bad_inputs_are_422(app_client, path):
    response = app_client.get(path)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]
