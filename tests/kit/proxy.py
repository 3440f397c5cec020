"""A JSON-RPC proxy in front of the test node that behaves like a hosted provider: it refuses `eth_getLogs` whose
result would exceed a limit (in the words of Infura or Alchemy), and can fail requests now and then (HTTP 503)."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RpcProxy:
    def __init__(self, upstream: str, *, max_results: int = 10_000, style: str = "infura",
                 fail_every: int = 0) -> None:
        self.upstream = upstream
        self.max_results = max_results
        self.style = style
        self.fail_every = fail_every  # every n-th request fails with HTTP 503 (0: never)
        self.requests = 0
        self.refused: list[tuple[int, int]] = []
        self.failed = 0
        self.largest_served = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, reply = proxy.handle(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "RpcProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _forward(self, body: bytes) -> bytes:
        request = urllib.request.Request(self.upstream, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()

    def handle(self, body: bytes) -> tuple[int, bytes]:
        with self._lock:
            self.requests += 1
            if self.fail_every and self.requests % self.fail_every == 0:
                self.failed += 1
                return 503, b'{"error": "service unavailable"}'
        request = json.loads(body)
        reply = self._forward(body)
        if not isinstance(request, dict) or request.get("method") != "eth_getLogs":
            return 200, reply
        logs = json.loads(reply).get("result") or []
        if len(logs) <= self.max_results:
            with self._lock:
                self.largest_served = max(self.largest_served, len(logs))
            return 200, reply
        start = int(request["params"][0]["fromBlock"], 16)
        end = int(request["params"][0]["toBlock"], 16)
        with self._lock:
            self.refused.append((start, end))
        if self.style == "alchemy":
            # Alchemy names a range that fits: here, the blocks up to the last one within the limit.
            fits = int(logs[self.max_results - 1]["blockNumber"], 16) - 1
            message = (f"Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range "
                       f"and no limit on the response size, or you can request any block range with a cap of "
                       f"{self.max_results} logs in the response. Based on your parameters, this block range "
                       f"should work: [{hex(start)}, {hex(max(start, fits))}]")
            error = {"code": -32602, "message": message}
        else:
            error = {"code": -32005, "message": f"query returned more than {self.max_results} results"}
        return 200, json.dumps({"jsonrpc": "2.0", "id": request.get("id"), "error": error}).encode()
