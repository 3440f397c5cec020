"""A payee's earnings: the contract's `claimable` and `totalEarned` beside the index's, and their history."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ..deps import ChainReaderDep, ContextDep
from ..read.earnings import credits, history_page, index_totals, summarise, vesting_of
from ..read.http import respond
from ..read.schemas import (
    AddressPath,
    ChainEarningsPublic,
    EarningItemPublic,
    EarningsPublic,
    Limit,
    Offset,
    Page,
)

router = APIRouter(prefix="/earnings", tags=["earnings"])


@router.get(
    "/{payee}",
    response_model=EarningsPublic,
    summary="A payee's earnings: on chain and in the index, whether they agree, per brand, per twin, over time",
    description=(
        "`chain` holds the contract's `claimable(payee)` and `totalEarned(payee)`, read at the index's block; "
        "`index` the same computed from the indexed events. `agree` is true when both give the same values, "
        "null when the node could not be read. An account that never earned anything has zeros, not a 404."
    ),
)
async def read_earnings(payee: AddressPath, context: ContextDep, chain: ChainReaderDep) -> Response:
    def build(session, now, version):
        totals = index_totals(session, context.chain_id, payee).public(version.block_number)
        on_chain = chain.earnings(payee, version.block_number)
        chain_public = ChainEarningsPublic(
            available=on_chain is not None,
            block_number=version.block_number if on_chain is not None else None,
            claimable=on_chain.claimable if on_chain else None,
            total_earned=on_chain.total_earned if on_chain else None,
            withdrawn=(on_chain.total_earned - on_chain.claimable) if on_chain else None,
        )
        agree = None
        if on_chain is not None:
            agree = on_chain.claimable == totals.claimable and on_chain.total_earned == totals.total_earned
        summary = summarise(context, session, credits(session, context.chain_id, payee))
        return EarningsPublic(
            payee=payee, label=context.label(payee), chain=chain_public, index=totals, agree=agree, **summary,
            **vesting_of(context, session, payee, now),
        )

    # Vesting moves with the clock alone: cached only until the next moment an answer may change (a minute at most).
    return await respond(context, ("earnings", payee), build, clock_dependent=True)


@router.get(
    "/{payee}/history",
    response_model=Page[EarningItemPublic],
    summary="A payee's earnings item by item, newest first: upfront fees as they vest, settled uses, withdrawals",
)
async def read_earnings_history(
    payee: AddressPath,
    context: ContextDep,
    kind: Annotated[Literal["upfront", "uses", "withdrawal"] | None, Query(description="only this kind")] = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Response:
    return await respond(
        context,
        ("earnings-history", payee, kind, offset, limit),
        lambda session, now, _: history_page(
            context, session, credits(session, context.chain_id, payee), kind=kind, offset=offset, limit=limit
        ),
    )
