"""A payee's listings: the twins that name an account as a payee, and which of them it has not accepted yet."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ..deps import ContextDep
from ..read.http import respond
from ..read.payees import payee_listings
from ..read.schemas import AddressPath, Limit, Offset, Page, PayeeListingPublic

router = APIRouter(prefix="/payees", tags=["earnings"])


@router.get(
    "/{payee}/listings",
    response_model=Page[PayeeListingPublic],
    summary="The twins listing an account as a payee (not as their model), accepted or pending",
    description=(
        "A twin counts in its payees' `withdraw()` and `claimable()` only once each accepted being a payee "
        "(`acceptPayee`); `status=pending` lists the twins that name the account without its acceptance. Their "
        "earnings are still credited to it and reached with `withdrawFrom(twinIds)`; `leavePayee` removes it."
    ),
)
async def read_listings(
    payee: AddressPath,
    context: ContextDep,
    status: Annotated[Literal["pending", "accepted"] | None, Query(description="pending or accepted; both if absent")] = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Response:
    accepted = None if status is None else status == "accepted"
    return await respond(
        context,
        ("payee listings", payee, status, offset, limit),
        lambda session, now, _: payee_listings(session, context, payee, accepted=accepted, offset=offset, limit=limit),
    )
