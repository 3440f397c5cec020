"""The catalogue: twins with their offers (filtered by category, territory, fee), and one twin in full."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ...errors import InvalidRequestError, NotFoundError
from ..deps import ContextDep
from ..read.catalogue import CatalogueFilter, get_twin, list_twins
from ..read.http import respond
from ..read.schemas import (
    Amount,
    ID_MAX,
    BitIndex,
    Limit,
    Offset,
    OptionalAddress,
    Page,
    TwinIdPath,
    TwinPublic,
    TwinSummaryPublic,
)

router = APIRouter(prefix="/twins", tags=["twins"])


@router.get(
    "",
    response_model=Page[TwinSummaryPublic],
    summary="The catalogue of twins, with their active offers",
    description=(
        "Filters apply to the twins' active offers: a twin is listed if one of its active offers allows the "
        "category and the territory and has a per-use fee within [min_fee, max_fee]. `available=true` keeps "
        "only twins whose model's consent is granted."
    ),
)
async def read_twins(
    context: ContextDep,
    category: Annotated[BitIndex | None, Query(description="usage category, bit index 0..7")] = None,
    territory: Annotated[BitIndex | None, Query(description="territory, bit index 0..7")] = None,
    min_fee: Annotated[Amount | None, Query(description="lowest per-use fee, micro-units")] = None,
    max_fee: Annotated[Amount | None, Query(description="highest per-use fee, micro-units")] = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the twin's name")] = None,
    model: Annotated[OptionalAddress, Query(description="only the twins of this model")] = None,
    payee: Annotated[OptionalAddress, Query(description="only the twins paying this account")] = None,
    available: Annotated[bool, Query(description="only twins that can be licensed now")] = False,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Response:
    if min_fee is not None and max_fee is not None and min_fee > max_fee:
        raise InvalidRequestError("The lowest fee is above the highest fee: lower the one or raise the other.")
    # Fees are uint48 on chain; the database holds 64-bit integers: bigger bounds mean "no bound" or "nothing".
    clamp = lambda fee: None if fee is None else min(fee, ID_MAX)  # noqa: E731
    f = CatalogueFilter(
        category=category, territory=territory, min_fee=clamp(min_fee), max_fee=clamp(max_fee), q=(q or "").strip() or None,
        model=model, payee=payee, available=available, offset=offset, limit=limit,
    )
    return await respond(
        context, ("twins", f), lambda session, now, _: list_twins(session, context, f, now), clock_dependent=True
    )


@router.get(
    "/{twin_id}",
    response_model=TwinPublic,
    summary="One twin: terms, consent state and history, payees",
    responses={404: {"description": "no twin with this id (yet: the index may be catching up)"}},
)
async def read_twin(twin_id: TwinIdPath, context: ContextDep) -> Response:
    def build(session, now, _):
        twin = get_twin(session, context, twin_id, now)
        if twin is None:
            raise NotFoundError(
                f"There is no twin {twin_id}: check the number, or wait a moment if it was just registered."
            )
        return twin

    return await respond(context, ("twin", twin_id), build, clock_dependent=True)
