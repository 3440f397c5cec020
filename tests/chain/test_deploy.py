"""Deployment: contracts wired and roles granted, the deployment file round-trips, reverts decode by name."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from twin_licensing.chain.client import Chain, role_id
from twin_licensing.chain.deploy import deploy
from twin_licensing.chain.deployment import (
    AccountLabel,
    Deployment,
    deployment_path,
    read_account_labels,
    read_deployment,
    write_account_labels,
    write_deployment,
)
from twin_licensing.chain.errors import ErrorDecoder
from twin_licensing.errors import (
    ConfigurationError,
    ContractRevert,
    DeploymentMismatchError,
    DeploymentNotFoundError,
    TwinLicensingError,
)
from twin_licensing.settings import LOCAL_CHAIN_ID


def test_contracts_are_wired_and_roles_granted(chain: Chain, deployment: Deployment, admin, guild, recorder) -> None:
    assert chain.call("TwinRegistry", "licenseContract") == deployment.license_token
    assert chain.call("LicenseToken", "registry") == deployment.twin_registry
    assert chain.call("LicenseToken", "paymentToken") == deployment.payment_token
    assert chain.call("TwinRegistry", "hasRole", role_id("GUILD_ROLE"), guild.address)
    assert chain.call("TwinRegistry", "hasRole", role_id("DEFAULT_ADMIN_ROLE"), admin.address)
    assert chain.call("LicenseToken", "hasRole", role_id("DEFAULT_ADMIN_ROLE"), admin.address)
    assert chain.call("LicenseToken", "hasRole", role_id("RECORDER_ROLE"), recorder.address)
    assert not chain.call("LicenseToken", "hasRole", role_id("RECORDER_ROLE"), admin.address)
    assert chain.call("LicenseToken", "RECORDER_ROLE") == role_id("RECORDER_ROLE")


def test_license_token_is_linked_to_the_deployed_offer_book(chain: Chain, deployment: Deployment) -> None:
    """LicenseToken's offers run in the OfferBook library, its ledger off the settlement path in LicenseLedger: their
    addresses are in the record and in LicenseToken's code."""
    code = bytes(chain.w3.eth.get_code(deployment.license_token))
    for library in (deployment.offer_book, deployment.license_ledger):
        assert library and chain.w3.eth.get_code(library)
        assert bytes.fromhex(library[2:]) in code
    artifact = chain.artifacts.load("LicenseToken")
    assert sorted(artifact.libraries) == ["LicenseLedger", "OfferBook"]
    with pytest.raises(ConfigurationError, match="library (OfferBook|LicenseLedger)"):
        artifact.linked({})


def test_test_stablecoin_is_a_six_decimal_usd_coin(chain: Chain) -> None:
    assert chain.call("PaymentToken", "decimals") == 6
    assert chain.call("PaymentToken", "symbol") == "tUSDC"
    assert chain.call("PaymentToken", "name") == "Test USD Coin"


def test_deployment_records_the_chain_it_was_made_on(chain: Chain, deployment: Deployment, deployments_dir: Path) -> None:
    info = chain.info()
    assert deployment.chain_id == LOCAL_CHAIN_ID
    assert deployment.genesis_hash == info.genesis_hash
    assert 0 < deployment.block_number <= info.head
    assert deployment.test_token
    assert read_deployment(deployments_dir, LOCAL_CHAIN_ID) == deployment
    assert chain.check_deployment() == deployment


def test_deployment_file_round_trips(tmp_path: Path, deployment: Deployment) -> None:
    path = write_deployment(tmp_path, deployment)
    assert path == deployment_path(tmp_path, deployment.chain_id) == tmp_path / "31337.json"
    assert read_deployment(tmp_path, deployment.chain_id) == deployment
    data = json.loads(path.read_text())
    assert data["contracts"].items() >= {
        "PaymentToken": deployment.payment_token,
        "TwinRegistry": deployment.twin_registry,
        "LicenseToken": deployment.license_token,
        "OfferBook": deployment.offer_book,
        "LicenseLedger": deployment.license_ledger,
    }.items()
    assert data["chainId"] == 31337 and data["genesisHash"] == deployment.genesis_hash
    assert not list(tmp_path.glob(".*.tmp")), "the atomic write left a temporary file"


def test_account_labels_round_trip(tmp_path: Path, admin) -> None:
    labels = [AccountLabel(admin.address, "admin", "Platform admin", 0), AccountLabel("0x" + "11" * 20, "brand", "B")]
    write_account_labels(tmp_path, 5, labels, categories=["e-commerce"])
    assert read_account_labels(tmp_path, 5) == labels
    assert json.loads((tmp_path / "5.accounts.json").read_text())["categories"] == ["e-commerce"]


def test_missing_or_malformed_deployment_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DeploymentNotFoundError, match="twinctl deploy"):
        read_deployment(tmp_path, 1)
    (tmp_path / "1.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        read_deployment(tmp_path, 1)
    (tmp_path / "1.json").write_text('{"chainId": 1}')
    with pytest.raises(ConfigurationError, match="malformed"):
        read_deployment(tmp_path, 1)


def test_a_restarted_node_is_detected_by_genesis_hash(chain: Chain, deployment: Deployment) -> None:
    stale = dataclasses.replace(deployment, genesis_hash="0x" + "ab" * 32)
    with pytest.raises(DeploymentMismatchError, match="restarted"):
        chain.check_deployment(stale)


def test_deploy_hands_admin_over_to_a_separate_admin(base_chain: Chain, tmp_path: Path, chain: Chain, admin, guild, recorder, agencies) -> None:
    multisig = agencies[0].address  # stands for a multisig: any address that is not the deployer
    result = deploy(base_chain, admin, tmp_path, admin=multisig, guild=guild.address, recorder=recorder.address)
    fresh = base_chain.bind(result.deployment)
    admin_role = role_id("DEFAULT_ADMIN_ROLE")
    for name in ("TwinRegistry", "LicenseToken"):
        assert fresh.call(name, "hasRole", admin_role, multisig)
        assert not fresh.call(name, "hasRole", admin_role, admin.address)
    assert fresh.call("LicenseToken", "hasRole", role_id("RECORDER_ROLE"), recorder.address)
    assert read_deployment(tmp_path, LOCAL_CHAIN_ID).admin == multisig


def test_deploy_refuses_bad_addresses(base_chain: Chain, chain: Chain, tmp_path: Path, admin, recorder) -> None:
    with pytest.raises(ConfigurationError, match="guild is not an address"):
        deploy(base_chain, admin, tmp_path, guild="0x1234", recorder=recorder.address)
    with pytest.raises(ConfigurationError, match="zero address"):
        deploy(base_chain, admin, tmp_path, guild="0x" + "00" * 20, recorder=recorder.address)
    with pytest.raises(ConfigurationError, match="no contract at payment token"):
        deploy(base_chain, admin, tmp_path, guild=admin.address, recorder=recorder.address, payment_token=recorder.address)
    assert not (tmp_path / "31337.json").exists()


def test_deploy_can_take_an_existing_token(base_chain: Chain, chain: Chain, deployment: Deployment, tmp_path: Path, admin, guild, recorder) -> None:
    result = deploy(
        base_chain, admin, tmp_path, guild=guild.address, recorder=recorder.address, payment_token=deployment.payment_token
    )
    assert result.deployment.payment_token == deployment.payment_token
    assert not result.deployment.test_token
    assert base_chain.bind(result.deployment).call("LicenseToken", "paymentToken") == deployment.payment_token


def test_reverts_decode_to_named_errors_with_arguments(chain: Chain, models) -> None:
    outsider = models[0]
    with pytest.raises(ContractRevert) as caught:
        chain.transact(outsider, "TwinRegistry", "setAgencyCap", 1_000)
    error = caught.value
    assert error.name == "AccessControlUnauthorizedAccount"
    assert error.named_args == {"account": outsider.address, "neededRole": role_id("GUILD_ROLE")}
    assert error.args == (outsider.address, role_id("GUILD_ROLE"))
    assert isinstance(error, TwinLicensingError)
    assert str(error).startswith(f"AccessControlUnauthorizedAccount(account={outsider.address}, neededRole=0x")


def test_reverted_transaction_leaves_the_sender_usable(chain: Chain, guild, models) -> None:
    with pytest.raises(ContractRevert):
        chain.transact(models[1], "TwinRegistry", "setCategoryFloor", 0, 5, gas=200_000)  # mined and reverted
    result = chain.transact(guild, "TwinRegistry", "setCategoryFloor", 0, 5)
    assert result.status == 1
    assert chain.call("TwinRegistry", "categoryFloor", 0) == 5
    # The same account again, after its failed transaction consumed a nonce on Hardhat.
    with pytest.raises(ContractRevert, match="TwinRegistryUnknownCategory\\(category=8\\)"):
        chain.transact(guild, "TwinRegistry", "setCategoryFloor", 8, 5, gas=200_000)
    assert chain.transact(guild, "TwinRegistry", "setCategoryFloor", 1, 7).status == 1


def test_reverted_calls_decode_too(chain: Chain) -> None:
    with pytest.raises(ContractRevert) as caught:
        chain.call("LicenseToken", "licenseState", 999)
    assert caught.value.name == "LicenseTokenUnknownLicense"
    assert caught.value.named_args == {"licenseId": 999}


def test_revert_message_format(chain: Chain) -> None:
    selector = keccak(text="LicenseTokenSequenceMismatch(uint256,uint32,uint32)")[:4]
    data = selector + abi_encode(["uint256", "uint32", "uint32"], [3, 5, 7])
    error = chain.decoder.decode(data)
    assert error is not None
    assert str(error) == "LicenseTokenSequenceMismatch(licenseId=3, expected=5, firstSeq=7)"
    assert error.args == (3, 5, 7)


def test_decoder_knows_solidity_builtins() -> None:
    decoder = ErrorDecoder([])
    message = decoder.decode(keccak(text="Error(string)")[:4] + abi_encode(["string"], ["no"]))
    assert message is not None and str(message) == "Error(message='no')"
    panic = decoder.decode(keccak(text="Panic(uint256)")[:4] + abi_encode(["uint256"], [0x11]))
    assert panic is not None and panic.named_args == {"code": 0x11}
    assert decoder.decode(b"\x12\x34\x56\x78") is None
    assert decoder.decode("0x") is None


def test_reverts_helper_accepts_web3_exceptions(reverts, license_token, models) -> None:
    with reverts("LicenseTokenUnknownOffer", 12345):
        license_token.functions.buyLicense(12345, 0).transact({"from": models[0].address})
