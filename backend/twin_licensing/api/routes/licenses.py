"""Licences: by holder (or twin), one licence with its status, escrow and uses, and a licence's uses.

Private (`api.visibility`): a licence is seen by its holder, its former holders and the model, the payees and the
guild of its twin; its uses and their labels by the account that signed each and the twin's audience (the holder
sees its former holders' uses by number and status only); lists show only those, and one licence is a 404 to anyone
else."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ...errors import InvalidRequestError
from ..deps import ContextDep, ViewerDep
from ..read.http import respond
from ..read.licenses import get_license, license_uses, list_licenses
from ..visibility import LICENCE_AUDIENCE, licence_sight, not_found, visible_licences, visible_license
from ..read.schemas import (
    ID_MAX,
    LicenseIdPath,
    LicensePublic,
    LicenseUsePublic,
    Limit,
    Offset,
    OptionalAddress,
    Page,
)

router = APIRouter(prefix="/licenses", tags=["licenses"])


@router.get("", response_model=Page[LicensePublic], summary="Licences, by holder or twin, newest first")
async def read_licenses(
    context: ContextDep,
    viewer: ViewerDep,
    holder: Annotated[OptionalAddress, Query(description="the brand holding the licences")] = None,
    twin_id: Annotated[int | None, Query(ge=1, le=ID_MAX, description="only licences of this twin")] = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Response:
    if holder is None and twin_id is None:
        raise InvalidRequestError("Say whose licences to list: give a holder's address or a twin id.")
    # Not cached: pending uses change without the index moving.
    return await respond(
        context,
        None,
        lambda session, now, _: list_licenses(
            session, context, now, holder=holder, twin_id=twin_id, offset=offset, limit=limit,
            visible=visible_licences(session, context.chain_id, viewer),
        ),
    )


@router.get(
    "/{license_id}",
    response_model=LicensePublic,
    summary="One licence: terms, end and grace, escrow, upfront vesting, handover, uses settled and pending, status",
    responses={404: {"description": "no licence with this id (yet: the index may be catching up)"}},
)
async def read_license(license_id: LicenseIdPath, context: ContextDep, viewer: ViewerDep) -> Response:
    def build(session, now, _):
        visible_license(session, context.chain_id, viewer, license_id)
        found = get_license(session, context, license_id, now)
        if found is None:
            raise not_found(f"licence {license_id}", LICENCE_AUDIENCE)
        return found

    return await respond(context, None, build)


@router.get(
    "/{license_id}/uses",
    response_model=Page[LicenseUsePublic],
    summary="A licence's reported uses, newest first, each with its settlement status (its former holders' by number "
            "and status only, to its holder; a former holder's own only, to her)",
    responses={404: {"description": "no licence with this id"}},
)
async def read_license_uses(
    license_id: LicenseIdPath,
    context: ContextDep,
    viewer: ViewerDep,
    status: Annotated[
        Literal["settled", "unsettled"] | None,
        Query(description="settled, or unsettled (pending, submitted, held or rejected)"),
    ] = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Response:
    def build(session, now, _):
        lic, sight = licence_sight(session, context.chain_id, viewer, license_id)
        return license_uses(session, context, lic, sight, status=status, offset=offset, limit=limit, now=now)

    return await respond(context, None, build)
