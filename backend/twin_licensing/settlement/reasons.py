"""What a skipped settle item means for its uses: retry, hold them, or reject them for good, with a sentence the
brand can read.

`settle` skips an item it cannot pay (`SettleItemSkipped`) and pays the rest of the batch. The reasons, their
sentences and which are final live in `domain.skip_reasons`; this module turns one skip into the settler's answer
(SPEC section 2):
- SequenceMismatch: our settled count was stale (a reorganisation, a batch we thought lost was mined): re-read it
  from the chain and plan again; no hold;
- InsufficientEscrow: hold until the escrow that pays the item (the licence's, or the seller's for uses signed
  before a handover) can pay a use again; the settler lifts the hold itself then;
- SignedAfterEnd, GraceOver, MaxUsesExceeded: nothing later can cure them: the uses are rejected for good;
- every other reason means the settler built a bad item or holds a bad signature on file: hold with the reason,
  never retried blindly (an operator clears it: `twinctl settle --clear-holds`).
The sentence is the domain's, followed by the figures of this licence (its end, grace, escrow, limit).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..chain.settlement import ItemSkip
from ..domain import skip_reasons
from ..domain.money import format_money
from ..domain.times import when
from ..domain.use_record import use_label


@dataclass(frozen=True)
class Hold:
    code: str  # the skip reason's name (TwinTypes.SkipReason)
    reason: str
    permanent: bool  # rejected for good; otherwise held

    @property
    def curable(self) -> bool:
        """Lifted by the settler itself once the cause is gone (the escrow topped up)."""
        return self.code in {skip_reasons.name(c) for c in skip_reasons.TOP_UP}


@dataclass(frozen=True)
class LicenceFacts:
    """What the sentences say about the licence, as read from the chain (and the index) when the skip came."""

    end: int | None = None  # licenseEnd: expiry, idle end or revocation, whichever is earliest
    grace_ends_at: int | None = None
    ended_idle: bool = False  # the model ended the (exclusive, idle) licence
    max_uses: int = 0
    settled: int = 0
    escrow: int | None = None  # the escrow that pays the item
    seller_escrow: bool = False  # ... which is the seller's (uses signed before a handover)
    per_use_fee: int = 0
    signer: str | None = None  # who signed the item's last use
    used_at: int | None = None  # ... and when


def _details(code: int, skip: ItemSkip, facts: LicenceFacts) -> str:
    if code == skip_reasons.SIGNED_AFTER_END:
        ended = f"the licence ended on {when(facts.end)}" if facts.end else ""
        if facts.end and facts.used_at is not None and facts.used_at < facts.end:
            # Before the licence's own end: the end that applied was a category's revocation.
            ended = ("the model's withdrawal of consent to a usage category of these uses had taken effect when it "
                     "was signed")
        elif ended and facts.ended_idle:
            ended = (f"the model ended this exclusive licence on {when(facts.end)}, after it had settled no use for "
                     "the idle period its offer stated")
        return f"{use_label(skip.first_seq + skip.count - 1)} was signed at or after that end" + (
            f"; {ended}" if ended else "")
    if code == skip_reasons.GRACE_OVER:
        parts = []
        if facts.end:
            parts.append(("the model ended this exclusive licence" if facts.ended_idle else "the licence ended")
                         + f" on {when(facts.end)}")
        if facts.grace_ends_at:
            parts.append(f"its grace period ended on {when(facts.grace_ends_at)}")
        return "; ".join(parts)
    if code == skip_reasons.MAX_USES_EXCEEDED:
        return f"the licence allows {facts.max_uses} uses in all and these would make {facts.settled + skip.count}"
    if code == skip_reasons.INSUFFICIENT_ESCROW:
        cost = format_money(skip.count * facts.per_use_fee)
        held = format_money(facts.escrow) if facts.escrow is not None else "less"
        if facts.seller_escrow:
            return (f"these uses were signed by the seller before the licence's handover and are paid only from the "
                    f"escrow the seller left then ({held}), short of their {cost}")
        return f"the escrow holds {held}, these uses cost {cost}"
    if code == skip_reasons.NOT_HOLDER and facts.signer:
        return f"it was signed by {facts.signer}"
    return f"{use_label(skip.first_seq)} to {use_label(skip.first_seq + skip.count - 1)}"


def hold_for(skip: ItemSkip, facts: LicenceFacts) -> Hold | None:
    """The hold a skipped item calls for, or None when the settler should re-read the chain and plan again."""
    code = skip.reason
    if code in skip_reasons.RESYNC:
        return None
    details = _details(code, skip, facts)
    reason = skip_reasons.sentence(code) + (f" ({details})" if details else "")
    if code not in skip_reasons.FINAL and code not in skip_reasons.TOP_UP:
        reason += "; they wait until an operator looks into it"
    return Hold(code=skip_reasons.name(code), reason=reason, permanent=skip_reasons.is_final(code))
