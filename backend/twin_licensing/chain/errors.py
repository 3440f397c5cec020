"""Decodes revert data into `ContractRevert` using every ABI the project compiled."""

from __future__ import annotations

from typing import Any, Iterable

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address
from eth_utils.abi import collapse_if_tuple

from ..errors import ContractRevert

# Solidity's built-in reverts: `require(cond, "text")` and assert/overflow/division panics.
_BUILTIN = [
    {"type": "error", "name": "Error", "inputs": [{"name": "message", "type": "string"}]},
    {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]},
]


class ErrorDecoder:
    """selector -> error ABI, over all the given ABIs (a contract reverts with errors of its dependencies too)."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]]) -> None:
        self._errors: dict[bytes, dict[str, Any]] = {}
        for abi in [*abis, _BUILTIN]:
            for item in abi:
                if item.get("type") == "error":
                    self._errors.setdefault(_selector(item), item)

    def __len__(self) -> int:
        return len(self._errors)

    def decode(self, data: bytes | str) -> ContractRevert | None:
        """The revert `data` as a ContractRevert, or None if it is empty or its selector is unknown."""
        raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else bytes(data)
        if len(raw) < 4:
            return None
        item = self._errors.get(raw[:4])
        if item is None:
            return None
        inputs = item.get("inputs", [])
        types = [collapse_if_tuple(i) for i in inputs]
        try:
            values = abi_decode(types, raw[4:]) if types else ()
        except DecodingError:
            return None
        named = {(i.get("name") or f"arg{n}"): _normalise(t, v) for n, (i, t, v) in enumerate(zip(inputs, types, values))}
        return ContractRevert(item["name"], named, selector="0x" + raw[:4].hex(), data="0x" + raw.hex())

    def from_exception(self, exc: BaseException) -> ContractRevert | None:
        """Finds revert data in a web3 exception (its `data`, or the JSON-RPC error body) and decodes it."""
        candidates: list[Any] = [getattr(exc, "data", None)]
        response = getattr(exc, "rpc_response", None)
        if isinstance(response, dict):
            candidates.append(response.get("error"))
        candidates.extend(a for a in getattr(exc, "args", ()) if isinstance(a, (dict, str)))
        for candidate in candidates:
            for hex_data in _hex_strings(candidate):
                revert = self.decode(hex_data)
                if revert is not None:
                    return revert
        return None


def _selector(item: dict[str, Any]) -> bytes:
    signature = f"{item['name']}({','.join(collapse_if_tuple(i) for i in item.get('inputs', []))})"
    return keccak(text=signature)[:4]


def _normalise(abi_type: str, value: Any) -> Any:
    # eth_abi gives lowercase addresses; checksummed ones are what people compare against.
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type.startswith("address[") and isinstance(value, (list, tuple)):
        return tuple(to_checksum_address(v) for v in value)
    return value


def _hex_strings(value: Any, depth: int = 0) -> Iterable[str]:
    """Every 0x-string in a (possibly nested) JSON-RPC error payload; nodes put revert data in different places."""
    if depth > 4 or value is None:
        return
    if isinstance(value, str):
        if value.startswith("0x") and len(value) >= 10:
            yield value
        elif "0x" in value:  # e.g. "reverted with an unrecognized custom error (return data: 0x...)"
            for word in value.replace("(", " ").replace(")", " ").split():
                if word.startswith("0x") and len(word) >= 10:
                    yield word
    elif isinstance(value, dict):
        for key in ("data", "result", "message"):
            yield from _hex_strings(value.get(key), depth + 1)
