"""The guild's attestations: who it vouches for as a model or an agency, with the label it gave, and their state."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from ...errors import NotFoundError
from ..deps import ContextDep
from ..read.guild import AttestationFilter, get_attestation, list_attestations
from ..read.http import respond
from ..read.schemas import ID_MAX, AttestationPublic, Limit, Offset, OptionalAddress, Page

router = APIRouter(prefix="/attestations", tags=["guild"])


@router.get(
    "",
    response_model=Page[AttestationPublic],
    summary="The guild's attestations of models and agencies, newest first",
    description=(
        "`state` is judged now: valid (neither expired nor revoked), expired, or revoked. `current=true` keeps each "
        "subject's latest attestation only, the one the contracts check (a new attestation replaces the one before)."
    ),
)
async def read_attestations(
    context: ContextDep,
    role: Annotated[Literal["model", "agency"] | None, Query(description="model or agency")] = None,
    state: Annotated[Literal["valid", "expired", "revoked"] | None, Query(description="valid, expired or revoked")] = None,
    subject: Annotated[OptionalAddress, Query(description="only the attestations of this address")] = None,
    current: Annotated[bool, Query(description="only each subject's current attestation")] = False,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Response:
    f = AttestationFilter(role=role, state=state, subject=subject, current=current, offset=offset, limit=limit)
    return await respond(context, ("attestations", f), lambda session, now, _: list_attestations(session, context, f, now),
                         clock_dependent=True)


@router.get(
    "/{attestation_id}",
    response_model=AttestationPublic,
    summary="One attestation",
    responses={404: {"description": "no attestation with this id (yet: the index may be catching up)"}},
)
async def read_attestation(
    attestation_id: Annotated[int, Path(ge=1, le=ID_MAX, description="the attestation's id")], context: ContextDep
) -> Response:
    def build(session, now, _):
        found = get_attestation(session, context, attestation_id, now)
        if found is None:
            raise NotFoundError(
                f"There is no attestation {attestation_id}: check the number, or wait a moment if the guild just made it."
            )
        return found

    return await respond(context, ("attestation", attestation_id), build, clock_dependent=True)
