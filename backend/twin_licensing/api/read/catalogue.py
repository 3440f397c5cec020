"""Read-only queries over the indexer's twin, offer and consent tables: the catalogue and one twin."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, select
from sqlmodel import Session

from ...db.license_state import Offer
from ...db.registry_state import ConsentChange, Twin, TwinPayee
from ...domain import category_consent
from ...domain.vocabulary import CATEGORIES
from ..context import ApiContext
from .guild import verifications
from .schemas import (
    CategoryConsentPublic,
    ConsentChangePublic,
    ConsentPublic,
    OfferPublic,
    Overlay,
    Page,
    PayeePublic,
    TwinPublic,
    TwinRefPublic,
    TwinSummaryPublic,
    VerificationPublic,
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


def consent_of(twin: Twin, now: int) -> ConsentPublic:
    effective = twin.revocation_effective_at
    return ConsentPublic(state=category_consent.state(effective, now), effective_at=effective or None,
                         consent_hash=twin.consent_hash)


def category_consent_of(twin: Twin, now: int) -> list[CategoryConsentPublic]:
    revocations = category_consent.parse(twin.category_revocations)
    return [
        CategoryConsentPublic(category=category, name=name, state=category_consent.state(revocations.get(category, 0), now),
                              effective_at=revocations.get(category))
        for category, name in enumerate(CATEGORIES)
    ]


def twin_name(ctx: ApiContext, twin: Twin) -> str:
    return ctx.metadata.get(twin.uri).name or f"Twin #{twin.twin_id}"


def twin_ref(ctx: ApiContext, twin: Twin | None, twin_id: int) -> TwinRefPublic:
    if twin is None:
        return TwinRefPublic(twin_id=twin_id, name=f"Twin #{twin_id}", image=None)
    meta = ctx.metadata.get(twin.uri)
    return TwinRefPublic(twin_id=twin_id, name=meta.name or f"Twin #{twin_id}", image=meta.image)


def _twin_overlay(ctx: ApiContext, twin: Twin, offers: list[Offer], now: int, verification: VerificationPublic,
                  **more: object) -> Overlay:
    """The twin's row with what its summary adds: metadata, the guild's verification, consent state, active offers."""
    meta = ctx.metadata.get(twin.uri)
    return Overlay(
        twin,
        name=meta.name or f"Twin #{twin.twin_id}",
        image=meta.image,
        agency=meta.agency,
        verification=verification,
        consent=consent_of(twin, now),
        category_consent=category_consent_of(twin, now),
        offers=[OfferPublic.model_validate(o, from_attributes=True) for o in offers if o.active],
        **more,
    )


def list_twins(session: Session, ctx: ApiContext, f: CatalogueFilter, now: int) -> Page[TwinSummaryPublic]:
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
    if f.category is not None:
        # A twin whose model withdrew the category (pending or in effect) sells nothing in it.
        twins = [t for t in twins if f.category not in category_consent.parse(t.category_revocations)]
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
    verified = verifications(session, chain_id, page, now)
    return Page[TwinSummaryPublic](
        data=[
            TwinSummaryPublic.model_validate(
                _twin_overlay(ctx, t, offers_by_twin[t.twin_id], now, verified[t.twin_id]), from_attributes=True
            )
            for t in page
        ],
        count=len(twins),
    )


def get_twin(session: Session, ctx: ApiContext, twin_id: int, now: int) -> TwinPublic | None:
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
    twin_view = _twin_overlay(
        ctx,
        twin,
        offers,
        now,
        verifications(session, chain_id, [twin], now)[twin_id],
        uri=twin.uri if len(twin.uri) <= 2048 else twin.uri[:2048] + "…",
        description=meta.description,
        consent_document=meta.consent_document,
        model_label=ctx.label(twin.model),
        payees=[PayeePublic.model_validate(Overlay(p, label=ctx.label(p.account))) for p in payees],
        consent_history=[ConsentChangePublic.model_validate(c) for c in history],
        all_offers=[OfferPublic.model_validate(o) for o in offers],
    )
    return TwinPublic.model_validate(twin_view, from_attributes=True)
