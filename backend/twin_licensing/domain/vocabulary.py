"""Usage categories and territories: bit i of a licence's (or an offer's) `categories` / `territories` bitmask.

The contract knows only the bits; these names are what the API, the web client, refusals and the demo data show.
"""

from __future__ import annotations

from typing import Callable, Sequence

CATEGORIES: tuple[str, ...] = (
    "e-commerce",
    "social",
    "print",
    "video",
    "out-of-home",
    "broadcast",
    "editorial",
    "AI-generated campaign",
)
TERRITORIES: tuple[str, ...] = (
    "Europe",
    "UK & Ireland",
    "North America",
    "Latin America",
    "East Asia",
    "South & Southeast Asia",
    "Middle East & Africa",
    "Oceania",
)
# The on-chain masks are uint8: one bit per category / territory.
MASK_BITS = 8

# TwinTypes.PayeeRole, in its order: the role a model gives each payee, and what the guild attests (model, agency).
PAYEE_ROLES: tuple[str, ...] = ("model", "agency", "crew")
MODEL, AGENCY, CREW = range(len(PAYEE_ROLES))

assert len(CATEGORIES) == MASK_BITS and len(TERRITORIES) == MASK_BITS


def mask(*bits: int) -> int:
    """The bitmask with exactly these bits set."""
    return sum(1 << b for b in set(bits))


def bits_of(value: int) -> list[int]:
    """The bits set in a mask, lowest first."""
    return [b for b in range(MASK_BITS) if value >> b & 1]


def name_in(vocabulary: Sequence[str], index: int) -> str:
    """The name of entry `index`, or the number itself when it names nothing (never an IndexError)."""
    return vocabulary[index] if 0 <= index < len(vocabulary) else str(index)


def category_name(index: int) -> str:
    return name_in(CATEGORIES, index)


def territory_name(index: int) -> str:
    return name_in(TERRITORIES, index)


def labelled(name: Callable[[int], str]) -> Callable[[int], str]:
    """`name` with the number in front, "2 (print)": for sentences that must also match what a form sent."""
    return lambda index: f"{index} ({name(index)})" if name(index) != str(index) else str(index)


def describe_mask(value: int, name: Callable[[int], str]) -> str:
    """"e-commerce, social" for a mask, or "none"."""
    return ", ".join(name(bit) for bit in bits_of(value)) or "none"
