"""Use reports: a brand reports a signed use, follows its status and fetches its Merkle proof.

The bodies and answers are the use model family of `db.uses` (`UseCreate`, `UseUnsigned`, `UsePublic`,
`UseRecordPublic`); a request that does not fit them is answered 422 with one sentence naming the field and its
rule (`usage.errors.malformed`), like every other refusal of the intake.

Reporting needs no session (the report's signature is the holder's); reading a use or its proof does: the account
that signed it (not a later holder of its licence), or the model, a payee or the guild of its twin
(`api.visibility`); anyone else gets a 404.
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, Coroutine

from fastapi import APIRouter, Request, Response, status
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlmodel import Session

from ...chain.use_reports import report_digest, typed_data
from ...db.uses import MAX_DB_INT, UseCreate, UsePublic, UseRecordPublic, UseUnsigned
from ...domain.use_record import record_of
from ...usage.errors import UseNotFound, malformed
from ...usage.intake import report_of
from ...usage.status import fresh_view, get_use, use_proof, use_views
from ..deps import ContextDep, SessionDep, ViewerDep
from ..visibility import USE_AUDIENCE, Viewer, can_see_use_of, not_found


class SentenceValidationRoute(APIRoute):
    """Answers a request that fails validation with `{"detail": "<one sentence>", "code": "malformed_report"}`
    instead of FastAPI's list of developer messages: the web client shows `detail` as it is."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        body = self.body_field.field_info.annotation if self.body_field is not None else None
        fields = getattr(body, "model_fields", {})  # what this route's body takes, for the sentence

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                refusal = malformed(exc.errors(), fields)
                return JSONResponse(
                    status_code=refusal.status_code, content={"detail": refusal.reason, "code": refusal.code}
                )

        return handle


router = APIRouter(prefix="/uses", tags=["uses"], route_class=SentenceValidationRoute)

UseId = Annotated[int, PathParam(ge=1, le=MAX_DB_INT, description="the use id returned when the use was reported")]


class SettlementPublic(BaseModel):
    tx_hash: str
    log_index: int
    block_number: int
    license_id: int
    first_seq: int
    count: int
    amount: int
    uses_root: str


class UseProofPublic(BaseModel):
    use_id: int
    record: UseRecordPublic = Field(description="the use record the leaf encodes (IUseProofVerifier.UseRecord)")
    leaf: str
    proof: list[str]
    root: str
    settlement: SettlementPublic
    verifier: str | None = Field(default=None, description="UseProofVerifier address, if deployed")
    license_token: str


class SequenceMismatchOut(BaseModel):
    detail: str = Field(description="one sentence: which number was signed and which to sign instead")
    code: str = Field(description='"sequence_mismatch"')
    expected_seq: int = Field(description="the licence's next sequence number: sign the report again with it")


class TypedDataOut(BaseModel):
    digest: str
    typed_data: dict


@router.post(
    "",
    response_model=UsePublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": UsePublic, "description": "the same report, signed by the same key, was accepted before: the "
              "existing use"},
        409: {"model": SequenceMismatchOut, "description": "the signed seq is not the licence's next number (another "
              "report took it, or it skips ahead): sign the report again with expected_seq. Other 409s (the "
              "licence ended, max uses reached) carry detail and code only"},
    },
    summary="Report a use of a twin, signed by the licence holder",
)
async def report_use(body: UseCreate, response: Response, context: ContextDep) -> UsePublic:
    # `async def` running the intake inline: the intake is a few milliseconds of CPU and, on SQLite, serialised
    # anyway, so a hand-over to the thread pool per request would cost more than it overlaps. (Waiting for another
    # process's write lock blocks the loop for that wait; that is short: writers hold it for milliseconds.)
    result = context.intake.submit(body)
    response.headers["Location"] = f"{router.prefix}/{result.use.use_id}"
    if result.created:
        return fresh_view(result.use, result.fee)
    response.status_code = status.HTTP_200_OK
    with Session(context.engine) as session:
        return use_views(session, context.index, [result.use])[0]


@router.post("/typed-data", response_model=TypedDataOut, summary="The EIP-712 typed data a wallet signs for a report")
def report_typed_data(body: UseUnsigned, context: ContextDep) -> TypedDataOut:
    report = report_of(body)
    return TypedDataOut(digest=report_digest(context.domain, report), typed_data=typed_data(context.domain, report))


def _visible_use(session: Session, context, viewer: Viewer, use_id: int):
    """The use, if it exists and the viewer may see it; the same 404 otherwise."""
    try:
        use = get_use(session, context.scope, use_id)
    except UseNotFound:
        use = None
    if use is None or not can_see_use_of(session, context.chain_id, viewer, signer=use.signer, twin_id=use.twin_id):
        raise not_found(f"use {use_id}", USE_AUDIENCE)
    return use


@router.get("/{use_id}", response_model=UsePublic, summary="A use and its settlement status")
def read_use(use_id: UseId, session: SessionDep, context: ContextDep, viewer: ViewerDep) -> UsePublic:
    return use_views(session, context.index, [_visible_use(session, context, viewer, use_id)])[0]


@router.get("/{use_id}/proof", response_model=UseProofPublic, summary="The use's Merkle proof against its settlement")
def read_use_proof(use_id: UseId, session: SessionDep, context: ContextDep, viewer: ViewerDep) -> UseProofPublic:
    proven = use_proof(session, context.index, _visible_use(session, context, viewer, use_id))
    settlement = proven.settlement
    return UseProofPublic(
        use_id=proven.use.use_id,
        record=UseRecordPublic.model_validate(vars(record_of(proven.use))),
        leaf=proven.proof.leaf,
        proof=list(proven.proof.proof),
        root=proven.proof.root,
        settlement=SettlementPublic.model_validate(settlement, from_attributes=True),
        verifier=getattr(context.deployment, "use_proof_verifier", None) or None,
        license_token=context.deployment.license_token,
    )
