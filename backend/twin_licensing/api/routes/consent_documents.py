"""Consent documents: store a consent text (its keccak256 is the hash on chain), read one by hash. Both public:
brands read what the model agreed to before buying (`api/consent_documents.py` says what is accepted)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ..consent_documents import MAX_CONSENT_BYTES, StoredDocument, find, store
from ..deps import ContextDep
from ..limits import CONSENT_DOCUMENT_LIMIT

router = APIRouter(prefix="/consent-documents", tags=["consent"])

HEX32 = r"^0x[0-9a-fA-F]{64}$"


class ConsentDocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(description=f"the consent text, exactly as hashed (UTF-8, at most {MAX_CONSENT_BYTES // 1024} KiB)")
    consent_hash: str | None = Field(
        default=None, pattern=HEX32, description="the keccak256 the client computed: the text is refused if it differs"
    )


class ConsentDocumentPublic(BaseModel):
    consent_hash: str = Field(description="keccak256 of the text's UTF-8 bytes: the hash on chain")
    text: str
    size_bytes: int
    stored_at: int = Field(description="when the server first stored it, unix seconds")
    twins: list[int] = Field(description="twins registered or granted with this document, as indexed")


def _public(found: StoredDocument) -> ConsentDocumentPublic:
    return ConsentDocumentPublic(consent_hash=found.consent_hash, text=found.text, size_bytes=found.size_bytes,
                                 stored_at=found.stored_at, twins=found.twins)


@router.post(
    "",
    response_model=ConsentDocumentPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Store a consent text under its keccak256 (before the transaction that puts the hash on chain)",
    responses={200: {"description": "the same text was stored before"}, 413: {"description": "too large"},
               422: {"description": "empty, or its keccak256 is not the hash given"}},
    dependencies=[Depends(CONSENT_DOCUMENT_LIMIT)],
)
async def create_consent_document(body: ConsentDocumentCreate, response: Response,
                                  context: ContextDep) -> ConsentDocumentPublic:
    def run() -> StoredDocument:
        with Session(context.engine) as session:
            return store(session, context.chain_id, body.text, body.consent_hash)

    found = await run_in_threadpool(run)
    if not found.created:
        response.status_code = status.HTTP_200_OK
    return _public(found)


@router.get(
    "/{consent_hash}",
    response_model=ConsentDocumentPublic,
    summary="A consent document by its hash (the twin's consent hash on chain)",
    responses={404: {"description": "no document with this hash is stored"}},
)
async def read_consent_document(
    consent_hash: Annotated[str, PathParam(pattern=HEX32, description="0x + 64 hexadecimal digits")],
    context: ContextDep,
) -> ConsentDocumentPublic:
    def run() -> StoredDocument:
        with Session(context.engine) as session:
            return find(session, context.chain_id, consent_hash, context.metadata)

    return _public(await run_in_threadpool(run))
