"""Read-only queries over licences (indexer) and their reported uses (use intake, settler): status, escrow, uses, the
licence's end and grace, its upfront fee's vesting, its last handover and its last skipped settle item."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from ...db.chain_log import ChainEvent
from ...db.license_state import License, Settlement
from ...db.registry_state import Twin
from ...db.uses import Use, UsePublic
from ...domain import skip_reasons
from ...domain.guild import idle_endable_at, idle_since
from ...domain.times import when
from ...domain.vesting import vesting_state
from ...usage.licence_clock import ChainClock, chain_clock, licence_times
from ...usage.sequence import next_seq_after
from ...usage.status import licence_uses, unsettled_facts, waiting_count
from ..context import ApiContext
from ..visibility import LicenceSight
from .catalogue import consent_of, twin_ref
from .schemas import (
    HandoverPublic,
    LicensePublic,
    LicenseUsePublic,
    Overlay,
    Page,
    PreviousHolderUsePublic,
    RefundableEscrowPublic,
    SkipPublic,
    UpfrontPublic,
)


def _top_seqs(session: Session, chain_id: int, genesis_hash: str, licenses: list[License]) -> dict[int, int]:
    """The highest stored sequence number of each licence that has uses."""
    if not licenses:
        return {}
    rows = session.execute(
        select(Use.license_id, func.max(Use.seq))
        .where(Use.chain_id == chain_id, Use.genesis_hash == genesis_hash,
               Use.license_id.in_([lic.license_id for lic in licenses]))
        .group_by(Use.license_id)
    ).all()
    return {int(license_id): int(top) for license_id, top in rows}


def _inherited_uses(session: Session, genesis_hash: str, lic: License) -> int:
    """Uses the seller signed before the handover that were not settled when the licence changed hands."""
    event = session.execute(
        select(ChainEvent.block_number, ChainEvent.log_index)
        .where(ChainEvent.chain_id == lic.chain_id, ChainEvent.license_id == lic.license_id,
               ChainEvent.name == "LicenseHandedOver")
        .order_by(ChainEvent.block_number.desc(), ChainEvent.log_index.desc())
        .limit(1)
    ).first()
    if event is None:
        return 0
    settled_before = session.execute(
        select(func.max(Settlement.first_seq + Settlement.count))
        .where(Settlement.chain_id == lic.chain_id, Settlement.license_id == lic.license_id,
               or_(Settlement.block_number < event.block_number,
                   and_(Settlement.block_number == event.block_number, Settlement.log_index < event.log_index)))
    ).scalar() or 0
    return int(session.execute(
        select(func.count()).select_from(Use)
        .where(Use.chain_id == lic.chain_id, Use.genesis_hash == genesis_hash, Use.license_id == lic.license_id,
               Use.signer == lic.seller, Use.used_at < lic.handover_at, Use.seq >= settled_before)
    ).scalar_one())


def license_public(ctx: ApiContext, session: Session, lic: License, twin: Twin | None, top_seq: int | None, now: int,
                   clock: ChainClock) -> LicensePublic:
    consent = consent_of(twin, now) if twin is not None else consent_of(Twin(twin_id=lic.twin_id), now)
    times = licence_times(lic, twin, clock, now)
    facts = unsettled_facts(session, ctx.genesis_hash, lic, now, twin=twin, clock=clock)
    recorded_high = lic.uses_settled if top_seq is None else max(top_seq + 1, lic.uses_settled)
    pending = waiting_count(session, (Use.chain_id == lic.chain_id, Use.genesis_hash == ctx.genesis_hash),
                            lic.license_id, lic.uses_settled, recorded_high, facts)
    revoked = consent.state == "revoked"
    # A withdrawal of consent ended it before its expiry: the twin's (maybe granted again since: it ended the licence
    # for good), or of every category it covers.
    ended_by_consent = now >= times.end and times.end < lic.expiry
    expired = now >= lic.expiry
    exhausted = bool(lic.max_uses) and lic.uses_settled >= lic.max_uses
    if revoked or ended_by_consent:
        status = "revoked"
    elif lic.ended_at is not None:
        status = "ended"
    elif expired:
        status = "expired"
    elif exhausted:
        status = "exhausted"
    elif consent.state == "revocation_pending":
        status = "revocation_pending"
    else:
        status = "active"
    uses_left = None if not lic.max_uses else max(0, lic.max_uses - lic.uses_settled - pending)
    escrow_uses_left = max(0, lic.escrow // lic.per_use_fee - pending) if lic.per_use_fee else None
    blocked = None
    if revoked:
        blocked = f"The model revoked her consent (in effect since {when(consent.effective_at or 0)}): no more uses can be reported."
    elif lic.ended_at is not None:
        blocked = (f"The model ended this exclusive licence on {when(lic.ended_at)}, after it had settled no use for "
                   "the idle period of its offer: no more uses can be reported.")
    elif expired:
        blocked = f"This licence expired on {when(lic.expiry)}: no more uses can be reported."
    elif ended_by_consent:
        blocked = (f"A withdrawal of the model's consent ended this licence on {when(times.end)}, for good: no more "
                   "uses can be reported.")
    elif uses_left == 0:
        blocked = f"All {lic.max_uses} uses this licence allows are used or pending."
    elif escrow_uses_left == 0:
        blocked = "The escrow left does not cover another use (pending uses counted): top up the escrow first."
    idle = idle_since(lic.started_at, lic.last_settled_at) if lic.exclusive else None
    endable_at = idle_endable_at(lic.started_at, lic.last_settled_at, lic.idle_end_after) if lic.exclusive else None
    vesting = vesting_state(lic.upfront_fee, lic.started_at, lic.duration or (lic.expiry - lic.started_at), times.end,
                            now, released=lic.upfront_released, refunded=lic.upfront_refunded)
    handover = None
    if lic.seller:
        handover = HandoverPublic(seller=lic.seller, seller_label=ctx.label(lic.seller), at=lic.handover_at or 0,
                                  seller_escrow=lic.seller_escrow,
                                  reclaimable_from=clock.grace_ends_at(lic.handover_at or 0, now),
                                  inherited_uses=_inherited_uses(session, ctx.genesis_hash, lic))
    last_skip = None
    if lic.last_skip_reason is not None:
        code = int(lic.last_skip_reason)
        last_skip = SkipPublic(reason=code, name=skip_reasons.name(code), sentence=skip_reasons.sentence(code),
                               final=skip_reasons.is_final(code), first_seq=lic.last_skip_first_seq or 0,
                               count=lic.last_skip_count or 0, block_number=lic.last_skip_block or 0)
    view = Overlay(
        lic,
        idle_since=idle,
        endable_at=endable_at,
        endable_now=endable_at is not None and not expired and now >= endable_at,
        twin=twin_ref(ctx, twin, lic.twin_id),
        holder_label=ctx.label(lic.holder),
        terms=lic,  # the licence keeps the terms of its offer: TermsPublic reads them from the row
        uses_pending=pending,
        uses_left=uses_left,
        escrow_uses_left=escrow_uses_left,
        status=status,
        consent=consent,
        reclaimable=lic.escrow > 0 and times.grace_over,
        can_report=blocked is None,
        report_blocked_reason=blocked,
        ends_at=times.end,
        grace_ends_at=times.grace_ends_at,
        refundable_escrow=RefundableEscrowPublic(amount=lic.escrow, from_=times.grace_ends_at),
        upfront=UpfrontPublic(amount=vesting.upfront, vested=vesting.vested, released=vesting.released,
                              refundable=vesting.refundable, refunded=vesting.refunded,
                              still_vesting=vesting.still_vesting),
        handover=handover,
        next_seq=next_seq_after(top_seq, lic.uses_settled),
        last_skip=last_skip,
    )
    return LicensePublic.model_validate(view, from_attributes=True)


def _twins(session: Session, chain_id: int, twin_ids: set[int]) -> dict[int, Twin]:
    if not twin_ids:
        return {}
    rows = session.execute(select(Twin).where(Twin.chain_id == chain_id, Twin.twin_id.in_(list(twin_ids)))).scalars()
    return {t.twin_id: t for t in rows}


def list_licenses(
    session: Session,
    ctx: ApiContext,
    now: int,
    *,
    holder: str | None,
    twin_id: int | None,
    offset: int,
    limit: int,
    visible=None,
) -> Page[LicensePublic]:
    """The licences of `holder` and/or `twin_id` that satisfy `visible` (a condition on `License`: the viewer's,
    `api.visibility.visible_licences`), newest first."""
    chain_id = ctx.chain_id
    conditions = [License.chain_id == chain_id]
    if visible is not None:
        conditions.append(visible)
    if holder:
        conditions.append(License.holder == holder)
    if twin_id is not None:
        conditions.append(License.twin_id == twin_id)
    count = session.execute(select(func.count()).select_from(License).where(*conditions)).scalar_one()
    rows = list(
        session.execute(
            select(License).where(*conditions).order_by(License.license_id.desc()).offset(offset).limit(limit)
        ).scalars()
    )
    twins = _twins(session, chain_id, {r.twin_id for r in rows})
    tops = _top_seqs(session, chain_id, ctx.genesis_hash, rows)
    clock = chain_clock(session, chain_id)
    return Page[LicensePublic](
        data=[license_public(ctx, session, r, twins.get(r.twin_id), tops.get(r.license_id), now, clock) for r in rows],
        count=count,
    )


def get_license(session: Session, ctx: ApiContext, license_id: int, now: int) -> LicensePublic | None:
    lic = session.get(License, (ctx.chain_id, license_id))
    if lic is None:
        return None
    twin = session.get(Twin, (ctx.chain_id, lic.twin_id))
    top = _top_seqs(session, ctx.chain_id, ctx.genesis_hash, [lic]).get(license_id)
    return license_public(ctx, session, lic, twin, top, now, chain_clock(session, ctx.chain_id))


def license_uses(
    session: Session, ctx: ApiContext, lic: License, sight: LicenceSight, *, status: str | None, offset: int,
    limit: int, now: int | None = None,
) -> Page[LicenseUsePublic]:
    """A licence's uses as `sight` sees them, newest first: each in the one shape of a use (`usage.status.use_views`)
    when the viewer may see it in full, by number and status only (`PreviousHolderUsePublic`) when its holder sees
    a former holder's; a former holder's list holds her own uses only.

    `status` is "settled" (below the licence's indexed settled count) or "unsettled" (pending, submitted, held or
    rejected), or None for all.
    """
    views, count = licence_uses(session, ctx.index, lic, ctx.genesis_hash, status=status, offset=offset, limit=limit,
                                now=now, signer=sight.only_signer)
    return Page[LicenseUsePublic](
        data=[view if sight.in_full(view.signer) else _by_number(view) for view in views], count=count
    )


def _by_number(view: UsePublic) -> PreviousHolderUsePublic:
    """A former holder's use as the holder sees it: number and status, nothing its signer wrote or made."""
    return PreviousHolderUsePublic.model_validate(
        view.model_dump(include=set(PreviousHolderUsePublic.model_fields) - {"previous_holder"})
    )
