"""Wakes the indexer as soon as the node announces a block (`eth_subscribe("newHeads")` over WebSocket).

Polling every 250 ms costs up to 250 ms of latency; a subscription costs none. The node's WebSocket is assumed at
the HTTP URL with the ws scheme (Hardhat, Anvil, Geth with --ws on the same port). If it is not there, or the
connection drops, the indexer simply keeps polling and the watcher retries now and then.
"""

from __future__ import annotations

import json
import logging
import threading

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

log = logging.getLogger(__name__)


def ws_url(http_url: str) -> str:
    return "ws" + http_url[4:] if http_url.startswith("http") else http_url


class HeadWatcher(threading.Thread):
    def __init__(self, rpc_url: str, wake: threading.Event, retry_after: float = 5.0) -> None:
        super().__init__(name="indexer-heads", daemon=True)
        self.url = ws_url(rpc_url)
        self.wake = wake
        self.retry_after = retry_after
        self.subscribed = threading.Event()
        self._halt = threading.Event()
        self._ws = None

    def stop(self) -> None:
        self._halt.set()
        ws = self._ws
        if ws is not None:
            try:
                ws.close()
            except Exception:  # already closed or half-open: nothing more to do
                pass

    def run(self) -> None:
        told = False
        while not self._halt.is_set():
            try:
                with connect(self.url, open_timeout=2, close_timeout=1, max_size=2**24) as ws:
                    self._ws = ws
                    ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe",
                                        "params": ["newHeads"]}))
                    reply = json.loads(ws.recv(timeout=5))
                    if "error" in reply:
                        raise OSError(str(reply["error"]))
                    self.subscribed.set()
                    log.debug("subscribed to new heads", extra={"url": self.url})
                    for _message in ws:
                        self.wake.set()
            except (OSError, TimeoutError, WebSocketException, ValueError) as exc:
                if not told:
                    log.info("no head subscription; polling", extra={"url": self.url, "reason": str(exc)[:120]})
                    told = True
            finally:
                self._ws = None
                self.subscribed.clear()
            self._halt.wait(self.retry_after)
