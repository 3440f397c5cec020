"""Only one settler per recorder key: two would race for the same nonces and the same uses."""

from __future__ import annotations

import zlib

from sqlalchemy import Engine

from ..db.process_lock import ProcessLock, ProcessLockedError

SETTLER_LOCK_NAMESPACE = 0x7365_746C  # "setl"


class SettlerLockedError(ProcessLockedError):
    """Another settler holds the lock for this recorder."""


class SettlerLock(ProcessLock):
    locked_error = SettlerLockedError

    def __init__(self, engine: Engine, recorder: str, chain_id: int) -> None:
        super().__init__(
            engine,
            namespace=SETTLER_LOCK_NAMESPACE,
            key=zlib.crc32(f"{chain_id}:{recorder.lower()}".encode()),
            file_tag=f"settler-{chain_id}-{recorder.lower()}",
        )
        self.recorder = recorder
        self.chain_id = chain_id

    def locked_message(self) -> str:
        return (
            f"another settler is running for recorder {self.recorder} on chain {self.chain_id} "
            f"({self.describe()}); only one may send its transactions"
        )
