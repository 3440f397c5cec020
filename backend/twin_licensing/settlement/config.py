"""How the settler batches: the window trades latency for gas (more uses per item, fewer items per use)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SettlerConfig:
    # A batch closes when its oldest use has waited this long ...
    window_s: float = 0.5
    # ... or when this many uses are waiting, whichever comes first.
    max_batch_uses: int = 5_000
    # Items (licences) per transaction: ~25k gas each, so 400 stays far below any block gas limit.
    max_items: int = 400
    # How often the database is polled for new uses while idle.
    poll_s: float = 0.05
    # A transaction not mined after this long is replaced at the same nonce with a higher fee ...
    stuck_after_s: float = 30.0
    # ... at most this many times, after which the settler keeps waiting for one of them.
    max_replacements: int = 5
    # Settled counts of every licence with uses are re-read this often (catches reorganisations).
    full_refresh_s: float = 5.0
    # Licences whose uses were refused by the chain for a curable cause are retried this often.
    recheck_rejections_s: float = 10.0
    # After an unexpected error (RPC down, database busy) the loop waits this long before trying again.
    error_backoff_s: float = 1.0
