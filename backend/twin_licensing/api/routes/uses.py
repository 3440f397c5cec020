"""Use reports: a brand reports a signed use, follows its status and fetches its Merkle proof."""

from __future__ import annotations

from datetime import datetime

from typing import Annotated

from fastapi import APIRouter, Response, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from ...chain.use_reports import UseReport, report_digest, typed_data
from ...usage.intake import SignedUseReport
from ...usage.status import PENDING, UseStatus, get_use, use_proof, use_status
from ..deps import ContextDep, SessionDep

router = APIRouter(prefix="/uses", tags=["uses"])

UseId = Annotated[int, PathParam(ge=1, lt=2**63, description="the use id returned when the use was reported")]

HEX32 = r"^0x[0-9a-fA-F]{64}$"
SIGNATURE = r"^0x[0-9a-fA-F]{130}$"
UINT64_MAX = 2**64 - 1


class UseReportBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Licence ids are the contract's counter: 64 bits are plenty, and every database stores them exactly.
    license_id: int = Field(gt=0, lt=2**63, description="the licence token id")
    use_ref: str = Field(pattern=HEX32, description="32-byte hash of the asset or campaign item, 0x-hex")
    category: int = Field(ge=0, le=7, description="usage category: bit index in the licence's categories")
    territory: int = Field(ge=0, le=7, description="territory: bit index in the licence's territories")
    used_at: int = Field(gt=0, le=UINT64_MAX, description="when the twin was used, unix seconds")


class UseReportIn(UseReportBase):
    """A use report and the licence holder's EIP-712 signature of it (`eth_signTypedData_v4`)."""

    signature: str = Field(pattern=SIGNATURE, description="65-byte signature r || s || v, 0x-hex")


class PayeeSharePublic(BaseModel):
    account: str
    role: str
    share_bps: int
    amount: int


class UsePublic(BaseModel):
    use_id: int
    license_id: int
    seq: int = Field(description="the use's number within its licence, from 0: its place in the settlements")
    use_ref: str
    category: int
    territory: int
    used_at: int
    signer: str
    digest: str = Field(description="EIP-712 digest of the report: its identity")
    accepted_at: datetime
    status: str = Field(description="pending | submitted | settled | rejected")
    tx_hash: str | None = None
    block_number: int | None = None
    block_time: int | None = None
    amount: int | None = Field(default=None, description="fee paid for this use, micro-units of the payment token")
    payees: list[PayeeSharePublic] = []
    reason: str | None = Field(default=None, description="why a rejected use cannot be settled")


class SettlementPublic(BaseModel):
    tx_hash: str
    log_index: int
    block_number: int
    license_id: int
    first_seq: int
    count: int
    amount: int
    uses_root: str


class UseRecordPublic(BaseModel):
    license_id: int
    seq: int
    use_ref: str
    category: int
    territory: int
    used_at: int


class UseProofPublic(BaseModel):
    use_id: int
    record: UseRecordPublic = Field(description="the use record the leaf encodes (IUseProofVerifier.UseRecord)")
    leaf: str
    proof: list[str]
    root: str
    settlement: SettlementPublic
    verifier: str | None = Field(default=None, description="UseProofVerifier address, if deployed")
    license_token: str


class TypedDataOut(BaseModel):
    digest: str
    typed_data: dict


def _public(session, context, use, *, fresh: bool = False) -> UsePublic:
    # A use accepted this very moment is pending: no need to ask the settler's and indexer's tables.
    state = UseStatus(status=PENDING) if fresh else use_status(session, context.index, use)
    return UsePublic(
        use_id=use.use_id,
        license_id=use.license_id,
        seq=use.seq,
        use_ref=use.use_ref,
        category=use.category,
        territory=use.territory,
        used_at=use.used_at,
        signer=use.signer,
        digest=use.digest,
        accepted_at=use.accepted_at,
        status=state.status,
        tx_hash=state.tx_hash,
        block_number=state.block_number,
        block_time=state.block_time,
        amount=state.amount,
        payees=[PayeeSharePublic(**vars(p)) for p in state.payees],
        reason=state.reason,
    )


@router.post(
    "",
    response_model=UsePublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": UsePublic, "description": "the same report was accepted before: the existing use"}},
    summary="Report a use of a twin, signed by the licence holder",
)
async def report_use(body: UseReportIn, response: Response, context: ContextDep) -> UsePublic:
    # `async def` running the intake inline: the intake is a few milliseconds of CPU and, on SQLite, serialised
    # anyway, so a hand-over to the thread pool per request would cost more than it overlaps. (Waiting for another
    # process's write lock blocks the loop for that wait; that is short: writers hold it for milliseconds.)
    result = context.intake.submit(SignedUseReport(**body.model_dump()))
    response.headers["Location"] = f"{router.prefix}/{result.use.use_id}"
    if result.created:
        return _public(None, context, result.use, fresh=True)
    response.status_code = status.HTTP_200_OK
    with Session(context.engine) as session:
        return _public(session, context, result.use)


@router.post("/typed-data", response_model=TypedDataOut, summary="The EIP-712 typed data a wallet signs for a report")
def report_typed_data(body: UseReportBase, context: ContextDep) -> TypedDataOut:
    report = UseReport(body.license_id, body.use_ref.lower(), body.category, body.territory, body.used_at)
    return TypedDataOut(digest=report_digest(context.domain, report), typed_data=typed_data(context.domain, report))


@router.get("/{use_id}", response_model=UsePublic, summary="A use and its settlement status")
def read_use(use_id: UseId, session: SessionDep, context: ContextDep) -> UsePublic:
    return _public(session, context, get_use(session, context.scope, use_id))


@router.get("/{use_id}/proof", response_model=UseProofPublic, summary="The use's Merkle proof against its settlement")
def read_use_proof(use_id: UseId, session: SessionDep, context: ContextDep) -> UseProofPublic:
    proven = use_proof(session, context.index, get_use(session, context.scope, use_id))
    s = proven.settlement
    use = proven.use
    return UseProofPublic(
        use_id=use.use_id,
        record=UseRecordPublic(
            license_id=use.license_id,
            seq=use.seq,
            use_ref=use.use_ref,
            category=use.category,
            territory=use.territory,
            used_at=use.used_at,
        ),
        leaf=proven.proof.leaf,
        proof=list(proven.proof.proof),
        root=proven.proof.root,
        settlement=SettlementPublic(
            tx_hash=s.tx_hash,
            log_index=s.log_index,
            block_number=s.block_number,
            license_id=s.license_id,
            first_seq=s.first_seq,
            count=s.count,
            amount=s.amount,
            uses_root=s.uses_root,
        ),
        verifier=getattr(context.deployment, "use_proof_verifier", None) or None,
        license_token=context.deployment.license_token,
    )
