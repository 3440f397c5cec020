"""Names people read in refusal messages: usage categories, territories, dates."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from ..seed.data import CATEGORIES, TERRITORIES


def category_name(index: int) -> str:
    return f"{index} ({CATEGORIES[index]})" if 0 <= index < len(CATEGORIES) else str(index)


def territory_name(index: int) -> str:
    return f"{index} ({TERRITORIES[index]})" if 0 <= index < len(TERRITORIES) else str(index)


def describe_mask(mask: int, name: Callable[[int], str]) -> str:
    return ", ".join(name(bit) for bit in range(8) if mask >> bit & 1) or "none"


def when(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
