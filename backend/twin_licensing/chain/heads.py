"""New blocks, announced once per process to whoever needs them (the indexer's fetcher, the settler).

A node pushes each new block over WebSocket (`eth_subscribe("newHeads")`) as it is made, at no request per block;
polling costs a request per interval whether anything happened or not, and up to an interval of latency. So the
feed subscribes at `ws_url` (TWIN_WS_URL; by default the HTTP URL with the ws scheme, where Hardhat, Anvil and
geth --ws on the same port answer) and only while no subscription is up does it poll the HTTP endpoint, every
`poll_interval` seconds, trying the WebSocket again every `retry_after` seconds. Falling back is a warning that
names TWIN_WS_URL: a provider whose WebSocket lives at another address must not silently cost a poll loop.

A pushed head carries the block's logs bloom: a block whose bloom names none of our contracts has none of their
events, which lets the indexer pass over it without a request (`Head.may_have_logs_of`).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Iterable

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from .hashing import keccak256
from .logs import BlockHeader, RpcClient, RpcError, parse_header

log = logging.getLogger(__name__)

BLOOM_BITS = 2048


def ws_url(http_url: str) -> str:
    """The WebSocket URL a node usually offers beside `http_url` (same host and port)."""
    return "ws" + http_url[4:] if http_url.startswith("http") else http_url


def bloom_may_contain(bloom: str, value: bytes) -> bool:
    """Whether a block's logs bloom (0x + 512 hex digits) may hold `value` (an address or a topic; the yellow
    paper's M3:2048: three 11-bit indexes taken from the first three byte pairs of keccak256(value)). False is
    certain; True may be a false positive."""
    bits = int(bloom, 16)
    digest = keccak256(value)
    for i in (0, 2, 4):
        index = ((digest[i] << 8) | digest[i + 1]) % BLOOM_BITS
        if not (bits >> index) & 1:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Head:
    header: BlockHeader
    logs_bloom: str | None = None  # known when the head was pushed; a polled head has none

    @property
    def number(self) -> int:
        return self.header.number

    def may_have_logs_of(self, addresses: Iterable[str]) -> bool:
        """False only when the bloom proves that none of `addresses` logged anything in this block."""
        bloom = self.logs_bloom
        if not bloom or len(bloom) != 2 + BLOOM_BITS // 4:
            return True
        return any(bloom_may_contain(bloom, bytes.fromhex(a.removeprefix("0x"))) for a in addresses)


class HeadFeed(threading.Thread):
    """Announces every new head: `latest` and `sequence` change and every listening Event is set.

    `subscribed` is set while the WebSocket subscription is up (then announcements are immediate; otherwise they
    come from polling, at most `poll_interval` late).
    """

    def __init__(
        self,
        rpc_url: str,
        ws: str | None = None,
        *,
        poll_interval: float = 2.0,
        retry_after: float = 30.0,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(name="chain-heads", daemon=True)
        self.rpc_url = rpc_url
        self.url = ws or ws_url(rpc_url)
        self.poll_interval = poll_interval
        self.retry_after = retry_after
        self.timeout = timeout
        self.subscribed = threading.Event()
        self.latest: Head | None = None
        self.sequence = 0  # how many heads were announced: a listener compares it with the last it saw
        self._listeners: set[threading.Event] = set()
        self._changed = threading.Condition()
        self._halt = threading.Event()
        self._ws = None
        self._client: RpcClient | None = None

    # ------------------------------------------------------------------ listeners

    def listen(self, event: threading.Event) -> None:
        """`event` is set on every new head (and once now, so that the listener looks at the chain first)."""
        with self._changed:
            self._listeners.add(event)
        event.set()

    def unlisten(self, event: threading.Event) -> None:
        with self._changed:
            self._listeners.discard(event)

    def wait_for_next(self, sequence: int, timeout: float) -> int:
        """Blocks until a head later than announcement `sequence` arrives (or `timeout`); the sequence now."""
        with self._changed:
            self._changed.wait_for(lambda: self.sequence > sequence or self._halt.is_set(), timeout)
            return self.sequence

    def _announce(self, head: Head) -> None:
        previous = self.latest
        if previous is not None and previous.header.hash == head.header.hash:
            return  # a poll that found nothing new
        with self._changed:
            self.latest = head
            self.sequence += 1
            listeners = list(self._listeners)
            self._changed.notify_all()
        for event in listeners:
            event.set()

    # ------------------------------------------------------------------ lifecycle

    def stop(self) -> None:
        self._halt.set()
        with self._changed:
            self._changed.notify_all()
        ws = self._ws
        if ws is not None:
            try:
                ws.close()
            except Exception:  # already closed or half-open: nothing more to do
                pass

    def run(self) -> None:
        warned = False
        while not self._halt.is_set():
            try:
                self._subscribe()
                warned = False  # it was up: a later outage is worth a new warning
            except Exception as exc:  # noqa: BLE001 - any failure of the socket or a message: poll, retry later
                if not isinstance(exc, (OSError, TimeoutError, WebSocketException, ValueError)):
                    log.exception("unexpected failure of the new-heads subscription")
                if not warned:
                    log.warning(
                        "no new-heads subscription at %s (%s); polling %s every %.1f s instead. Set TWIN_WS_URL if "
                        "the node's WebSocket is at another address", self.url, str(exc)[:120] or type(exc).__name__,
                        self.rpc_url, self.poll_interval)
                    warned = True
            finally:
                self._ws = None
                self.subscribed.clear()
            self._poll_for(self.retry_after)

    def _subscribe(self) -> None:
        with connect(self.url, open_timeout=2, close_timeout=1, max_size=2**24) as ws:
            self._ws = ws
            if self._halt.is_set():
                return
            ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}))
            reply = json.loads(ws.recv(timeout=5))
            if "error" in reply:
                raise ValueError(str(reply["error"]))
            self.subscribed.set()
            log.info("subscribed to new heads at %s", self.url)
            # Heads may have come while nobody listened (start-up, a reconnection): look once.
            self._poll_once()
            for message in ws:
                block = json.loads(message).get("params", {}).get("result")
                header = parse_header(block) if isinstance(block, dict) else None
                if header is not None:
                    self._announce(Head(header, block.get("logsBloom")))

    def _poll_for(self, duration: float) -> None:
        """Polls the head every `poll_interval` for `duration` seconds (or until stopped)."""
        waited = 0.0
        while not self._halt.is_set() and waited < duration:
            self._poll_once()
            step = min(self.poll_interval, duration - waited)
            self._halt.wait(step)
            waited += step

    def _poll_once(self) -> None:
        if self._client is None:
            self._client = RpcClient(self.rpc_url, timeout=self.timeout, retries=0)
        try:
            header = self._client.header("latest")
        except (RpcError, OSError) as exc:  # the node is away: the next poll tries again
            log.debug("head poll failed: %s", exc)
            return
        if header is not None:
            self._announce(Head(header))
