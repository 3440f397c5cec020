"""Decodes raw logs of the project's contracts in bulk, from the Hardhat artifacts' ABIs.

`ContractEvent.process_log` decodes ~3k logs/s; the indexer needs ~10x that. A decoder is compiled per event
once: indexed value types come from their topic word, and when every non-indexed input is a one-word static type
(the hot `UsesSettled` is) the data is sliced word by word by a small function generated for that event (one
dict literal, no per-field calls through lambdas); anything else (arrays, strings, tuples) goes through
`eth_abi.decode`. Both paths give the same values (tests/indexer/test_decoder.py checks them against eth_abi).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address
from eth_utils.abi import collapse_if_tuple
from ..errors import TwinLicensingError

Value = Any
WordDecoder = Callable[[str], Value]  # 64 hex characters -> value


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs ~3x more, and there are many
class DecodedEvent:
    """One log, decoded. Hashes are lowercase 0x-hex, addresses checksummed, integers exact."""

    block_number: int
    block_hash: str
    tx_hash: str
    tx_index: int
    log_index: int
    contract: str  # the emitting contract's artifact name (TwinRegistry, LicenseToken)
    name: str  # the event's name
    args: dict[str, Value]


@lru_cache(maxsize=65536)
def checksum(address: str) -> str:
    """Checksummed address; cached because a few payees and brands recur in thousands of events."""
    return to_checksum_address(address)


def _word_decoder(abi_type: str) -> WordDecoder | None:
    """A decoder of one 32-byte word for value types; None when the type is not a one-word value."""
    if abi_type.startswith("uint"):
        return lambda word: int(word, 16)
    if abi_type.startswith("int"):
        bits = int(abi_type[3:] or 256)

        def signed(word: str) -> int:
            value = int(word, 16) & ((1 << bits) - 1)
            return value - (1 << bits) if value >> (bits - 1) else value

        return signed
    if abi_type == "address":
        return lambda word: checksum("0x" + word[24:])
    if abi_type == "bool":
        return lambda word: int(word, 16) != 0
    if abi_type.startswith("bytes") and abi_type != "bytes":
        size = int(abi_type[5:])
        return lambda word: "0x" + word[: 2 * size]
    return None


def _word_expression(abi_type: str, word: str) -> str | None:
    """Python source decoding the 64-hex-character `word` (an expression) as `abi_type`; None if not a value type."""
    if abi_type.startswith("uint"):
        return f"int({word}, 16)"
    if abi_type.startswith("int"):
        return f"_signed({word}, {int(abi_type[3:] or 256)})"
    if abi_type == "address":
        return f"checksum('0x' + {word}[24:])"
    if abi_type == "bool":
        return f"int({word}, 16) != 0"
    if abi_type.startswith("bytes") and abi_type != "bytes":
        return f"'0x' + {word}[:{2 * int(abi_type[5:])}]"
    return None


def _signed(word: str, bits: int) -> int:
    value = int(word, 16) & ((1 << bits) - 1)
    return value - (1 << bits) if value >> (bits - 1) else value


def _compile_static(name: str, indexed: list[dict[str, Any]], data: list[dict[str, Any]]) -> Callable | None:
    """A function (topics, data) -> args for an event whose inputs are all one-word value types, or None."""
    fields = []
    for n, item in enumerate(indexed, start=1):
        expression = _word_expression(item["type"], f"topics[{n}][2:]")
        fields.append((item["name"], expression or f"topics[{n}]"))  # hashed dynamic types: the topic itself
    for n, item in enumerate(data):
        expression = _word_expression(item["type"], f"data[{2 + 64 * n}:{66 + 64 * n}]")
        if expression is None:
            return None
        fields.append((item["name"], expression))
    body = ", ".join(f"{key!r}: {expression}" for key, expression in fields)
    source = f"def decode_{name}(topics, data):\n    return {{{body}}}\n"
    namespace: dict[str, Any] = {"checksum": checksum, "_signed": _signed}
    exec(compile(source, f"<event {name}>", "exec"), namespace)  # noqa: S102 - source built from the ABI's types only
    return namespace[f"decode_{name}"]


def _normalise(abi_input: dict[str, Any], value: Value) -> Value:
    """eth_abi output in the same shapes as the word decoders: 0x-hex bytes, checksummed addresses, dict tuples."""
    abi_type: str = abi_input["type"]
    if abi_type.endswith("]"):
        element = {**abi_input, "type": abi_type[: abi_type.rindex("[")]}
        return [_normalise(element, item) for item in value]
    if abi_type == "tuple":
        return {c["name"]: _normalise(c, v) for c, v in zip(abi_input["components"], value)}
    if abi_type == "address":
        return checksum(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return value


class EventSpec:
    """How to decode one event of one contract."""

    def __init__(self, contract: str, abi_event: dict[str, Any]) -> None:
        self.contract = contract
        self.name: str = abi_event["name"]
        inputs = abi_event.get("inputs", [])
        self.signature = f"{self.name}({','.join(collapse_if_tuple(i) for i in inputs)})"
        self.topic0 = "0x" + keccak(text=self.signature).hex()
        self.indexed: list[tuple[str, WordDecoder]] = []
        for item in (i for i in inputs if i.get("indexed")):
            decoder = _word_decoder(item["type"])
            # Indexed strings, bytes and arrays are stored as their keccak hash: keep the topic as it is.
            self.indexed.append((item["name"], decoder or (lambda word: "0x" + word)))
        self.data_inputs = [i for i in inputs if not i.get("indexed")]
        self.data_types = [collapse_if_tuple(i) for i in self.data_inputs]
        word_decoders = [_word_decoder(t) for t in self.data_types]
        self.words = all(d is not None for d in word_decoders)
        indexed_inputs = [i for i in inputs if i.get("indexed")]
        self._static = _compile_static(self.name, indexed_inputs, self.data_inputs) if self.words else None
        self._data_length = 2 + 64 * len(self.data_inputs)

    def decode_args(self, topics: list[str], data: str) -> dict[str, Value]:
        if len(topics) != len(self.indexed) + 1:
            raise ValueError(f"{self.contract}.{self.name}: {len(topics)} topics, expected {len(self.indexed) + 1}")
        if self._static is not None:
            if len(data) < self._data_length:
                raise ValueError(f"{self.contract}.{self.name}: data too short")
            return self._static(topics, data)
        args = {name: decode(topic[2:]) for (name, decode), topic in zip(self.indexed, topics[1:])}
        if self.data_inputs:
            values = abi_decode(self.data_types, bytes.fromhex(data[2:]))
            for item, value in zip(self.data_inputs, values):
                args[item["name"]] = _normalise(item, value)
        return args

    decode = decode_args  # the name other modules of the chain package use


class UnknownEventError(TwinLicensingError, ValueError):
    """A log that matches no event of the contract's ABI."""


class EventDecoder:
    """(contract address, topic0) -> EventSpec over the given contracts, and bulk decoding of raw logs."""

    def __init__(self, contracts: Mapping[str, tuple[str, Iterable[dict[str, Any]]]]) -> None:
        """`contracts`: address -> (artifact name, ABI)."""
        self._specs: dict[tuple[str, str], EventSpec] = {}
        self.names: dict[str, str] = {}
        for address, (name, abi) in contracts.items():
            self.names[address.lower()] = name
            for item in abi:
                if item.get("type") == "event" and not item.get("anonymous"):
                    spec = EventSpec(name, item)
                    self._specs[(address.lower(), spec.topic0)] = spec

    @property
    def addresses(self) -> list[str]:
        return list(self.names)

    def spec(self, address: str, topic0: str) -> EventSpec | None:
        return self._specs.get((address.lower(), topic0.lower()))

    def decode(self, raw_logs: Iterable[dict[str, Any]]) -> list[DecodedEvent]:
        """Decodes JSON-RPC log objects (as `eth_getLogs` returns them), in their order."""
        out: list[DecodedEvent] = []
        specs = self._specs
        append = out.append
        for log in raw_logs:
            topics = log["topics"]
            if not topics:
                raise UnknownEventError(f"anonymous log at {log['transactionHash']}:{log['logIndex']}")
            spec = specs.get((log["address"].lower(), topics[0]))
            if spec is None:
                raise UnknownEventError(
                    f"log {topics[0]} of {log['address']} at {log['transactionHash']} matches no event of the ABI"
                )
            append(
                DecodedEvent(
                    int(log["blockNumber"], 16),
                    log["blockHash"],
                    log["transactionHash"],
                    int(log["transactionIndex"], 16),
                    int(log["logIndex"], 16),
                    spec.contract,
                    spec.name,
                    spec.decode_args(topics, log["data"]),
                )
            )
        return out


def event_specs(abi: Iterable[dict[str, Any]], contract: str = "") -> dict[str, EventSpec]:
    """topic0 -> EventSpec for the (non-anonymous) events of one ABI."""
    specs = (EventSpec(contract, item) for item in abi if item.get("type") == "event" and not item.get("anonymous"))
    return {spec.topic0: spec for spec in specs}


# AccessControl role ids of the project's contracts, for people reading role grants.
ROLE_NAMES = {"0x" + "00" * 32: "DEFAULT_ADMIN_ROLE"} | {
    "0x" + keccak(text=name).hex(): name for name in ("GUILD_ROLE", "RECORDER_ROLE")
}
