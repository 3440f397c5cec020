"""The guild's rules as the registry and the licence contract apply them to time: when an attestation is valid, and
when the model may end an idle exclusive licence.

`TwinRegistry.isAttested`: an attestation counts while it is not revoked and `now < expiresAt`.
`LicenseToken.idleEndableAt`: an exclusive licence may be ended once `idleEndAfter` seconds passed since its purchase
or its last settled use, whichever is later.
"""

from __future__ import annotations

from typing import Literal

AttestationState = Literal["valid", "expired", "revoked"]


def attestation_state(revoked: bool, expires_at: int, now: int) -> AttestationState:
    """Whether an attestation vouches for its subject at `now`, and if not, why."""
    if revoked:
        return "revoked"
    return "valid" if now < expires_at else "expired"


def idle_since(started_at: int, last_settled_at: int) -> int:
    """Since when a licence has been idle: its last settled use, or its purchase if none settled since."""
    return max(started_at, last_settled_at)


def idle_endable_at(started_at: int, last_settled_at: int, idle_end_after: int) -> int:
    """When the model may end an exclusive licence that stays idle (its offer's `idleEndAfter` after `idle_since`)."""
    return idle_since(started_at, last_settled_at) + idle_end_after
