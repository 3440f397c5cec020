"""The few contract views the API shows beside the index: a payee's `claimable` and `totalEarned`, the payment
token's symbol and decimals, and the registry's rules (notice period, agency and non-model caps, exclusivity minimum).

Read through the chain package (the only one that imports web3). Earnings are read at the index's block, so that
index and chain are compared at the same height; the token's facts once (they never change), the registry's rules
at the head, briefly cached. A node that does not answer makes the values unavailable, never a failed request;
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
RULES_TTL = 5.0  # seconds: the registry's rules change by an admin transaction, rarely; the index sees it too


@dataclass(frozen=True)
class ChainEarnings:
    block_number: int | None
    claimable: int
    total_earned: int


@dataclass(frozen=True)
class TokenFacts:
    symbol: str
    decimals: int


@dataclass(frozen=True)
class RegistryRules:
    notice_period: int  # seconds between a revocation of consent and its effect
    agency_cap_bps: int  # the most all agency payees of a twin may share, basis points
    non_model_cap_bps: int  # the most all payees but the model may share, basis points
    exclusivity_minimum: int  # the smallest upfront fee of an exclusive offer


class ChainReader:
    def __init__(self, rpc_url: str, artifacts_dir, deployment: Deployment) -> None:
        self.rpc_url = rpc_url
        self.artifacts_dir = artifacts_dir
        self.deployment = deployment
        self._chain: Chain | None = None
        self._failed_at = 0.0
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int | None], ChainEarnings] = {}
        self._token: TokenFacts | None = None
        self._rules: tuple[float, RegistryRules] | None = None

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

    def token(self) -> TokenFacts | None:
        """The payment token's symbol and decimals (read once: a token never changes them); None if unavailable."""
        if self._token is not None:
            return self._token
        chain = self._connected()
        if chain is None:
            return None
        try:
            self._token = TokenFacts(
                symbol=str(chain.call("PaymentToken", "symbol")), decimals=int(chain.call("PaymentToken", "decimals"))
            )
        except Exception:  # noqa: BLE001 - unavailable, as above
            self._fail()
        return self._token

    def rules(self) -> RegistryRules | None:
        """The registry's rules now (at most RULES_TTL old); None if the node cannot say."""
        if self._rules is not None and time.monotonic() - self._rules[0] < RULES_TTL:
            return self._rules[1]
        chain = self._connected()
        if chain is None:
            return self._rules[1] if self._rules else None
        try:
            rules = RegistryRules(
                notice_period=int(chain.call("TwinRegistry", "noticePeriod")),
                agency_cap_bps=int(chain.call("TwinRegistry", "agencyCap")),
                non_model_cap_bps=int(chain.call("TwinRegistry", "nonModelCap")),
                exclusivity_minimum=int(chain.call("TwinRegistry", "exclusivityMinimum")),
            )
        except Exception:  # noqa: BLE001 - unavailable, as above
            self._fail()
            return self._rules[1] if self._rules else None
        self._rules = (time.monotonic(), rules)
        return rules

    def _fail(self) -> None:
        self._chain = None
        self._failed_at = time.monotonic()
