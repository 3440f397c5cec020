"""Statements since issue 11: an upfront fee is income as it vests (UpfrontVested, split by the payees in force at its
log), not when the licence is bought; the unvested rest refunded to the brand (UpfrontRefunded) is shown, with no part
for the payee; the statement still ties. Built from the read API's fixture index (no node)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlmodel import Session

from kit.read_api import DAY, NOW, USDC, market, tx  # noqa: F401
from twin_licensing.db.chain_log import ChainEvent
from twin_licensing.domain.periods import custom
from twin_licensing.statements.compute import REFUND, UPFRONT, build_statement
from twin_licensing.statements.render import Names, to_csv, to_pdf

CHAIN_ID = 31337


def _event(name: str, block: int, license_id: int, args: dict, twin_id: int | None = None) -> ChainEvent:
    return ChainEvent(chain_id=CHAIN_ID, tx_hash=tx(block), log_index=7, block_number=block, block_hash=tx(200_000 + block),
                      block_time=NOW - (100 - block) * DAY, tx_index=0, contract="LicenseToken", name=name,
                      twin_id=twin_id, license_id=license_id, args=json.dumps(args))


def _day(unix: int) -> str:
    return datetime.fromtimestamp(unix, timezone.utc).date().isoformat()


def test_upfront_is_income_as_it_vests_and_refunds_are_shown(market):
    with Session(market.engine) as session:
        # Licence 1 (twin 1, bought at block 41) vests 100 USDC at block 46; licence 2 ends early: 300 USDC vest to
        # the twin and 200 USDC go back to brand 2 at block 47.
        session.merge(_event("UpfrontVested", 46, 1, {"licenseId": 1, "twinId": 1, "amount": 100 * USDC}, twin_id=1))
        session.merge(_event("UpfrontVested", 47, 2, {"licenseId": 2, "twinId": 1, "amount": 300 * USDC}, twin_id=1))
        session.merge(ChainEvent(**{**_event("UpfrontRefunded", 47, 2, {"licenseId": 2, "to": market.brand_2,
                                                                        "amount": 200 * USDC}).model_dump(),
                                    "log_index": 8}))
        session.commit()
        period = custom(_day(NOW - 60 * DAY), _day(NOW - 52 * DAY))  # blocks 40 .. 48: purchases and vesting
        statement = build_statement(session, CHAIN_ID, market.model_a, period, now=NOW)
    assert statement.ties
    upfront = [line for line in statement.lines if line.kind == UPFRONT]
    # Her part (80 % before the payee change at block 50) of what vested, not of the 500 + 500 + 5 000 bought.
    assert [(line.license_id, line.gross, line.amount) for line in upfront] == [
        (1, 100 * USDC, 80 * USDC), (2, 300 * USDC, 240 * USDC)]
    (refund,) = [line for line in statement.lines if line.kind == REFUND]
    assert (refund.license_id, refund.gross, refund.amount, refund.brand) == (2, 200 * USDC, 0, market.brand_2)
    assert statement.earned == 320 * USDC
    # Both files carry it: the refund line says what it is, with no part for her.
    text = to_csv(statement, Names())
    assert "upfront refunded to the brand" in text and "upfront fee (vested)" in text
    assert to_pdf(statement, Names()).startswith(b"%PDF")
