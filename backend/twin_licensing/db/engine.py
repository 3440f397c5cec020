"""Database engines: SQLite (WAL) by default, PostgreSQL when DATABASE_URL says so.

The URL comes from the settings (`DATABASE_URL` or `TWIN_DATABASE_URL`); `postgresql://` URLs are given the
psycopg 3 driver. SQLite gets WAL so that readers (the API) never block the single writer (the indexer), and
`synchronous=NORMAL`, which in WAL mode still survives a killed process: only a power cut can lose the last
commits, never corrupt the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str) -> str:
    """`postgres://` and `postgresql://` use psycopg 3, the driver this project ships."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    else:
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA cache_size=-32768")  # 32 MiB: bulk inserts touch many index pages
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def engine_from_settings(settings: Any, **kwargs: Any) -> Engine:
    return make_engine(str(settings.database_url), **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions of SQLModel (its `exec` and typed results) bound to `engine`."""
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
