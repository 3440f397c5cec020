"""The chain's own record, for the audit: every money event of the deployment, and the contract's views.

Deliberately independent of the indexer (its own `eth_getLogs`, its own decoding), so that the audit compares
two computations, not one computation with itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from web3 import Web3
from web3.exceptions import Web3Exception

from .client import Chain
from .events import event_specs

LEDGER_EVENTS = {
    # Who the payees are and which of them accepted (a payee that leaves is followed by the new PayeesSet).
    # Consent of the whole twin: a revocation that takes effect ends its licences (their upfront stops vesting).
    "TwinRegistry": ("PayeesSet", "PayeeAccepted", "CategoryConsentRevoked", "CategoryConsentGranted",
                     "ConsentRevoked", "ConsentGranted"),
    "LicenseToken": (
        "OfferPublished",
        "LicensePurchased",
        "EscrowToppedUp",
        "EscrowReclaimed",
        "UsesSettled",
        "EarningsDistributed",
        "Withdrawn",
        # Issue 11: skipped items, the grace and the pauses it does not count, the upfront's vesting and refunds,
        # handovers and the sellers' escrows, idle ends (they end a licence early).
        "SettleItemSkipped",
        "UsesVoided",
        "GracePeriodSet",
        "Paused",
        "Unpaused",
        "UpfrontVested",
        "UpfrontRefunded",
        "LicenseHandedOver",
        "SellerEscrowReclaimed",
        "ExclusiveLicenseEnded",
    ),
}
_RANGE = 10_000  # blocks per eth_getLogs request, shrunk when a provider refuses


@dataclass(frozen=True)
class LedgerEvent:
    name: str
    block_number: int
    tx_hash: str
    log_index: int
    args: dict[str, Any]


@dataclass(frozen=True)
class ContractViews:
    """What the contracts answer now, at one block."""

    block_number: int
    claimable: dict[str, int] = field(default_factory=dict)
    # claimableFrom(payee, every twin listing her): what withdrawFrom would pay, accepted listings or not
    claimable_from: dict[str, int] = field(default_factory=dict)
    total_earned: dict[str, int] = field(default_factory=dict)
    escrow: dict[int, int] = field(default_factory=dict)
    uses_settled: dict[int, int] = field(default_factory=dict)
    undistributed: dict[int, int] = field(default_factory=dict)
    total_escrow: int = 0
    total_owed: int = 0
    token_balance: int = 0
    # Issue 11: per licence vesting() = (upfront, vested, released, refundable), handover() = (seller, at,
    # sellerEscrow), licenseEnd() and graceEndsAt(); totalUnvested(); the block's time (the views' "now").
    vesting: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)
    handover: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    license_end: dict[int, int] = field(default_factory=dict)
    grace_ends_at: dict[int, int] = field(default_factory=dict)
    total_unvested: int | None = None
    block_time: int = 0


def fetch_events(chain: Chain, from_block: int, to_block: int) -> list[LedgerEvent]:
    """The ledger events of both contracts in [from_block, to_block], in chain order."""
    specs = {}
    topics: dict[str, list[str]] = {}
    addresses = []
    for contract, names in LEDGER_EVENTS.items():
        handle = chain.contract(contract)
        addresses.append(handle.address)
        all_specs = event_specs(handle.abi)
        for topic0, spec in all_specs.items():
            if spec.name in names:
                specs[(handle.address.lower(), topic0)] = spec
                topics.setdefault(contract, []).append(topic0)
    topic_filter = sorted({t for ts in topics.values() for t in ts})
    events: list[LedgerEvent] = []
    start, span = from_block, _RANGE
    while start <= to_block:
        end = min(to_block, start + span - 1)
        try:
            logs = chain.w3.eth.get_logs(
                {"fromBlock": start, "toBlock": end, "address": addresses, "topics": [topic_filter]}
            )
        except (Web3Exception, ValueError):
            if span == 1:
                raise
            span = max(1, span // 4)
            continue
        for log in logs:
            topic0 = Web3.to_hex(log["topics"][0])
            spec = specs.get((log["address"].lower(), topic0))
            if spec is None:
                continue
            args = spec.decode(tuple(Web3.to_hex(t) for t in log["topics"]), Web3.to_hex(log["data"]))
            events.append(
                LedgerEvent(
                    name=spec.name,
                    block_number=log["blockNumber"],
                    tx_hash=Web3.to_hex(log["transactionHash"]),
                    log_index=log["logIndex"],
                    args=args,
                )
            )
        start = end + 1
    events.sort(key=lambda e: (e.block_number, e.log_index))
    return events


def _batch(chain: Chain, calls: list[Any], block: int) -> list[Any]:
    if not calls:
        return []
    try:
        with chain.w3.batch_requests() as batch:
            for call in calls:
                batch.add(call)
            return list(batch.execute())
    except (Web3Exception, ValueError, TypeError):
        return [call.call(block_identifier=block) for call in calls]


def contract_views(
    chain: Chain,
    payees: Iterable[str],
    license_ids: Iterable[int],
    twin_ids: Iterable[int],
    block: int,
    listed: dict[str, list[int]] | None = None,
) -> ContractViews:
    """The contract's views at `block`; `listed` (payee -> the twins that list her) asks `claimableFrom` too."""
    token = chain.contract("LicenseToken")
    fn = token.functions
    payees = sorted(set(payees))
    listed = listed or {}
    licences = sorted(set(license_ids))
    twins = sorted(set(twin_ids))
    claimable = _batch(chain, [fn.claimable(p) for p in payees], block)
    earned = _batch(chain, [fn.totalEarned(p) for p in payees], block)
    from_listed = _batch(chain, [fn.claimableFrom(p, sorted(listed[p])) for p in payees if p in listed], block)
    states = _batch(chain, [fn.licenseState(i) for i in licences], block)
    undistributed = _batch(chain, [fn.undistributed(t) for t in twins], block)
    total_escrow, total_owed = (fn.totalEscrow().call(block_identifier=block), fn.totalOwed().call(block_identifier=block))
    balance = chain.contract("PaymentToken").functions.balanceOf(token.address).call(block_identifier=block)
    vesting: list[Any] = []
    handovers: list[Any] = []
    ends: list[Any] = []
    graces: list[Any] = []
    total_unvested = None
    if hasattr(fn, "totalUnvested"):  # contracts before issue 11 have none of these views
        vesting = _batch(chain, [fn.vesting(i) for i in licences], block)
        handovers = _batch(chain, [fn.handover(i) for i in licences], block)
        ends = _batch(chain, [fn.licenseEnd(i) for i in licences], block)
        graces = _batch(chain, [fn.graceEndsAt(i) for i in licences], block)
        total_unvested = int(fn.totalUnvested().call(block_identifier=block))
    block_time = int(chain.w3.eth.get_block(block)["timestamp"])
    return ContractViews(
        block_number=block,
        claimable={p: int(v) for p, v in zip(payees, claimable)},
        claimable_from={p: int(v) for p, v in zip([p for p in payees if p in listed], from_listed)},
        total_earned={p: int(v) for p, v in zip(payees, earned)},
        escrow={i: int(s[0]) for i, s in zip(licences, states)},
        uses_settled={i: int(s[1]) for i, s in zip(licences, states)},
        undistributed={t: int(v) for t, v in zip(twins, undistributed)},
        total_escrow=int(total_escrow),
        total_owed=int(total_owed),
        token_balance=int(balance),
        vesting={i: tuple(int(x) for x in v) for i, v in zip(licences, vesting)},
        handover={i: (str(h[0]), int(h[1]), int(h[2])) for i, h in zip(licences, handovers)},
        license_end={i: int(v) for i, v in zip(licences, ends)},
        grace_ends_at={i: int(v) for i, v in zip(licences, graces)},
        total_unvested=total_unvested,
        block_time=block_time,
    )


def category_revocations(chain: Chain, pairs: Iterable[tuple[int, int]], block: int) -> dict[tuple[int, int], int]:
    """`categoryConsentOf(twin, category)`'s effective time (0 while granted) for each (twin, category), at `block`."""
    pairs = sorted(set(pairs))
    fn = chain.contract("TwinRegistry").functions
    values = _batch(chain, [fn.categoryConsentOf(t, c) for t, c in pairs], block)
    return {pair: int(value[1]) for pair, value in zip(pairs, values)}


def block_times(chain: Chain, numbers: Iterable[int]) -> dict[int, int]:
    """The timestamp of each block."""
    return {n: int(chain.w3.eth.get_block(n)["timestamp"]) for n in sorted(set(numbers))}


def verify_use_on_chain(chain: Chain, verifier: str, root: str, proof: list[str], record: tuple) -> bool:
    """Asks the deployed UseProofVerifier whether `record` is in the tree of `root`."""
    handle = chain.contract("UseProofVerifier", verifier)
    return bool(
        handle.functions.verify(
            bytes.fromhex(root.removeprefix("0x")), [bytes.fromhex(p.removeprefix("0x")) for p in proof], record
        ).call()
    )


def leaf_on_chain(chain: Chain, verifier: str, record: tuple) -> str:
    return Web3.to_hex(chain.contract("UseProofVerifier", verifier).functions.leafOf(record).call())


def settlement_event(chain: Chain, tx_hash: str, log_index: int) -> LedgerEvent | None:
    """The `UsesSettled` log at (tx, log index), read from the chain's receipt (None if not in the chain)."""
    try:
        receipt = chain.w3.eth.get_transaction_receipt(tx_hash)
    except Web3Exception:
        return None
    token = chain.contract("LicenseToken")
    specs = event_specs(token.abi)
    for log in receipt["logs"]:
        if log["logIndex"] != log_index or log["address"].lower() != token.address.lower():
            continue
        spec = specs.get(Web3.to_hex(log["topics"][0]))
        if spec is None or spec.name != "UsesSettled":
            return None
        args = spec.decode(tuple(Web3.to_hex(t) for t in log["topics"]), Web3.to_hex(log["data"]))
        return LedgerEvent("UsesSettled", receipt["blockNumber"], tx_hash, log_index, args)
    return None
