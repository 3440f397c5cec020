"""Everything the intake checks a report against, read in one statement while the licence's lock is held.

One round trip instead of seven keeps the intake's critical section (during which other reports of the licence,
and on SQLite every other writer, wait) to about a millisecond. The statement reads the indexer's tables
(licences, twins, cursor and blocks), the intake's own (uses) and the settler's holds, through the settler-written
table's one named query (`usage.holds.hold_query`): the intake never writes a hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, exists, func, literal, or_, select
from sqlalchemy.engine import Connection

from ..db.chain_log import IndexCursor, IndexedBlock
from ..db.license_state import License, Settlement
from ..db.registry_state import Twin
from ..db.uses import ChainScope, Use
from .holds import hold_reason_subquery
from .index_view import ConsentSnapshot, LicenseSnapshot


def _snapshot_statement():
    chain_id, genesis = bindparam("chain_id"), bindparam("genesis")
    license_id, digest = bindparam("license_id"), bindparam("digest")
    max_seq = select(func.max(Use.seq)).where(
        Use.chain_id == chain_id, Use.genesis_hash == genesis, Use.license_id == license_id
    ).scalar_subquery()
    same_report = and_(Use.genesis_hash == genesis, Use.digest == digest)
    existing = select(Use.use_id).where(same_report).scalar_subquery()
    existing_signer = select(Use.signer).where(same_report).scalar_subquery()
    chain_time = (
        select(IndexedBlock.timestamp)
        .join(IndexCursor, and_(IndexedBlock.chain_id == IndexCursor.chain_id,
                                IndexedBlock.number == IndexCursor.block_number))
        .where(IndexCursor.chain_id == chain_id)
        .scalar_subquery()
    )
    anchor = select(literal(1).label("one")).subquery("anchor")
    return (
        select(
            License.holder, License.twin_id, License.started_at, License.expiry, License.categories,
            License.territories, License.max_uses, License.per_use_fee, License.escrow, License.uses_settled,
            License.ended_at, License.seller, License.handover_at,
            Twin.revocation_effective_at,
            Twin.category_revocations,
            Twin.consent_ends,
            max_seq.label("max_seq"),
            existing.label("existing"),
            existing_signer.label("existing_signer"),
            hold_reason_subquery(chain_id, genesis, license_id).label("hold"),
            chain_time.label("chain_time"),
        )
        .select_from(anchor)
        .outerjoin(License, and_(License.chain_id == chain_id, License.license_id == license_id))
        .outerjoin(Twin, and_(Twin.chain_id == chain_id, Twin.twin_id == License.twin_id))
    )


# Built once: composing the statement per request costs more than running it.
_SNAPSHOT = _snapshot_statement()


@dataclass(frozen=True)
class IntakeSnapshot:
    license: LicenseSnapshot | None
    consent: ConsentSnapshot | None
    max_seq: int | None
    existing_use_id: int | None
    existing_signer: str | None  # who signed the stored copy of this report: a resend must be signed by the same
    hold_reason: str | None
    chain_time: int | None


def read_snapshot(conn: Connection, chain_id: int, genesis_hash: str, license_id: int, digest: str) -> IntakeSnapshot:
    row = conn.execute(
        _SNAPSHOT,
        {"chain_id": chain_id, "genesis": genesis_hash, "license_id": license_id, "digest": digest},
    ).one()
    licence = None
    consent = None
    if row.holder is not None:
        licence = LicenseSnapshot(
            license_id=license_id,
            twin_id=int(row.twin_id),
            holder=row.holder,
            started_at=int(row.started_at) or None,
            expiry=int(row.expiry),
            categories=int(row.categories),
            territories=int(row.territories),
            max_uses=int(row.max_uses),
            per_use_fee=int(row.per_use_fee),
            escrow=int(row.escrow),
            uses_settled=int(row.uses_settled),
            ended_at=None if row.ended_at is None else int(row.ended_at),
            seller=row.seller or None,
            handover_at=None if row.handover_at is None else int(row.handover_at),
        )
        if row.revocation_effective_at is not None:
            consent = ConsentSnapshot(licence.twin_id, int(row.revocation_effective_at),
                                      row.category_revocations or "", row.consent_ends or "")
    return IntakeSnapshot(
        license=licence,
        consent=consent,
        max_seq=None if row.max_seq is None else int(row.max_seq),
        existing_use_id=None if row.existing is None else int(row.existing),
        existing_signer=row.existing_signer,
        hold_reason=row.hold,
        chain_time=None if row.chain_time is None else int(row.chain_time),
    )


def former_holder(conn: Connection, scope: ChainScope, license_id: int, signer: str) -> bool:
    """Whether `signer` held the licence before its current holder: she bought it, sold it last (the index's
    handover), signed uses of it the intake accepted, or held it when uses of it were paid. Read only to word a refusal (the licence's uses are scanned)."""
    signer_lower = signer.lower()
    statement = select(
        or_(
            exists().where(License.chain_id == scope.chain_id, License.license_id == license_id,
                           or_(func.lower(License.buyer) == signer_lower, func.lower(License.seller) == signer_lower)),
            exists().where(*scope.uses(), Use.license_id == license_id, func.lower(Use.signer) == signer_lower),
            exists().where(Settlement.chain_id == scope.chain_id, Settlement.license_id == license_id,
                           func.lower(Settlement.holder) == signer_lower),
        )
    )
    return bool(conn.execute(statement).scalar())


def unsettled_signed_by(conn: Connection, scope: ChainScope, license_id: int, uses_settled: int, signer: str) -> int:
    """How many of the licence's uses not settled yet `signer` signed (after a handover: the holder's own, which
    her escrow pays; the seller's are paid from the seller's)."""
    return int(conn.execute(
        select(func.count()).select_from(Use).where(
            *scope.uses(), Use.license_id == license_id, Use.seq >= uses_settled,
            func.lower(Use.signer) == signer.lower(),
        )
    ).scalar_one())
