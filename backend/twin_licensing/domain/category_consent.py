"""Consent per usage category: which categories of a twin the model has revoked, and since / until when; and the
three consent states (`state`), which the whole twin's consent has too.

The registry keeps, per twin and category, when the revocation of that category takes effect (0 while granted);
the indexer stores the revoked ones of a twin as one text column (`twins.category_revocations`), written and read
only through `dump` and `parse` here. A revocation is *pending* before its effective time (offers and purchases
including the category are refused already; its uses still settle) and *in effect* from it (its uses are refused:
at intake, by the settler and by the contract).
"""

from __future__ import annotations

import json
from typing import Iterable, Mapping

from .vocabulary import MASK_BITS

GRANTED, PENDING, REVOKED = "granted", "revocation_pending", "revoked"


def parse(text: str | None) -> dict[int, int]:
    """{category: effective_at} of the twin's revoked categories (pending or in effect)."""
    if not text:
        return {}
    return {int(category): int(at) for category, at in json.loads(text).items()}


def dump(revocations: Mapping[int, int]) -> str:
    """The stored form of `revocations` ('' when no category is revoked)."""
    kept = {str(category): int(at) for category, at in sorted(revocations.items()) if at}
    return json.dumps(kept, separators=(",", ":")) if kept else ""


def with_change(text: str | None, category: int, effective_at: int) -> str:
    """The stored form after a `CategoryConsentRevoked` (effective_at > 0) or `CategoryConsentGranted` (0)."""
    revocations = parse(text)
    if effective_at:
        revocations[category] = effective_at
    else:
        revocations.pop(category, None)
    return dump(revocations)


def state(effective_at: int, now: int) -> str:
    """The consent state of one category: granted (0), pending before `effective_at`, revoked from it on."""
    if not effective_at:
        return GRANTED
    return PENDING if now < effective_at else REVOKED


def revoked_mask(revocations: Mapping[int, int]) -> int:
    """Bitmask of the categories revoked, pending or in effect: what offers and purchases may not include."""
    bits = 0
    for category in revocations:
        bits |= 1 << category
    return bits


def in_effect(revocations: Mapping[int, int], category: int, at: int) -> int | None:
    """When the revocation of `category` took effect, if it had by time `at` (its uses are refused then)."""
    effective_at = revocations.get(category)
    return effective_at if effective_at is not None and at >= effective_at else None


def mask_of(categories: Iterable[int]) -> int:
    """The settle item's mask: the union of the categories of its uses."""
    bits = 0
    for category in categories:
        if not 0 <= category < MASK_BITS:
            raise ValueError(f"category {category} is not a bit of the uint8 mask")
        bits |= 1 << category
    return bits
