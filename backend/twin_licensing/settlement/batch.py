"""Pending uses, read from the intake's table, grouped per licence into `settle` items: their Merkle roots, category
masks, and the holder's signature over each item's last use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Mapping, Sequence

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from ..chain.merkle import UseTree
from ..chain.settlement import SettleItem, compact_signature
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


def split_run(run: Sequence[Use], cutoffs: Mapping[int, int] | None = None,
              handover_at: int | None = None) -> list[list[Use]]:
    """A licence's contiguous pending uses cut into items the contract can pay, in order.

    The contract checks one signature per item, over its last use, against the holder at that use's time, and
    pays the item from that holder's escrow. So an item never spans two signers: on a handed-over licence the
    seller's uses (paid from the escrow she funded) form their own items, before the buyer's.

    It also refuses an item whose last use was signed at or after the end that applies to any category in its
    mask. `cutoffs` gives, per usage category, when the twin's revocation of it takes (or took) effect: an item
    whose uses include such a category ends before a use signed at or after that time, so a use of another
    category signed later does not take earlier, payable uses down with it.

    `handover_at` (the licence's last handover) cuts an item where its uses cross that time: the contract judges an
    item by its last report, and voids a seller's report dated at or after the handover (`UsesVoided`), so a seller's
    use reported late (clock skew, or before the index saw the sale) must not take her payable uses down with it.
    """
    cutoffs = cutoffs or {}
    items: list[list[Use]] = []
    current: list[Use] = []
    end = None  # the earliest cutoff of the current item's categories
    for use in run:
        cut = cutoffs.get(use.category)
        joined_end = end if cut is None else (cut if end is None else min(end, cut))
        fits = (
            current
            and use.signer.lower() == current[-1].signer.lower()
            and (joined_end is None or use.used_at < joined_end)
            and (handover_at is None or (use.used_at < handover_at) == (current[-1].used_at < handover_at))
        )
        if fits:
            current.append(use)
            end = joined_end
        else:
            if current:
                items.append(current)
            current, end = [use], cut
    if current:
        items.append(current)
    return items


def item_of(uses: Sequence[Use]) -> SettleItem:
    """The settle item of consecutive uses of one licence: their root and mask, and their last report, signed."""
    last = uses[-1]
    sig_r, sig_vs = compact_signature(last.signature)
    return SettleItem(
        license_id=last.license_id,
        first_seq=uses[0].seq,
        count=len(uses),
        uses_root=UseTree(record_of(u) for u in uses).root,
        categories=mask_of(u.category for u in uses),
        use_ref=last.use_ref,
        category=last.category,
        territory=last.territory,
        used_at=last.used_at,
        sig_r=sig_r,
        sig_vs=sig_vs,
    )


def plan_items(
    pending: Mapping[int, Sequence[Use]],
    floors: Mapping[int, int],
    *,
    max_uses: int,
    max_items: int,
    cutoffs: Mapping[int, Mapping[int, int]] | None = None,
    afford: Callable[[int, Sequence[Use]], int] | None = None,
    handovers: Mapping[int, int] | None = None,
) -> list[PlannedItem]:
    """The items of the next batch: per licence, its contiguous run of uses from the chain's settled count, cut
    at signer changes, category cutoffs and the handover's time (`split_run`, `cutoffs` and `handovers` per
    licence), oldest licences first.

    A run stops at the first gap (there should be none: the intake numbers gaplessly) because the contract pays
    `count` uses from `firstSeq` on, and a use missing from the tree would be paid without being provable.
    `afford(licence, uses)` says how many of an item's uses can be paid now (its escrow, the licence's limit);
    an item cut short ends its licence's part of the batch, since the next item would not follow on chain.
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
    for oldest, license_id, run in runs:
        if budget <= 0 or len(planned) >= max_items:
            break
        run = run[:budget]
        for part in split_run(run, (cutoffs or {}).get(license_id), (handovers or {}).get(license_id)):
            if len(planned) >= max_items:
                break  # the rest of the licence's run waits for the next batch (items stay in seq order)
            payable = len(part) if afford is None else afford(license_id, part)
            short = payable < len(part)
            part = part[:payable]
            if not part:
                break
            budget -= len(part)
            planned.append(PlannedItem(
                item=item_of(part),
                use_ids=tuple(u.use_id for u in part if u.use_id is not None),
                oldest=min(aware(u.accepted_at) for u in part),
            ))
            if short:
                break
    return planned
