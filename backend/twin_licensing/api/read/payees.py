"""Read-only queries over payee listings (indexer): the twins that name an account as a payee, accepted or pending."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from ...db.registry_state import Twin, TwinPayee
from ...domain.shares import share_of
from ..context import ApiContext
from .catalogue import twin_ref
from .schemas import Page, PayeeListingPublic


def payee_listings(
    session: Session, ctx: ApiContext, payee: str, *, accepted: bool | None, offset: int, limit: int
) -> Page[PayeeListingPublic]:
    """The twins listing `payee` other than as their model (the model's own twins always count for her), oldest
    twin first; `accepted=False` gives the pending ones: twins that name her without her acceptance."""
    chain_id = ctx.chain_id
    conditions = [TwinPayee.chain_id == chain_id, TwinPayee.account == payee, TwinPayee.position > 0]
    if accepted is not None:
        conditions.append(TwinPayee.accepted.is_(accepted))
    count = session.execute(select(func.count()).select_from(TwinPayee).where(*conditions)).scalar_one()
    listings = list(
        session.execute(select(TwinPayee).where(*conditions).order_by(TwinPayee.twin_id).offset(offset).limit(limit))
        .scalars()
    )
    twin_ids = [row.twin_id for row in listings]
    twins: dict[int, Twin] = {}
    payees_of: dict[int, list[tuple[str, int]]] = {}
    if twin_ids:
        twins = {t.twin_id: t for t in session.execute(
            select(Twin).where(Twin.chain_id == chain_id, Twin.twin_id.in_(twin_ids))).scalars()}
        for row in session.execute(
            select(TwinPayee).where(TwinPayee.chain_id == chain_id, TwinPayee.twin_id.in_(twin_ids))
            .order_by(TwinPayee.twin_id, TwinPayee.position)
        ).scalars():
            payees_of.setdefault(row.twin_id, []).append((row.account, row.share_bps))
    data = []
    for row in listings:
        twin = twins.get(row.twin_id)
        undistributed = twin.undistributed if twin is not None else 0
        data.append(PayeeListingPublic(
            twin=twin_ref(ctx, twin, row.twin_id),
            model=twin.model if twin is not None else "",
            model_label=ctx.label(twin.model) if twin is not None else "",
            share_bps=row.share_bps,
            role=row.role,
            accepted=row.accepted,
            since_block=row.since_block,
            undistributed_share=share_of(payees_of.get(row.twin_id, []), undistributed, payee),
        ))
    return Page[PayeeListingPublic](data=data, count=count)
