"""What the read routes share per application: metadata resolver, account labels, the chain reader and a cache.

The cache holds finished JSON bodies keyed by the request and by the index's *version* (the indexer's cursor),
so a hot endpoint costs one tiny query while nothing changed on chain, and is recomputed as soon as the indexer
commits a new block. The version itself is read at most every `VERSION_TTL` seconds.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from ...chain.deployment import accounts_path, read_account_labels
from ...db.chain_log import IndexCursor, IndexedBlock
from ...settings import LOCAL_CHAIN_ID
from .metadata import MetadataResolver

VERSION_TTL = 0.05  # seconds: how stale a cached answer may be after the indexer commits
CACHE_SIZE = 2048
ROLE_TITLES = {
    "model": "Model", "agency": "Agency", "brand": "Brand", "crew": "Crew", "guild": "Guild", "admin": "Admin",
    "recorder": "Recorder",
}


@dataclass(frozen=True)
class IndexVersion:
    block_number: int | None
    block_hash: str | None
    events: int | None
    block_time: int | None  # the chain's clock as the index knows it

    @property
    def key(self) -> tuple:
        return (self.block_number, self.block_hash, self.events)


class ReadContext:
    def __init__(
        self, engine: Engine, chain_id: int, genesis_hash: str, media_dir: Path, deployments_dir: Path
    ) -> None:
        self.engine = engine
        self.chain_id = chain_id
        # Uses and submissions of a restarted local node (same id, new chain) are told apart by the genesis hash.
        self.genesis_hash = genesis_hash
        self.local = chain_id == LOCAL_CHAIN_ID
        self.metadata = MetadataResolver(media_dir)
        self.deployments_dir = Path(deployments_dir)
        self._labels: dict[str, str] = {}
        self._accounts: list[dict[str, Any]] = []
        self._labels_mtime: float | None = None
        self._version: IndexVersion | None = None
        self._version_read = 0.0
        self._cache: OrderedDict[tuple, tuple[bytes, float | None]] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the index's version and clock

    def version(self, session: Session | None = None) -> IndexVersion:
        now = time.monotonic()
        if self._version is not None and now - self._version_read < VERSION_TTL:
            return self._version
        if session is None:
            with Session(self.engine) as own:
                version = self._read_version(own)
        else:
            version = self._read_version(session)
        self._version, self._version_read = version, now
        return version

    def _read_version(self, session: Session) -> IndexVersion:
        cursor = session.get(IndexCursor, self.chain_id)
        if cursor is None:
            return IndexVersion(None, None, None, None)
        block = session.get(IndexedBlock, (self.chain_id, cursor.block_number))
        return IndexVersion(cursor.block_number, cursor.block_hash, cursor.events, block.timestamp if block else None)

    def now(self, version: IndexVersion) -> int:
        """The chain's time: the newest indexed block's timestamp (a local node may run ahead of the wall clock)."""
        return max(version.block_time or 0, int(time.time()))

    # ------------------------------------------------------------------ cached JSON bodies

    def peek(self, key: tuple, version: IndexVersion) -> bytes | None:
        entry = self._cache.get((key, version.key))
        if entry is None:
            return None
        body, valid_until = entry
        # Some answers depend on the clock too (a revocation taking effect): they expire when it does.
        if valid_until is not None and time.time() >= valid_until:
            return None
        return body

    def store(self, key: tuple, version: IndexVersion, body: bytes, valid_until: float | None = None) -> None:
        with self._lock:
            self._cache[(key, version.key)] = (body, valid_until)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def next_consent_change(self, session: Session, now: int) -> float:
        """When the next revocation takes effect (a twin turns from "revocation pending" to "revoked"); now + 60 s
        at the latest, so that time-dependent answers are never older than a minute."""
        from sqlalchemy import func, select  # noqa: PLC0415

        from ...db.registry_state import Twin  # noqa: PLC0415

        nearest = session.execute(
            select(func.min(Twin.revocation_effective_at)).where(
                Twin.chain_id == self.chain_id, Twin.revocation_effective_at > now
            )
        ).scalar_one_or_none()
        horizon = time.time() + 60
        if nearest is None:
            return horizon
        return min(horizon, time.time() + (nearest - now))

    # ------------------------------------------------------------------ account labels (the seed's, local chain)

    def _load_labels(self) -> None:
        path = accounts_path(self.deployments_dir, self.chain_id)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            mtime = None
        if mtime == self._labels_mtime:
            return
        labels, accounts = {}, []
        if mtime is not None:
            try:
                for item in read_account_labels(self.deployments_dir, self.chain_id):
                    title = ROLE_TITLES.get(item.role, item.role.title())
                    label = f"{title}: {item.name}"
                    labels[item.address.lower()] = label
                    accounts.append(
                        {"address": item.address, "role": item.role, "name": item.name, "label": label,
                         "index": item.index, "extra": dict(item.extra)}
                    )
            except (ValueError, KeyError, TypeError, json.JSONDecodeError):
                labels, accounts = {}, []
        self._labels, self._accounts, self._labels_mtime = labels, accounts, mtime

    def label(self, address: str | None) -> str:
        if not address:
            return ""
        self._load_labels()
        return self._labels.get(address.lower(), "")

    def accounts(self) -> list[dict[str, Any]]:
        self._load_labels()
        return list(self._accounts)


def dump(value: Any) -> bytes:
    """JSON of plain data or pydantic models, compact."""
    if hasattr(value, "model_dump_json"):
        return value.model_dump_json().encode()
    return json.dumps(value, separators=(",", ":")).encode()
