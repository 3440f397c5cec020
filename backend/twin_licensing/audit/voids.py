"""Seller voids that swallowed payable uses (docs/contracts.md, "Known limits", "Seller voids").

The contract voids a seller's item as `NotHolder` when its last report is hers and dated at or after the handover;
it cannot see the item's other uses. The honest settler cuts items at the handover's time, so a `NotHolder` void
never holds a use she signed before it: such a use was payable from her escrow, and a recorder that bundled it into
the void took that pay from the model. `GraceOver` and `InsufficientEscrow` voids are meant for pre-handover uses and
are not judged here. Pure: the events' voids and the stored uses in, sentences out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..domain.skip_reasons import NOT_HOLDER
from ..domain.times import when
from ..domain.use_record import use_label


@dataclass(frozen=True)
class SellerVoid:
    """One `UsesVoided`, with the seller and handover time the licence had when it was emitted."""

    license_id: int
    first_seq: int
    count: int
    reason: int
    seller: str | None
    handover_at: int
    tx_hash: str


@dataclass(frozen=True)
class StoredUse:
    seq: int
    signer: str
    used_at: int


def payable_uses_voided(void: SellerVoid, uses: Iterable[StoredUse]) -> str | None:
    """A sentence if this `NotHolder` void holds uses the seller signed before the handover, else None. `uses` are
    the licence's stored uses (any range: those outside the void are ignored)."""
    if void.reason != NOT_HOLDER or void.seller is None:
        return None
    seller = void.seller.lower()  # addresses compare without their checksum's case
    end = void.first_seq + void.count
    payable = sorted(u.seq for u in uses
                     if void.first_seq <= u.seq < end and u.signer.lower() == seller and u.used_at < void.handover_at)
    if not payable:
        return None
    labels = ", ".join(use_label(s) for s in payable)
    return (f"licence {void.license_id}: settlement {void.tx_hash} voided {labels} as signed after the handover "
            f"(NotHolder), but "
            f"the seller {void.seller} signed {'it' if len(payable) == 1 else 'them'} before the handover on "
            f"{when(void.handover_at)}, so her escrow could pay {'it' if len(payable) == 1 else 'them'}: the model lost "
            f"that pay (a settle item bundled payable uses with a late one instead of being cut at the handover)")
