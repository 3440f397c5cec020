"""`twinctl seed`: the demo catalogue on a fresh local deployment."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..settings import Settings
from ._common import add_rpc_argument, relative, say, settings_from

if TYPE_CHECKING:
    from ..seed import SeedResult

NAME = "seed"
HELP = "set guild floors, register 30 twins with offers and fund the brands (local chain, fresh deployment)"
ORDER = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_rpc_argument(parser)


def seed_with(settings: Settings) -> "SeedResult":
    from ..chain.client import Chain
    from ..chain.deployment import read_deployment
    from ..seed import seed

    chain = Chain.connect(settings.rpc_url, settings.artifacts_dir, timeout=settings.rpc_timeout)
    deployment = read_deployment(settings.deployments_dir, chain.chain_id)
    return seed(chain, deployment, media_dir=settings.media_dir, deployments_dir=settings.deployments_dir)


def report(result: "SeedResult", settings: Settings) -> None:
    say(f"seeded {len(result.twins)} twins, {result.offers} offers, {len(result.brands)} funded brands "
        f"({result.transactions} transactions in {result.seconds:.1f} s)")
    say(f"media: {relative(settings.media_dir, settings.project_root)}; "
        f"account labels: {relative(result.labels_path, settings.project_root)}")


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    report(seed_with(settings), settings)
    return 0
