"""A lock that lets one process at a time act as a named writer (the indexer of a chain, the settler of a key).

PostgreSQL: a session advisory lock held on a dedicated connection while the process runs. SQLite: an exclusive
`flock` on a file beside the database. Both are released by the server or the kernel when the process dies, even
by SIGKILL, so a restarted writer never waits for a dead one.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from ..errors import TwinLicensingError
from .engine import sqlite_path

log = logging.getLogger(__name__)


class ProcessLockedError(TwinLicensingError, RuntimeError):
    """Another process holds the lock."""


class ProcessLock:
    """Subclasses name the writer: `namespace` and `key` for PostgreSQL, `file_tag` for SQLite's lock file."""

    locked_error: type[ProcessLockedError] = ProcessLockedError
    poll_s = 0.2

    def __init__(self, engine: Engine, *, namespace: int, key: int, file_tag: str) -> None:
        self.engine = engine
        self.namespace = namespace
        self.key = key % 2**31  # advisory lock keys are signed 32-bit integers
        self.file_tag = file_tag
        self._conn: Connection | None = None
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        database = sqlite_path(str(self.engine.url)) or Path("var") / "memory.db"
        return database.with_name(f"{database.name}.{self.file_tag}.lock")

    def describe(self) -> str:
        if self.engine.dialect.name == "postgresql":
            return f"PostgreSQL advisory lock ({self.namespace}, {self.key})"
        return f"lock file {self.path}"

    def locked_message(self) -> str:
        return f"another process holds {self.describe()}"

    def acquire(self, wait: float | None = 0.0) -> None:
        """Takes the lock, waiting up to `wait` seconds (None: for ever); then `locked_error`."""
        deadline = None if wait is None else time.monotonic() + wait
        told = False
        while not self._try():
            if deadline is not None and time.monotonic() >= deadline:
                raise self.locked_error(self.locked_message())
            if not told:
                log.warning("%s; waiting for it to stop", self.locked_message())
                told = True
            time.sleep(self.poll_s)

    def _try(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:namespace, :key)"), {"namespace": self.namespace, "key": self.key}
            ).scalar()
            conn.commit()
            if got:
                self._conn = conn
                return True
            conn.close()
            return False
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # for a person wondering who holds it
        self._fd = fd
        return True

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(
                    text("SELECT pg_advisory_unlock(:namespace, :key)"), {"namespace": self.namespace, "key": self.key}
                )
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "ProcessLock":
        self.acquire(wait=None)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
