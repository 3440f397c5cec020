"""`twinctl node`: a local Hardhat node on 127.0.0.1, until Ctrl-C."""

from __future__ import annotations

import argparse

from ._common import say, settings_from, wait_until_interrupted

NAME = "node"
HELP = "start a local Hardhat node on 127.0.0.1 (a free port unless --port) and run until Ctrl-C"
ORDER = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, help="port to listen on (default: TWIN_NODE_PORT, or a free one)")


def run(args: argparse.Namespace) -> int:
    from ..chain.node import LocalNode

    settings = settings_from(args, node_port=args.port)
    node = LocalNode(
        settings.project_root,
        port=settings.node_port,
        log_path=settings.log_dir / "hardhat-node.log",
        startup_timeout=settings.node_startup_timeout,
    )
    with node:
        say(f"local node: {node.url} (pid {node.pid}, log {node.log_path})")
        say("press Ctrl-C to stop it")
        wait_until_interrupted(node)
    return 0
