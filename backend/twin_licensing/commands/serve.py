"""`twinctl serve`: the HTTP API (uvicorn) on 127.0.0.1."""

from __future__ import annotations

import argparse

from ..chain.node import free_port
from ._common import add_rpc_argument, say, settings_from

NAME = "serve"
HELP = "serve the API under /api/v1 on 127.0.0.1 (a free port unless --port is given)"
ORDER = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_rpc_argument(parser)
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--log-level", default="warning")


def run(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from ..api.app import create_app  # noqa: PLC0415

    settings = settings_from(args)
    app = create_app(settings)
    port = args.port or free_port(args.host)
    say(f"API: http://{args.host}:{port}/api/v1 (docs: /api/v1/docs)")
    uvicorn.run(app, host=args.host, port=port, log_level=args.log_level, access_log=False)
    return 0
