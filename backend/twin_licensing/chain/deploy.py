"""Deploys the payment token (or takes an existing one), the twin registry, the OfferBook and LicenseLedger libraries
and the licence contract linked to them, wires them together, grants the recorder its role and writes `deployments/<chainId>.json`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from ..errors import ConfigurationError
from ..settings import LOCAL_CHAIN_ID
from .client import Chain
from .deployment import Deployment, write_deployment


@dataclass(frozen=True)
class DeployResult:
    deployment: Deployment
    path: Path
    gas_used: int
    transactions: int


def _address(value: str, what: str) -> str:
    if not Web3.is_address(value):
        raise ConfigurationError(f"{what} is not an address: {value!r}")
    address = Web3.to_checksum_address(value)
    if int(address, 16) == 0:
        raise ConfigurationError(f"{what} is the zero address")
    return address


def deploy(
    chain: Chain,
    deployer: LocalAccount,
    deployments_dir: Path,
    *,
    admin: str | None = None,
    guild: str,
    recorder: str,
    payment_token: str | None = None,
) -> DeployResult:
    """Deploys the system. `admin` defaults to the deployer; `payment_token` to a fresh TestStablecoin (local only).

    The contracts are first administered by the deployer, which must wire them (set the licence contract, grant
    the recorder role); when `admin` is another address (a multisig), the admin role is then handed over and the
    deployer renounces it, so that no deployer key keeps power over the system.
    """
    admin = _address(admin or deployer.address, "admin")
    guild = _address(guild, "guild")
    recorder = _address(recorder, "recorder")
    info = chain.info()
    if payment_token is None and info.chain_id != LOCAL_CHAIN_ID:
        raise ConfigurationError(
            f"chain {info.chain_id} is not the local chain: give the stablecoin's address (TWIN_PAYMENT_TOKEN_ADDRESS)"
        )
    if payment_token is not None:
        payment_token = _address(payment_token, "payment token")
        if not chain.w3.eth.get_code(payment_token):
            raise ConfigurationError(f"no contract at payment token address {payment_token} on chain {info.chain_id}")

    results = []
    first_block: int | None = None
    test_token = payment_token is None
    if test_token:
        token_tx = chain.deploy(deployer, "TestStablecoin")
        results.append(token_tx)
        payment_token = token_tx.contract_address
        first_block = token_tx.block_number

    registry_tx = chain.deploy(deployer, "TwinRegistry", deployer.address, guild)
    results.append(registry_tx)
    registry = registry_tx.contract_address
    first_block = registry_tx.block_number if first_block is None else first_block

    # Offers and exclusivity, and the licences' money off the settlement path, run in linked libraries (LicenseToken
    # would not fit the contract size limit otherwise).
    libraries = {}
    for name in ("OfferBook", "LicenseLedger"):
        library_tx = chain.deploy(deployer, name)
        results.append(library_tx)
        assert library_tx.contract_address
        libraries[name] = library_tx.contract_address
    license_tx = chain.deploy(deployer, "LicenseToken", deployer.address, registry, payment_token, libraries=libraries)
    results.append(license_tx)
    license_token = license_tx.contract_address
    assert registry and license_token and payment_token
    verifier_tx = chain.deploy(deployer, "UseProofVerifier")
    results.append(verifier_tx)
    assert verifier_tx.contract_address

    deployment = Deployment(
        chain_id=info.chain_id,
        genesis_hash=info.genesis_hash,
        block_number=first_block,
        payment_token=payment_token,
        twin_registry=registry,
        license_token=license_token,
        admin=admin,
        guild=guild,
        recorder=recorder,
        deployer=deployer.address,
        test_token=test_token,
        use_proof_verifier=verifier_tx.contract_address,
        offer_book=libraries["OfferBook"],
        license_ledger=libraries["LicenseLedger"],
    )
    bound = chain.bind(deployment)
    admin_role = bound.call("TwinRegistry", "DEFAULT_ADMIN_ROLE")
    recorder_role = bound.call("LicenseToken", "RECORDER_ROLE")
    results.append(bound.transact(deployer, "TwinRegistry", "setLicenseContract", license_token))
    results.append(bound.transact(deployer, "LicenseToken", "grantRole", recorder_role, recorder))
    if admin != deployer.address:
        for name in ("TwinRegistry", "LicenseToken"):
            results.append(bound.transact(deployer, name, "grantRole", admin_role, admin))
            results.append(bound.transact(deployer, name, "renounceRole", admin_role, deployer.address))

    path = write_deployment(deployments_dir, deployment)
    return DeployResult(
        deployment=deployment,
        path=path,
        gas_used=sum(r.gas_used for r in results),
        transactions=len(results),
    )
