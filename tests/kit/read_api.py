"""Fixtures of the read API tests: a migrated database filled as the indexer, the intake and the settler fill it,
and the application over it (no node needed: the chain reader finds none and says so).

Import the fixtures into a test module: `from kit.read_api import app_client, market  # noqa: F401`.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from twin_licensing.api.app import create_app
from twin_licensing.chain.deployment import AccountLabel, Deployment, write_account_labels
from twin_licensing.db.chain_log import ChainEvent, IndexCursor, IndexedBlock
from twin_licensing.db.license_state import Earning, License, Offer, PayeeBalance, Settlement
from twin_licensing.db.registry_state import Attestation, ConsentChange, GuildFloor, ProtocolParam, Twin, TwinPayee
from twin_licensing.db.submissions import MINED, SettleSubmission, SettleSubmissionItem, UseRejection
from twin_licensing.db.uses import Use
from twin_licensing.domain import category_consent
from twin_licensing.settings import get_settings
from kit.uses import sqlite_engine

T = TypeVar("T")

CHAIN_ID = 31337
GENESIS = "0x" + "ab" * 32
USDC = 10**6
DAY = 86_400
NOW = int(time.time()) // 100 * 100  # the newest indexed block's time (the API never looks earlier than now)
# Twin 3's usage categories withdrawn: broadcast (5) in effect since yesterday, AI-generated campaign (7) from tomorrow.
CATEGORY_REVOCATIONS_3 = category_consent.dump({5: NOW - DAY, 7: NOW + DAY})

MODEL_A = "0x" + "a1" * 20
MODEL_B = "0x" + "b2" * 20
MODEL_C = "0x" + "c3" * 20
AGENCY = "0x" + "0a" * 20
CREW = "0x" + "0c" * 20
BRAND_1 = "0x" + "11" * 20
BRAND_2 = "0x" + "22" * 20


def addr(raw: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(raw)


def tx(n: int) -> str:
    return "0x" + f"{n:064x}"


@dataclass
class Market:
    """What `market` put in the database, for assertions."""

    engine: object
    model_a: str = field(default_factory=lambda: addr(MODEL_A))
    model_b: str = field(default_factory=lambda: addr(MODEL_B))
    model_c: str = field(default_factory=lambda: addr(MODEL_C))
    agency: str = field(default_factory=lambda: addr(AGENCY))
    crew: str = field(default_factory=lambda: addr(CREW))
    brand_1: str = field(default_factory=lambda: addr(BRAND_1))
    brand_2: str = field(default_factory=lambda: addr(BRAND_2))


def _data_uri(metadata: dict) -> str:
    return "data:application/json;base64," + base64.b64encode(json.dumps(metadata).encode()).decode()


def populate(engine, media_dir: Path) -> Market:
    """Three twins (A: granted, two offers; B: revoked; C: revocation pending, data: URI), licences, uses."""
    m = Market(engine)
    (media_dir / "twins").mkdir(parents=True, exist_ok=True)
    (media_dir / "twins" / "1.json").write_text(json.dumps({
        "name": "Ava Lindqvist", "description": "Digital twin of Ava.", "image": "/media/twins/1.svg",
        "consent_document": "/media/consent/1.txt",
        "attributes": [{"trait_type": "Agency", "value": "Nordlys Models"}],
    }))
    (media_dir / "twins" / "1.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    rows: list = []
    block = 100
    rows.append(IndexCursor(chain_id=CHAIN_ID, genesis_hash=GENESIS, twin_registry=addr("0x" + "01" * 20),
                            license_token=addr("0x" + "02" * 20), deployment_block=1, block_number=block,
                            block_hash=tx(9999), final_block=block, events=42))
    rows.append(IndexedBlock(chain_id=CHAIN_ID, number=block, hash=tx(9999), parent_hash=tx(9998), timestamp=NOW))
    for category, fee in enumerate((2, 1, 5, 12, 15, 30, 3, 20)):
        rows.append(GuildFloor(chain_id=CHAIN_ID, category=category, min_per_use_fee=fee * USDC, block_number=2))
    rows.append(ProtocolParam(chain_id=CHAIN_ID, name="agency_cap_bps", value="2000", block_number=2))
    rows.append(ProtocolParam(chain_id=CHAIN_ID, name="notice_period", value=str(3 * DAY), block_number=2))
    rows.append(ProtocolParam(chain_id=CHAIN_ID, name="non_model_cap_bps", value="4000", block_number=2))
    rows.append(ProtocolParam(chain_id=CHAIN_ID, name="exclusivity_minimum", value=str(2_000 * USDC), block_number=2))
    # The guild's attestations: A valid; the agency valid; B's revoked; C's expired, then C again (current, valid).
    for attestation_id, subject, role, issued, expires, revoked in (
        (1, m.model_a, "model", NOW - 100 * DAY, NOW + 265 * DAY, False),
        (2, m.agency, "agency", NOW - 100 * DAY, NOW + 265 * DAY, False),
        (3, m.model_b, "model", NOW - 95 * DAY, NOW + 270 * DAY, True),
        (4, m.model_c, "model", NOW - 95 * DAY, NOW - DAY, False),
        (5, m.model_c, "model", NOW - 2 * DAY, NOW + 363 * DAY, False),
    ):
        rows.append(Attestation(chain_id=CHAIN_ID, attestation_id=attestation_id, subject=subject, role=role,
                                issued_at=issued, expires_at=expires, label=f"label {attestation_id}",
                                guild=addr("0x" + "06" * 20), revoked=revoked,
                                revoked_at=NOW - 10 * DAY if revoked else None, block_number=attestation_id + 2,
                                tx_hash=tx(900 + attestation_id)))

    twins = [
        (1, m.model_a, "/media/twins/1.json", 0),
        (2, m.model_b, "/media/twins/missing.json", NOW - DAY),  # revoked, in effect
        (3, m.model_c, _data_uri({"name": "Chloé Dubois", "image": "javascript:alert(1)"}), NOW + DAY),  # pending
    ]
    for twin_id, model, uri, revoked in twins:
        if twin_id != 1:  # twin 1 is added below, with its earnings
            rows.append(Twin(chain_id=CHAIN_ID, twin_id=twin_id, model=model, uri=uri, consent_hash=tx(500 + twin_id),
                             revocation_effective_at=revoked, attestation_id=twin_id + 1,
                             category_revocations=CATEGORY_REVOCATIONS_3 if twin_id == 3 else "",
                             notice_period=3 * DAY, registered_block=10 + twin_id,
                             registered_time=NOW - 90 * DAY, registered_tx=tx(10 + twin_id)))
        rows.append(ConsentChange(chain_id=CHAIN_ID, tx_hash=tx(10 + twin_id), log_index=0, twin_id=twin_id,
                                  kind="registered", consent_hash=tx(500 + twin_id), block_number=10 + twin_id,
                                  block_time=NOW - 90 * DAY))
        if revoked:
            rows.append(ConsentChange(chain_id=CHAIN_ID, tx_hash=tx(20 + twin_id), log_index=0, twin_id=twin_id,
                                      kind="revoked", effective_at=revoked, block_number=20 + twin_id,
                                      block_time=revoked - 3 * DAY))
    # Twin 3 per usage category: broadcast (5) withdrawn and in effect, AI-generated campaign (7) pending.
    for n, (category, effective_at) in enumerate(category_consent.parse(CATEGORY_REVOCATIONS_3).items()):
        rows.append(ConsentChange(chain_id=CHAIN_ID, tx_hash=tx(30 + n), log_index=0, twin_id=3, kind="revoked",
                                  effective_at=effective_at, category=category, block_number=25 + n,
                                  block_time=effective_at - 3 * DAY))
    # Twin 1: model 80 %, agency 15 % (accepted), crew 5 % (not accepted: pending); earlier (block 11) model 80 %,
    # agency 20 %.
    payees_1 = [(m.model_a, 8_000, "model"), (m.agency, 1_500, "agency"), (m.crew, 500, "crew")]
    for n, (account, bps, role) in enumerate(payees_1):
        rows.append(TwinPayee(chain_id=CHAIN_ID, twin_id=1, position=n, account=account, share_bps=bps, role=role,
                              since_block=50, accepted=role != "crew"))
    rows.append(_payees_event(1, 11, [m.model_a, m.agency], [8_000, 2_000]))
    rows.append(_payees_event(1, 50, [a for a, _, _ in payees_1], [b for _, b, _ in payees_1]))
    for twin_id, model in ((2, m.model_b), (3, m.model_c)):
        rows.append(TwinPayee(chain_id=CHAIN_ID, twin_id=twin_id, position=0, account=model, share_bps=10_000,
                              role="model", since_block=10 + twin_id, accepted=True))
        rows.append(_payees_event(twin_id, 10 + twin_id, [model], [10_000]))

    def offer(offer_id, twin_id, per_use, upfront, categories, territories, active=True, max_uses=0):
        return Offer(chain_id=CHAIN_ID, offer_id=offer_id, twin_id=twin_id, upfront_fee=upfront * USDC,
                     per_use_fee=per_use, duration=90 * DAY, max_uses=max_uses, categories=categories,
                     territories=territories, active=active, published_block=30 + offer_id,
                     published_time=NOW - 80 * DAY, withdrawn_block=None if active else 60)

    rows += [
        offer(1, 1, 2 * USDC, 500, 0b11, 0xFF),  # e-commerce + social, worldwide
        offer(2, 1, 12 * USDC, 5_000, 0b11000, 0b100, max_uses=40),  # video + OOH, North America
        offer(3, 1, 3 * USDC, 100, 0b10, 0b1, active=False),  # withdrawn
        offer(4, 2, 5 * USDC, 1_000, 0b100, 0xFF),  # twin 2 (revoked)
        offer(5, 3, 20 * USDC, 8_000, 0b10000000, 0b11),  # twin 3 (pending revocation)
    ]

    def licence(license_id, twin_id, offer_id, holder, per_use, upfront, escrow, settled, expiry, max_uses=0,
                categories=0b11, territories=0xFF):
        return License(chain_id=CHAIN_ID, license_id=license_id, offer_id=offer_id, twin_id=twin_id, buyer=holder,
                       holder=holder, upfront_fee=upfront, per_use_fee=per_use, max_uses=max_uses,
                       categories=categories, territories=territories, started_at=NOW - 30 * DAY, expiry=expiry,
                       escrow=escrow - settled * per_use, escrow_deposited=escrow, escrow_spent=settled * per_use,
                       uses_settled=settled, purchased_block=40 + license_id, purchased_tx=tx(40 + license_id))

    rows += [
        licence(1, 1, 1, m.brand_1, 2 * USDC, 500 * USDC, 100 * USDC, 5, NOW + 60 * DAY),
        licence(2, 1, 1, m.brand_2, 2 * USDC, 500 * USDC, 10 * USDC, 3, NOW - DAY),  # expired
        licence(3, 2, 4, m.brand_1, 5 * USDC, 1_000 * USDC, 50 * USDC, 0, NOW + 60 * DAY, categories=0b100),
        licence(4, 1, 2, m.brand_1, 12 * USDC, 5_000 * USDC, 120 * USDC, 0, NOW + 60 * DAY, max_uses=40,
                categories=0b11000, territories=0b100),
    ]
    # Settlements: licence 1 paid uses 0..2 (block 45, before the crew joined) and 3..4 (block 60); licence 2 0..2.
    rows += [
        Settlement(chain_id=CHAIN_ID, tx_hash=tx(45), log_index=1, license_id=1, twin_id=1, first_seq=0, count=3,
                   amount=6 * USDC, uses_root=tx(7001), holder=m.brand_1, block_number=45, block_time=NOW - 20 * DAY),
        Settlement(chain_id=CHAIN_ID, tx_hash=tx(60), log_index=1, license_id=1, twin_id=1, first_seq=3, count=2,
                   amount=4 * USDC, uses_root=tx(7002), holder=m.brand_1, block_number=60, block_time=NOW - 10 * DAY),
        Settlement(chain_id=CHAIN_ID, tx_hash=tx(61), log_index=2, license_id=2, twin_id=1, first_seq=0, count=3,
                   amount=6 * USDC, uses_root=tx(7003), holder=m.brand_2, block_number=61, block_time=NOW - 9 * DAY),
    ]
    # Twin 1 earned 1 000 (upfronts) + 16 (uses). At block 50 (payee change) the 1 006 earned so far was split
    # 80/20; the rest (10) is undistributed. The model withdrew at block 70.
    rows.append(Twin(chain_id=CHAIN_ID, twin_id=1, model=m.model_a, uri="/media/twins/1.json", consent_hash=tx(501),
                     revocation_effective_at=0, attestation_id=1, notice_period=3 * DAY, earned=1_016 * USDC, distributed=1_006 * USDC,
                     undistributed=10 * USDC, uses_settled=8, licenses_sold=3, registered_block=11,
                     registered_time=NOW - 90 * DAY, registered_tx=tx(11)))
    model_part = 1_006 * USDC * 8_000 // 10_000
    agency_part = 1_006 * USDC - model_part
    rows += [
        Earning(chain_id=CHAIN_ID, tx_hash=tx(50), log_index=0, payee=m.model_a, kind="distributed", twin_id=1,
                amount=model_part, block_number=50, block_time=NOW - 15 * DAY),
        Earning(chain_id=CHAIN_ID, tx_hash=tx(50), log_index=1, payee=m.agency, kind="distributed", twin_id=1,
                amount=agency_part, block_number=50, block_time=NOW - 15 * DAY),
        Earning(chain_id=CHAIN_ID, tx_hash=tx(70), log_index=0, payee=m.model_a, kind="withdrawn", twin_id=None,
                amount=model_part, block_number=70, block_time=NOW - 5 * DAY),
        PayeeBalance(chain_id=CHAIN_ID, payee=m.model_a, distributed=model_part, withdrawn=model_part, updated_block=70),
        PayeeBalance(chain_id=CHAIN_ID, payee=m.agency, distributed=agency_part, withdrawn=0, updated_block=50),
    ]
    # Uses of licence 1: seq 0..4 settled, 5 submitted, 6..7 pending; licence 3: seq 0 rejected (held).
    for seq in range(8):
        rows.append(_use(1, seq, m.brand_1))
    rows.append(_use(3, 0, m.brand_1))
    rows.append(SettleSubmission(submission_id=1, chain_id=CHAIN_ID, genesis_hash=GENESIS, recorder=addr("0x" + "03" * 20),
                                 nonce=7, tx_hash=tx(8888), status=MINED, uses=1, block_number=99))
    rows.append(SettleSubmissionItem(submission_id=1, license_id=1, first_seq=5, count=1, uses_root=tx(7004)))
    rows.append(UseRejection(chain_id=CHAIN_ID, genesis_hash=GENESIS, license_id=3, from_seq=0,
                             code="LicenseTokenConsentRevoked", reason="the model's revocation of consent took effect"))
    with Session(engine) as session:
        for row in rows:
            session.merge(row)
        session.commit()
    return m


def _payees_event(twin_id: int, block: int, accounts: list[str], shares: list[int]) -> ChainEvent:
    args = {"twinId": twin_id, "accounts": accounts, "sharesBps": shares, "roles": [0] + [1] * (len(accounts) - 1)}
    return ChainEvent(chain_id=CHAIN_ID, tx_hash=tx(100_000 + block * 10 + twin_id), log_index=3, block_number=block,
                      block_hash=tx(200_000 + block), block_time=NOW - (100 - block) * DAY, tx_index=0,
                      contract="TwinRegistry", name="PayeesSet", twin_id=twin_id, args=json.dumps(args))


LICENCE_TWINS = {1: 1, 2: 1, 3: 2, 4: 1}  # as `market` sells them


def _use(license_id: int, seq: int, signer: str) -> Use:
    return Use(chain_id=CHAIN_ID, genesis_hash=GENESIS, license_id=license_id, twin_id=LICENCE_TWINS[license_id], seq=seq,
               use_ref="0x" + f"{license_id:02x}{seq:02x}" * 16, category=0, territory=0, used_at=NOW - DAY,
               signer=signer, signature="0x" + "00" * 65, digest=tx(300_000 + license_id * 100 + seq),
               accepted_at=datetime.fromtimestamp(NOW - DAY, timezone.utc))


def fake_deployment() -> Deployment:
    return Deployment(
        chain_id=CHAIN_ID, genesis_hash=GENESIS, block_number=1, payment_token=addr("0x" + "04" * 20),
        twin_registry=addr("0x" + "01" * 20), license_token=addr("0x" + "02" * 20), admin=addr("0x" + "05" * 20),
        guild=addr("0x" + "06" * 20), recorder=addr("0x" + "03" * 20), test_token=True,
    )


@pytest.fixture
def market(tmp_path: Path) -> Market:
    engine = sqlite_engine(tmp_path)
    return populate(engine, tmp_path / "media")


@pytest.fixture
def app_settings(tmp_path: Path):
    deployments = tmp_path / "deployments"
    labels = [
        AccountLabel(addr(MODEL_A), "model", "Ava Lindqvist", 7),
        AccountLabel(addr(AGENCY), "agency", "Nordlys Models", 3),
        AccountLabel(addr(BRAND_1), "brand", "Maison Verre", 37),
    ]
    write_account_labels(deployments, CHAIN_ID, labels)
    # A port nothing listens on: the chain reader reports the node unavailable, quickly.
    return get_settings(
        rpc_url="http://127.0.0.1:9", deployments_dir=deployments, media_dir=tmp_path / "media", var_dir=tmp_path
    )


@pytest.fixture
def app_client(market: Market, app_settings) -> TestClient:
    app = create_app(app_settings, deployment=fake_deployment(), engine=market.engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def read_with_clock(call: Callable[[], T]) -> tuple[T, range]:
    """`call()`'s answer and the whole seconds the API's clock may have read while it answered, as a range.

    The API's now is the newest indexed block's time or the wall clock's second, the later (`ApiContext.now`); the
    newest block here (NOW) is never ahead of the wall clock, so now lies between the readings before and after. A
    time-dependent amount must equal its formula at one of these seconds: exact however loaded the machine is (the
    request must be the first to build that answer, or it may come from the API's cache, computed earlier)."""
    before = int(time.time())
    answer = call()
    return answer, range(before, int(time.time()) + 1)
