"""Consent documents: stored under their keccak256 (the hash on chain), read by anyone by hash; a text that does not
match its hash, an oversized one and an unknown hash are refused with a sentence, and change nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from kit.read_api import app_client, app_settings, market  # noqa: F401
from twin_licensing.chain.hashing import keccak256
from twin_licensing.db.consent_documents import ConsentDocument
from twin_licensing.db.registry_state import Twin

API = "/api/v1/consent-documents"
TEXT = "CONSENT\n\nI consent to e-commerce and social uses of my twin, and to no other.\n"


def _hash(text: str) -> str:
    return "0x" + keccak256(text.encode()).hex()


def _count(engine) -> int:
    with Session(engine) as s:
        return s.execute(select(func.count()).select_from(ConsentDocument)).scalar_one()


def test_a_text_is_stored_under_its_keccak_and_read_back_by_anyone(app_client):
    created = app_client.post(API, json={"text": TEXT, "consent_hash": _hash(TEXT).upper().replace("0X", "0x")})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["consent_hash"] == _hash(TEXT) and body["size_bytes"] == len(TEXT.encode()) and body["twins"] == []
    again = app_client.post(API, json={"text": TEXT})
    assert again.status_code == 200 and again.json()["stored_at"] == body["stored_at"]
    read = app_client.get(f"{API}/{_hash(TEXT)}")
    assert read.status_code == 200 and read.json()["text"] == TEXT  # byte for byte, line endings included


def test_a_text_that_does_not_match_its_hash_is_refused(app_client, market):
    claimed = _hash(TEXT)
    answer = app_client.post(API, json={"text": TEXT.replace("\n", "\r\n"), "consent_hash": claimed})
    assert answer.status_code == 422 and answer.json()["code"] == "consent_hash_mismatch"
    assert f"does not match the hash {claimed}" in answer.json()["detail"]
    assert _count(market.engine) == 0


def test_an_oversized_or_empty_text_is_refused(app_client, market):
    big = app_client.post(API, json={"text": "é" * 20_000})  # 40 000 bytes of UTF-8 (20 000 characters)
    assert big.status_code == 413 and "at most 32 KiB" in big.json()["detail"]
    empty = app_client.post(API, json={"text": "  \n"})
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    bad_hash = app_client.post(API, json={"text": TEXT, "consent_hash": "0x1234"})
    assert bad_hash.status_code == 422
    assert _count(market.engine) == 0


def test_an_unknown_hash_is_a_404_with_a_sentence(app_client):
    answer = app_client.get(f"{API}/0x{'ab' * 32}")
    assert answer.status_code == 404 and "No consent document with hash 0x" in answer.json()["detail"]
    assert app_client.get(f"{API}/not-a-hash").status_code == 422


def test_a_seeded_twins_text_is_taken_from_its_media_when_the_hash_matches(app_client, market, app_settings):
    """Twin 1's metadata points at /media/consent/1.txt (as `twinctl seed` writes it)."""
    path = app_settings.media_dir / "consent" / "1.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TEXT)
    with Session(market.engine) as s:
        twin = s.get(Twin, (31337, 1))
        twin.consent_hash = _hash(TEXT)
        s.add(twin)
        s.commit()
    answer = app_client.get(f"{API}/{_hash(TEXT)}")
    assert answer.status_code == 200 and answer.json()["text"] == TEXT and answer.json()["twins"] == [1]
    assert _count(market.engine) == 1
    # A media file whose text no longer matches the hash on chain is not served as the consent.
    path.write_text(TEXT + "amended")
    with Session(market.engine) as s:
        s.delete(s.get(ConsentDocument, _hash(TEXT)))
        s.commit()
    assert app_client.get(f"{API}/{_hash(TEXT)}").status_code == 404


def test_storing_is_rate_limited(app_client):
    statuses = [app_client.post(API, json={"text": f"consent {i}"}).status_code for i in range(25)]
    assert statuses[:20] == [201] * 20 and statuses[-1] == 429
