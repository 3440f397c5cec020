"""Pending uses, read from the intake's table, grouped per licence into `settle` items with their Merkle roots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping, Sequence

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from ..chain.merkle import UseTree
from ..chain.settlement import SettleItem
from ..db.uses import ChainScope, Use
from ..domain.category_consent import mask_of
from ..domain.times import aware
from ..domain.use_record import record_of

# OR-ed (licence, first pending seq) conditions per query: SQLite allows 32 766 parameters, PostgreSQL 65 535.
_CHUNK = 500


@dataclass(frozen=True)
class PendingSummary:
    uses: int
    oldest: datetime | None


@dataclass(frozen=True)
class PlannedItem:
    item: SettleItem
    use_ids: tuple[int, ...]
    oldest: datetime


def max_seqs(session: Session, scope: ChainScope) -> dict[int, int]:
    """Highest sequence number reported per licence (an index-only scan of uq_uses_license_seq)."""
    rows = session.execute(
        select(Use.license_id, func.max(Use.seq)).where(*scope.uses()).group_by(Use.license_id)
    ).all()
    return {int(license_id): int(seq) for license_id, seq in rows}


def max_seqs_since(session: Session, scope: ChainScope, after_use_id: int) -> tuple[dict[int, int], int]:
    """Like `max_seqs` over the uses recorded after `after_use_id` only; also returns the new high-water mark."""
    rows = session.execute(
        select(Use.license_id, func.max(Use.seq), func.max(Use.use_id))
        .where(*scope.uses(), Use.use_id > after_use_id)
        .group_by(Use.license_id)
    ).all()
    mark = max((int(r[2]) for r in rows), default=after_use_id)
    return {int(license_id): int(seq) for license_id, seq, _ in rows}, mark


def _conditions(floors: Mapping[int, int]) -> Iterable[list]:
    pairs = sorted(floors.items())
    for start in range(0, len(pairs), _CHUNK):
        yield [and_(Use.license_id == lid, Use.seq >= floor) for lid, floor in pairs[start : start + _CHUNK]]


def pending_summary(session: Session, scope: ChainScope, floors: Mapping[int, int]) -> PendingSummary:
    """How many uses wait, and since when, for licences whose first unsettled seq is `floors[licence]`."""
    total, oldest = 0, None
    for conditions in _conditions(floors):
        count, first = session.execute(
            select(func.count(), func.min(Use.accepted_at)).where(*scope.uses(), or_(*conditions))
        ).one()
        total += int(count or 0)
        if first is not None:
            first = aware(first)
            oldest = first if oldest is None or first < oldest else oldest
    return PendingSummary(total, oldest)


def pending_uses(session: Session, scope: ChainScope, floors: Mapping[int, int]) -> dict[int, list[Use]]:
    by_license: dict[int, list[Use]] = {}
    for conditions in _conditions(floors):
        rows = session.execute(
            select(Use).where(*scope.uses(), or_(*conditions)).order_by(Use.license_id, Use.seq)
        ).scalars()
        for use in rows:
            by_license.setdefault(use.license_id, []).append(use)
    return by_license


def plan_items(
    pending: Mapping[int, Sequence[Use]],
    floors: Mapping[int, int],
    *,
    max_uses: int,
    max_items: int,
) -> list[PlannedItem]:
    """One item per licence: its contiguous run of uses from the chain's settled count, oldest licences first.

    A run stops at the first gap (there should be none: the intake numbers gaplessly) because the contract pays
    `count` uses from `firstSeq` on, and a use missing from the tree would be paid without being provable.
    """
    runs: list[tuple[datetime, int, list[Use]]] = []
    for license_id, uses in pending.items():
        expected = floors[license_id]
        run: list[Use] = []
        for use in uses:
            if use.seq != expected:
                break
            run.append(use)
            expected += 1
        if run:
            runs.append((min(aware(u.accepted_at) for u in run), license_id, run))
    runs.sort(key=lambda entry: (entry[0], entry[1]))

    planned: list[PlannedItem] = []
    budget = max_uses
    for oldest, license_id, run in runs[:max_items]:
        if budget <= 0:
            break
        run = run[:budget]
        budget -= len(run)
        root = UseTree(record_of(u) for u in run).root
        item = SettleItem(license_id=license_id, first_seq=run[0].seq, count=len(run), uses_root=root,
                          categories=mask_of(u.category for u in run))
        planned.append(PlannedItem(item=item, use_ids=tuple(u.use_id for u in run if u.use_id is not None), oldest=oldest))
    return planned
