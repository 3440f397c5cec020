"""What issue 11's contract tests need beyond `Env`: a settlement that must pay every item, the paid items' events,
and a block mined at an exact time.

Signed items come from `Env.signed_item` (kit/twin_env.py), skip reasons from `domain.skip_reasons` and the grace
default from `domain.grace`: one home each.
"""

from __future__ import annotations

from typing import Any

from kit.twin_env import Env
from twin_licensing.domain.grace import DEFAULT_GRACE_PERIOD as GRACE  # noqa: F401 (re-exported for the tests)
from twin_licensing.domain.skip_reasons import (  # noqa: F401 (re-exported for the tests)
    BAD_SIGNATURE,
    CATEGORIES_INVALID,
    EMPTY_USES_ROOT,
    GRACE_OVER,
    INSUFFICIENT_ESCROW,
    MAX_USES_EXCEEDED,
    NOT_HOLDER,
    SEQUENCE_MISMATCH,
    SIGNED_AFTER_END,
    UNKNOWN_LICENSE,
    ZERO_COUNT,
)


def settled(env: Env, result) -> list[dict[str, Any]]:
    return env.events(result, "LicenseToken", "UsesSettled")


def mine_at(env: Env, timestamp: int) -> None:
    """Mines an empty block at exactly `timestamp`, so that views read the chain at that time."""
    env.next_block_at(timestamp)
    env.chain.rpc("evm_mine", [])


def paid(env: Env, *items: tuple, gas: int | None = None):
    """`Env.settle` that must pay every item: since issue 11 a bad item is skipped, not reverted, so a test that
    expects a settlement says so."""
    result = env.settle(*items, gas=gas)
    assert env.skips(result) == [], f"items skipped: {env.skips(result)}"
    return result
