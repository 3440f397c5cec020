"""When a licence ends (`LicenseToken.licenseEnd`): the earliest of its expiry (moved to the time the model ended an
idle exclusive licence) and the effective time of the first whole-twin revocation of consent that takes effect after
its purchase (a pending one counts with its effective time; one that took effect ends it for good, even if consent
was granted again later). Uses signed before the end settle until the grace after it is over (`domain.grace`); the
upfront fee stops vesting at it (`domain.vesting`).

The index keeps the revocations that took effect and were followed by a new grant as `twins.consent_ends`, ascending
effective times separated by commas: `parse_consent_ends` and `dump_consent_ends` are that column's one format.
"""

from __future__ import annotations

from typing import Iterable


def parse_consent_ends(text: str | None) -> list[int]:
    return sorted(int(part) for part in (text or "").split(",") if part.strip())


def dump_consent_ends(times: Iterable[int]) -> str:
    return ",".join(str(t) for t in sorted(set(times)))


def licence_end(expiry: int, started_at: int, revocation_effective_at: int = 0, consent_ends: str | None = "") -> int:
    """The licence's end, from its row (expiry, started_at) and its twin's (`revocation_effective_at`, 0 while
    granted; `consent_ends`)."""
    revocations = parse_consent_ends(consent_ends)
    if revocation_effective_at:
        revocations.append(revocation_effective_at)
    ending = [at for at in revocations if at > started_at]
    return min([expiry, *ending])
