"""Grace after a licence's end: uses signed before the end stay payable for `gracePeriod` seconds, time paused not
counted (settle is pausable, so a pause must not eat the time the recorder has to settle).

Mirrors `LicenseLedger.graceEnd` exactly: end + grace period + every second paused between the end and now (none
while the end is still to come). Like the contract, a pause that starts after the grace ran out still adds its
seconds: the answer is "the end moved by the time paused since the end", not "the grace was stopped while it ran".
The one home of the rule in the backend: the read API (`grace_ends_at`), the use status (a use is rejected once its
licence's grace is over unsettled) and the audit call it.
"""

from __future__ import annotations

from typing import Iterable

DEFAULT_GRACE_PERIOD = 7 * 86_400  # seconds: the contract's default `gracePeriod()`
MAX_GRACE_PERIOD = 90 * 86_400  # `setGracePeriod` refuses longer


def paused_between(start: int, stop: int, pauses: Iterable[tuple[int, int | None]]) -> int:
    """Seconds paused in [start, stop): the contract's `pausedUntil(stop) - pausedUntil(start)`. An open pause
    (unpaused_at None) runs up to `stop`."""
    total = 0
    for paused_at, unpaused_at in pauses:
        low = max(paused_at, start)
        high = stop if unpaused_at is None else min(unpaused_at, stop)
        if high > low:
            total += high - low
    return total


def grace_ends_at(end: int, grace_period: int, pauses: Iterable[tuple[int, int | None]], now: int) -> int:
    """`LicenseToken.graceEndsAt` at `now`: `end + grace_period` plus the seconds paused between `end` and `now`.

    `pauses` are the contract's (paused_at, unpaused_at) intervals, unpaused_at None while still paused: an open
    pause counts up to `now`, so while paused the answer moves on with the clock (the contract's view does too).
    """
    paused = paused_between(end, now, pauses) if end < now else 0
    return end + grace_period + paused


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
