"""The indexer's tunables, read from the settings (TWIN_INDEXER_*) with the defaults below."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class IndexerConfig:
    # Seconds between head polls while no subscription pushes heads (TWIN_HEAD_POLL_INTERVAL unless set here):
    # polling costs a request per interval even when nothing happens, so it is the fallback, not the way.
    poll_interval: float = 1.0
    confirmations: int = 0  # blocks below the head before a row is final (0 on the local node)
    initial_span: int = 10  # blocks in the first eth_getLogs request (then x2 while responses are small)
    max_span: int = 100_000  # never ask for more blocks at once
    target_logs: int = 5_000  # aim for about this many logs per request: big enough to be fast, small to overlap
    recent_blocks: int = 64  # headers of the last blocks kept to find a reorganisation's common ancestor
    prefetch: int = 4  # batches fetched ahead of the database writer
    rpc_timeout: float = 30.0
    rpc_retries: int = 8
    fetch_process: bool = True  # far behind the head, fetch and decode in a forked process (two cores at work)
    process_min_blocks: int = 256  # ... when at least this many blocks behind
    subscribe: bool = True  # wake on eth_subscribe("newHeads") when the node offers a WebSocket
    ws_url: str | None = None  # the node's WebSocket (TWIN_WS_URL); None: the RPC URL with the ws scheme

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> "IndexerConfig":
        values: dict[str, Any] = {}
        for item in fields(cls):
            value = getattr(settings, f"indexer_{item.name}", None)
            if value is not None:
                values[item.name] = value
        if getattr(settings, "rpc_timeout", None):
            values.setdefault("rpc_timeout", settings.rpc_timeout)
        if getattr(settings, "head_poll_interval", None):
            values.setdefault("poll_interval", settings.head_poll_interval)
        if getattr(settings, "ws_url", None):
            values.setdefault("ws_url", settings.ws_url)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
