"""The local chain's development accounts, labelled as the seed named them, for the web client's account picker."""

from __future__ import annotations

from fastapi import APIRouter

from ...errors import LocalChainOnlyError
from ..deps import ContextDep
from ..read.schemas import AccountPublic, Page

router = APIRouter(tags=["deployment"])


@router.get(
    "/accounts",
    response_model=Page[AccountPublic],
    summary="The local chain's development accounts, labelled (Model: …, Agency: …, Brand: …)",
    responses={404: {"description": "not the local chain"}},
)
def read_accounts(context: ContextDep) -> Page[AccountPublic]:
    if not context.local:
        raise LocalChainOnlyError(
            "Development accounts exist on the local chain only: connect your own wallet on this network."
        )
    accounts = [AccountPublic.model_validate(a) for a in context.accounts()]
    return Page[AccountPublic](data=accounts, count=len(accounts))
