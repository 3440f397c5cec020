"""How the settler batches: the window trades latency for gas (more uses per item, fewer items per use)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SettlerConfig:
    # A batch closes when its oldest use has waited this long ... An item costs about 30k gas whatever its size (the
    # holder's signature is checked once per item), so gas per use is that over the uses per item: at 300 uses a
    # second over 20 licences, 1 s makes items of ~15 uses (~2 000 gas a use), 0.5 s of ~7 (~4 000).
    window_s: float = 1.0
    # ... or when this many uses are waiting, whichever comes first.
    max_batch_uses: int = 5_000
    # Items (licences) per transaction: ~30k gas each with the signature check, up to ~50k for a licence's first
    # settlement (its counters start at zero), so 250 stays under the 2^24 gas one transaction may use (EIP-7825,
    # which Hardhat enforces) and far below any block gas limit.
    max_items: int = 250
    # How often the database is polled for new uses while idle.
    poll_s: float = 0.05
    # Settle transactions in flight at once, each on its own nonce (a licence is in at most one of them). A stuck
    # or dropped one is replaced or resent by the fee market and the node's pool, not by a timer (`chain.tx_pipeline`).
    max_in_flight: int = 8
    # Settled counts of every licence with uses are re-read this often (catches reorganisations).
    full_refresh_s: float = 5.0
    # Licences held for want of escrow are checked this often (lifted once the escrow can pay a use again).
    recheck_rejections_s: float = 10.0
    # After an unexpected error (RPC down, database busy) the loop waits this long before trying again.
    error_backoff_s: float = 1.0
