"""Who sees what around a licence handover (issue 11): a use and its label are its signer's (and, as for every use,
its twin's model, payees and guild); the holder of a licence bought second-hand sees of its previous holders' uses
only their numbers and statuses; a previous holder sees the licence (her seller escrow) and her own uses; anyone else
gets the 404 a missing object gets.

Licence 5 of twin 1 (transferable): the seller bought it, reported uses 0 and 1 (0 settled from her escrow, 1 left
to pay: inherited), then handed it to the buyer, who reported uses 2 and 3. Licence 6 went from `first` to the
seller to the buyer: each of the three reported one use while holding it.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlmodel import Session

from kit.images import encoded, picture
from kit.read_api import (  # noqa: F401
    CHAIN_ID, DAY, GENESIS, NOW, USDC, addr, app_client, app_settings, market, tx,
)
from kit.signin import open_session
from twin_licensing.chain.merkle import UseTree
from twin_licensing.db.chain_log import ChainEvent
from twin_licensing.db.license_state import License, Settlement
from twin_licensing.db.uses import Use
from twin_licensing.domain.use_record import record_of

API = "/api/v1"
SELLER = addr("0x" + "5e" * 20)
BUYER = addr("0x" + "b0" * 20)
FIRST = addr("0x" + "f1" * 20)  # licence 6's first holder
STRANGER = addr("0x" + "99" * 20)
HANDOVER_AT = NOW - 5 * DAY
IMAGE = encoded(picture(7), "PNG")  # the image of the seller's settled use: its use_ref is the image's SHA-256
SELLER_LABELS = ("Seller spring campaign", "Seller summer teaser")
BUYER_LABELS = ("Buyer autumn launch", "Buyer winter sale")
# What a use line must not carry to a viewer other than its signer and its twin's audience.
PRIVATE_FIELDS = {"label", "use_ref", "asset", "category", "category_name", "territory", "territory_name", "used_at",
                  "digest", "accepted_at", "id", "payees"}


def _use(license_id: int, seq: int, signer: str, label: str, used_at: int, use_ref: str | None = None) -> Use:
    return Use(chain_id=CHAIN_ID, genesis_hash=GENESIS, license_id=license_id, twin_id=1, seq=seq,
               use_ref=use_ref or "0x" + hashlib.sha256(label.encode()).hexdigest(), category=1, territory=0,
               used_at=used_at, signer=signer, signature="0x" + "00" * 65, label=label,
               digest=tx(700_000 + license_id * 100 + seq), accepted_at=datetime.fromtimestamp(used_at, timezone.utc))


def _handover(license_id: int, block: int, seller: str, buyer: str, at: int, escrow: int) -> ChainEvent:
    return ChainEvent(chain_id=CHAIN_ID, tx_hash=tx(block), log_index=0, block_number=block, block_hash=tx(2000 + block),
                      block_time=at, tx_index=0, contract="LicenseToken", name="LicenseHandedOver",
                      license_id=license_id, account=buyer,
                      args=json.dumps({"licenseId": license_id, "seller": seller, "buyer": buyer,
                                       "sellerEscrow": escrow, "at": at}))


def _licence(license_id: int, buyer: str, seller: str, handover_at: int, settled: int) -> License:
    return License(chain_id=CHAIN_ID, license_id=license_id, offer_id=1, twin_id=1, buyer=buyer, holder=BUYER,
                   upfront_fee=500 * USDC, per_use_fee=2 * USDC, categories=0b11, territories=0xFF, transferable=True,
                   started_at=NOW - 30 * DAY, duration=90 * DAY, expiry=NOW + 60 * DAY, escrow=30 * USDC,
                   escrow_deposited=50 * USDC, escrow_spent=settled * 2 * USDC,
                   escrow_handed_over=50 * USDC - settled * 2 * USDC, uses_settled=settled, seller=seller,
                   handover_at=handover_at, handover_escrow=18 * USDC, seller_escrow=18 * USDC,
                   purchased_block=60 + license_id, purchased_tx=tx(60 + license_id))


@pytest.fixture
def handed_over(market):
    uses = [
        _use(5, 0, SELLER, SELLER_LABELS[0], NOW - 10 * DAY, "0x" + hashlib.sha256(IMAGE).hexdigest()),
        _use(5, 1, SELLER, SELLER_LABELS[1], NOW - 6 * DAY),
        _use(5, 2, BUYER, BUYER_LABELS[0], NOW - 2 * DAY),
        _use(5, 3, BUYER, BUYER_LABELS[1], NOW - DAY),
        _use(6, 0, FIRST, "First holder's teaser", NOW - 20 * DAY),
        _use(6, 1, SELLER, "Seller's second licence post", NOW - 8 * DAY),
        _use(6, 2, BUYER, "Buyer's second licence post", NOW - 2 * DAY),
    ]
    settled = Settlement(chain_id=CHAIN_ID, tx_hash=tx(70), log_index=0, license_id=5, twin_id=1, first_seq=0, count=1,
                         amount=2 * USDC, uses_root=UseTree([record_of(uses[0])]).root, holder=SELLER, payer=SELLER,
                         block_number=70, block_time=NOW - 9 * DAY)
    rows = [
        _licence(5, SELLER, SELLER, HANDOVER_AT, 1),
        _licence(6, FIRST, SELLER, NOW - 3 * DAY, 0),
        settled,
        _handover(5, 75, SELLER, BUYER, HANDOVER_AT, 18 * USDC),
        _handover(6, 72, FIRST, SELLER, NOW - 12 * DAY, 0),
        _handover(6, 76, SELLER, BUYER, NOW - 3 * DAY, 18 * USDC),
        *uses,
    ]
    with Session(market.engine) as session:
        for row in rows:
            session.merge(row)
        session.commit()
        ids = {(u.license_id, u.seq): u.use_id for u in session.execute(select(Use)).scalars()}
    return ids


@pytest.fixture
def as_(app_client, market):
    """as_(address) signs the client in as `address` (None: anonymous)."""

    def sign(address: str | None):
        app_client.cookies.clear()
        if address:
            app_client.cookies.update(open_session(market.engine, address))
        return app_client

    return sign


def _no_label_of(answer, labels) -> None:
    for label in labels:
        assert label not in answer.text, (label, answer.text[:400])


def _missing_sentence(client, path: str, what: str) -> str:
    return client.get(path).json()["detail"].replace("999999", what)


# ------------------------------------------------------------------ the buyer, who holds the licence now


def test_the_buyer_sees_the_sellers_uses_as_numbers_and_statuses_only(as_, handed_over):
    client = as_(BUYER)
    answer = client.get(f"{API}/licenses/5/uses")
    assert answer.status_code == 200, answer.text
    _no_label_of(answer, SELLER_LABELS)
    page = answer.json()
    assert page["count"] == 4
    lines = {line["seq"]: line for line in page["data"]}
    assert [lines[seq]["label"] for seq in (3, 2)] == list(reversed(BUYER_LABELS))
    assert lines[2]["signer"] == BUYER and lines[2]["use_ref"].startswith("0x")
    for seq, status in ((0, "settled"), (1, "pending")):
        line = lines[seq]
        assert line["status"] == status and line["previous_holder"] is True and line["signer"] == SELLER, line
        assert PRIVATE_FIELDS.isdisjoint(line), line
        assert "0x" + hashlib.sha256(IMAGE).hexdigest()[:16] not in answer.text
    assert lines[0]["tx_hash"] == tx(70)  # a chain fact: the settlement that paid it
    # The filters keep the same shape.
    unsettled = client.get(f"{API}/licenses/5/uses", params={"status": "unsettled"}).json()
    assert [line["seq"] for line in unsettled["data"]] == [3, 2, 1] and "label" not in unsettled["data"][2]


def test_the_buyer_cannot_read_the_sellers_uses_through_any_route(as_, handed_over):
    client = as_(BUYER)
    missing = client.get(f"{API}/uses/999999").json()["detail"]
    for seq in (0, 1):
        use_id = handed_over[(5, seq)]
        for path in (f"/uses/{use_id}", f"/uses/{use_id}/proof", f"/uses/{use_id}/asset",
                     f"/uses/{use_id}/asset/thumbnail", f"/uses/{use_id}/asset/credentialed"):
            answer = client.get(API + path)
            assert answer.status_code == 404, (path, answer.text)
            _no_label_of(answer, SELLER_LABELS)
        assert client.get(f"{API}/uses/{use_id}").json()["detail"] == missing.replace("999999", str(use_id))
    # Her own: in full.
    own = client.get(f"{API}/uses/{handed_over[(5, 2)]}").json()
    assert own["label"] == BUYER_LABELS[0] and own["signer"] == BUYER
    # The usage log is the twin's audience's: the buyer's is empty, whatever she filters on, and a twin is a 404.
    for params in ({}, {"license": 5}, {"brand": SELLER}):
        log = client.get(f"{API}/usage-log", params=params)
        assert log.status_code == 200 and log.json()["data"] == [], (params, log.text)
    assert client.get(f"{API}/usage-log", params={"twin": 1}).status_code == 404
    # A statement (lines per category, no use labels) is its payee's and the guild's.
    month = time.strftime("%Y-%m", time.gmtime())
    assert client.get(f"{API}/statements/{addr('0x' + 'a1' * 20)}", params={"value": month}).status_code == 404


def test_the_buyer_sees_the_licence_with_the_count_of_inherited_uses(as_, handed_over):
    answer = as_(BUYER).get(f"{API}/licenses/5")
    assert answer.status_code == 200, answer.text
    _no_label_of(answer, SELLER_LABELS)
    lic = answer.json()
    assert lic["holder"] == BUYER and lic["handover"]["seller"] == SELLER
    assert lic["handover"]["inherited_uses"] == 1  # use 1: signed before the handover, not settled then
    assert lic["next_seq"] == 4


# ------------------------------------------------------------------ the seller, who held it before


def test_the_seller_sees_the_licence_her_seller_escrow_and_her_own_uses(as_, handed_over):
    client = as_(SELLER)
    lic = client.get(f"{API}/licenses/5")
    assert lic.status_code == 200, lic.text
    handover = lic.json()["handover"]
    assert handover["seller"] == SELLER and handover["seller_escrow"] == 18 * USDC
    assert handover["reclaimable_from"] >= HANDOVER_AT + 7 * DAY
    answer = client.get(f"{API}/licenses/5/uses")
    _no_label_of(answer, BUYER_LABELS)
    page = answer.json()
    assert page["count"] == 2 and [line["label"] for line in page["data"]] == list(reversed(SELLER_LABELS))
    assert [line["status"] for line in page["data"]] == ["pending", "settled"]
    assert client.get(f"{API}/licenses/5/uses", params={"status": "settled"}).json()["count"] == 1
    # Each of her uses, its proof (against the root her escrow paid), and not the buyer's.
    settled_use = handed_over[(5, 0)]
    assert client.get(f"{API}/uses/{settled_use}").json()["label"] == SELLER_LABELS[0]
    proof = client.get(f"{API}/uses/{settled_use}/proof")
    assert proof.status_code == 200 and proof.json()["settlement"]["tx_hash"] == tx(70), proof.text
    for seq in (2, 3):
        assert client.get(f"{API}/uses/{handed_over[(5, seq)]}").status_code == 404
    # The licence is in her lists of twin 1's licences too.
    listed = client.get(f"{API}/licenses", params={"twin_id": 1}).json()
    assert {row["license_id"] for row in listed["data"]} == {5, 6}


def test_the_seller_sees_her_own_image_and_the_buyer_does_not(as_, handed_over):
    use_id = handed_over[(5, 0)]
    attached = as_(SELLER).post(f"{API}/uses/{use_id}/asset", content=IMAGE, headers={"Content-Type": "image/png"})
    assert attached.status_code == 201, attached.text
    assert as_(SELLER).get(f"{API}/uses/{use_id}/asset").content == IMAGE
    for who in (BUYER, STRANGER, None):
        assert as_(who).get(f"{API}/uses/{use_id}/asset").status_code == 404, who
    buyer_view = as_(BUYER).get(f"{API}/licenses/5/uses")
    assert hashlib.sha256(IMAGE).hexdigest() not in buyer_view.text


def test_every_previous_holder_sees_her_own_uses_of_a_licence_handed_over_twice(as_, handed_over):
    for who, seq in ((FIRST, 0), (SELLER, 1)):
        client = as_(who)
        assert client.get(f"{API}/licenses/6").status_code == 200, who
        page = client.get(f"{API}/licenses/6/uses").json()
        assert [line["seq"] for line in page["data"]] == [seq] and page["count"] == 1, (who, page)
        assert page["data"][0]["signer"] == who and page["data"][0]["label"]
    lines = as_(BUYER).get(f"{API}/licenses/6/uses").json()["data"]
    assert [("label" in line, line["signer"]) for line in lines] == [(True, BUYER), (False, SELLER), (False, FIRST)]


# ------------------------------------------------------------------ everyone else


def test_a_stranger_is_told_nothing_and_the_twins_audience_sees_every_use(as_, market, handed_over):
    for who in (STRANGER, None):
        client = as_(who)
        missing = {path: client.get(API + path.replace("{l}", "999999").replace("{u}", "999999")).json()["detail"]
                   for path in ("/licenses/{l}", "/licenses/{l}/uses", "/uses/{u}", "/uses/{u}/proof")}
        for path, sentence in missing.items():
            for license_id, use_key in ((5, (5, 0)), (6, (6, 2))):
                use_id = handed_over[use_key]
                url = path.replace("{l}", str(license_id)).replace("{u}", str(use_id))
                answer = client.get(API + url)
                assert answer.status_code == 404, (who, url)
                assert answer.json()["detail"] == sentence.replace("999999", str(use_id if "{u}" in path
                                                                                 else license_id))
        assert client.get(f"{API}/licenses", params={"twin_id": 1}).json()["count"] == 0
    # The model of twin 1 and the guild: every use, with its label (as before the handover).
    for who in (market.model_a, addr("0x" + "06" * 20)):
        page = as_(who).get(f"{API}/licenses/5/uses").json()
        assert sorted(line["label"] for line in page["data"]) == sorted(SELLER_LABELS + BUYER_LABELS), who
