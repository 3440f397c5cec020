"""`twinctl index`: the indexer process: contract events -> database, from the deployment block, then following."""

from __future__ import annotations

import argparse
import logging
import threading

from ..indexer.config import IndexerConfig
from ..indexer.progress import Progress, configure_logging
from ..indexer.service import build_indexer
from ._common import add_rpc_argument, say, settings_from

NAME = "index"
HELP = "run the indexer: backfill the contracts' events into the database, then follow the head"
ORDER = 40

DEFAULTS = IndexerConfig()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_rpc_argument(parser)
    parser.add_argument("--once", action="store_true", help="index up to the current head, then exit")
    parser.add_argument("--poll-interval", type=float,
                        help=f"seconds between head polls while no new-heads subscription is up (default "
                             f"{DEFAULTS.poll_interval}; TWIN_HEAD_POLL_INTERVAL)")
    parser.add_argument("--confirmations", type=int,
                        help="blocks below the head before rows are final (default 0; TWIN_INDEXER_CONFIRMATIONS)")
    parser.add_argument("--max-span", type=int, help=f"most blocks per eth_getLogs (default {DEFAULTS.max_span})")
    parser.add_argument("--no-subscribe", action="store_true",
                        help="poll only, even if the node offers WebSocket (TWIN_WS_URL names it when it is not at "
                             "the RPC URL)")
    parser.add_argument("--wait-lock", type=float, default=None,
                        help="seconds to wait for another indexer of this database to stop (default: wait for ever)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar or progress log lines")
    parser.add_argument("-v", "--verbose", action="store_true")


def run(args: argparse.Namespace) -> int:
    configure_logging(logging.DEBUG if args.verbose else logging.INFO)
    settings = settings_from(args)
    config = IndexerConfig.from_settings(
        settings, poll_interval=args.poll_interval, confirmations=args.confirmations, max_span=args.max_span,
        subscribe=False if args.no_subscribe else None,
    )
    indexer = build_indexer(settings, config=config, progress=Progress(enabled=not args.no_progress))
    say(f"indexer for chain {indexer.chain_id} at {settings.rpc_url} into {indexer.engine.url.render_as_string()}"
        + ("" if args.once else "; Ctrl-C stops it"))
    stop = threading.Event()
    try:
        cursor = indexer.run(stop, until_head=args.once, lock_wait=args.wait_lock)
    except KeyboardInterrupt:
        stop.set()
        return 130
    say(f"indexed up to block {cursor.block_number} ({cursor.events} events)")
    return 0
