"""Contract-level fixtures: a registered twin with model and agency payees, a published offer, a bought licence."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kit.guild import ensure_attested
from kit.twin_env import AGENCY, MODEL, USDC, Env, Terms, payee

# ---------------------------------------------------------------------------------------------- fixtures
# The session's node, deployment, snapshot isolation and named accounts come from tests/conftest.py.


@pytest.fixture(scope="session")
def contract_accounts(admin, guild, recorder, models, agencies, crew, brands) -> SimpleNamespace:
    """The cast of the contract tests, by role. `stranger` is a funded account that is nobody in the system."""
    return SimpleNamespace(
        admin=admin,
        guild=guild,
        recorder=recorder,
        model=models[0],
        model2=models[1],
        agency=agencies[0],
        agency2=agencies[1],
        crew=crew[0],
        crew2=crew[1],
        brand=brands[0],
        brand2=brands[1],
        stranger=models[-1],
    )


@pytest.fixture
def env(chain, contract_accounts, reverts) -> Env:
    """The facade, with `model` and `model2` attested by the guild as models (`stranger` is not)."""
    env = Env(chain, contract_accounts, reverts)
    for model in (contract_accounts.model, contract_accounts.model2):
        ensure_attested(chain, model)
    return env


@pytest.fixture
def a(env) -> SimpleNamespace:
    return env.accounts


@pytest.fixture
def twin(env, a) -> int:
    """Twin 1 of `model`, 80 % to her and 20 % to her agency."""
    return env.register(a.model, [payee(a.model, 8_000, MODEL), payee(a.agency, 2_000, AGENCY)], uri="ipfs://twin-1")


@pytest.fixture
def offer(env, a, twin) -> int:
    return env.publish(a.model, twin, Terms())


@pytest.fixture
def license(env, a, offer) -> int:
    """Licence 1 bought by `brand` under the default offer with 1 tUSDC of escrow (20 uses)."""
    return env.buy(a.brand, offer, 1 * USDC)
