"""Private keys of the project's roles: from the environment or a key file, never logged.

The development mnemonic's keys are public knowledge (every Hardhat and Anvil user has them): anything they
hold on a real network is taken at once. They are therefore accepted on the local chain only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr

from ..errors import ConfigurationError, DevelopmentKeyRefusedError, KeyNotConfiguredError
from ..settings import LOCAL_CHAIN_ID

DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNT_COUNT = 48  # hardhat.config.js `accounts.count`
# Derivation is slow in pure Python (~15 ms a key), so the refusal check derives this many once, lazily.
# It covers Hardhat's default 20, Anvil's 10 and this project's 48.
_REFUSED_DEV_INDICES = 64


@lru_cache(maxsize=1)
def _dev_seed() -> bytes:
    return seed_from_mnemonic(DEV_MNEMONIC, "")


@lru_cache(maxsize=None)
def dev_account(index: int) -> LocalAccount:
    """The development account at `m/44'/60'/0'/0/<index>`, funded on the local node."""
    if index < 0:
        raise ConfigurationError(f"development account index must be >= 0, got {index}")
    return Account.from_key(key_from_seed(_dev_seed(), f"m/44'/60'/0'/0/{index}"))


@lru_cache(maxsize=1)
def _dev_addresses() -> frozenset[str]:
    return frozenset(dev_account(i).address for i in range(_REFUSED_DEV_INDICES))


def is_dev_address(address: str) -> bool:
    return address.lower() in {a.lower() for a in _dev_addresses()}


def ensure_allowed(account: LocalAccount, chain_id: int, role: str = "key") -> LocalAccount:
    """Returns `account`, or refuses it if it is a development key and the chain is not the local one."""
    if chain_id != LOCAL_CHAIN_ID and is_dev_address(account.address):
        raise DevelopmentKeyRefusedError(
            f"the {role} is a well-known development key ({account.address}); it is accepted on the local chain "
            f"{LOCAL_CHAIN_ID} only, not on chain {chain_id}"
        )
    return account


def account_from_key(key: str, source: str = "key") -> LocalAccount:
    """Parses a 0x-hex private key. The message on failure names where the key came from, never the key."""
    text = key.strip()
    try:
        return Account.from_key(text if text.startswith("0x") else "0x" + text)
    except Exception:  # eth_account raises several types for bad input; none may echo the key
        raise ConfigurationError(f"{source} is not a valid 32-byte hex private key") from None


def read_key_file(path: Path, source: str = "key file") -> LocalAccount:
    path = Path(path).expanduser()
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {source} {path}: {exc.strerror}") from None
    return account_from_key(text, f"{source} {path}")


def load_account(
    role: str,
    *,
    chain_id: int,
    key: SecretStr | str | None = None,
    key_file: Path | None = None,
    dev_index: int | None = None,
) -> LocalAccount:
    """The account of `role` (deployer, recorder, guild ...).

    Order: an explicit key (from `TWIN_<ROLE>_KEY`), then a key file (`TWIN_<ROLE>_KEY_FILE`), then, on the local
    chain only, the development account `dev_index`. A development key is refused on any other chain.
    """
    env = f"TWIN_{role.upper()}_KEY"
    if key is not None:
        secret = key.get_secret_value() if isinstance(key, SecretStr) else key
        account = account_from_key(secret, env)
    elif key_file is not None:
        account = read_key_file(key_file, f"{env}_FILE")
    elif dev_index is not None and chain_id == LOCAL_CHAIN_ID:
        account = dev_account(dev_index)
    else:
        raise KeyNotConfiguredError(f"no {role} key for chain {chain_id}: set {env} or {env}_FILE")
    return ensure_allowed(account, chain_id, f"{role} key")
