"""One indexer per chain and database: two would write the same rows."""

from __future__ import annotations

from sqlalchemy import Engine

from ..db.process_lock import ProcessLock, ProcessLockedError

INDEXER_LOCK_NAMESPACE = 0x696E_6478  # "indx": first key of the two-key advisory lock


class IndexerLockedError(ProcessLockedError):
    """Another indexer is writing this chain's index in this database."""


class IndexerLock(ProcessLock):
    locked_error = IndexerLockedError
    poll_s = 0.25

    def __init__(self, engine: Engine, chain_id: int) -> None:
        super().__init__(engine, namespace=INDEXER_LOCK_NAMESPACE, key=chain_id, file_tag=f"indexer-{chain_id}")
        self.chain_id = chain_id

    def locked_message(self) -> str:
        return (
            f"another indexer is running for chain {self.chain_id} on this database ({self.describe()}); "
            "only one may write the index"
        )
