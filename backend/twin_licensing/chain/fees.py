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


# ------------------------------------------------------------------ the fee market, for transactions in flight

# EIP-1559: a block's base fee moves toward the gas target (half the limit) by at most 1/8 of itself.
_BASE_FEE_CHANGE_DENOMINATOR = 8
_ELASTICITY = 2

# How nodes say that a replacement at the same nonce does not raise the fees enough (geth, Hardhat, Erigon,
# Nethermind, Besu).
_REPLACEMENT_UNDERPRICED = ("replacement transaction underpriced", "replacement fee too low",
                            "replacementnotallowed", "replacement underpriced")


def next_base_fee(base_fee: int, gas_used: int, gas_limit: int) -> int:
    """The base fee of the block after one with these header fields (the EIP-1559 rule), for nodes that do not
    say it themselves (eth_feeHistory names the next block's)."""
    target = gas_limit // _ELASTICITY
    if target == 0 or gas_used == target:
        return base_fee
    if gas_used > target:
        return base_fee + max(base_fee * (gas_used - target) // target // _BASE_FEE_CHANGE_DENOMINATOR, 1)
    return base_fee - base_fee * (target - gas_used) // target // _BASE_FEE_CHANGE_DENOMINATOR


def replacement_reason(
    *,
    max_fee: int,
    tip: int,
    base_fee: int,
    next_base_fee: int,
    paid_tip: int,
    first_in_line: bool,
    waited_blocks: int,
) -> str | None:
    """Why a pending transaction must be replaced at its nonce now, in words for the log, or None.

    - Its max fee is below the base fee of the latest or the next block: no block includes it until the base fee
      falls back, however long we wait.
    - Its tip is below what the last blocks paid their miners, and it has sat through a block as the next of its
      account to be mined: block builders take better-paying transactions first. Only the first in line: the ones
      after it wait for it, not for their own tips (bumping them would pay for nothing).
    """
    floor = max(base_fee, next_base_fee)
    if max_fee < floor:
        return f"max fee {max_fee} wei/gas is below the base fee {floor}"
    if first_in_line and waited_blocks >= 1 and paid_tip > tip:
        return f"tip {tip} wei/gas is below the {paid_tip} the last blocks paid"
    return None


def is_replacement_underpriced(error: BaseException | str) -> bool:
    text = str(error).lower()
    return any(words in text for words in _REPLACEMENT_UNDERPRICED)
