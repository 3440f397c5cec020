"""The one fee, gas and nonce policy of every transaction the backend sends (the generic `Sender` and the settler's
`SettlementClient` alike), so that a change of margin or of a node's wording is made once.
"""

from __future__ import annotations

# A gas estimate is exact for the state it ran on; the block the transaction lands in may differ (a packed slot
# written from zero, a warmer or colder account), so the limit leaves this much headroom. Unused gas is not paid.
GAS_MARGIN_PERCENT = 125

# A replacement at the same nonce must raise both EIP-1559 fees by at least 10 % (geth, Hardhat): 25 % leaves room.
FEE_BUMP_PERCENT = 125

# Tip when the node cannot suggest one (eth_maxPriorityFeePerGas is not implemented everywhere).
DEFAULT_TIP = 10**9

# How nodes say that a nonce was already used by a mined transaction (geth, Hardhat, Erigon, Nethermind, Besu).
_NONCE_TOO_LOW = ("nonce too low", "nonce has already been used", "oldnonce", "nonce is too low")
# ... and that they already hold the very transaction being sent (so sending it again is success).
_ALREADY_KNOWN = ("already known", "known transaction", "already imported", "alreadyknown")


def with_gas_margin(estimate: int) -> int:
    return estimate * GAS_MARGIN_PERCENT // 100


def fee_caps(base_fee: int | None, tip: int) -> tuple[int, int]:
    """(maxFeePerGas, maxPriorityFeePerGas): twice the base fee plus the tip stays valid through several blocks of
    rising base fee (each full block raises it by at most 12.5 %)."""
    return 2 * (base_fee or 0) + tip, tip


def bumped(previous: tuple[int, int], current: tuple[int, int]) -> tuple[int, int]:
    """Fees for replacing a stuck transaction that paid `previous` (max fee, tip) when the market asks `current`."""
    tip = max(current[1], previous[1] * FEE_BUMP_PERCENT // 100 + 1)
    max_fee = max(current[0], previous[0] * FEE_BUMP_PERCENT // 100 + 1, tip)
    return max_fee, tip


def is_nonce_too_low(error: BaseException | str) -> bool:
    text = str(error).lower()
    return any(words in text for words in _NONCE_TOO_LOW)


def is_already_known(error: BaseException | str) -> bool:
    text = str(error).lower()
    return any(words in text for words in _ALREADY_KNOWN)
