"""Read-only queries over licences (indexer) and their reported uses (use intake, settler): status, escrow, uses."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from ...db.license_state import License
from ...db.registry_state import Twin
from ...db.uses import Use
from ...domain.guild import idle_endable_at, idle_since
from ...domain.times import when
from ...usage.status import licence_uses
from ..context import ApiContext
from .catalogue import consent_of, twin_ref
from .schemas import LicensePublic, LicenseUsePublic, Overlay, Page


def _pending_counts(session: Session, chain_id: int, genesis_hash: str, licenses: list[License]) -> dict[int, int]:
    """Uses accepted but not settled on chain, per licence (seq >= the indexed settled count)."""
    if not licenses:
        return {}
    settled = {lic.license_id: lic.uses_settled for lic in licenses}
    rows = session.execute(
        select(Use.license_id, func.max(Use.seq))
        .where(Use.chain_id == chain_id, Use.genesis_hash == genesis_hash, Use.license_id.in_(list(settled)))
        .group_by(Use.license_id)
    ).all()
    return {license_id: max(0, top + 1 - settled[license_id]) for license_id, top in rows}


def license_public(ctx: ApiContext, lic: License, twin: Twin | None, pending: int, now: int) -> LicensePublic:
    consent = consent_of(twin, now) if twin is not None else consent_of(Twin(twin_id=lic.twin_id), now)
    revoked = consent.state == "revoked"
    expired = now >= lic.expiry
    exhausted = bool(lic.max_uses) and lic.uses_settled >= lic.max_uses
    if revoked:
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
    elif uses_left == 0:
        blocked = f"All {lic.max_uses} uses this licence allows are used or pending."
    elif escrow_uses_left == 0:
        blocked = "The escrow left does not cover another use (pending uses counted): top up the escrow first."
    idle = idle_since(lic.started_at, lic.last_settled_at) if lic.exclusive else None
    endable_at = idle_endable_at(lic.started_at, lic.last_settled_at, lic.idle_end_after) if lic.exclusive else None
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
        reclaimable=lic.escrow > 0 and (expired or revoked),
        can_report=blocked is None,
        report_blocked_reason=blocked,
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
    pending = _pending_counts(session, chain_id, ctx.genesis_hash, rows)
    return Page[LicensePublic](
        data=[license_public(ctx, r, twins.get(r.twin_id), pending.get(r.license_id, 0), now) for r in rows],
        count=count,
    )


def get_license(session: Session, ctx: ApiContext, license_id: int, now: int) -> LicensePublic | None:
    lic = session.get(License, (ctx.chain_id, license_id))
    if lic is None:
        return None
    twin = session.get(Twin, (ctx.chain_id, lic.twin_id))
    pending = _pending_counts(session, ctx.chain_id, ctx.genesis_hash, [lic]).get(license_id, 0)
    return license_public(ctx, lic, twin, pending, now)


def license_uses(
    session: Session, ctx: ApiContext, lic: License, *, status: str | None, offset: int, limit: int
) -> Page[LicenseUsePublic]:
    """A licence's uses, newest first, each in the one shape of a use (built by `usage.status.licence_uses`).

    `status` is "settled" or "unsettled" (pending, submitted or rejected), or None for all.
    """
    data, count = licence_uses(session, ctx.index, lic, ctx.genesis_hash, status=status, offset=offset, limit=limit)
    return Page[LicenseUsePublic](data=data, count=count)
