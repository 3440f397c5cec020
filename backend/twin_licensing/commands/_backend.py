"""What the backend's long-running commands (settle, serve, audit, verify-use) open: chain, deployment, database."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from ..chain.client import Chain
from ..chain.deployment import Deployment, read_deployment
from ..chain.keys import LocalAccount, load_account
from ..db.engine import engine_from_settings
from ..seed.data import RECORDER
from ..settings import Settings


@dataclass
class Backend:
    settings: Settings
    chain: Chain
    deployment: Deployment
    engine: Engine


def open_backend(settings: Settings, *, check: bool = True) -> Backend:
    bare = Chain.connect(settings.rpc_url, settings.artifacts_dir, timeout=settings.rpc_timeout)
    deployment = read_deployment(settings.deployments_dir, bare.chain_id)
    chain = Chain(bare.w3, bare.artifacts, deployment)
    if check:
        chain.check_deployment()
    return Backend(settings, chain, deployment, engine_from_settings(settings))


def recorder_account(settings: Settings, chain_id: int) -> LocalAccount:
    """The recorder key (TWIN_RECORDER_KEY / _FILE; the development recorder on the local chain only)."""
    return load_account(
        "recorder",
        chain_id=chain_id,
        key=settings.recorder_key,
        key_file=settings.recorder_key_file,
        dev_index=RECORDER,
    )


def configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
