"""What issue 11's contract tests check beyond `Env`: the state a refused call or a skipped item must leave alone,
the new conservation rule, and a block mined at an exact time.

Signed items come from `Env.signed_item` (kit/twin_env.py), skip reasons from `domain.skip_reasons` and the grace
default from `domain.grace`: one home each.
"""

from __future__ import annotations

from typing import Any

from kit.twin_env import Env, read_many
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


def ledger(env: Env) -> dict[str, Any]:
    """`Env.digest()` and the state issue 11 added: what no refused call or skipped item may change."""
    lic = env.license
    licences = env.call("LicenseToken", "licenseCount")
    extra = read_many(
        env.w3,
        [lic.functions.totalUnvested(), lic.functions.gracePeriod()]
        + [f for i in range(1, licences + 1)
           for f in (lic.functions.vesting(i), lic.functions.handover(i), lic.functions.licenseEnd(i))],
    )
    # A vesting's `vested` and `refundable` move with the clock: keep what only a transaction changes (upfront,
    # released).
    extra = [(v[0], v[2]) if isinstance(v, tuple) and len(v) == 4 else v for v in extra]
    return {**env.digest(), "issue11": extra}


def unchanged(env: Env, before: dict[str, Any]) -> None:
    assert ledger(env) == before, "state changed although nothing should have"


def conserved(env: Env) -> None:
    """Issue 11's invariant: the contract holds exactly all escrow (seller escrows included), all unvested upfront
    fees and all owed earnings."""
    held = env.balance(env.address("LicenseToken"))
    totals = [env.call("LicenseToken", name) for name in ("totalEscrow", "totalUnvested", "totalOwed")]
    assert held == sum(totals), (held, totals)


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
