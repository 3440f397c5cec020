"""The upfront fee's vesting: how much of a licence's upfront fee its twin has earned by a given time, and what its
holder may take back when the licence ended before its term.

The contract keeps the upfront fee unvested at purchase (`totalUnvested`) and vests it linearly from `startedAt`
over the original term (`duration`); vesting stops at the licence's end (expiry, the model ending an idle exclusive
licence, a revocation's effective time, whichever is earliest). `vest` moves what vested to the twin's earnings
(`released`); `reclaimUnvested`, once an early end has passed, vests what vested up to the end and pays the rest to
the holder. This is the one home of that arithmetic in the backend: the read API, the audit and the statements call
it, never write it again.

Rounding mirrors `LicenseLedger._vested` (read in the contract): rounded down, `upfront * elapsed / duration` with the product
taken first (uint256 in Solidity, which cannot overflow for a uint64 fee times a uint40 time), so the holder's
refund gets the rounding unit and the twin never earns more than elapsed time pays for.
"""

from __future__ import annotations

from dataclasses import dataclass


def vested(upfront: int, started_at: int, duration: int, end: int, t: int) -> int:
    """How much of `upfront` has vested at time `t`: linear from `started_at` over `duration`, frozen at `end`."""
    if duration <= 0:
        # No term to spread it over (never sold so, but a division by zero must not be the answer): all at start.
        return upfront if min(t, end) >= started_at else 0
    stop = min(t, end, started_at + duration)
    elapsed = max(0, stop - started_at)
    return upfront * elapsed // duration


def ended_early(started_at: int, duration: int, end: int) -> bool:
    """Whether the licence ended before its original term, so that part of its upfront fee never vests."""
    return end < started_at + duration


def refundable(upfront: int, started_at: int, duration: int, end: int, now: int, *, refunded: bool = False) -> int:
    """What `reclaimUnvested` would pay the holder at `now`: the part that never vests, once an early end has passed
    (0 before the end, after a full term, and once it was refunded)."""
    if refunded or not ended_early(started_at, duration, end) or now < end:
        return 0
    return upfront - vested(upfront, started_at, duration, end, end)


@dataclass(frozen=True)
class Vesting:
    """`LicenseToken.vesting(licenseId)` as the backend computes it: (upfront, vested, released, refundable)."""

    upfront: int
    vested: int  # vested so far (frozen at the end)
    released: int  # moved to the twin's earnings by vest / withdrawVested / reclaimUnvested
    refundable: int  # what reclaimUnvested would pay the holder now
    refunded: int = 0  # paid back to the holder by reclaimUnvested (not part of the contract's view)

    @property
    def unvested(self) -> int:
        """Still held for the licence (`totalUnvested`'s part): not yet released nor refunded."""
        return self.upfront - self.released - self.refunded

    @property
    def vestable(self) -> int:
        """Vested but not released yet: what `vest([id])` would move to the twin now."""
        return self.vested - self.released

    @property
    def still_vesting(self) -> int:
        """Neither vested nor refunded nor refundable: what the twin earns as the term runs on."""
        return self.upfront - self.vested - self.refunded - self.refundable


def vesting_state(upfront: int, started_at: int, duration: int, end: int, now: int, *, released: int,
                  refunded: int) -> Vesting:
    """The licence's vesting at `now`, given what was released (UpfrontVested) and refunded (UpfrontRefunded)."""
    return Vesting(
        upfront=upfront,
        vested=vested(upfront, started_at, duration, end, now),
        released=released,
        refundable=refundable(upfront, started_at, duration, end, now, refunded=refunded > 0),
        refunded=refunded,
    )
