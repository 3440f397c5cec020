"""The recorder's side of `LicenseToken.settle`: read settled counts, simulate, sign, send, replace, wait.

The settler (`twin_licensing.settlement`) decides *what* to settle; this module only talks to the chain and hands
back dataclasses. Nonces are managed here explicitly rather than by the generic `Sender`, because a stuck
settlement must be replaced at the *same* nonce with a higher fee, and after a crash the settler must know which
of its transactions are still in flight (pending nonce > mined nonce).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import TransactionNotFound, Web3Exception

from ..errors import ContractRevert, TransactionError
from .client import Chain, transport_of
from .logs import RpcError
from .fees import bumped, is_already_known, is_nonce_too_low, with_gas_margin



@dataclass(frozen=True)
class SettleItem:
    license_id: int
    first_seq: int
    count: int
    uses_root: str  # 0x-hex bytes32
    categories: int  # bitmask of the usage categories of the item's uses (their union)

    def as_tuple(self) -> tuple[int, int, int, bytes, int]:
        return (self.license_id, self.first_seq, self.count, bytes.fromhex(self.uses_root.removeprefix("0x")),
                self.categories)


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


@dataclass(frozen=True)
class SignedSettle:
    tx_hash: str
    nonce: int
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    raw: bytes


@dataclass(frozen=True)
class SettleReceipt:
    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    succeeded: bool


@dataclass(frozen=True)
class Nonces:
    mined: int  # transactions of the recorder included in the latest block
    pending: int  # including those still waiting in the node's pool


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

    def head(self) -> tuple[int, int]:
        """(block number, timestamp) of the latest block."""
        block = self.w3.eth.get_block("latest")
        return block["number"], block["timestamp"]

    def license_states(self, license_ids: Iterable[int], block: int | str = "latest") -> dict[int, LicenseChainState]:
        """The state of many licences in one JSON-RPC batch; a licence the chain does not know is left out."""
        ids = sorted(set(license_ids))
        if not ids:
            return {}
        try:
            with self.w3.batch_requests() as batch:
                for license_id in ids:
                    batch.add(self._contract.functions.licenseState(license_id))
                values = batch.execute()
        except (Web3Exception, ValueError):
            # One failed call fails the whole batch (an unknown licence after a reorg, say): ask one by one.
            values = [self._state_or_none(license_id, block) for license_id in ids]
        states = {}
        for license_id, value in zip(ids, values):
            if value is None or isinstance(value, BaseException):
                continue
            states[license_id] = _state(license_id, value)
        return states

    def _state_or_none(self, license_id: int, block: int | str) -> Any:
        try:
            return self._contract.functions.licenseState(license_id).call(block_identifier=block)
        except (Web3Exception, ValueError):
            return None

    def settled_counts(self, license_ids: Iterable[int]) -> dict[int, int]:
        return {i: s.uses_settled for i, s in self.license_states(license_ids).items()}

    def nonces(self) -> Nonces:
        return Nonces(
            mined=self.w3.eth.get_transaction_count(self.address, "latest"),
            pending=self.w3.eth.get_transaction_count(self.address, "pending"),
        )

    def has_recorder_role(self) -> bool:
        role = self._contract.functions.RECORDER_ROLE().call()
        return bool(self._contract.functions.hasRole(role, self.address).call())

    # ------------------------------------------------------------------ simulate, sign, send

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

    def fees(self) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas), from the chain's shared fee cache (`fees.fee_caps`)."""
        return self.chain.fees.caps()

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

    def prepare(self, items: Sequence[SettleItem], *, nonce: int, gas_estimate: int) -> SignedSettle:
        max_fee, tip = self.fees()
        return self.sign(items, nonce=nonce, gas=with_gas_margin(gas_estimate), max_fee_per_gas=max_fee,
                         max_priority_fee_per_gas=tip)

    def bump(self, items: Sequence[SettleItem], previous: SignedSettle) -> SignedSettle:
        """The same settlement at the same nonce with fees raised enough for the pool to replace the stuck one."""
        max_fee, tip = bumped((previous.max_fee_per_gas, previous.max_priority_fee_per_gas), self.fees())
        return self.sign(items, nonce=previous.nonce, gas=previous.gas, max_fee_per_gas=max_fee,
                         max_priority_fee_per_gas=tip)

    def send(self, signed: SignedSettle) -> str:
        """Broadcasts; an error that says the node already has it is success (we may be re-sending after a crash)."""
        try:
            return Web3.to_hex(self.w3.eth.send_raw_transaction(signed.raw))
        except (Web3Exception, ValueError) as exc:
            if is_already_known(exc):
                return signed.tx_hash
            revert = self.chain.decoder.from_exception(exc)
            if revert is not None:  # Hardhat in automine mode mines and reports the revert at once
                raise revert from None
            if is_nonce_too_low(exc):
                raise NonceTooLowError(f"nonce {signed.nonce} of {self.address} is already used") from None
            raise TransactionError(f"sending settle failed: {type(exc).__name__}: {exc}") from None

    def receipt(self, tx_hash: str) -> SettleReceipt | None:
        """The receipt if the transaction is mined (in the current chain), else None."""
        try:
            receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None
        if receipt is None or receipt.get("blockNumber") is None:
            return None
        return SettleReceipt(
            tx_hash=Web3.to_hex(receipt["transactionHash"]),
            block_number=receipt["blockNumber"],
            block_hash=Web3.to_hex(receipt["blockHash"]),
            gas_used=receipt["gasUsed"],
            succeeded=receipt["status"] == 1,
        )

    def receipts(self, tx_hashes: Sequence[str]) -> dict[str, SettleReceipt | None]:
        """The receipts of several transactions in one request; None for one not mined in the current chain."""
        if not tx_hashes:
            return {}
        try:
            replies = transport_of(self.w3).batch([("eth_getTransactionReceipt", [h]) for h in tx_hashes])
        except RpcError as exc:
            raise TransactionError(f"reading receipts failed: {exc}") from None
        return {h: _receipt(reply) for h, reply in zip(tx_hashes, replies)}

    def mined_nonce(self) -> int:
        """Transactions of the recorder included in the latest block (one request, where `nonces` costs two)."""
        return int(self.w3.eth.get_transaction_count(self.address, "latest"))

    def explain_failure(self, tx_hash: str, block_number: int) -> ContractRevert | TransactionError:
        """Why a mined settle reverted, by replaying it on the state before its block."""
        from .client import _replay_revert  # noqa: PLC0415 - the sender's own replay, kept in one place

        return _replay_revert(self.w3, self.chain.decoder, tx_hash, block_number)

    def is_known(self, tx_hash: str) -> bool:
        """Whether the node still has the transaction (mined or in its pool)."""
        try:
            self.w3.eth.get_transaction(tx_hash)
            return True
        except TransactionNotFound:
            return False


class NonceTooLowError(TransactionError):
    """The nonce was already used by a mined transaction of the recorder."""


def _receipt(reply: Any) -> SettleReceipt | None:
    """A JSON-RPC receipt object (hex quantities) as a SettleReceipt; None when there is none (yet)."""
    if not isinstance(reply, dict) or reply.get("blockNumber") is None:
        return None
    return SettleReceipt(
        tx_hash=reply["transactionHash"],
        block_number=int(reply["blockNumber"], 16),
        block_hash=reply["blockHash"],
        gas_used=int(reply["gasUsed"], 16),
        succeeded=int(reply.get("status") or "0x0", 16) == 1,
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
