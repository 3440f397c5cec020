"""When a licence ends (`LicenseToken.licenseEnd`, mirrored from `LicenseLedger.licenseEnd`): the earliest of
- its expiry (moved to the time the model ended an idle exclusive licence);
- the effective time of its twin's current whole-twin revocation (pending or in effect);
- the first past whole-twin revocation that took effect after its purchase (consent granted again since: it ended
  the licence for good);
- when every one of its usage categories is revoked, each by its current revocation or by a past one that took
  effect after the purchase, the time the last of them ended.
Uses signed before the end settle until the grace after it is over (`domain.grace`); the upfront fee stops vesting
at it (`domain.vesting`).

The index keeps the revocations that took effect and were followed by a new grant as `twins.consent_ends`, ascending
effective times separated by commas: `parse_consent_ends` and `dump_consent_ends` are that column's one format.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence


def parse_consent_ends(text: str | None) -> list[int]:
    return sorted(int(part) for part in (text or "").split(",") if part.strip())


def dump_consent_ends(times: Iterable[int]) -> str:
    return ",".join(str(t) for t in sorted(set(times)))


def _first_after(times: Iterable[int], started_at: int) -> int:
    """`Checkpoints.lowerLookup(startedAt + 1)` over past ends: the first after the purchase, 0 if none."""
    return next((at for at in sorted(times) if at > started_at), 0)


def licence_end(expiry: int, started_at: int, revocation_effective_at: int = 0, consent_ends: str | None = "", *,
                categories: int = 0, category_revocations: Mapping[int, int] | None = None,
                category_ends: Mapping[int, Sequence[int]] | None = None) -> int:
    """The licence's end, from its row (expiry, started_at, its categories' mask) and its twin's
    (`revocation_effective_at`, 0 while granted; `consent_ends`; the current revocations of its categories
    {category: effective time}; and per category the past revocations that took effect, `category_ends_from`)."""
    end = revocation_effective_at if revocation_effective_at and revocation_effective_at < expiry else expiry
    past = _first_after(parse_consent_ends(consent_ends), started_at)
    if past and past < end:
        end = past
    if categories:
        current = category_revocations or {}
        ended_before = category_ends or {}
        last = 0
        for category in range(8):
            if not categories >> category & 1:
                continue
            ended = _first_after(ended_before.get(category, ()), started_at) or current.get(category, 0)
            if not ended:
                return end  # a category still licensed: the licence goes on
            last = max(last, ended)
        end = min(end, last)
    return end


def category_ends_from(changes: Iterable[tuple[int, int | None, int]]) -> dict[int, list[int]]:
    """Per category, the revocations that took effect and were granted again since, from the twin's category consent
    changes in chain order: (category, effective time of a revocation or None for a grant, the change's time)
    (`LicenseLedger.categoryConsentChanged`: a grant at or after the effective time keeps it as an end)."""
    current: dict[int, int] = {}
    ends: dict[int, list[int]] = {}
    for category, effective_at, at in changes:
        if effective_at is not None:
            current[category] = effective_at
        else:
            previous = current.pop(category, 0)
            if previous and at >= previous:
                ends.setdefault(category, []).append(previous)
    return ends
