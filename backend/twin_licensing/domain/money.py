"""Token amounts for people. Amounts are exact integers of the token's smallest unit (micro-units for a 6-decimal
stablecoin); they are never turned into floats, which would misstate large or fine amounts."""

from __future__ import annotations

DECIMALS = 6  # the payment token's decimals (the test stablecoin and USDC)
UNIT = 10**DECIMALS
SYMBOL = "USDC"


def format_amount(micro: int, decimals: int = DECIMALS, *, min_fraction: int = 2) -> str:
    """12_500_000 -> "12.50"; 1_234_567_891 -> "1,234.567891"; -5_000 -> "-0.005".

    At least `min_fraction` decimals, more only as far as the amount has them: exact, never rounded.
    """
    if not isinstance(micro, int):
        raise TypeError(f"an amount is an integer of the token's smallest unit, not {type(micro).__name__}")
    sign = "-" if micro < 0 else ""
    whole, fraction = divmod(abs(micro), 10**decimals)
    digits = f"{fraction:0{decimals}d}".rstrip("0") if decimals else ""
    digits = digits.ljust(min(min_fraction, decimals), "0")
    return f"{sign}{whole:,}" + (f".{digits}" if digits else "")


def plain_amount(micro: int, decimals: int = DECIMALS) -> str:
    """For files that spreadsheets read: every decimal, no thousands separator. 12_500_000 -> "12.500000"."""
    sign = "-" if micro < 0 else ""
    whole, fraction = divmod(abs(micro), 10**decimals)
    return f"{sign}{whole}" + (f".{fraction:0{decimals}d}" if decimals else "")


def format_money(micro: int, decimals: int = DECIMALS, symbol: str = SYMBOL) -> str:
    """An amount with its symbol, for sentences: "12.50 USDC"."""
    return f"{format_amount(micro, decimals)} {symbol}"
