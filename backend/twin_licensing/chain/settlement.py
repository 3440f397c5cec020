"""The recorder's side of `LicenseToken.settle`: the settle item and its encoding (with the holder's signature in
EIP-2098 compact form), licences' states as the settler needs them, simulation, signing, receipts and the
`SettleItemSkipped` events in them.

The settler (`twin_licensing.settlement`) decides *what* to settle; this module only talks to the chain and hands
back dataclasses. Sending, replacing and watching the signed transactions is `tx_pipeline`'s (several in flight,
each on its own nonce).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable, Sequence

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import Web3Exception

from ..domain import skip_reasons
from ..errors import ContractRevert, TransactionError
from .client import Chain, transport_of
from .logs import RpcError
from .tx_pipeline import SignedTx



# `SettleItemSkipped`: `settle` skipped an item (reason: `domain.skip_reasons`) and paid the rest of the batch.
SKIP_EVENT = "SettleItemSkipped(uint256,uint32,uint32,uint8)"
_SKIP_TOPIC = "0x" + Web3.keccak(text=SKIP_EVENT).hex().removeprefix("0x")
# `UsesVoided`: a handed-over licence's seller-signed item her escrow never will pay; the settled count moved past it.
VOID_EVENT = "UsesVoided(uint256,uint32,uint32,uint8)"
_VOID_TOPIC = "0x" + Web3.keccak(text=VOID_EVENT).hex().removeprefix("0x")
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def compact_signature(signature: str) -> tuple[str, str]:
    """A stored 65-byte signature (0x-hex r || s || v, v in {27, 28} or {0, 1}) in EIP-2098 compact form
    (r, vs): s with v's parity in its top bit, which is what `settle` takes (two words instead of three)."""
    raw = bytes.fromhex(signature.removeprefix("0x"))
    if len(raw) != 65:
        raise ValueError(f"a signature is 65 bytes, this one {len(raw)}")
    v = raw[64] - 27 if raw[64] >= 27 else raw[64]
    s = int.from_bytes(raw[32:64], "big")
    if v not in (0, 1) or s >= 1 << 255:
        raise ValueError("the signature's v or s is out of range")
    return "0x" + raw[:32].hex(), "0x" + (s | (v << 255)).to_bytes(32, "big").hex()


def _bytes32(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x")).rjust(32, b"\0")


@dataclass(frozen=True)
class SettleItem:
    """`TwinTypes.SettleItem`: `count` uses of a licence from `first_seq`, their Merkle root and category mask, and
    the holder-signed report of the item's last use (seq first_seq + count - 1), which the contract checks."""

    license_id: int
    first_seq: int
    count: int
    uses_root: str  # 0x-hex bytes32
    categories: int  # bitmask of the usage categories of the item's uses (their union)
    use_ref: str  # the last use's report: its use reference (0x-hex bytes32), ...
    category: int
    territory: int
    used_at: int
    sig_r: str  # ... and its signature, EIP-2098 compact: r (0x-hex bytes32) ...
    sig_vs: str  # ... and s with v's parity in the top bit

    def as_tuple(self) -> tuple:
        return (self.license_id, self.first_seq, self.count, _bytes32(self.uses_root), self.categories,
                _bytes32(self.use_ref), self.category, self.territory, self.used_at, _bytes32(self.sig_r),
                _bytes32(self.sig_vs))


@dataclass(frozen=True)
class ItemSkip:
    """One `SettleItemSkipped` of a mined settle: the item was not paid, for `reason` (`TwinTypes.SkipReason`)."""

    license_id: int
    first_seq: int
    count: int
    reason: int

    @property
    def reason_name(self) -> str:
        return skip_reasons.name(self.reason)


def skips_of(logs: Iterable[Any], contract: str) -> tuple[ItemSkip, ...]:
    """The `SettleItemSkipped` events among a receipt's logs (JSON-RPC dicts or web3 AttributeDicts) that
    `contract` emitted, in log order. Decoded from the event's fixed layout: the licence id is the indexed topic,
    firstSeq, count and reason one data word each."""
    return _items_of(logs, contract, _SKIP_TOPIC)


def voids_of(logs: Iterable[Any], contract: str) -> tuple[ItemSkip, ...]:
    """The `UsesVoided` events among a receipt's logs, in log order (same layout as `SettleItemSkipped`; `reason` is
    the skip reason the seller's item would have had)."""
    return _items_of(logs, contract, _VOID_TOPIC)


def _items_of(logs: Iterable[Any], contract: str, topic: str) -> tuple[ItemSkip, ...]:
    found = []
    for entry in logs:
        address = entry["address"]
        topics = [t if isinstance(t, str) else "0x" + bytes(t).hex() for t in entry["topics"]]
        if not topics or topics[0].lower() != topic or str(address).lower() != contract.lower():
            continue
        data = entry["data"]
        data = data.removeprefix("0x") if isinstance(data, str) else bytes(data).hex()
        words = [int(data[i:i + 64], 16) for i in range(0, 3 * 64, 64)]
        found.append(ItemSkip(int(topics[1], 16), words[0], words[1], words[2]))
    return tuple(found)


@dataclass(frozen=True)
class LicenseChainState:
    """`licenseState(id)` at one block."""

    license_id: int
    escrow: int
    uses_settled: int
    max_uses: int
    expiry: int
    per_use_fee: int
    twin_id: int
    handover: "Handover | None" = None  # set once the licence changed hands (`handover(id)`)


@dataclass(frozen=True)
class Handover:
    """`handover(id)` of a licence that changed hands: the seller's escrow pays the uses she signed before `at`."""

    seller: str
    at: int
    seller_escrow: int

    def pays(self, signer: str, used_at: int) -> bool:
        """Whether the seller's escrow pays an item whose last use `signer` signed at `used_at`."""
        return signer.lower() == self.seller.lower() and used_at < self.at


# A signed settle transaction is a signed transaction like any other the pipeline keeps in flight: one class.
SignedSettle = SignedTx


@dataclass(frozen=True)
class SettleReceipt:
    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    succeeded: bool
    skips: tuple[ItemSkip, ...] = ()  # the items the contract skipped (a mined, successful settle only)


class SettlementClient:
    """`settle` for one recorder account on one deployment."""

    def __init__(self, chain: Chain, recorder: LocalAccount) -> None:
        self.chain = chain
        self.w3: Web3 = chain.w3
        self.recorder = recorder
        self.address = recorder.address
        self._contract = chain.contract("LicenseToken")
        self._chain_id = chain.chain_id

    def __repr__(self) -> str:  # never show the account object: it holds the key
        return f"SettlementClient({self.address})"

    # ------------------------------------------------------------------ reads

    def license_states(self, license_ids: Iterable[int], block: int | str = "latest") -> dict[int, LicenseChainState]:
        """The state of many licences (and their handovers) in one JSON-RPC batch; a licence the chain does not
        know is left out."""
        ids = sorted(set(license_ids))
        if not ids:
            return {}
        handover = getattr(self._contract.functions, "handover", None) if self._has("handover") else None
        per = 2 if handover is not None else 1
        calls = []
        for license_id in ids:
            calls.append(self._contract.functions.licenseState(license_id))
            if handover is not None:
                calls.append(handover(license_id))
        try:
            with self.w3.batch_requests() as batch:
                for call in calls:
                    batch.add(call)
                values = list(batch.execute())
        except (Web3Exception, ValueError):
            # One failed call fails the whole batch (an unknown licence after a reorg, say): ask one by one.
            values = [self._call_or_none(call, block) for call in calls]
        states = {}
        for k, license_id in enumerate(ids):
            value = values[per * k]
            if value is None or isinstance(value, BaseException):
                continue
            state = _state(license_id, value)
            if per == 2 and values[2 * k + 1] is not None and not isinstance(values[2 * k + 1], BaseException):
                seller, at, seller_escrow = values[2 * k + 1]
                if int(at):
                    state = replace(state, handover=Handover(str(seller), int(at), int(seller_escrow)))
            states[license_id] = state
        return states

    def _has(self, function: str) -> bool:
        return any(e.get("type") == "function" and e.get("name") == function for e in self._contract.abi)

    @staticmethod
    def _call_or_none(call: Any, block: int | str) -> Any:
        try:
            return call.call(block_identifier=block)
        except (Web3Exception, ValueError):
            return None

    def _read_many(self, calls: Sequence[Any]) -> list[Any]:
        """Many view calls in one JSON-RPC batch; None for a call that reverts (then they are asked one by one)."""
        if not calls:
            return []
        try:
            with self.w3.batch_requests() as batch:
                for call in calls:
                    batch.add(call)
                values = list(batch.execute())
        except (Web3Exception, ValueError):
            values = []
            for call in calls:
                try:
                    values.append(call.call())
                except (Web3Exception, ValueError):
                    values.append(None)
        return [None if isinstance(v, BaseException) else v for v in values]

    def license_ends(self, license_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """(licenseEnd, graceEndsAt) per licence, for the sentences of skipped items."""
        ids = sorted(set(license_ids))
        calls = [f for i in ids for f in (self._contract.functions.licenseEnd(i),
                                          self._contract.functions.graceEndsAt(i))]
        values = self._read_many(calls)
        return {
            license_id: (int(values[2 * k]), int(values[2 * k + 1]))
            for k, license_id in enumerate(ids)
            if values[2 * k] is not None and values[2 * k + 1] is not None
        }

    def cutoffs(self, license_id: int, twin_id: int, categories: int = 8) -> dict[int, int]:
        """Per usage category, the end the contract applies to a use of it in licence `license_id`, as the chain
        says now: the licence's end (`licenseEnd`), or the twin's revocation of that category if it takes effect
        earlier (`TwinRegistry.categoryConsentOf`). For re-cutting items the chain skipped as signed too late."""
        registry = self.chain.contract("TwinRegistry")
        calls = [self._contract.functions.licenseEnd(license_id)] + [
            registry.functions.categoryConsentOf(twin_id, c) for c in range(categories)]
        values = self._read_many(calls)
        end = int(values[0]) if values[0] is not None else None
        found = {}
        for category, value in enumerate(values[1:]):
            effective = int(value[1]) if value is not None and int(value[1]) else None
            times = [t for t in (end, effective) if t]
            if times:
                found[category] = min(times)
        return found

    def has_recorder_role(self) -> bool:
        role = self._contract.functions.RECORDER_ROLE().call()
        return bool(self._contract.functions.hasRole(role, self.address).call())

    # ------------------------------------------------------------------ simulate, sign, read receipts

    def simulate(self, items: Sequence[SettleItem]) -> int:
        """Gas the batch needs; raises the decoded ContractRevert if it would revert now."""
        call = self._contract.functions.settle([item.as_tuple() for item in items])
        try:
            return int(call.estimate_gas({"from": self.address}))
        except (Web3Exception, ValueError) as exc:
            revert = self.chain.decoder.from_exception(exc)
            if revert is not None:
                raise revert from None
            raise TransactionError(f"settle simulation failed: {type(exc).__name__}: {exc}") from None

    def sign(
        self,
        items: Sequence[SettleItem],
        *,
        nonce: int,
        gas: int,
        max_fee_per_gas: int,
        max_priority_fee_per_gas: int,
    ) -> SignedSettle:
        # Encoded directly: build_transaction would estimate gas again, one more round trip per batch.
        data = self._contract.encode_abi("settle", args=[[item.as_tuple() for item in items]])
        tx = {
            "to": self._contract.address,
            "data": data,
            "value": 0,
            "nonce": nonce,
            "gas": gas,
            "maxFeePerGas": max_fee_per_gas,
            "maxPriorityFeePerGas": max_priority_fee_per_gas,
            "chainId": self._chain_id,
            "type": 2,
        }
        signed = self.recorder.sign_transaction(tx)
        return SignedSettle(
            tx_hash=Web3.to_hex(signed.hash),
            nonce=nonce,
            gas=gas,
            max_fee_per_gas=max_fee_per_gas,
            max_priority_fee_per_gas=max_priority_fee_per_gas,
            raw=bytes(signed.raw_transaction),
        )

    def receipts(self, tx_hashes: Sequence[str]) -> dict[str, SettleReceipt | None]:
        """The receipts of several transactions in one request; None for one not mined in the current chain."""
        if not tx_hashes:
            return {}
        try:
            replies = transport_of(self.w3).batch([("eth_getTransactionReceipt", [h]) for h in tx_hashes])
        except RpcError as exc:
            raise TransactionError(f"reading receipts failed: {exc}") from None
        return {h: _receipt(reply, self._contract.address) for h, reply in zip(tx_hashes, replies)}

    def explain_failure(self, tx_hash: str, block_number: int) -> ContractRevert | TransactionError:
        """Why a mined settle reverted, by replaying it on the state before its block."""
        from .client import _replay_revert  # noqa: PLC0415 - the sender's own replay, kept in one place

        return _replay_revert(self.w3, self.chain.decoder, tx_hash, block_number)

def _receipt(reply: Any, contract: str) -> SettleReceipt | None:
    """A JSON-RPC receipt object (hex quantities) as a SettleReceipt; None when there is none (yet)."""
    if not isinstance(reply, dict) or reply.get("blockNumber") is None:
        return None
    return SettleReceipt(
        tx_hash=reply["transactionHash"],
        block_number=int(reply["blockNumber"], 16),
        block_hash=reply["blockHash"],
        gas_used=int(reply["gasUsed"], 16),
        succeeded=int(reply.get("status") or "0x0", 16) == 1,
        skips=skips_of(reply.get("logs") or (), contract),
    )


def _state(license_id: int, value: Any) -> LicenseChainState:
    escrow, uses_settled, max_uses, expiry, per_use_fee, twin_id = value
    return LicenseChainState(
        license_id=license_id,
        escrow=int(escrow),
        uses_settled=int(uses_settled),
        max_uses=int(max_uses),
        expiry=int(expiry),
        per_use_fee=int(per_use_fee),
        twin_id=int(twin_id),
    )
