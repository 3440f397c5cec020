"""`twinctl`: the project's console.

Each subcommand is one module in `twin_licensing.commands` defining `NAME`, `HELP`, `add_arguments(parser)` and
`run(args) -> int`; they are discovered, so adding a command is adding a module. A command imports its heavy
dependencies (web3, FastAPI, the database) inside `run`, so that `twinctl --help` and the other commands stay quick.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import signal
import sys
from types import ModuleType
from typing import Sequence

from . import __version__, commands
from .errors import TwinLicensingError


def _command_modules() -> list[ModuleType]:
    modules = [
        importlib.import_module(f"{commands.__name__}.{info.name}")
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    ]
    return sorted((m for m in modules if hasattr(m, "NAME")), key=lambda m: getattr(m, "ORDER", 100))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twinctl", description="Licence tokens for the digital twins of fashion models: local chain and backend."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks (also TWIN_DEBUG=1)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _command_modules():
        sub = subparsers.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM (from a supervisor, `kill`) unwinds like Ctrl-C, so `finally` blocks stop child processes.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = args.debug or os.environ.get("TWIN_DEBUG") == "1"
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except TwinLicensingError as exc:
        if debug:
            raise
        print(f"twinctl {args.command}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug or an unforeseen failure: one line, the traceback on request
        if debug:
            raise
        print(f"twinctl {args.command}: unexpected {type(exc).__name__}: {exc} (TWIN_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
