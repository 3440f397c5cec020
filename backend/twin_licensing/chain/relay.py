"""Passes JSON-RPC requests through to a node unchanged: the API's development relay, which lets the web client act
as a development account of the local chain (the node holds those keys and signs for them).

Asynchronous (the API serves it on its event loop) and byte-for-byte: the caller checks which methods may pass;
this module only carries them and says when the node does not answer.
"""

from __future__ import annotations

import httpx

from ..errors import RpcConnectionError

TIMEOUT = 30.0  # seconds: eth_sendTransaction on an automining node answers once the block is mined


class RpcRelay:
    def __init__(self, rpc_url: str, timeout: float = TIMEOUT) -> None:
        self.rpc_url = rpc_url
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None  # made on first use, on the event loop that serves it

    async def forward(self, body: bytes) -> tuple[int, bytes]:
        """The node's HTTP status and body for a JSON-RPC request (or batch) `body`."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        try:
            response = await self._client.post(
                self.rpc_url, content=body, headers={"content-type": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise RpcConnectionError(f"the node at {self.rpc_url} does not answer: {type(exc).__name__}") from None
        return response.status_code, response.content

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
