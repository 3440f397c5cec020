"""Databases of a test on the local PostgreSQL server: `postgres.new()` creates one (migrated unless told
otherwise) and the fixture drops every one it created when the test ends.

PostgreSQL answers at 127.0.0.1:5432 on these machines. When CI asks for it (TWIN_REQUIRE_POSTGRES=1, set by
.ci/run) a server that does not answer fails the test; elsewhere the test is skipped. Database names carry a random
suffix, so parallel workers and concurrent runs on a shared server never collide.
"""

from __future__ import annotations

import os
import uuid
from typing import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from twin_licensing.db.engine import make_engine
from twin_licensing.db.migrate import upgrade_database

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
PG_ADMIN_URL = f"{PG_SERVER}/postgres"
PG_REQUIRED_ENV = "TWIN_REQUIRE_POSTGRES"


def postgres_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure to connect means "not there"
        return False


def require_postgres() -> None:
    """Skips the calling test when the server does not answer, or fails it when CI requires the server."""
    if postgres_available():
        return
    if os.environ.get(PG_REQUIRED_ENV) == "1":
        pytest.fail(f"{PG_REQUIRED_ENV}=1 but PostgreSQL at 127.0.0.1:5432 does not answer")
    pytest.skip("PostgreSQL at 127.0.0.1:5432 is not running")


class Postgres:
    """The databases one test created on the server."""

    def __init__(self) -> None:
        self._admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self._names: list[str] = []
        self._engines: list[Engine] = []

    def url(self) -> str:
        """The URL of a new, empty database."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self._names.append(name)
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
        with self._admin.connect() as conn:
            for name in self._names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    require_postgres()
    databases = Postgres()
    try:
        yield databases
    finally:
        databases.close()
