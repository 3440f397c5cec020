"""`twinctl settle`: the settler process: pending uses -> `settle` transactions, continuously."""

from __future__ import annotations

import argparse
import threading

from ..chain.heads import HeadFeed
from ..chain.settlement import SettlementClient
from ..errors import ConfigurationError
from ..settlement.config import SettlerConfig
from ..settlement.lock import SettlerLock
from ..db.uses import ChainScope
from ..settlement.settler import Settler, clear_holds
from ._backend import configure_logging, open_backend, recorder_account
from ._common import add_rpc_argument, say, settings_from

NAME = "settle"
HELP = "run the settler: batch pending uses per licence, settle them on chain, reconcile after any crash"
ORDER = 50

DEFAULTS = SettlerConfig()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_rpc_argument(parser)
    parser.add_argument("--window", type=float, default=DEFAULTS.window_s,
                        help=f"seconds a use may wait for its batch to close (default {DEFAULTS.window_s})")
    parser.add_argument("--max-batch", type=int, default=DEFAULTS.max_batch_uses,
                        help=f"uses that close a batch at once (default {DEFAULTS.max_batch_uses})")
    parser.add_argument("--max-items", type=int, default=DEFAULTS.max_items,
                        help=f"licences per transaction (default {DEFAULTS.max_items})")
    parser.add_argument("--max-in-flight", type=int, default=DEFAULTS.max_in_flight,
                        help=f"settle transactions in flight at once, each on its own nonce "
                             f"(default {DEFAULTS.max_in_flight})")
    parser.add_argument("--clear-holds", action="store_true",
                        help="first lift every hold that is not a rejection for good (after looking into them: a "
                             "bad signature or item on file is never retried by itself)")
    parser.add_argument("--wait-lock", type=float, default=0.0,
                        help="seconds to wait for another settler of the same recorder to stop (default: exit)")
    parser.add_argument("-v", "--verbose", action="store_true")


def run(args: argparse.Namespace) -> int:
    configure_logging(args.verbose)
    if args.window < 0 or args.max_batch < 1 or args.max_items < 1 or args.max_in_flight < 1:
        raise ConfigurationError("--window must be >= 0, --max-batch, --max-items and --max-in-flight >= 1")
    settings = settings_from(args)
    backend = open_backend(settings)
    recorder = recorder_account(settings, backend.chain.chain_id)
    client = SettlementClient(backend.chain, recorder)
    if not client.has_recorder_role():
        raise ConfigurationError(f"{recorder.address} does not hold RECORDER_ROLE on {backend.deployment.license_token}")
    config = SettlerConfig(
        window_s=args.window,
        max_batch_uses=args.max_batch,
        max_items=args.max_items,
        max_in_flight=args.max_in_flight,
    )
    lock = SettlerLock(backend.engine, recorder.address, backend.chain.chain_id)
    lock.acquire(wait=args.wait_lock)
    if args.clear_holds:
        say(f"lifted {clear_holds(backend.engine, ChainScope(backend.chain.chain_id, backend.deployment.genesis_hash))} "
            "holds; their uses are settled again")
    heads = HeadFeed(settings.rpc_url, settings.ws_url, poll_interval=settings.head_poll_interval)
    heads.start()
    try:
        say(f"settler for recorder {recorder.address} on chain {backend.chain.chain_id} "
            f"(window {config.window_s} s, batch <= {config.max_batch_uses} uses); Ctrl-C stops it")
        Settler(backend.engine, client, config, heads=heads).run(threading.Event())
    finally:
        heads.stop()
        lock.release()
    return 0
