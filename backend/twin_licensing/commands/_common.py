"""Options and helpers shared by several subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..settings import Settings, get_settings


def add_rpc_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rpc-url", help="JSON-RPC endpoint (default: TWIN_RPC_URL or http://127.0.0.1:8545)")


def settings_from(args: argparse.Namespace, **extra: object) -> Settings:
    """Settings from the environment, overridden by the command-line flags that were given."""
    return get_settings(rpc_url=getattr(args, "rpc_url", None), **extra)


def say(message: str) -> None:
    print(message, flush=True)


def wait_until_interrupted(node=None) -> None:
    """Blocks until Ctrl-C (KeyboardInterrupt) or until the node exits by itself."""
    if node is not None:
        code = node.wait()
        print(f"the local node exited with code {code}; log: {node.log_path}", file=sys.stderr)
        return
    import threading

    threading.Event().wait()


def relative(path: Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)
