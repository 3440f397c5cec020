"""Read-only queries over the guild's attestations (indexer): the guild page's list, and "verified by the guild"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import func, select
from sqlmodel import Session

from ...db.registry_state import Attestation, Twin
from ...domain.guild import attestation_state
from ..context import ApiContext
from .schemas import AttestationPublic, Overlay, Page, VerificationPublic


@dataclass(frozen=True)
class AttestationFilter:
    role: str | None = None  # model | agency
    state: str | None = None  # valid | expired | revoked
    subject: str | None = None
    current: bool = False  # only each subject's latest attestation
    offset: int = 0
    limit: int = 20


def _latest_ids(session: Session, chain_id: int, subjects: Iterable[str] | None = None) -> set[int]:
    """The id of each subject's current attestation: its latest (each new attestation replaces the one before)."""
    query = select(func.max(Attestation.attestation_id)).where(Attestation.chain_id == chain_id)
    if subjects is not None:
        query = query.where(Attestation.subject.in_(list(subjects)))
    return set(session.execute(query.group_by(Attestation.subject)).scalars())


def attestation_public(ctx: ApiContext, row: Attestation, now: int, current: bool) -> AttestationPublic:
    return AttestationPublic.model_validate(
        Overlay(row, subject_label=ctx.label(row.subject), state=attestation_state(row.revoked, row.expires_at, now),
                current=current),
        from_attributes=True,
    )


def list_attestations(session: Session, ctx: ApiContext, f: AttestationFilter, now: int) -> Page[AttestationPublic]:
    """Attestations, newest first, filtered by role, subject, state now, and to each subject's current one."""
    chain_id = ctx.chain_id
    conditions = [Attestation.chain_id == chain_id]
    if f.role is not None:
        conditions.append(Attestation.role == f.role)
    if f.subject is not None:
        conditions.append(Attestation.subject == f.subject)
    if f.state == "revoked":
        conditions.append(Attestation.revoked.is_(True))
    elif f.state == "expired":
        conditions += [Attestation.revoked.is_(False), Attestation.expires_at <= now]
    elif f.state == "valid":
        conditions += [Attestation.revoked.is_(False), Attestation.expires_at > now]
    latest = _latest_ids(session, chain_id, [f.subject] if f.subject else None)
    if f.current:
        conditions.append(Attestation.attestation_id.in_(sorted(latest)))
    count = session.execute(select(func.count()).select_from(Attestation).where(*conditions)).scalar_one()
    rows = session.execute(
        select(Attestation).where(*conditions).order_by(Attestation.attestation_id.desc()).offset(f.offset).limit(f.limit)
    ).scalars()
    return Page[AttestationPublic](
        data=[attestation_public(ctx, row, now, row.attestation_id in latest) for row in rows], count=count
    )


def get_attestation(session: Session, ctx: ApiContext, attestation_id: int, now: int) -> AttestationPublic | None:
    row = session.get(Attestation, (ctx.chain_id, attestation_id))
    if row is None:
        return None
    return attestation_public(ctx, row, now, attestation_id in _latest_ids(session, ctx.chain_id, [row.subject]))


def verifications(session: Session, chain_id: int, twins: list[Twin], now: int) -> dict[int, VerificationPublic]:
    """Twin id -> whether the guild vouches for its model now (her current attestation), with its date."""
    models = {t.model for t in twins}
    current: dict[str, Attestation] = {}
    if models:
        ids = _latest_ids(session, chain_id, models)
        if ids:
            rows = session.execute(
                select(Attestation).where(Attestation.chain_id == chain_id, Attestation.attestation_id.in_(sorted(ids)))
            ).scalars()
            current = {row.subject: row for row in rows}
    out = {}
    for twin in twins:
        row = current.get(twin.model)
        state = attestation_state(row.revoked, row.expires_at, now) if row is not None else None
        out[twin.twin_id] = VerificationPublic(
            verified=row is not None and row.role == "model" and state == "valid",
            attestation_id=row.attestation_id if row is not None else None,
            issued_at=row.issued_at if row is not None else None,
            expires_at=row.expires_at if row is not None else None,
            state=state,
            registered_under=twin.attestation_id,
        )
    return out
