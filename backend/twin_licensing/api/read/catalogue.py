"""Read-only queries over the indexer's twin, offer and consent tables: the catalogue and one twin."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, select
from sqlmodel import Session

from ...db.license_state import Offer
from ...db.registry_state import ConsentChange, Twin, TwinPayee
from ...seed.data import CATEGORIES, TERRITORIES
from .context import ReadContext
from .schemas import (
    ConsentChangePublic,
    ConsentPublic,
    OfferPublic,
    Page,
    PayeePublic,
    TwinPublic,
    TwinRefPublic,
    TwinSummaryPublic,
)


@dataclass(frozen=True)
class CatalogueFilter:
    category: int | None = None
    territory: int | None = None
    min_fee: int | None = None
    max_fee: int | None = None
    q: str | None = None
    model: str | None = None
    payee: str | None = None
    available: bool = False
    offset: int = 0
    limit: int = 20

    def offer_conditions(self) -> list:
        conditions = [Offer.active.is_(True)]
        if self.category is not None:
            conditions.append(Offer.categories.op("&")(1 << self.category) != 0)
        if self.territory is not None:
            conditions.append(Offer.territories.op("&")(1 << self.territory) != 0)
        if self.min_fee is not None:
            conditions.append(Offer.per_use_fee >= self.min_fee)
        if self.max_fee is not None:
            conditions.append(Offer.per_use_fee <= self.max_fee)
        return conditions

    @property
    def filters_offers(self) -> bool:
        return self.available or any(
            v is not None for v in (self.category, self.territory, self.min_fee, self.max_fee)
        )


def bits(mask: int) -> list[int]:
    return [bit for bit in range(8) if mask >> bit & 1]


def names(mask: int, table: tuple[str, ...]) -> list[str]:
    return [table[bit] if bit < len(table) else f"#{bit}" for bit in bits(mask)]


def consent_of(twin: Twin, now: int) -> ConsentPublic:
    effective = twin.revocation_effective_at
    if not effective:
        state = "granted"
    elif now < effective:
        state = "revocation_pending"
    else:
        state = "revoked"
    return ConsentPublic(state=state, effective_at=effective or None, consent_hash=twin.consent_hash)


def offer_public(offer: Offer) -> OfferPublic:
    return OfferPublic(
        offer_id=offer.offer_id,
        twin_id=offer.twin_id,
        active=offer.active,
        upfront_fee=offer.upfront_fee,
        per_use_fee=offer.per_use_fee,
        duration=offer.duration,
        max_uses=offer.max_uses,
        categories=offer.categories,
        category_ids=bits(offer.categories),
        category_names=names(offer.categories, CATEGORIES),
        territories=offer.territories,
        territory_ids=bits(offer.territories),
        territory_names=names(offer.territories, TERRITORIES),
        exclusive=offer.exclusive,
        transferable=offer.transferable,
        licenses_sold=offer.licenses_sold,
        published_at=offer.published_time,
        published_block=offer.published_block,
        withdrawn_block=offer.withdrawn_block,
    )


def twin_name(ctx: ReadContext, twin: Twin) -> str:
    return ctx.metadata.get(twin.uri).name or f"Twin #{twin.twin_id}"


def twin_ref(ctx: ReadContext, twin: Twin | None, twin_id: int) -> TwinRefPublic:
    if twin is None:
        return TwinRefPublic(twin_id=twin_id, name=f"Twin #{twin_id}", image=None)
    meta = ctx.metadata.get(twin.uri)
    return TwinRefPublic(twin_id=twin_id, name=meta.name or f"Twin #{twin_id}", image=meta.image)


def _summary(ctx: ReadContext, twin: Twin, offers: list[Offer], now: int) -> TwinSummaryPublic:
    meta = ctx.metadata.get(twin.uri)
    return TwinSummaryPublic(
        twin_id=twin.twin_id,
        name=meta.name or f"Twin #{twin.twin_id}",
        image=meta.image,
        agency=meta.agency,
        model=twin.model,
        consent=consent_of(twin, now),
        offers=[offer_public(o) for o in offers if o.active],
        licenses_sold=twin.licenses_sold,
        uses_settled=twin.uses_settled,
    )


def list_twins(session: Session, ctx: ReadContext, f: CatalogueFilter, now: int) -> Page[TwinSummaryPublic]:
    chain_id = ctx.chain_id
    query = select(Twin).where(Twin.chain_id == chain_id)
    if f.model:
        query = query.where(Twin.model == f.model)
    if f.payee:
        query = query.where(
            exists().where(
                and_(TwinPayee.chain_id == chain_id, TwinPayee.twin_id == Twin.twin_id, TwinPayee.account == f.payee)
            )
        )
    if f.available:
        query = query.where(Twin.revocation_effective_at == 0)
    if f.filters_offers:
        query = query.where(
            exists().where(and_(Offer.chain_id == chain_id, Offer.twin_id == Twin.twin_id, *f.offer_conditions()))
        )
    twins = list(session.execute(query.order_by(Twin.twin_id)).scalars())
    if f.q:
        needle = f.q.casefold()
        twins = [t for t in twins if needle in twin_name(ctx, t).casefold()]
    page = twins[f.offset : f.offset + f.limit]
    offers_by_twin: dict[int, list[Offer]] = {t.twin_id: [] for t in page}
    if page:
        rows = session.execute(
            select(Offer)
            .where(Offer.chain_id == chain_id, Offer.twin_id.in_(list(offers_by_twin)), Offer.active.is_(True))
            .order_by(Offer.twin_id, Offer.per_use_fee, Offer.offer_id)
        ).scalars()
        for offer in rows:
            offers_by_twin[offer.twin_id].append(offer)
    return Page[TwinSummaryPublic](
        data=[_summary(ctx, t, offers_by_twin[t.twin_id], now) for t in page], count=len(twins)
    )


def get_twin(session: Session, ctx: ReadContext, twin_id: int, now: int) -> TwinPublic | None:
    chain_id = ctx.chain_id
    twin = session.get(Twin, (chain_id, twin_id))
    if twin is None:
        return None
    offers = list(
        session.execute(
            select(Offer).where(Offer.chain_id == chain_id, Offer.twin_id == twin_id).order_by(Offer.offer_id)
        ).scalars()
    )
    payees = session.execute(
        select(TwinPayee).where(TwinPayee.chain_id == chain_id, TwinPayee.twin_id == twin_id).order_by(TwinPayee.position)
    ).scalars()
    history = session.execute(
        select(ConsentChange)
        .where(ConsentChange.chain_id == chain_id, ConsentChange.twin_id == twin_id)
        .order_by(ConsentChange.block_number, ConsentChange.log_index)
    ).scalars()
    meta = ctx.metadata.get(twin.uri)
    summary = _summary(ctx, twin, offers, now)
    return TwinPublic(
        **summary.model_dump(),
        uri=twin.uri if len(twin.uri) <= 2048 else twin.uri[:2048] + "…",
        description=meta.description,
        consent_document=meta.consent_document,
        model_label=ctx.label(twin.model),
        payees=[
            PayeePublic(account=p.account, share_bps=p.share_bps, role=p.role, label=ctx.label(p.account)) for p in payees
        ],
        consent_history=[
            ConsentChangePublic(
                kind=c.kind,
                consent_hash=c.consent_hash,
                effective_at=c.effective_at,
                block_number=c.block_number,
                timestamp=c.block_time,
                tx_hash=c.tx_hash,
            )
            for c in history
        ],
        all_offers=[offer_public(o) for o in offers],
        earned=twin.earned,
        registered_at=twin.registered_time,
        registered_block=twin.registered_block,
    )
