"""Connection to a JSON-RPC endpoint, contract handles for a deployment, and a transaction sender.

`Chain` is what the rest of the backend holds: it reads (`call`), writes (`transact`) and decodes events by contract
and function *names*, and hands back plain values and dataclasses.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.providers.base import JSONBaseProvider
from web3.exceptions import ContractLogicError, TimeExhausted, Web3Exception

from ..errors import ConfigurationError, DeploymentMismatchError, RpcConnectionError, TransactionError, TwinLicensingError
from .artifacts import Artifact, ArtifactStore
from .deployment import Deployment
from .errors import ErrorDecoder
from .events import EventSpec, event_specs
from .logs import RpcClient
from .fees import DEFAULT_TIP, fee_caps, is_nonce_too_low, with_gas_margin

# The deployment file names the token by role; its ABI is the test token's, a superset of ERC-20 + permit.
_ARTIFACT_OF = {"PaymentToken": "TestStablecoin"}


@dataclass(frozen=True)
class LogEntry:
    address: str
    topics: tuple[str, ...]
    data: str
    log_index: int


@dataclass(frozen=True)
class TxResult:
    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    status: int
    contract_address: str | None
    logs: tuple[LogEntry, ...]


@dataclass(frozen=True)
class ChainInfo:
    chain_id: int
    genesis_hash: str
    head: int


# Requests that may be sent again after a transport failure: they read, and a second answer is as good as the
# first. Anything else (eth_sendRawTransaction, evm_mine, evm_revert ...) is sent once: a retry after a lost
# response could send a transaction twice or mine twice.
_IDEMPOTENT = frozenset({
    "eth_chainId", "net_version", "web3_clientVersion", "eth_blockNumber", "eth_getBlockByNumber",
    "eth_getBlockByHash", "eth_getTransactionByHash", "eth_getTransactionReceipt", "eth_getTransactionCount",
    "eth_getBalance", "eth_getCode", "eth_getStorageAt", "eth_call", "eth_estimateGas", "eth_gasPrice",
    "eth_maxPriorityFeePerGas", "eth_feeHistory", "eth_getLogs",
})


class TransportProvider(JSONBaseProvider):
    """web3's provider over the chain package's one HTTP transport, `logs.RpcClient`: the same keep-alive pool,
    timeout and retry policy as the indexer's raw requests (web3 encodes and decodes; `RpcClient` carries)."""

    def __init__(self, client: RpcClient) -> None:
        super().__init__()
        self.client = client

    def __str__(self) -> str:
        return f"RPC connection {self.client.url}"

    def make_request(self, method: Any, params: Any) -> Any:
        return self.client.post(self.encode_rpc_request(method, params), method, retry=method in _IDEMPOTENT)

    def make_batch_request(self, requests: list[tuple[Any, Any]]) -> Any:
        retry = all(method in _IDEMPOTENT for method, _ in requests)
        response = self.client.post(self.encode_batch_rpc_request(requests), f"batch of {len(requests)}", retry=retry)
        if not isinstance(response, list):
            return response  # one error object for the whole batch
        return sorted(response, key=lambda reply: reply.get("id") if isinstance(reply.get("id"), int) else -1)


def connect(rpc_url: str, timeout: float = 30.0) -> Web3:
    """A Web3 on `rpc_url` through the one transport, checked to answer; RpcConnectionError otherwise."""
    if not rpc_url.startswith(("http://", "https://")):
        raise ConfigurationError(f"RPC URL must be http(s)://..., got {rpc_url!r}")
    # Few retries: a caller (twinctl, the API) wants to hear of a node that is down within seconds.
    w3 = Web3(TransportProvider(RpcClient(rpc_url, timeout=timeout, retries=3)))
    try:
        w3.eth.chain_id  # noqa: B018 - the cheapest request that proves the endpoint is a chain
    except Exception as exc:  # a connection error, or an answer that is not JSON-RPC
        raise RpcConnectionError(f"cannot reach the JSON-RPC endpoint {rpc_url}: {type(exc).__name__}") from None
    return w3


def transport_of(w3: Web3) -> RpcClient:
    """The HTTP transport under a Web3 made by `connect`."""
    provider = w3.provider
    if not isinstance(provider, TransportProvider):
        raise ConfigurationError(f"{provider} is not the chain package's transport; connect with chain.client.connect")
    return provider.client


def chain_info(w3: Web3) -> ChainInfo:
    genesis = w3.eth.get_block(0)
    return ChainInfo(chain_id=w3.eth.chain_id, genesis_hash=Web3.to_hex(genesis["hash"]), head=w3.eth.block_number)


class FeeCache:
    """EIP-1559 fee parameters (`fees.fee_caps`), fetched at most every `ttl` seconds and shared by all senders,
    the settler's included.

    Asking the node for them per transaction costs two requests each; the caps stay valid through several blocks
    of rising base fee.
    """

    def __init__(self, w3: Web3, ttl: float = 2.0) -> None:
        self.w3 = w3
        self.ttl = ttl
        self._fees: dict[str, int] | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def fees(self) -> dict[str, int]:
        """Transaction fields: maxFeePerGas and maxPriorityFeePerGas, or gasPrice on a pre-London chain."""
        with self._lock:
            if self._fees is None or time.monotonic() - self._at > self.ttl:
                base = self.w3.eth.get_block("latest").get("baseFeePerGas")
                if base is None:  # a pre-London chain
                    self._fees = {"gasPrice": self.w3.eth.gas_price}
                else:
                    try:
                        tip = int(self.w3.eth.max_priority_fee)
                    except (Web3Exception, ValueError):
                        tip = DEFAULT_TIP
                    max_fee, tip = fee_caps(base, tip)
                    self._fees = {"maxPriorityFeePerGas": tip, "maxFeePerGas": max_fee}
                self._at = time.monotonic()
            return dict(self._fees)

    def caps(self) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas) for a type-2 transaction (the gas price for both before London)."""
        fees = self.fees()
        if "gasPrice" in fees:
            return fees["gasPrice"], fees["gasPrice"]
        return fees["maxFeePerGas"], fees["maxPriorityFeePerGas"]


class _StaleNonce(TwinLicensingError):
    pass


class Sender:
    """Sends one account's transactions: builds, signs, sends and (optionally) waits, keeping its own nonce.

    The nonce is tracked locally so that transactions can be sent back to back without waiting for receipts; after
    any failure it is re-read from the chain (Hardhat mines a reverting transaction in automine mode, consuming
    its nonce, while other nodes reject it before mining).
    """

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        decoder: ErrorDecoder,
        fees: FeeCache | None = None,
        chain_id: int | None = None,
    ) -> None:
        self.w3 = w3
        self.fees = fees or FeeCache(w3)
        self.account = account
        self.address = account.address
        self.decoder = decoder
        self._nonce: int | None = None
        self._lock = threading.Lock()
        self._chain_id = chain_id if chain_id is not None else w3.eth.chain_id

    def __repr__(self) -> str:  # the account object holds the key: show the address only
        return f"Sender({self.address})"

    def resync(self) -> None:
        with self._lock:
            self._nonce = None

    def transact(self, call: Any, *, value: int = 0, gas: int | None = None, wait: bool = True) -> TxResult | str:
        """Sends a prepared contract function call (`contract.functions.f(args)`)."""
        return self._send(lambda params: call.build_transaction(params), value=value, gas=gas, wait=wait)

    def deploy(
        self, artifact: Artifact, *args: Any, libraries: dict[str, str] | None = None, wait: bool = True
    ) -> TxResult | str:
        """Deploys `artifact`, linking the `libraries` it needs (name -> address) into its bytecode."""
        if artifact.bytecode in ("", "0x"):
            raise ConfigurationError(f"{artifact.name} has no bytecode (an interface or abstract contract)")
        bytecode = artifact.linked(libraries or {}) if artifact.link_references else artifact.bytecode
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=bytecode)
        return self._send(lambda params: factory.constructor(*args).build_transaction(params), value=0, gas=None, wait=wait)

    def _send(self, build: Callable[[dict[str, Any]], dict[str, Any]], *, value: int, gas: int | None, wait: bool):
        try:
            return self._send_once(build, value=value, gas=gas, wait=wait)
        except _StaleNonce:
            # Another process (or a rolled-back snapshot) moved the account's nonce: re-read it and try once more.
            return self._send_once(build, value=value, gas=gas, wait=wait)

    def _send_once(self, build: Callable[[dict[str, Any]], dict[str, Any]], *, value: int, gas: int | None, wait: bool):
        with self._lock:
            if self._nonce is None:
                self._nonce = self.w3.eth.get_transaction_count(self.address, "pending")
            params: dict[str, Any] = {"from": self.address, "nonce": self._nonce, "chainId": self._chain_id}
            if value:
                params["value"] = value
            if gas is not None:
                params["gas"] = gas
            try:
                params.update(self.fees.fees())
                # build_transaction estimates gas, so most reverts surface here, before anything is sent.
                tx = build(params)
                if gas is None:
                    tx["gas"] = with_gas_margin(tx["gas"])
                signed = self.account.sign_transaction(tx)
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            except (Web3Exception, ValueError) as exc:
                self._nonce = None
                if is_nonce_too_low(exc):
                    raise _StaleNonce from None
                raise self._explain(exc) from None
            self._nonce += 1
        hex_hash = Web3.to_hex(tx_hash)
        return self.wait(hex_hash) if wait else hex_hash

    def wait(self, tx_hash: str, timeout: float = 120.0) -> TxResult:
        return wait_for(self.w3, self.decoder, tx_hash, timeout)

    def _explain(self, exc: BaseException) -> TransactionError:
        revert = self.decoder.from_exception(exc)
        if revert is not None:
            return revert
        if isinstance(exc, ContractLogicError):
            return TransactionError(f"transaction from {self.address} reverted: {exc}")
        # Never include the transaction itself: it is signed, and the message may be logged.
        return TransactionError(f"transaction from {self.address} failed: {type(exc).__name__}: {exc}")


def wait_for(w3: Web3, decoder: ErrorDecoder, tx_hash: str, timeout: float = 120.0) -> TxResult:
    """Waits for the receipt; a reverted transaction raises its decoded error (replayed as a call to get it)."""
    try:
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.05)
    except TimeExhausted:
        raise TransactionError(f"transaction {tx_hash} not mined within {timeout:.0f} s") from None
    result = _result(receipt)
    if result.status != 1:
        raise _replay_revert(w3, decoder, tx_hash, result.block_number)
    return result


def _replay_revert(w3: Web3, decoder: ErrorDecoder, tx_hash: str, block_number: int) -> TransactionError:
    tx = w3.eth.get_transaction(tx_hash)
    call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"], "gas": tx["gas"]}
    try:
        # State before the block: close enough to explain the failure (earlier transactions of the block aside).
        w3.eth.call(call, block_number - 1)
    except (Web3Exception, ValueError) as exc:
        revert = decoder.from_exception(exc)
        if revert is not None:
            return revert
    return TransactionError(f"transaction {tx_hash} reverted in block {block_number}")


def _result(receipt: Any) -> TxResult:
    return TxResult(
        tx_hash=Web3.to_hex(receipt["transactionHash"]),
        block_number=receipt["blockNumber"],
        block_hash=Web3.to_hex(receipt["blockHash"]),
        gas_used=receipt["gasUsed"],
        status=receipt["status"],
        contract_address=receipt.get("contractAddress"),
        logs=tuple(
            LogEntry(
                address=log["address"],
                topics=tuple(Web3.to_hex(t) for t in log["topics"]),
                data=Web3.to_hex(log["data"]),
                log_index=log["logIndex"],
            )
            for log in receipt["logs"]
        ),
    )


class Chain:
    """A connected chain with the project's ABIs, optionally bound to a deployment's contract addresses."""

    def __init__(self, w3: Web3, artifacts: ArtifactStore, deployment: Deployment | None = None) -> None:
        self.w3 = w3
        self.artifacts = artifacts
        self.deployment = deployment
        self._senders: dict[str, Sender] = {}
        self._contracts: dict[tuple[str, str], Contract] = {}
        self._events: dict[str, dict[str, EventSpec]] = {}
        self.fees = FeeCache(w3)

    def bind(self, deployment: Deployment) -> "Chain":
        """The same connection bound to `deployment`, sharing the senders so that nonces stay consistent."""
        bound = Chain(self.w3, self.artifacts, deployment)
        bound._senders = self._senders
        bound.fees = self.fees
        if "decoder" in self.__dict__:
            bound.__dict__["decoder"] = self.decoder
        if "chain_id" in self.__dict__:
            bound.__dict__["chain_id"] = self.chain_id
        return bound

    @classmethod
    def connect(
        cls, rpc_url: str, artifacts_dir: Path, deployment: Deployment | None = None, timeout: float = 30.0
    ) -> "Chain":
        return cls(connect(rpc_url, timeout), ArtifactStore(artifacts_dir), deployment)

    # ------------------------------------------------------------------ chain facts

    @cached_property
    def chain_id(self) -> int:
        return self.w3.eth.chain_id

    def info(self) -> ChainInfo:
        return chain_info(self.w3)

    def block_number(self) -> int:
        return self.w3.eth.block_number

    def timestamp(self, block: int | str = "latest") -> int:
        return self.w3.eth.get_block(block)["timestamp"]

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        """A raw JSON-RPC request (evm_snapshot, evm_increaseTime ...); errors raise TransactionError."""
        response = self.w3.provider.make_request(method, params or [])
        if "error" in response:
            raise TransactionError(f"{method} failed: {response['error']}")
        return response.get("result")

    def check_deployment(self, deployment: Deployment | None = None) -> Deployment:
        """The deployment, verified to belong to this very chain (same chain id and genesis block)."""
        deployment = deployment or self.deployment
        if deployment is None:
            raise ConfigurationError("no deployment given")
        info = self.info()
        if deployment.chain_id != info.chain_id:
            raise DeploymentMismatchError(f"deployment is for chain {deployment.chain_id}, the node is chain {info.chain_id}")
        if deployment.genesis_hash.lower() != info.genesis_hash.lower():
            raise DeploymentMismatchError(
                f"deployment was made on another chain {deployment.chain_id} (genesis {deployment.genesis_hash[:10]}…, "
                f"node has {info.genesis_hash[:10]}…): the local node was restarted; deploy again"
            )
        return deployment

    # ------------------------------------------------------------------ contracts

    @cached_property
    def decoder(self) -> ErrorDecoder:
        return ErrorDecoder(artifact.abi for artifact in self.artifacts.all())

    def contract(self, name: str, address: str | None = None) -> Contract:
        """A web3 handle on contract `name` (TwinRegistry, LicenseToken, PaymentToken) at its deployed address.

        For the chain package and tests only: the rest of the backend uses `call`, `transact` and `events`.
        """
        if address is None:
            if self.deployment is None or name not in self.deployment.addresses:
                raise ConfigurationError(f"no deployed address for {name}")
            address = self.deployment.addresses[name]
        key = (name, address)
        if key not in self._contracts:
            artifact = self.artifacts.load(_ARTIFACT_OF.get(name, name))
            self._contracts[key] = self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact.abi)
        return self._contracts[key]

    def call(self, contract: str, function: str, *args: Any, block: int | str = "latest") -> Any:
        try:
            return getattr(self.contract(contract).functions, function)(*args).call(block_identifier=block)
        except (Web3Exception, ValueError) as exc:
            revert = self.decoder.from_exception(exc)
            if revert is not None:
                raise revert from None
            raise TransactionError(f"{contract}.{function} call failed: {exc}") from None

    # ------------------------------------------------------------------ transactions

    def sender(self, account: LocalAccount) -> Sender:
        if account.address not in self._senders:
            self._senders[account.address] = Sender(self.w3, account, self.decoder, self.fees, self.chain_id)
        return self._senders[account.address]

    def resync_nonces(self) -> None:
        """Forgets the tracked nonces (after `evm_revert` or a reorganisation rolled transactions back)."""
        for sender in self._senders.values():
            sender.resync()

    def transact(
        self,
        account: LocalAccount,
        contract: str,
        function: str,
        *args: Any,
        value: int = 0,
        gas: int | None = None,
        wait: bool = True,
    ) -> TxResult | str:
        """Sends `contract.function(*args)` from `account`; a TxResult, or the tx hash when `wait` is False."""
        call = getattr(self.contract(contract).functions, function)(*args)
        return self.sender(account).transact(call, value=value, gas=gas, wait=wait)

    def deploy(
        self, account: LocalAccount, artifact_name: str, *args: Any, libraries: dict[str, str] | None = None
    ) -> TxResult:
        """Deploys contract `artifact_name`; `libraries` gives the addresses of the linked libraries it needs."""
        result = self.sender(account).deploy(self.artifacts.load(artifact_name), *args, libraries=libraries, wait=True)
        assert isinstance(result, TxResult)
        return result

    def wait(self, tx_hash: str, timeout: float = 120.0) -> TxResult:
        return wait_for(self.w3, self.decoder, tx_hash, timeout)

    def events(self, result: TxResult, contract: str, event: str) -> list[dict[str, Any]]:
        """The decoded arguments of every `event` that `contract` emitted in the transaction."""
        address = self.contract(contract).address
        specs = self.event_specs(contract)
        return [
            specs[log.topics[0]].decode_args(list(log.topics), log.data)
            for log in result.logs
            if log.address == address and log.topics and log.topics[0] in specs and specs[log.topics[0]].name == event
        ]

    def event_specs(self, contract: str) -> dict[str, EventSpec]:
        """topic0 -> decoder for the events of `contract`'s ABI."""
        if contract not in self._events:
            self._events[contract] = event_specs(self.artifacts.load(_ARTIFACT_OF.get(contract, contract)).abi, contract)
        return self._events[contract]


def role_id(name: str) -> bytes:
    """keccak256 of an OpenZeppelin AccessControl role name; DEFAULT_ADMIN_ROLE is zero."""
    return bytes(32) if name == "DEFAULT_ADMIN_ROLE" else bytes(Web3.keccak(text=name))


def keccak(data: bytes | str) -> str:
    """0x-hex keccak256 of bytes, or of a string's UTF-8 encoding."""
    return Web3.to_hex(Web3.keccak(text=data) if isinstance(data, str) else Web3.keccak(data))


def to_checksum(address: str) -> str:
    return Web3.to_checksum_address(address)
