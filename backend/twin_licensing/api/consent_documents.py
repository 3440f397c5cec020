"""Consent documents, stored content-addressed: the text a model consents under, keyed by its keccak256, which is
the consent hash her twin carries on chain (`registerTwin`, `grantConsent`).

The web client stores the text before the transaction that puts its hash on chain, so a document may arrive before
any twin names it: storing is open to anyone but bounded (`MAX_CONSENT_BYTES`) and rate-limited (api/limits.py);
a text whose keccak256 differs from the hash the client says it signed is refused. Twins seeded by `twinctl seed`
keep their consent text in the media directory, which their metadata points at: a document asked for by hash and
not stored yet is taken from there when its hash matches, and stored.
"""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..chain.hashing import keccak256
from ..db.consent_documents import ConsentDocument
from ..db.registry_state import ConsentChange, Twin
from ..errors import InvalidRequestError, NotFoundError, RequestRefused
from .read.metadata import MEDIA_URL, MetadataResolver

MAX_CONSENT_BYTES = 32 * 1024  # a consent text is a page or two; the request body itself is bounded at 64 KiB


class ConsentDocumentTooLarge(RequestRefused):
    status_code = 413
    code = "consent_document_too_large"


class ConsentHashMismatch(InvalidRequestError):
    code = "consent_hash_mismatch"


@dataclass(frozen=True)
class StoredDocument:
    consent_hash: str
    text: str
    size_bytes: int
    stored_at: int
    created: bool
    twins: list[int]  # twins whose consent (at registration or a grant) is this document, as the index knows


def consent_hash_of(text: str) -> str:
    return "0x" + keccak256(text.encode("utf-8")).hex()


def _twins_with(session: Session, chain_id: int, consent_hash: str) -> list[int]:
    rows = session.execute(
        select(ConsentChange.twin_id).where(
            ConsentChange.chain_id == chain_id, ConsentChange.consent_hash.in_([consent_hash, consent_hash.lower()])
        )
    ).scalars()
    current = session.execute(
        select(Twin.twin_id).where(
            Twin.chain_id == chain_id, or_(Twin.consent_hash == consent_hash, Twin.consent_hash == consent_hash.lower())
        )
    ).scalars()
    return sorted(set(rows) | set(current))


def _stored(row: ConsentDocument, created: bool, twins: list[int]) -> StoredDocument:
    return StoredDocument(row.consent_hash, row.text, row.size_bytes, row.stored_at, created, twins)


def store(session: Session, chain_id: int, text: str, claimed_hash: str | None) -> StoredDocument:
    """Stores `text` under its keccak256 (once: the same text again returns the stored row, `created` False)."""
    size = len(text.encode("utf-8"))
    if size > MAX_CONSENT_BYTES:
        raise ConsentDocumentTooLarge(
            f"The consent document is {size // 1024} KiB; at most {MAX_CONSENT_BYTES // 1024} KiB is kept: shorten it."
        )
    if not text.strip():
        raise InvalidRequestError("The consent document is empty: write what the model consents to.")
    consent_hash = consent_hash_of(text)
    if claimed_hash is not None and claimed_hash.lower() != consent_hash:
        raise ConsentHashMismatch(
            f"The text does not match the hash {claimed_hash.lower()} (its keccak256 is {consent_hash}): send the "
            "text exactly as it was hashed, with the same spaces and line endings."
        )
    existing = session.get(ConsentDocument, consent_hash)
    if existing is not None:
        return _stored(existing, False, _twins_with(session, chain_id, consent_hash))
    row = ConsentDocument(consent_hash=consent_hash, text=text, size_bytes=size, stored_at=int(time.time()))
    stored = ConsentDocument.model_validate(row)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # stored by a concurrent request meanwhile: the same text
        session.rollback()
        return _stored(session.get(ConsentDocument, consent_hash), False, _twins_with(session, chain_id, consent_hash))
    return _stored(stored, True, _twins_with(session, chain_id, consent_hash))


def find(session: Session, chain_id: int, consent_hash: str, metadata: MetadataResolver) -> StoredDocument:
    """The document whose keccak256 is `consent_hash`; NotFoundError if neither the store nor a twin's media has it."""
    consent_hash = consent_hash.lower()
    row = session.get(ConsentDocument, consent_hash)
    twins = _twins_with(session, chain_id, consent_hash)
    if row is not None:
        return _stored(row, False, twins)
    text = _from_media(session, chain_id, twins, consent_hash, metadata)
    if text is None:
        raise NotFoundError(
            f"No consent document with hash {consent_hash} is stored here: the model stores it when she registers her "
            "twin or grants consent from this site."
        )
    return store(session, chain_id, text, consent_hash)


def _from_media(session: Session, chain_id: int, twins: list[int], consent_hash: str,
                metadata: MetadataResolver) -> str | None:
    """The consent text a twin's metadata points at in the media directory, if its keccak256 is `consent_hash`."""
    for twin_id in twins:
        twin = session.get(Twin, (chain_id, twin_id))
        url = metadata.get(twin.uri).consent_document if twin is not None else None
        if not url or not url.startswith(MEDIA_URL):
            continue
        root = metadata.media_dir
        path = (root / urllib.parse.unquote(url[len(MEDIA_URL):])).resolve()
        if not path.is_relative_to(root) or not path.is_file() or path.stat().st_size > MAX_CONSENT_BYTES:
            continue
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if consent_hash_of(text) == consent_hash:
            return text
    return None
