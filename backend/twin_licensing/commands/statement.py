"""`twinctl statement --payee ADDR --month 2026-11 [--out DIR]`: a payee's statement as CSV and PDF, from the index.

Reads the database only (no node needed): the index's chain, or `--chain-id` when it holds several.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from ..api.context import ROLE_TITLES
from ..api.read.metadata import MetadataResolver
from ..chain.deployment import read_account_labels
from ..db.chain_log import IndexCursor
from ..db.engine import engine_from_settings
from ..domain.periods import Period, PeriodError, custom, month, quarter, year
from ..errors import ConfigurationError
from ..statements.compute import build_statement
from ..statements.render import gather_names, to_csv, to_pdf, totals_check
from ._common import say, settings_from

NAME = "statement"
HELP = "write a payee's statement (CSV and PDF) for a month, quarter, year or dates, from the index"
ORDER = 72


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--payee", required=True, help="the payee's address (model, agency or crew)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", help="YYYY-MM")
    which.add_argument("--quarter", help="YYYY-Qn")
    which.add_argument("--year", help="YYYY")
    which.add_argument("--from", dest="first", help="first day YYYY-MM-DD (with --to)")
    parser.add_argument("--to", dest="last", help="last day YYYY-MM-DD, included (with --from)")
    parser.add_argument("--out", default=".", help="directory for the two files (default: the current one)")
    parser.add_argument("--chain-id", type=int, help="the chain, when the database indexes several")


def _payee(text: str) -> str:
    from ..api.read.schemas import checksum_address  # the API's one rule for an address a person typed

    try:
        return checksum_address(text.strip())
    except ValueError as exc:
        raise ConfigurationError(f"--payee {text[:50]!r} {str(exc).rstrip('.')}") from None


def _period(args: argparse.Namespace) -> Period:
    if args.last and not args.first:
        raise PeriodError("--to goes with --from: give the first day of the period too (YYYY-MM-DD).")
    if args.month:
        return month(args.month)
    if args.quarter:
        return quarter(args.quarter)
    if args.year:
        return year(args.year)
    if not args.last:
        raise PeriodError("--from needs --to: give the last day of the period (YYYY-MM-DD).")
    return custom(args.first, args.last)


def run(args: argparse.Namespace) -> int:
    payee = _payee(args.payee)
    period = _period(args)
    settings = settings_from(args)
    engine = engine_from_settings(settings)
    with Session(engine) as session:
        chains = list(session.execute(select(IndexCursor.chain_id)).scalars())
        if args.chain_id is not None:
            chain_id = args.chain_id
        elif len(chains) == 1:
            chain_id = chains[0]
        elif not chains:
            raise ConfigurationError("the database indexes no chain yet: run `twinctl index` (or `twinctl up`) first")
        else:
            raise ConfigurationError(f"the database indexes chains {chains}: choose one with --chain-id")
        statement = build_statement(session, chain_id, payee, period, now=int(time.time()))
        labels = {
            item.address.lower(): f"{ROLE_TITLES.get(item.role, item.role.title())}: {item.name}"
            for item in read_account_labels(Path(settings.deployments_dir), chain_id)
        }
        metadata = MetadataResolver(Path(settings.media_dir))
        names = gather_names(session, chain_id, statement, lambda a: labels.get(a.lower(), ""),
                             lambda uri: metadata.get(uri).name)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        base = out / f"statement-{payee}-{period.slug}"
        csv_path, pdf_path = base.with_suffix(".csv"), base.with_suffix(".pdf")
        csv_path.write_text(to_csv(statement, names))
        pdf_path.write_bytes(to_pdf(statement, names))
    except OSError as exc:
        raise ConfigurationError(f"cannot write the statement into {out}: {exc.strerror or exc}") from None
    say(totals_check(statement, names))
    say(str(csv_path))
    say(str(pdf_path))
    return 0 if statement.ties else 1
