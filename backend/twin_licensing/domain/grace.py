"""Grace after a licence's end: uses signed before the end stay payable for `gracePeriod` seconds, the clock stopped
while the contract is paused (settle is pausable, so a pause must not eat the time the recorder has to settle).

Mirrors `LicenseLedger.graceEnd` exactly: a pause that starts once the grace is over changes nothing (it does not
reopen it); one still on moves the end with the clock. The one home of the rule in the backend: the read API
(`grace_ends_at`), the use status (a use is rejected once its licence's grace is over unsettled) and the audit call
it.
"""

from __future__ import annotations

from typing import Iterable

DEFAULT_GRACE_PERIOD = 7 * 86_400  # seconds: the contract's default `gracePeriod()`
MAX_GRACE_PERIOD = 90 * 86_400  # `setGracePeriod` refuses longer


def grace_ends_at(end: int, grace_period: int, pauses: Iterable[tuple[int, int | None]], now: int) -> int:
    """`LicenseToken.graceEndsAt` at `now`: `end + grace_period` plus the seconds paused since `end` while it ran.

    `pauses` are the contract's (paused_at, unpaused_at) intervals, unpaused_at None while still paused: an open
    pause counts up to `now`, so while paused the answer moves on with the clock (the contract's view does too).
    """
    deadline = end + grace_period
    for start, stop in sorted(pauses, key=lambda p: p[0]):
        stop = now if stop is None else min(stop, now)
        start = max(start, end)
        if start >= deadline:
            break  # paused after the grace had run out: nothing left to stop
        if stop > start:
            deadline += stop - start
    return deadline


def grace_over(end: int, grace_period: int, pauses: Iterable[tuple[int, int | None]], now: int) -> bool:
    """Whether uses signed before `end` can no longer settle at `now` (skip GraceOver; reclaimEscrow allowed)."""
    return now >= grace_ends_at(end, grace_period, pauses, now)


def pause_intervals(changes: Iterable[tuple[int, bool]]) -> list[tuple[int, int | None]]:
    """(paused_at, unpaused_at) intervals from the contract's Paused/Unpaused events as (time, paused) in chain
    order; a repeated state (never emitted by OZ Pausable) changes nothing."""
    intervals: list[tuple[int, int | None]] = []
    since: int | None = None
    for at, paused in changes:
        if paused and since is None:
            since = at
        elif not paused and since is not None:
            intervals.append((since, at))
            since = None
    if since is not None:
        intervals.append((since, None))
    return intervals
