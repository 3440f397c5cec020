"""A licence's end and the grace after it, as of a moment, from the index: the one reader of the chain-wide grace
period and pause history (`protocol_params` 'grace_period', `pause_periods`) and of the usage categories' past
revocations (`consent_changes`) for the use side and the read API.

The rules are the domain's (`domain.licence_end`, `domain.grace`); this module only gathers their inputs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from ..db.chain_log import IndexCursor, IndexedBlock
from ..db.license_state import License
from ..db.registry_state import ConsentChange, PausePeriod, ProtocolParam, Twin
from ..domain import category_consent
from ..domain.grace import DEFAULT_GRACE_PERIOD, grace_ends_at
from ..domain.licence_end import category_ends_from, licence_end


@dataclass(frozen=True)
class ChainClock:
    """The licence contract's grace period and pauses, read once per request."""

    grace_period: int
    pauses: tuple[tuple[int, int | None], ...]
    # twin -> category -> the revocations of that category that took effect and were granted again since
    category_ends: dict[int, dict[int, list[int]]]

    def grace_ends_at(self, end: int, now: int) -> int:
        return grace_ends_at(end, self.grace_period, self.pauses, now)


def chain_clock(session: Session, chain_id: int) -> ChainClock:
    value = session.execute(
        select(ProtocolParam.value).where(ProtocolParam.chain_id == chain_id, ProtocolParam.name == "grace_period")
    ).scalar()
    pauses = session.execute(
        select(PausePeriod.paused_at, PausePeriod.unpaused_at)
        .where(PausePeriod.chain_id == chain_id)
        .order_by(PausePeriod.paused_at)
    ).all()
    changes: dict[int, list[tuple[int, int | None, int]]] = {}
    for twin_id, category, kind, effective_at, block_time in session.execute(
        select(ConsentChange.twin_id, ConsentChange.category, ConsentChange.kind, ConsentChange.effective_at,
               ConsentChange.block_time)
        .where(ConsentChange.chain_id == chain_id, ConsentChange.category.is_not(None))
        .order_by(ConsentChange.block_number, ConsentChange.log_index)
    ).all():
        changes.setdefault(int(twin_id), []).append(
            (int(category), int(effective_at or 0) if kind == "revoked" else None, int(block_time)))
    return ChainClock(
        grace_period=int(value) if value not in (None, "") else DEFAULT_GRACE_PERIOD,
        pauses=tuple((int(a), None if b is None else int(b)) for a, b in pauses),
        category_ends={twin_id: category_ends_from(rows) for twin_id, rows in changes.items()},
    )


@dataclass(frozen=True)
class LicenceTimes:
    end: int  # licenseEnd
    grace_ends_at: int  # graceEndsAt, as of `now`
    now: int

    @property
    def ended(self) -> bool:
        return self.now >= self.end

    @property
    def grace_over(self) -> bool:
        """Uses signed before the end can no longer settle (skip GraceOver); the escrow may be reclaimed."""
        return self.now >= self.grace_ends_at


def licence_times(lic: License, twin: Twin | None, clock: ChainClock, now: int) -> LicenceTimes:
    end = licence_end(
        lic.expiry, lic.started_at,
        twin.revocation_effective_at if twin is not None else 0,
        twin.consent_ends if twin is not None else "",
        categories=lic.categories,
        category_revocations=category_consent.parse(twin.category_revocations) if twin is not None else {},
        category_ends=clock.category_ends.get(lic.twin_id, {}),
    )
    return LicenceTimes(end=end, grace_ends_at=clock.grace_ends_at(end, now), now=now)


def chain_now(session: Session, chain_id: int) -> int:
    """The chain's time as the API takes it: the newest indexed block's time, or the wall clock if later."""
    block_time = session.execute(
        select(IndexedBlock.timestamp)
        .join(IndexCursor, (IndexedBlock.chain_id == IndexCursor.chain_id)
              & (IndexedBlock.number == IndexCursor.block_number))
        .where(IndexCursor.chain_id == chain_id)
    ).scalar()
    return max(int(block_time or 0), int(time.time()))
