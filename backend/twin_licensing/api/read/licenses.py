"""Read-only queries over licences (indexer) and their reported uses (use intake, settler): status, escrow, uses."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from ...db.license_state import License
from ...db.registry_state import Twin
from ...db.submissions import MINED, SENDING, SettleSubmission, SettleSubmissionItem, UseRejection
from ...db.uses import Use
from ...seed.data import CATEGORIES, TERRITORIES
from ...usage.names import when
from .catalogue import bits, consent_of, names, twin_ref
from .context import ReadContext
from .schemas import LicensePublic, LicenseTermsPublic, LicenseUsePublic, Page


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


def license_public(ctx: ReadContext, lic: License, twin: Twin | None, pending: int, now: int) -> LicensePublic:
    consent = consent_of(twin, now) if twin is not None else consent_of(Twin(twin_id=lic.twin_id), now)
    revoked = consent.state == "revoked"
    expired = now >= lic.expiry
    exhausted = bool(lic.max_uses) and lic.uses_settled >= lic.max_uses
    if revoked:
        status = "revoked"
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
    elif expired:
        blocked = f"This licence expired on {when(lic.expiry)}: no more uses can be reported."
    elif uses_left == 0:
        blocked = f"All {lic.max_uses} uses this licence allows are used or pending."
    elif escrow_uses_left == 0:
        blocked = "The escrow left does not cover another use (pending uses counted): top up the escrow first."
    return LicensePublic(
        license_id=lic.license_id,
        offer_id=lic.offer_id,
        twin=twin_ref(ctx, twin, lic.twin_id),
        buyer=lic.buyer,
        holder=lic.holder,
        holder_label=ctx.label(lic.holder),
        terms=LicenseTermsPublic(
            upfront_fee=lic.upfront_fee,
            per_use_fee=lic.per_use_fee,
            max_uses=lic.max_uses,
            categories=lic.categories,
            category_ids=bits(lic.categories),
            category_names=names(lic.categories, CATEGORIES),
            territories=lic.territories,
            territory_ids=bits(lic.territories),
            territory_names=names(lic.territories, TERRITORIES),
            exclusive=lic.exclusive,
            transferable=lic.transferable,
        ),
        started_at=lic.started_at,
        expiry=lic.expiry,
        escrow=lic.escrow,
        escrow_deposited=lic.escrow_deposited,
        escrow_spent=lic.escrow_spent,
        escrow_reclaimed=lic.escrow_reclaimed,
        uses_settled=lic.uses_settled,
        uses_pending=pending,
        uses_left=uses_left,
        escrow_uses_left=escrow_uses_left,
        status=status,
        consent=consent,
        reclaimable=lic.escrow > 0 and (expired or revoked),
        can_report=blocked is None,
        report_blocked_reason=blocked,
        purchased_block=lic.purchased_block,
        purchased_tx=lic.purchased_tx,
    )


def _twins(session: Session, chain_id: int, twin_ids: set[int]) -> dict[int, Twin]:
    if not twin_ids:
        return {}
    rows = session.execute(select(Twin).where(Twin.chain_id == chain_id, Twin.twin_id.in_(list(twin_ids)))).scalars()
    return {t.twin_id: t for t in rows}


def list_licenses(
    session: Session,
    ctx: ReadContext,
    now: int,
    *,
    holder: str | None,
    twin_id: int | None,
    offset: int,
    limit: int,
) -> Page[LicensePublic]:
    chain_id = ctx.chain_id
    conditions = [License.chain_id == chain_id]
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


def get_license(session: Session, ctx: ReadContext, license_id: int, now: int) -> LicensePublic | None:
    lic = session.get(License, (ctx.chain_id, license_id))
    if lic is None:
        return None
    twin = session.get(Twin, (ctx.chain_id, lic.twin_id))
    pending = _pending_counts(session, ctx.chain_id, ctx.genesis_hash, [lic]).get(license_id, 0)
    return license_public(ctx, lic, twin, pending, now)


def license_uses(
    session: Session, ctx: ReadContext, lic: License, *, status: str | None, offset: int, limit: int
) -> Page[LicenseUsePublic]:
    """A licence's uses, newest first, with the status `GET /uses/{id}` gives each (computed for the page at once).

    `status` is "settled" or "unsettled" (pending, submitted or rejected), or None for all.
    """
    chain_id = ctx.chain_id
    conditions = [Use.chain_id == chain_id, Use.genesis_hash == ctx.genesis_hash, Use.license_id == lic.license_id]
    hold = session.get(UseRejection, (chain_id, ctx.genesis_hash, lic.license_id))
    if status == "settled":
        conditions.append(Use.seq < lic.uses_settled)
    elif status == "unsettled":
        conditions.append(Use.seq >= lic.uses_settled)
    count = session.execute(select(func.count()).select_from(Use).where(*conditions)).scalar_one()
    rows = list(
        session.execute(select(Use).where(*conditions).order_by(Use.seq.desc()).offset(offset).limit(limit)).scalars()
    )
    submitted: list[tuple[int, int, str, int | None]] = []
    unsettled = [u.seq for u in rows if u.seq >= lic.uses_settled]
    if unsettled:
        submitted = [
            (first, n, tx, block)
            for first, n, tx, block in session.execute(
                select(
                    SettleSubmissionItem.first_seq,
                    SettleSubmissionItem.count,
                    SettleSubmission.tx_hash,
                    SettleSubmission.block_number,
                )
                .join(SettleSubmission, SettleSubmissionItem.submission_id == SettleSubmission.submission_id)
                .where(
                    SettleSubmission.chain_id == chain_id,
                    SettleSubmission.genesis_hash == ctx.genesis_hash,
                    SettleSubmission.status.in_((SENDING, MINED)),
                    SettleSubmissionItem.license_id == lic.license_id,
                    SettleSubmissionItem.first_seq + SettleSubmissionItem.count > min(unsettled),
                    SettleSubmissionItem.first_seq <= max(unsettled),
                )
            ).all()
        ]
    data = []
    for use in rows:
        tx_hash = block = reason = None
        if use.seq < lic.uses_settled:
            state = "settled"
        elif hold is not None and use.seq >= hold.from_seq:
            state, reason = "rejected", hold.reason
        else:
            item = next((s for s in submitted if s[0] <= use.seq < s[0] + s[1]), None)
            state = "submitted" if item else "pending"
            if item:
                tx_hash, block = item[2], item[3]
        data.append(
            LicenseUsePublic(
                use_id=use.use_id,
                seq=use.seq,
                use_ref=use.use_ref,
                category=use.category,
                category_name=CATEGORIES[use.category] if 0 <= use.category < len(CATEGORIES) else str(use.category),
                territory=use.territory,
                territory_name=TERRITORIES[use.territory] if 0 <= use.territory < len(TERRITORIES) else str(use.territory),
                used_at=use.used_at,
                accepted_at=int(use.accepted_at.timestamp()),
                status=state,
                fee=lic.per_use_fee,
                tx_hash=tx_hash,
                block_number=block,
                reason=reason,
            )
        )
    return Page[LicenseUsePublic](data=data, count=count)
