"""Keys come from the environment or a key file, are never shown, and development keys stay on the local chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from twin_licensing.chain.keys import (
    DEV_MNEMONIC,
    dev_account,
    ensure_allowed,
    is_dev_address,
    load_account,
)
from twin_licensing.errors import (
    ConfigurationError,
    DevelopmentKeyRefusedError,
    KeyNotConfiguredError,
)
from twin_licensing.settings import LOCAL_CHAIN_ID, get_settings

HARDHAT_ACCOUNT_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # published in Hardhat's documentation
A_REAL_CHAIN = 8453


@pytest.fixture
def fresh_key() -> str:
    return Account.create().key.hex()


def test_dev_accounts_are_the_hardhat_mnemonic() -> None:
    assert dev_account(0).address == HARDHAT_ACCOUNT_0
    Account.enable_unaudited_hdwallet_features()
    assert dev_account(47).address == Account.from_mnemonic(DEV_MNEMONIC, account_path="m/44'/60'/0'/0/47").address


@pytest.mark.parametrize("index", [0, 1, 19, 47])
def test_dev_keys_are_refused_off_the_local_chain(index: int) -> None:
    key = dev_account(index).key.hex()
    with pytest.raises(DevelopmentKeyRefusedError, match=f"not on chain {A_REAL_CHAIN}") as caught:
        load_account("deployer", chain_id=A_REAL_CHAIN, key=key)
    assert key.removeprefix("0x") not in str(caught.value)
    assert isinstance(caught.value, PermissionError)


def test_dev_keys_are_accepted_on_the_local_chain() -> None:
    account = load_account("deployer", chain_id=LOCAL_CHAIN_ID, key=dev_account(3).key.hex())
    assert account.address == dev_account(3).address


def test_dev_default_only_on_the_local_chain() -> None:
    assert load_account("deployer", chain_id=LOCAL_CHAIN_ID, dev_index=0).address == HARDHAT_ACCOUNT_0
    with pytest.raises(KeyNotConfiguredError, match="TWIN_DEPLOYER_KEY"):
        load_account("deployer", chain_id=A_REAL_CHAIN, dev_index=0)


def test_dev_key_in_a_key_file_is_refused_too(tmp_path: Path) -> None:
    key_file = tmp_path / "deployer.key"
    key_file.write_text(dev_account(2).key.hex() + "\n")
    with pytest.raises(DevelopmentKeyRefusedError):
        load_account("recorder", chain_id=A_REAL_CHAIN, key_file=key_file)


def test_a_fresh_key_works_on_any_chain(tmp_path: Path, fresh_key: str) -> None:
    expected = Account.from_key(fresh_key).address
    assert load_account("deployer", chain_id=A_REAL_CHAIN, key=fresh_key).address == expected
    key_file = tmp_path / "recorder.key"
    key_file.write_text(fresh_key.removeprefix("0x") + "\n")  # without 0x, with a newline: as people write them
    assert load_account("recorder", chain_id=A_REAL_CHAIN, key_file=key_file).address == expected
    assert not is_dev_address(expected)


def test_settings_read_keys_from_the_environment_and_hide_them(monkeypatch, fresh_key: str) -> None:
    monkeypatch.setenv("TWIN_RECORDER_KEY", fresh_key)
    settings = get_settings()
    assert fresh_key not in repr(settings) and fresh_key not in str(settings.model_dump())
    account = load_account("recorder", chain_id=A_REAL_CHAIN, key=settings.recorder_key)
    assert account.address == Account.from_key(fresh_key).address


def test_a_malformed_key_is_reported_without_echoing_it(tmp_path: Path) -> None:
    secret = "0x" + "zz" * 32
    with pytest.raises(ConfigurationError, match="TWIN_DEPLOYER_KEY is not a valid") as caught:
        load_account("deployer", chain_id=LOCAL_CHAIN_ID, key=secret)
    assert secret not in str(caught.value)
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_account("deployer", chain_id=LOCAL_CHAIN_ID, key_file=tmp_path / "missing.key")


def test_is_dev_address_is_case_insensitive() -> None:
    assert is_dev_address(HARDHAT_ACCOUNT_0.lower())
    assert ensure_allowed(dev_account(0), LOCAL_CHAIN_ID) is dev_account(0)
