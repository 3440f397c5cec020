"""Fixtures of the indexer tests: a fresh migrated database per test on SQLite and on PostgreSQL, indexers bound to
the session's node and deployment, and database dumps to compare two indexes row by row.

PostgreSQL runs at 127.0.0.1:5432 on these machines. When CI asks for it (TWIN_REQUIRE_POSTGRES=1, set by .ci/run)
a missing server fails the PostgreSQL half of the suite; elsewhere it is skipped.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import Engine, create_engine, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scenario.py, proxy.py

from twin_licensing.chain.artifacts import ArtifactStore  # noqa: E402
from twin_licensing.chain.logs import RpcClient  # noqa: E402
from twin_licensing.db.engine import make_engine  # noqa: E402
from twin_licensing.db.migrate import upgrade_database  # noqa: E402
from twin_licensing.db.models import INDEX_TABLES  # noqa: E402
from twin_licensing.indexer.config import IndexerConfig  # noqa: E402
from twin_licensing.indexer.service import Indexer  # noqa: E402

PG_REQUIRED_ENV = "TWIN_REQUIRE_POSTGRES"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
VOLATILE_COLUMNS = {"updated_at"}  # wall-clock time of the last write: differs between any two runs


def _postgres_reachable() -> bool:
    try:
        engine = create_engine(f"{PG_SERVER}/postgres", connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # any failure to connect means "not there"
        return False


class Databases:
    """Creates migrated databases of one kind for a test, and removes them afterwards."""

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind = kind
        self.directory = directory
        self._pg_names: list[str] = []
        self._engines: list[Engine] = []

    def url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.directory / f'index-{uuid.uuid4().hex[:8]}.db'}"
        name = f"test_indexer_{uuid.uuid4().hex[:12]}"
        admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self._pg_names.append(name)
        return f"{PG_SERVER}/{name}"

    def new(self, migrate: bool = True) -> Engine:
        engine = make_engine(self.url())
        if migrate:
            upgrade_database(engine)
        self._engines.append(engine)
        return engine

    def close(self) -> None:
        for engine in self._engines:
            engine.dispose()
        if self._pg_names:
            admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                for name in self._pg_names:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    if request.param == "postgresql" and not _postgres_reachable():
        if os.environ.get(PG_REQUIRED_ENV) == "1":
            pytest.fail(f"{PG_REQUIRED_ENV}=1 but PostgreSQL at 127.0.0.1:5432 does not answer")
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not running")
    dbs = Databases(request.param, tmp_path)
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


def dump(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of the indexer's tables, sorted, without wall-clock columns: equal dumps = equal indexes."""
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for model in INDEX_TABLES:
            table = model.__table__
            columns = [c for c in table.columns if c.name not in VOLATILE_COLUMNS]
            rows = [tuple(row) for row in conn.execute(select(*columns))]
            out[table.name] = sorted(rows, key=repr)
    return out


def assert_same_index(a: Engine, b: Engine) -> None:
    left, right = dump(a), dump(b)
    for table in left:
        assert left[table] == right[table], f"table {table} differs"
