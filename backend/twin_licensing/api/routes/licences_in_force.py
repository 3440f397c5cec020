"""The licences in force over a twin, as the facts a buyer needs before buying (an exclusive licence, or one an
exclusive offer would overlap): holder, terms and expiry, each read from public chain events. Public; a licence's
escrow, uses and their labels stay behind its own route (`api.visibility`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select

from ...db.license_state import License
from ..deps import ContextDep
from ..read.http import respond
from ..read.schemas import Page, TermsPublic, TwinIdPath

router = APIRouter(prefix="/twins", tags=["twins"])


class LicenceInForcePublic(BaseModel):
    license_id: int
    holder: str
    holder_label: str
    expiry: int
    terms: TermsPublic


@router.get(
    "/{twin_id}/licences-in-force",
    response_model=Page[LicenceInForcePublic],
    summary="A twin's licences in force (holder, terms, expiry): what exclusivity is checked against before buying",
)
async def read_licences_in_force(twin_id: TwinIdPath, context: ContextDep) -> Response:
    def build(session, now, _):
        rows = session.execute(
            select(License)
            .where(License.chain_id == context.chain_id, License.twin_id == twin_id, License.expiry > now,
                   License.ended_at.is_(None))
            .order_by(License.license_id)
        ).scalars()
        data = [
            LicenceInForcePublic(license_id=r.license_id, holder=r.holder, holder_label=context.label(r.holder),
                                 expiry=r.expiry, terms=TermsPublic.model_validate(r, from_attributes=True))
            for r in rows
        ]
        return Page[LicenceInForcePublic](data=data, count=len(data))

    return await respond(context, ("licences-in-force", twin_id), build, clock_dependent=True)
