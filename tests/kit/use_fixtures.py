"""Fixtures of the use, settlement, API and audit tests (a plugin of tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import Engine

from twin_licensing.chain.client import Chain
from twin_licensing.chain.keys import dev_account
from twin_licensing.chain.settlement import SettlementClient
from twin_licensing.seed import data
from kit.uses import Market, forget_seqs, sqlite_engine


@pytest.fixture(autouse=True)
def fresh_use_numbering() -> Iterator[None]:
    """Each test starts the kit's count of signed sequence numbers afresh: the chain is reverted after every test,
    so the next test's licences reuse the same ids from use #1."""
    forget_seqs()
    yield


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    engine = sqlite_engine(tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(postgres) -> Engine:
    """A migrated database on the local PostgreSQL server (see kit/postgres.py), dropped after the test."""
    return postgres.new()


@pytest.fixture
def market(chain: Chain) -> Market:
    return Market(chain)


@pytest.fixture(scope="session")
def model():
    return dev_account(data.MODEL_INDICES[0])


@pytest.fixture(scope="session")
def model2():
    return dev_account(data.MODEL_INDICES[1])


@pytest.fixture(scope="session")
def agency():
    return dev_account(data.AGENCIES[0].index)


@pytest.fixture(scope="session")
def brand():
    return dev_account(data.BRANDS[0].index)


@pytest.fixture(scope="session")
def brand2():
    return dev_account(data.BRANDS[1].index)


@pytest.fixture
def settlement_client(chain: Chain, recorder) -> SettlementClient:
    return SettlementClient(chain, recorder)


@pytest.fixture
def index_settings(local_node, deployments_dir, project_root, engine):
    from twin_licensing.settings import get_settings

    return get_settings(
        rpc_url=local_node.url,
        deployments_dir=deployments_dir,
        artifacts_dir=project_root / "artifacts",
        database_url=engine.url.render_as_string(hide_password=False),
        var_dir=Path(str(engine.url.database)).parent,
    )


@pytest.fixture
def sync_index(index_settings, chain):
    """Brings the index of a database up to the chain's head (the indexer, run once)."""
    from twin_licensing.indexer.config import IndexerConfig
    from twin_licensing.indexer.service import build_indexer

    indexers: dict[str, object] = {}

    def sync(target: Engine) -> None:
        key = target.url.render_as_string(hide_password=False)
        if key not in indexers:
            indexers[key] = build_indexer(index_settings, engine=target, migrate=False,
                                          config=IndexerConfig(subscribe=False))
        indexers[key].sync()

    return sync
