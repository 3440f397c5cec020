"""The one JSON-RPC transport of the backend (`RpcClient`): a keep-alive HTTP session with retries and backoff.
web3 sends through it too (`client.TransportProvider`), so every request to the node shares one connection pool,
one timeout and one retry policy; the head feed (`heads`) adds the node's WebSocket for pushed heads only.

The indexer's requests (`eth_getLogs` over a block range, block headers) are its fast path, deliberately below
web3's request manager: its result formatters turn every log into AttributeDicts of HexBytes,
which costs more than fetching them. Here a log stays the JSON object the node sent, decoded later in bulk
(`events.EventDecoder`), and a header becomes a small dataclass.

Errors are sorted into three kinds: a range the provider refuses as too large (`LogRangeTooLarge`, with the range
it suggests when it says one), transient failures (retried here with exponential backoff and jitter, then raised
as `RpcTransientError`), and everything else (`RpcError`).
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import requests
import urllib3

try:  # orjson parses a large eth_getLogs response ~3x faster than the standard library; optional
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - the project depends on orjson; plain json still works
    _loads = json.loads

from ..errors import RpcConnectionError, TwinLicensingError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BlockHeader:
    number: int
    hash: str
    parent_hash: str
    timestamp: int


class RpcError(TwinLicensingError, RuntimeError):
    """The node answered a request with a JSON-RPC error."""

    def __init__(self, method: str, code: int | None, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: {message} (code {code})")
        self.method, self.code, self.message, self.data = method, code, message, data


class RpcTransientError(RpcConnectionError):
    """The endpoint kept failing (connection refused, timeout, 429, 5xx) after every retry."""


class LogRangeTooLarge(RpcError):
    """The provider refused `eth_getLogs` over the range: too many results or too wide. `suggested_to`, when the
    provider names a range that works, is its last block; `suggested_span` a number of blocks it accepts."""

    def __init__(self, error: RpcError, suggested_to: int | None, suggested_span: int | None) -> None:
        super().__init__(error.method, error.code, error.message, error.data)
        self.suggested_to = suggested_to
        self.suggested_span = suggested_span


# What providers say when a range is too big (Geth, Erigon, Infura, Alchemy, QuickNode, Ankr, BlastAPI ...).
_TOO_LARGE = re.compile(
    r"more than \d+ results|too many (results|logs|blocks)|response size|limit exceeded|result window|"
    r"block range|range (is )?too (wide|large|big)|exceed(s|ed)? (the )?max(imum)?|query timeout|"
    r"limited to a [\d,]+ (block )?range|returned too many|log response size",
    re.IGNORECASE,
)
_SUGGESTED_RANGE = re.compile(r"\[\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*\]")
_SUGGESTED_SPAN = re.compile(
    r"(?:up to an? |maximum block range:? |limited to an? |range of |max(?:imum)? (?:of )?)([\d,]+)[- ]?(?:block)?",
    re.IGNORECASE,
)
# JSON-RPC errors that are worth retrying: rate limits and nodes that are catching up or briefly overloaded.
_TRANSIENT = re.compile(r"rate limit|too many requests|try again|timeout|temporarily|busy|overload|header not found",
                        re.IGNORECASE)
_TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}


def _classify_logs_error(error: RpcError) -> RpcError:
    text = f"{error.message} {json.dumps(error.data) if error.data is not None else ''}"
    if not _TOO_LARGE.search(text):
        return error
    suggested_to = suggested_span = None
    if (match := _SUGGESTED_RANGE.search(text)) is not None:
        suggested_to = int(match.group(2), 16)
    elif (match := _SUGGESTED_SPAN.search(text)) is not None:
        suggested_span = int(match.group(1).replace(",", "")) or None
    return LogRangeTooLarge(error, suggested_to, suggested_span)


class RpcClient:
    """A keep-alive HTTP JSON-RPC client with retry and backoff for transient failures."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        retries: int = 8,
        backoff: float = 0.1,
        max_backoff: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise RpcError("connect", None, f"RPC URL must be http(s)://..., got {url!r}")
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._session = requests.Session()
        # The node is named by URL: reading proxy settings from the environment on every call cost more than the call.
        self._session.trust_env = False
        self._session.headers["Content-Type"] = "application/json"
        self._ids = itertools.count(1)  # next() on a count is atomic: threads may share the client

    def close(self) -> None:
        self._session.close()

    # ------------------------------------------------------------------ transport

    def post(self, body: Any, what: str, *, raw: bool = False, retry: bool = True) -> Any:
        """POSTs a request or batch (an object, or JSON already encoded), retrying transient failures unless
        `retry` is False (a request that must not reach the node twice); returns the parsed JSON (`raw`: the
        bytes)."""
        payload = body if isinstance(body, (bytes, str)) else json.dumps(body)
        retries = self.retries if retry else 0
        attempt = 0
        while True:
            try:
                response = self._session.post(self.url, data=payload, timeout=self.timeout, stream=True)
                status = response.status_code
                if status in _TRANSIENT_HTTP and not retry:
                    # Sent once: a JSON-RPC answer (some nodes report a revert with HTTP 500) is the answer.
                    content = _read_body(response)
                    if content.startswith((b"{", b"[")):
                        return content if raw else json.loads(content)
                    raise _Retry(f"HTTP {status}")
                if status in _TRANSIENT_HTTP or status == 413:
                    response.close()
                    if status != 413:
                        raise _Retry(f"HTTP {status}")
                    # Request or response too large: for eth_getLogs this is the range's fault.
                    return {"jsonrpc": "2.0", "id": None,
                            "error": {"code": 413, "message": "response size exceeded (HTTP 413)"}}
                content = _read_body(response)
                if status >= 400 and not content.startswith((b"{", b"[")):
                    text = content[:200].decode("utf-8", "replace")
                    raise RpcError(what, status, f"HTTP {status}: {text}")
                return content if raw else json.loads(content)
            except (requests.ConnectionError, requests.Timeout, urllib3.exceptions.HTTPError, _Retry,
                    json.JSONDecodeError) as exc:
                attempt += 1
                if attempt > retries:
                    raise RpcTransientError(
                        f"{what} to {self.url} failed {attempt} times: {type(exc).__name__}: {exc}"
                    ) from None
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * (0.5 + random.random())
                log.debug("rpc retry", extra={"method": what, "attempt": attempt, "delay_s": round(delay, 3)})
                self._sleep(delay)

    def _next_id(self) -> int:
        return next(self._ids)

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        attempt = 0
        while True:
            reply = self.post({"jsonrpc": "2.0", "id": self._next_id(), "method": method, "params": list(params)},
                               method)
            error = reply.get("error") if isinstance(reply, dict) else None
            if error is None:
                return reply.get("result")
            failure = RpcError(method, error.get("code"), str(error.get("message", "")), error.get("data"))
            attempt += 1
            if not _TRANSIENT.search(failure.message) or attempt > self.retries:
                raise failure
            self._sleep(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several requests in one round trip; results in the order of `calls`. Any error fails the batch."""
        if not calls:
            return []
        ids = [self._next_id() for _ in calls]
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)} for i, (m, p) in zip(ids, calls)]
        replies = self.post(body, f"batch of {len(calls)} {calls[0][0]}")
        if isinstance(replies, dict):  # some servers answer a whole batch with one error object
            error = replies.get("error") or {}
            raise RpcError(calls[0][0], error.get("code"), str(error.get("message", "batch refused")))
        by_id = {reply.get("id"): reply for reply in replies}
        results = []
        for n, (method, _) in enumerate(calls):
            reply = by_id.get(ids[n]) or {}
            if "error" in reply:
                error = reply["error"]
                raise RpcError(method, error.get("code"), str(error.get("message", "")), error.get("data"))
            results.append(reply.get("result"))
        return results

    # ------------------------------------------------------------------ the indexer's requests

    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def header(self, block: int | str) -> BlockHeader | None:
        """The header of a block number (or tag: "latest", "safe", "finalized"); None if there is none."""
        tag = hex(block) if isinstance(block, int) else block
        return parse_header(self.call("eth_getBlockByNumber", [tag, False]))

    def headers(self, numbers: Sequence[int], chunk: int = 200) -> dict[int, BlockHeader | None]:
        """Headers of many blocks in batched requests; a missing block (beyond the head) maps to None."""
        found: dict[int, BlockHeader | None] = {}
        numbers = list(numbers)
        for start in range(0, len(numbers), chunk):
            part = numbers[start : start + chunk]
            replies = self.batch([("eth_getBlockByNumber", [hex(n), False]) for n in part])
            for number, reply in zip(part, replies):
                found[number] = parse_header(reply)
        return found

    def get_logs(self, from_block: int, to_block: int, addresses: Sequence[str]) -> list[dict[str, Any]]:
        """The raw log objects of `addresses` in [from_block, to_block], in chain order."""
        return parse_logs(self.get_logs_body(from_block, to_block, addresses), from_block, to_block)

    def get_logs_body(self, from_block: int, to_block: int, addresses: Sequence[str]) -> bytes:
        """The response body of `eth_getLogs`, not parsed yet (`parse_logs`): measuring the bare node, or parsing
        where it suits the caller. Errors, a refused range included, are raised here."""
        params = [{"fromBlock": hex(from_block), "toBlock": hex(to_block), "address": list(addresses)}]
        attempt = 0
        while True:
            body = self.post({"jsonrpc": "2.0", "id": self._next_id(), "method": "eth_getLogs", "params": params},
                              "eth_getLogs", raw=True)
            # A result is announced in its first bytes; only a body that is not must be parsed to find its error.
            if b'"result":[' in body[:160] or b'"result": [' in body[:160]:
                return body
            reply = json.loads(body)
            if isinstance(reply, dict) and isinstance(reply.get("result"), list):
                return body
            error = (reply.get("error") if isinstance(reply, dict) else None) or {}
            failure = _classify_logs_error(
                RpcError("eth_getLogs", error.get("code"), str(error.get("message", "no result")), error.get("data")))
            attempt += 1
            if isinstance(failure, LogRangeTooLarge) or not _TRANSIENT.search(failure.message) or attempt > self.retries:
                raise failure
            self._sleep(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))


def parse_logs(body: bytes, from_block: int = 0, to_block: int = 0) -> list[dict[str, Any]]:
    logs = _loads(body).get("result")
    if not isinstance(logs, list):
        raise RpcError("eth_getLogs", None, f"no result for blocks {from_block}..{to_block}")
    return logs


def _read_body(response: requests.Response) -> bytes:
    """The whole body of a streamed response, read by urllib3 at once (http.client de-chunks it), then the
    connection goes back to the pool for the next request. `response.content` would walk the body chunk by
    chunk in Python: Hardhat sends eth_getLogs as one chunk per log, ~10 000 of them per response."""
    try:
        body = response.raw.read(decode_content=True)
    except BaseException:
        response.close()
        raise
    response.raw.release_conn()
    return body


class _Retry(TwinLicensingError):
    """A transport-level failure that is worth another attempt."""


def parse_header(block: dict[str, Any] | None) -> BlockHeader | None:
    if not block:
        return None
    return BlockHeader(
        number=int(block["number"], 16),
        hash=block["hash"],
        parent_hash=block["parentHash"],
        timestamp=int(block["timestamp"], 16),
    )
