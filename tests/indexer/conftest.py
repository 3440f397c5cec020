"""Fixtures of the indexer tests: a fresh migrated database per test on SQLite and on PostgreSQL, and indexers bound to
the session's node and deployment (dumps to compare two indexes row by row: kit/index_dump.py).

The PostgreSQL databases come from the `postgres` fixture (kit/postgres.py): skipped without a server, failed when CI
requires one.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import Engine

from twin_licensing.chain.artifacts import ArtifactStore
from twin_licensing.chain.logs import RpcClient
from twin_licensing.db.engine import make_engine
from twin_licensing.db.migrate import upgrade_database
from twin_licensing.indexer.config import IndexerConfig
from twin_licensing.indexer.service import Indexer


class Databases:
    """Creates migrated databases of one kind for a test, and removes them afterwards."""

    def __init__(self, kind: str, directory: Path, postgres=None) -> None:
        self.kind = kind
        self.directory = directory
        self.postgres = postgres  # the `postgres` fixture's databases, for kind "postgresql"
        self._engines: list[Engine] = []

    def url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.directory / f'index-{uuid.uuid4().hex[:8]}.db'}"
        return self.postgres.url()

    def new(self, migrate: bool = True) -> Engine:
        engine = make_engine(self.url())
        if migrate:
            upgrade_database(engine)
        self._engines.append(engine)
        return engine

    def close(self) -> None:
        for engine in self._engines:
            engine.dispose()  # the `postgres` fixture drops its databases after this


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    postgres = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    dbs = Databases(request.param, tmp_path, postgres)
    try:
        yield dbs
    finally:
        dbs.close()


@pytest.fixture
def db(databases: Databases) -> Engine:
    """The test's index database (SQLite, then PostgreSQL)."""
    return databases.new()


@pytest.fixture
def make_indexer(chain, local_node, deployments_dir: Path, project_root: Path) -> Callable[..., Indexer]:
    """`make_indexer(engine, rpc_url=None, **config)`: an indexer of the session's deployment into `engine`."""

    def make(engine: Engine, rpc_url: str | None = None, **config: Any) -> Indexer:
        config.setdefault("subscribe", False)
        url = rpc_url or local_node.url
        return Indexer(engine, RpcClient(url, retries=config.pop("rpc_retries", 8)),
                       ArtifactStore(project_root / "artifacts"), deployments_dir, IndexerConfig(**config),
                       rpc_url=url)

    return make
