"""`twinctl audit`: recompute earnings and escrow from the chain's events, compare with the contract and the DB."""

from __future__ import annotations

import argparse

from rich.console import Console

from ..audit.compare import audit
from ..audit.render import render
from ._backend import open_backend
from ._common import add_rpc_argument, settings_from

NAME = "audit"
HELP = "recompute every payee's earnings and licence's escrow from chain events; compare with contract and DB"
ORDER = 70


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_rpc_argument(parser)
    parser.add_argument("--no-database", action="store_true", help="compare events and contract only")
    parser.add_argument("--all", action="store_true", help="show every row, not only differences and a sample")
    parser.add_argument("--expect-settled", action="store_true",
                        help="also fail if any recorded use is still waiting to be settled (pending, submitted or "
                        "held; a rejected use, which can never be paid, does not count)")


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    backend = open_backend(settings)
    report = audit(
        backend.chain,
        None if args.no_database else backend.engine,
        from_block=backend.deployment.block_number,
    )
    console = Console()
    render(report, console, all_rows=args.all)
    if args.expect_settled and report.uses_pending:
        console.print(f"[bold red]{report.uses_pending} uses are not settled[/bold red]")
        return 1
    return 0 if report.ok else 1
