"""JSON-RPC to the test node for tests that send thousands of requests (the invariant run): one keep-alive
connection and orjson instead of web3's provider stack, and contract calls whose selector and ABI types are worked
out once per function instead of once per call.

    node = NodeRpc(chain.rpc_url)
    token = Functions(chain.contract("PaymentToken"))
    node.request("eth_sendTransaction", [{"from": who, "to": token.address, "data": token.faucet(who, 5).data}])
    held, supply = node.read([token.balanceOf(who), token.totalSupply()])
"""

from __future__ import annotations

import http.client
import time
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import orjson
from eth_abi import decode, encode
from eth_utils import function_abi_to_4byte_selector, to_checksum_address
from eth_utils.abi import collapse_if_tuple

# A connection idle this long is opened anew before the next request: the node may have closed it (Node's HTTP
# server drops keep-alive connections after 5 s), and a request lost that way must not be sent twice.
IDLE_S = 2.0


class NodeRpc:
    def __init__(self, url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        self._address = (parts.hostname, parts.port or 80)
        self._path = parts.path or "/"
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._last_used = 0.0
        self._id = 0

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _post(self, payload: Any) -> Any:
        if self._connection is None or time.monotonic() - self._last_used > IDLE_S:
            self.close()
            self._connection = http.client.HTTPConnection(*self._address, timeout=self._timeout)
        self._connection.request("POST", self._path, orjson.dumps(payload), {"Content-Type": "application/json"})
        reply = orjson.loads(self._connection.getresponse().read())
        self._last_used = time.monotonic()
        return reply

    def request(self, method: str, params: list[Any]) -> dict:
        """The node's whole reply: `result`, or `error` with the revert data of a failed transaction."""
        self._id += 1
        return self._post({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})

    def result(self, method: str, params: list[Any]) -> Any:
        reply = self.request(method, params)
        assert "error" not in reply, f"{method} failed: {reply['error']}"
        return reply["result"]

    def read(self, calls: list[Call], block: str = "latest") -> list[Any]:
        """Many view calls in one batch, decoded; a reverting call gives ("reverted", its error data)."""
        if not calls:
            return []
        first = self._id + 1
        self._id += len(calls)
        batch = [{"jsonrpc": "2.0", "id": first + i, "method": "eth_call",
                  "params": [{"to": call.address, "data": call.data}, block]} for i, call in enumerate(calls)]
        replies = self._post(batch)
        assert isinstance(replies, list), f"batch call failed: {replies}"
        results = []
        for call, reply in zip(calls, sorted(replies, key=lambda r: r["id"])):
            if "error" in reply:
                results.append(("reverted", str(reply["error"].get("data"))))
            else:
                results.append(call.decode(reply["result"]))
        return results


class Function:
    """One ABI function: its selector and types, worked out once."""

    def __init__(self, address: str, abi: dict) -> None:
        self.address = address
        self.abi = abi
        self.selector = function_abi_to_4byte_selector(abi)
        self.input_types = [collapse_if_tuple(i) for i in abi["inputs"]]
        self.output_types = [collapse_if_tuple(o) for o in abi.get("outputs", [])]

    def __call__(self, *args: Any) -> Call:
        return Call(self, args)


class Call:
    """A prepared call (`address`, `abi`, `args`, like web3's) with its calldata."""

    def __init__(self, function: Function, args: tuple) -> None:
        self.function = function
        self.address = function.address
        self.abi = function.abi
        self.args = args

    @cached_property
    def data(self) -> str:
        return "0x" + (self.function.selector + encode(self.function.input_types, list(self.args))).hex()

    def decode(self, result: str) -> Any:
        values = decode(self.function.output_types, bytes.fromhex(result[2:]))
        return _checksummed(_tuples(values[0] if len(values) == 1 else values))


class Functions:
    """`Functions(contract).name(*args)` for a web3 contract's functions, without web3's per-call validation.

    Overloaded names are told apart by their number of arguments.
    """

    def __init__(self, contract: Any) -> None:
        self.address = contract.address
        self._by_name: dict[str, dict[int, Function]] = {}
        for entry in contract.abi:
            if entry.get("type") == "function":
                self._by_name.setdefault(entry["name"], {})[len(entry["inputs"])] = Function(self.address, entry)

    def __getattr__(self, name: str) -> Any:
        try:
            overloads = self._by_name[name]
        except KeyError:
            raise AttributeError(f"no function {name} at {self.address}") from None

        def prepare(*args: Any) -> Call:
            return overloads[len(args)](*args)

        return prepare


def _tuples(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(v) for v in value)
    return value


def _checksummed(value: Any) -> Any:
    """eth_abi decodes addresses in lowercase; web3 and the chain package give them checksummed."""
    if isinstance(value, tuple):
        return tuple(_checksummed(v) for v in value)
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return to_checksum_address(value)
    return value
