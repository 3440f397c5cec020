"""Where the contracts of a chain live: `deployments/<chainId>.json`, and the labels of its accounts."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, DeploymentNotFoundError


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    # The genesis block hash tells a restarted local node (same chain id, new chain) from the one deployed to.
    genesis_hash: str
    # Indexers start here: nothing of the project exists before this block.
    block_number: int
    payment_token: str
    twin_registry: str
    license_token: str
    admin: str
    guild: str
    recorder: str
    deployer: str = ""
    test_token: bool = False  # whether payment_token is the faucet-equipped TestStablecoin deployed here
    use_proof_verifier: str = ""  # stateless UseProofVerifier: anyone proves a settled use with it
    offer_book: str = ""  # the OfferBook library linked into LicenseToken (runs on its storage; emits nothing itself)
    license_ledger: str = ""  # the LicenseLedger library linked into LicenseToken (likewise)

    @property
    def libraries(self) -> dict[str, str]:
        """The linked libraries of LicenseToken, name -> address: what deploying another LicenseToken needs."""
        found = {"OfferBook": self.offer_book, "LicenseLedger": self.license_ledger}
        return {name: address for name, address in found.items() if address}

    @property
    def addresses(self) -> dict[str, str]:
        """Contract name -> address, the names of the Hardhat artifacts."""
        return {
            "PaymentToken": self.payment_token,
            "TwinRegistry": self.twin_registry,
            "LicenseToken": self.license_token,
        }

    def to_json(self) -> dict[str, Any]:
        # camelCase and grouped, because the web client reads this file as it is.
        return {
            "chainId": self.chain_id,
            "genesisHash": self.genesis_hash,
            "blockNumber": self.block_number,
            "contracts": {
                **self.addresses,
                **({"UseProofVerifier": self.use_proof_verifier} if self.use_proof_verifier else {}),
                **self.libraries,
            },
            "roles": {"admin": self.admin, "guild": self.guild, "recorder": self.recorder, "deployer": self.deployer},
            "testToken": self.test_token,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Deployment":
        try:
            contracts, roles = data["contracts"], data["roles"]
            return cls(
                chain_id=int(data["chainId"]),
                genesis_hash=str(data["genesisHash"]),
                block_number=int(data["blockNumber"]),
                payment_token=contracts["PaymentToken"],
                twin_registry=contracts["TwinRegistry"],
                license_token=contracts["LicenseToken"],
                admin=roles["admin"],
                guild=roles["guild"],
                recorder=roles["recorder"],
                deployer=roles.get("deployer", ""),
                test_token=bool(data.get("testToken", False)),
                use_proof_verifier=contracts.get("UseProofVerifier", ""),
                offer_book=contracts.get("OfferBook", ""),
                license_ledger=contracts.get("LicenseLedger", ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"malformed deployment data: {exc!r}") from None


@dataclass(frozen=True)
class AccountLabel:
    """Who an address is, for people: `Model: Ava Lindqvist`."""

    address: str
    role: str  # admin, guild, recorder, agency, model, crew, brand
    name: str
    index: int | None = None  # position in the development mnemonic, local chain only
    extra: dict[str, Any] = field(default_factory=dict)


def deployment_path(deployments_dir: Path, chain_id: int) -> Path:
    return Path(deployments_dir) / f"{chain_id}.json"


def accounts_path(deployments_dir: Path, chain_id: int) -> Path:
    return Path(deployments_dir) / f"{chain_id}.accounts.json"


def write_deployment(deployments_dir: Path, deployment: Deployment) -> Path:
    path = deployment_path(deployments_dir, deployment.chain_id)
    _write_json_atomic(path, deployment.to_json())
    return path


def read_deployment(deployments_dir: Path, chain_id: int) -> Deployment:
    path = deployment_path(deployments_dir, chain_id)
    if not path.is_file():
        raise DeploymentNotFoundError(f"no deployment for chain {chain_id}: {path} is missing; run `twinctl deploy`")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid JSON: {exc}") from None
    return Deployment.from_json(data)


def write_account_labels(deployments_dir: Path, chain_id: int, labels: list[AccountLabel], **sections: Any) -> Path:
    """Writes the labels (and any extra sections, e.g. category names) beside the deployment file."""
    path = accounts_path(deployments_dir, chain_id)
    _write_json_atomic(path, {"chainId": chain_id, "accounts": [asdict(label) for label in labels], **sections})
    return path


def read_account_labels(deployments_dir: Path, chain_id: int) -> list[AccountLabel]:
    path = accounts_path(deployments_dir, chain_id)
    if not path.is_file():
        return []
    return [AccountLabel(**item) for item in json.loads(path.read_text())["accounts"]]


def _write_json_atomic(path: Path, data: Any) -> None:
    # A reader (the API, the web client) never sees half a file: write beside it, then rename over it.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
