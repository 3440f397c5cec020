"""Settlement items signed as a brand signs them (issue 11), for tests that choose who signs, when, and what.

`signed(env, licence, first_seq, count, signer=..., used_at=...)` builds a full `TwinTypes.SettleItem`: the
holder's EIP-712 `UseReport` over the item's last use (seq = first_seq + count - 1), signed with the backend's
own signer (`chain.use_reports`, one home for the domain and digest) and put in EIP-2098 compact form. Defaults
sign correctly (the holder at `used_at`, now by default); every argument can be bent to make a bad item.

`skips(result)` reads the `SettleItemSkipped` events of a settlement; `ledger(env)` is `Env.digest` plus
everything issue 11 added (vesting, grace, handovers, unvested total), for "a refusal changes nothing".
"""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount

from kit.twin_env import Env, read_many, root
from twin_licensing.chain.use_reports import UseReportDomain, sign_report
from twin_licensing.domain.use_record import UseReport

# TwinTypes.SkipReason, in its declared order.
(
    UNKNOWN_LICENSE,
    SEQUENCE_MISMATCH,
    ZERO_COUNT,
    CATEGORIES_INVALID,
    EMPTY_USES_ROOT,
    BAD_SIGNATURE,
    NOT_HOLDER,
    SIGNED_AFTER_END,
    GRACE_OVER,
    MAX_USES_EXCEEDED,
    INSUFFICIENT_ESCROW,
) = range(11)

GRACE = 7 * 24 * 3600  # LicenseToken's default grace period
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def domain(env: Env, *, chain_id: int | None = None, contract: str | None = None) -> UseReportDomain:
    """The licence contract's EIP-712 domain (or another chain's / contract's, for replays)."""
    return UseReportDomain(chain_id if chain_id is not None else env.w3.eth.chain_id,
                           contract or env.address("LicenseToken"))


def account_of(env: Env, address: str) -> LocalAccount:
    for acct in vars(env.accounts).values():
        if isinstance(acct, LocalAccount) and acct.address == address:
            return acct
    raise KeyError(f"no test account {address}")


def compact(signature: str) -> tuple[bytes, bytes]:
    """A 65-byte r || s || v signature as EIP-2098 (r, vs): s with v's parity (v = 28) in its top bit."""
    raw = bytes.fromhex(signature.removeprefix("0x"))
    r, s, v = raw[:32], int.from_bytes(raw[32:64], "big"), raw[64]
    return r, (s | ((v - 27) << 255)).to_bytes(32, "big")


def high_s(sig_r: bytes, sig_vs: bytes) -> tuple[bytes, bytes]:
    """The malleable twin of a signature: s' = n - s with the other parity. It recovers the same signer."""
    vs = int.from_bytes(sig_vs, "big")
    parity, s = vs >> 255, vs & ((1 << 255) - 1)
    return sig_r, ((SECP256K1_N - s) | ((1 - parity) << 255)).to_bytes(32, "big")


def signed(
    env: Env,
    license_id: int,
    first_seq: int,
    count: int,
    *,
    signer: LocalAccount | None = None,
    used_at: int | None = None,
    category: int = 0,
    territory: int = 0,
    categories: int | None = None,
    uses_root: bytes | None = None,
    use_ref: bytes | None = None,
    report_license: int | None = None,
    report_seq: int | None = None,
    report_domain: UseReportDomain | None = None,
) -> tuple:
    """A SettleItem whose last report is signed by `signer` (default: the licence's owner now).

    `used_at` defaults to the latest block's time; `categories` to the bit of `category`. `report_license`,
    `report_seq` and `report_domain` sign something other than what the item claims (replays, forged counts).
    """
    if signer is None:
        signer = account_of(env, env.call("LicenseToken", "ownerOf", license_id))
    used_at = env.now() if used_at is None else used_at
    use_ref = use_ref if use_ref is not None else root(f"ref-{license_id}-{first_seq}-{count}")
    report = UseReport(
        report_license if report_license is not None else license_id,
        report_seq if report_seq is not None else first_seq + count - 1,
        "0x" + use_ref.hex(),
        category,
        territory,
        used_at,
    )
    sig_r, sig_vs = compact(sign_report(signer.key, report_domain or domain(env), report))
    return (
        license_id,
        first_seq,
        count,
        uses_root if uses_root is not None else root(f"{license_id}-{first_seq}"),
        categories if categories is not None else 1 << category,
        use_ref,
        category,
        territory,
        used_at,
        sig_r,
        sig_vs,
    )


def settle(env: Env, *items: tuple, gas: int | None = None):
    """Sends full (signed) items as the recorder, untouched."""
    return env.chain.transact(env.accounts.recorder, "LicenseToken", "settle", list(items), gas=gas)


def skips(env: Env, result) -> list[tuple[int, int, int, int]]:
    """(licenseId, firstSeq, count, reason) of each skipped item, in order."""
    return [(e["licenseId"], e["firstSeq"], e["count"], e["reason"])
            for e in env.events(result, "LicenseToken", "SettleItemSkipped")]


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
