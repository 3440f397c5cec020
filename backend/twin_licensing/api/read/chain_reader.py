"""The few contract views the read API shows beside the index: a payee's `claimable` and `totalEarned`.

Read through the chain package (the only one that imports web3) at the index's block, so that index and chain are
compared at the same height. A node that does not answer makes the values unavailable, never a failed request;
after a failure the node is not asked again for `RETRY_AFTER` seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from ...chain.client import Chain
from ...chain.deployment import Deployment
from ...errors import TwinLicensingError

RETRY_AFTER = 2.0
TIMEOUT = 3.0


@dataclass(frozen=True)
class ChainEarnings:
    block_number: int | None
    claimable: int
    total_earned: int


class ChainReader:
    def __init__(self, rpc_url: str, artifacts_dir, deployment: Deployment) -> None:
        self.rpc_url = rpc_url
        self.artifacts_dir = artifacts_dir
        self.deployment = deployment
        self._chain: Chain | None = None
        self._failed_at = 0.0
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int | None], ChainEarnings] = {}

    def _connected(self) -> Chain | None:
        if self._chain is not None:
            return self._chain
        if time.monotonic() - self._failed_at < RETRY_AFTER:
            return None
        with self._lock:
            if self._chain is None:
                try:
                    self._chain = Chain.connect(self.rpc_url, self.artifacts_dir, self.deployment, timeout=TIMEOUT)
                except (TwinLicensingError, OSError, ValueError):
                    self._failed_at = time.monotonic()
                    return None
        return self._chain

    def head(self) -> int | None:
        chain = self._connected()
        if chain is None:
            return None
        try:
            return chain.block_number()
        except Exception:  # noqa: BLE001 - any transport error means "unavailable" here
            self._fail()
            return None

    def earnings(self, payee: str, block: int | None) -> ChainEarnings | None:
        """`claimable` and `totalEarned` of `payee` at `block` (latest if None); None if the node cannot say."""
        key = (payee, block)
        if block is not None and key in self._cache:
            return self._cache[key]
        chain = self._connected()
        if chain is None:
            return None
        at = block if block is not None else "latest"
        try:
            claimable = int(chain.call("LicenseToken", "claimable", payee, block=at))
            total = int(chain.call("LicenseToken", "totalEarned", payee, block=at))
        except Exception:  # noqa: BLE001 - a restarted node, a pruned block, a timeout: all "unavailable"
            self._fail()
            return None
        result = ChainEarnings(block, claimable, total)
        if block is not None:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[key] = result
        return result

    def _fail(self) -> None:
        self._chain = None
        self._failed_at = time.monotonic()
