"""`twinctl up`: the whole local system in one command.

A local node, the contracts, the demo data, then three child processes sharing the node's URL and one database:
the indexer (`twinctl index`), the settler (`twinctl settle`) and the API with the web client (`twinctl serve`).
It prints the web client's URL once the API answers, and runs until Ctrl-C or SIGTERM. A service that crashes is
restarted after a short, growing delay; the death of the node (which takes the chain with it), or a service that
keeps crashing, ends the run instead. Either way it stops every process it started, by PID (see `_supervisor`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import urllib.error
import urllib.request
from pathlib import Path

from ..settings import Settings
from . import deploy as deploy_command
from . import seed as seed_command
from ._common import relative, say, settings_from
from ._supervisor import Child, ChildExited, Supervisor
from ..errors import TwinLicensingError

NAME = "up"
HELP = ("start a local node, deploy, seed, then the indexer, the settler and the API with the web client; "
        "print the web client's URL; run until Ctrl-C")
ORDER = 0

API_HOST = "127.0.0.1"
API_STARTUP_TIMEOUT = 90.0


class ApiTimeout(TwinLicensingError, TimeoutError):
    """The API did not answer /health in time."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, help="node port (default: TWIN_NODE_PORT, or a free one)")
    parser.add_argument("--api-port", type=int, default=0, help="API and web client port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--no-seed", action="store_true", help="deploy only, without the demo data")
    parser.add_argument("--keep-database", action="store_true",
                        help="keep the SQLite database of an earlier run (default: start it afresh for the new chain)")


def run(args: argparse.Namespace) -> int:
    from ..chain.node import LocalNode, free_port

    settings = settings_from(args, node_port=args.port)
    if args.api_port is not None and not 0 <= args.api_port <= 65535:
        from ..errors import ConfigurationError

        raise ConfigurationError(f"--api-port {args.api_port} is not a port number")
    received: list[str] = []

    def on_signal(signum: int, frame: object) -> None:
        if received:  # already stopping: a second Ctrl-C must not interrupt the clean-up
            return
        received.append("Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name)
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    node = LocalNode(
        settings.project_root,
        port=settings.node_port,
        log_path=settings.log_dir / "hardhat-node.log",
        startup_timeout=settings.node_startup_timeout,
    )
    supervisor: Supervisor | None = None
    code = 0
    try:
        node.start()
        say(f"local node: {node.url} (pid {node.pid}); log: {relative(node.log_path, settings.project_root)}")
        # The deployment, the seed and the services use our node, never whatever TWIN_RPC_URL points at.
        settings = settings.model_copy(update={"rpc_url": node.url})
        supervisor = Supervisor(cwd=settings.project_root, env=child_environment(settings),
                                log_dir=Path(settings.log_dir), say=say)
        supervisor.adopt(Child("node", node.pid or 0, node.log_path,
                               poll=lambda: None if node.is_running() else node.wait(), stop=node.stop))

        deployed = deploy_command.deploy_with(settings)
        say(f"deployed: {relative(deployed.path, settings.project_root)}")
        for name, address in deployed.deployment.addresses.items():
            say(f"  {name:<13} {address}")
        if not args.no_seed:
            seed_command.report(seed_command.seed_with(settings), settings)

        say(f"database: {fresh_database(settings, keep=args.keep_database)}")
        if not settings.c2pa_cert_file:  # content credentials (issue 13): the local CA, made once and reused
            from ..provenance.certificates import ensure_local_identity

            credentials = relative(ensure_local_identity(settings.var_dir), settings.project_root)
            say(f"content credentials: local CA and signing certificate in {credentials}")
        api_port = args.api_port or free_port(API_HOST)
        for name, command in (("indexer", ("index",)), ("settler", ("settle",)),
                              ("api", ("serve", "--host", API_HOST, "--port", str(api_port)))):
            child = supervisor.start_twinctl(name, *command)
            say(f"{name}: pid {child.pid}; log: {relative(child.log_path, settings.project_root)}")

        web_url = f"http://{API_HOST}:{api_port}/"
        if not supervisor.wait(lambda: answers(web_url + "health"), timeout=API_STARTUP_TIMEOUT):
            raise ApiTimeout(f"the API did not answer {web_url}health within {API_STARTUP_TIMEOUT:.0f} s; "
                             f"log: {Path(settings.log_dir) / 'api.log'}")
        say("")
        say(f"Web client: {web_url}")
        say(f"API:        {web_url}api/v1 (docs: {web_url}api/v1/docs)")
        say(f"RPC URL:    {node.url}   (chain id {deployed.deployment.chain_id})")
        say(f"deployment: {relative(deployed.path, settings.project_root)}")
        say("running; press Ctrl-C to stop (a crashed indexer, settler or API is restarted)")
        supervisor.wait()
    except KeyboardInterrupt:
        print(file=sys.stderr)
        say(f"{received[0] if received else 'interrupted'}: stopping everything")
        code = 130  # as any twinctl command interrupted
    except ChildExited as exc:
        print(f"twinctl up: {exc}", file=sys.stderr)
        tail = exc.child.log_tail()
        if tail:
            print("  " + tail.replace("\n", "\n  "), file=sys.stderr)
        say("stopping everything")
        code = 1
    except ApiTimeout as exc:
        print(f"twinctl up: {exc}", file=sys.stderr)
        say("stopping everything")
        code = 1
    finally:
        received.append("stopping")  # any further signal is ignored while we clean up
        if supervisor is not None:
            supervisor.stop_all()
        node.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say("stopped")
    return code


def child_environment(settings: Settings) -> dict[str, str]:
    """The environment of the services: the node's URL and the same files, database and keys as this process."""
    env = dict(os.environ)
    env.pop("TWIN_DATABASE_URL", None)
    env.update({
        "TWIN_RPC_URL": settings.rpc_url,
        "TWIN_PROJECT_ROOT": str(settings.project_root),
        "TWIN_DEPLOYMENTS_DIR": str(settings.deployments_dir),
        "TWIN_ARTIFACTS_DIR": str(settings.artifacts_dir),
        "TWIN_VAR_DIR": str(settings.var_dir),
        "TWIN_MEDIA_DIR": str(settings.media_dir),
        "TWIN_LOG_DIR": str(settings.log_dir),
        "DATABASE_URL": str(settings.database_url),
        "PYTHONUNBUFFERED": "1",  # the logs show what happened up to the last line
    })
    return env


def fresh_database(settings: Settings, *, keep: bool = False) -> str:
    """Prepares the database for the new chain and says what it did.

    The local node starts a new chain every time, so an earlier run's SQLite database under var/ describes a chain
    that is gone: it is removed (unless `keep`). Any other database is kept: the indexer sees the new genesis and
    rebuilds its index, and use reports are scoped by chain id and genesis hash. The schema is migrated here, once,
    before the three services open it.
    """
    from sqlalchemy.engine import make_url

    from ..db.engine import make_engine, sqlite_path
    from ..db.migrate import upgrade_database

    url = str(settings.database_url)
    shown = make_url(url).render_as_string(hide_password=True)
    path = sqlite_path(url)
    note = "kept; the indexer rebuilds its index for the new chain"
    if path is not None and not keep and _inside(path, Path(settings.var_dir)):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        note = "new, for the new chain"
    engine = make_engine(url)
    try:
        upgrade_database(engine)
    finally:
        engine.dispose()
    return f"{shown} ({note})"


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.resolve().relative_to(directory.resolve())
        return True
    except ValueError:
        return False


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether an HTTP server answers `url` at all (a 503 "degraded" health is an answer)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            json.loads(response.read() or b"{}")
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False
