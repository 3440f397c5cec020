"""How the contract divides an amount among a twin's payees, in basis points.

`LicenseToken._shareOf`: every payee after the first gets floor(amount * bps / BPS); the first payee (the model)
gets what is left, so the parts always sum to the amount exactly and rounding never favours anyone but the model.
"""

from __future__ import annotations

from typing import Sequence

BPS = 10_000  # 100 % in basis points: shares of one twin sum to this


def split(amount: int, shares_bps: Sequence[int]) -> list[int]:
    """Each payee's part of `amount`, in the payees' order (the first is the model). [] when there are none."""
    if not shares_bps:
        return []
    parts = [amount * bps // BPS for bps in shares_bps[1:]]
    return [amount - sum(parts), *parts]


def share_of(payees: Sequence[tuple[str, int]], amount: int, payee: str) -> int:
    """The part of `amount` that `payee` gets among `payees` [(account, bps)], 0 if she is not one of them.

    A payee listed twice (not allowed by the registry, but cheap to get right) gets each of her parts.
    """
    parts = split(amount, [bps for _, bps in payees])
    return sum(part for (account, _), part in zip(payees, parts) if account == payee)
