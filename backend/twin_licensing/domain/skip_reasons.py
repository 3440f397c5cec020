"""`TwinTypes.SkipReason`: why `settle` skipped an item (event `SettleItemSkipped`), and what that means for its uses.

The codes are the contract's enum, in its order. Each has one sentence a brand can read (the licence page's "last
skip", a rejected use's reason) and one consequence for the settler: resync and retry, hold until a top-up, hold
with the reason (a bug or a bad signature on file: never retried blindly), or reject the uses for good.
"""

from __future__ import annotations

NAMES = (
    "UnknownLicense",
    "SequenceMismatch",
    "ZeroCount",
    "CategoriesInvalid",
    "EmptyUsesRoot",
    "BadSignature",
    "NotHolder",
    "SignedAfterEnd",
    "GraceOver",
    "MaxUsesExceeded",
    "InsufficientEscrow",
)
(UNKNOWN_LICENSE, SEQUENCE_MISMATCH, ZERO_COUNT, CATEGORIES_INVALID, EMPTY_USES_ROOT, BAD_SIGNATURE, NOT_HOLDER,
 SIGNED_AFTER_END, GRACE_OVER, MAX_USES_EXCEEDED, INSUFFICIENT_ESCROW) = range(len(NAMES))

# The uses an item with these reasons covered can never be paid: they are rejected (not pending).
FINAL = frozenset({SIGNED_AFTER_END, GRACE_OVER, MAX_USES_EXCEEDED})
RESYNC = frozenset({SEQUENCE_MISMATCH})  # the settler's count was stale: read the chain's and retry
TOP_UP = frozenset({INSUFFICIENT_ESCROW})  # held until the escrow is topped up

_SENTENCES = {
    UNKNOWN_LICENSE: "the contract knows no such licence",
    SEQUENCE_MISMATCH: "the uses did not follow the licence's last settled use; they are sent again in order",
    ZERO_COUNT: "the settlement carried no use",
    CATEGORIES_INVALID: "the uses' usage categories are not all ones this licence covers",
    EMPTY_USES_ROOT: "the settlement carried no commitment to the uses",
    BAD_SIGNATURE: "the signature on file for the last use is not a valid signature",
    NOT_HOLDER: "the last use was not signed by the account that held the licence when it was used",
    SIGNED_AFTER_END: "the last use was signed after the licence had ended (expiry, or a revocation of consent "
                      "taking effect)",
    GRACE_OVER: "the grace period after the licence's end ran out before these uses were settled",
    MAX_USES_EXCEEDED: "these uses would exceed the number of uses the licence allows",
    INSUFFICIENT_ESCROW: "the licence's escrow does not cover these uses: top up the escrow and they settle",
}


# A handed-over licence's item whose last report its seller signed, that her escrow never will pay, is voided
# (`UsesVoided`, with the reason it would have been skipped for): the licence's settled count moves past it, nothing
# is paid, and its uses are rejected for good, while the buyer's uses after it go on.
VOIDABLE = frozenset({NOT_HOLDER, GRACE_OVER, INSUFFICIENT_ESCROW})
_VOID_SENTENCES = {
    NOT_HOLDER: "the previous holder signed it after selling the licence, so nobody's escrow pays it",
    INSUFFICIENT_ESCROW: "the previous holder signed it before selling the licence, and her escrow could not pay it",
    GRACE_OVER: "the previous holder signed it before selling the licence, and her grace ran out before it was "
                "settled",
}


def void_sentence(code: int) -> str:
    """Why a voided use is never paid (lower case, no final stop, like `sentence`)."""
    return _VOID_SENTENCES.get(code, "the previous holder signed it, and it can never be paid")


def name(code: int) -> str:
    return NAMES[code] if 0 <= code < len(NAMES) else f"reason {code}"


def sentence(code: int) -> str:
    """Why the chain would not settle the uses, for a person (lower case, no final stop: it follows a colon)."""
    return _SENTENCES.get(code, f"the contract skipped them for a reason this backend does not know ({code})")


def is_final(code: int) -> bool:
    return code in FINAL
