"""`twinctl deploy`: deploy the contracts to a JSON-RPC endpoint and write deployments/<chainId>.json."""

from __future__ import annotations

import argparse

from ..seed.data import ADMIN, GUILD, RECORDER
from ..settings import Settings
from ._common import add_rpc_argument, relative, say, settings_from

NAME = "deploy"
HELP = "deploy token (or use --payment-token), registry and licence contract; write deployments/<chainId>.json"
ORDER = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_rpc_argument(parser)
    parser.add_argument("--admin", help="admin address (default: TWIN_ADMIN_ADDRESS, or the deployer)")
    parser.add_argument("--guild", help="guild address (default: TWIN_GUILD_ADDRESS, or the guild key's address)")
    parser.add_argument(
        "--recorder", help="recorder address (default: TWIN_RECORDER_ADDRESS, or the recorder key's address)"
    )
    parser.add_argument(
        "--payment-token", help="existing stablecoin address (default: TWIN_PAYMENT_TOKEN_ADDRESS; local: deploy one)"
    )


def role_address(settings: Settings, role: str, explicit: str | None, chain_id: int, dev_index: int) -> str:
    """An explicit address, else the address of the role's key (env, key file, or on the local chain the dev key)."""
    from ..chain.keys import load_account

    explicit = explicit or getattr(settings, f"{role}_address")
    if explicit:
        return explicit
    account = load_account(
        role,
        chain_id=chain_id,
        key=getattr(settings, f"{role}_key"),
        key_file=getattr(settings, f"{role}_key_file"),
        dev_index=dev_index,
    )
    return account.address


def deploy_with(settings: Settings, args: argparse.Namespace | None = None):
    from ..chain.client import Chain
    from ..chain.deploy import deploy
    from ..chain.keys import load_account

    chain = Chain.connect(settings.rpc_url, settings.artifacts_dir, timeout=settings.rpc_timeout)
    chain_id = chain.chain_id
    deployer = load_account(
        "deployer",
        chain_id=chain_id,
        key=settings.deployer_key,
        key_file=settings.deployer_key_file,
        dev_index=ADMIN,
    )
    return deploy(
        chain,
        deployer,
        settings.deployments_dir,
        admin=getattr(args, "admin", None) or settings.admin_address,
        guild=role_address(settings, "guild", getattr(args, "guild", None), chain_id, GUILD),
        recorder=role_address(settings, "recorder", getattr(args, "recorder", None), chain_id, RECORDER),
        payment_token=getattr(args, "payment_token", None) or settings.payment_token_address,
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    result = deploy_with(settings, args)
    d = result.deployment
    say(f"deployed to chain {d.chain_id} at block {d.block_number} ({result.transactions} transactions, "
        f"{result.gas_used:,} gas)")
    for name, address in d.addresses.items():
        say(f"  {name:<13} {address}")
    if d.offer_book:
        say(f"  {'OfferBook':<13} {d.offer_book} (library linked into LicenseToken)")
    say(f"deployment file: {relative(result.path, settings.project_root)}")
    return 0
