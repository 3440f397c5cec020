"""What every request shares, one object per application: the settings, the engine, the deployment, the EIP-712
domain, the use intake and its index view, the twins' metadata, the account labels, the chain reader, the
development relay, and a cache of finished answers.

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

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from ..chain.deployment import Deployment, accounts_path, read_account_labels
from ..chain.relay import RpcRelay
from ..chain.use_reports import UseReportDomain
from ..db.chain_log import IndexCursor, IndexedBlock
from ..db.registry_state import Attestation, Twin
from ..db.uses import ChainScope
from ..settings import LOCAL_CHAIN_ID, Settings
from ..usage.index_view import IndexView
from ..usage.intake import UseIntake
from .read.chain_reader import ChainReader
from .read.metadata import MetadataResolver

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


class ApiContext:
    def __init__(self, settings: Settings, engine: Engine, deployment: Deployment) -> None:
        self.settings = settings
        self.engine = engine
        self.deployment = deployment
        self.chain_id = deployment.chain_id
        # Uses and submissions of a restarted local node (same id, new chain) are told apart by the genesis hash.
        self.genesis_hash = deployment.genesis_hash
        self.local = deployment.chain_id == LOCAL_CHAIN_ID
        self.domain = UseReportDomain(chain_id=deployment.chain_id, verifying_contract=deployment.license_token)
        self.index = IndexView()
        self.intake = UseIntake(engine, self.domain, deployment.genesis_hash)
        self.metadata = MetadataResolver(settings.media_dir)
        self.chain_reader = ChainReader(settings.rpc_url, settings.artifacts_dir, deployment)
        self.relay = RpcRelay(settings.rpc_url)
        self.deployments_dir = Path(settings.deployments_dir)
        self._labels: dict[str, str] = {}
        self._accounts: list[dict[str, Any]] = []
        self._labels_mtime: float | None = None
        self._version: IndexVersion | None = None
        self._version_read = 0.0
        self._cache: OrderedDict[tuple, tuple[bytes, float | None]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def scope(self) -> ChainScope:
        return ChainScope(self.chain_id, self.genesis_hash)

    # ------------------------------------------------------------------ the index's version and clock

    def version(self, session: Session | None = None) -> IndexVersion:
        now = time.monotonic()
        if self._version is not None and now - self._version_read < VERSION_TTL:
            return self._version
        if session is None:
            with Session(self.engine) as own:
                version = self.read_version(own)
        else:
            version = self.read_version(session)
        self._version, self._version_read = version, now
        return version

    def read_version(self, session: Session) -> IndexVersion:
        """The index's version as the database holds it now (uncached)."""
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
        """When the next revocation takes effect (a twin turns from "revocation pending" to "revoked") or the next
        guild attestation expires (a model stops being verified); now + 60 s at the latest, so that time-dependent
        answers are never older than a minute."""
        moments = [
            session.execute(select(func.min(column)).where(table.chain_id == self.chain_id, column > now))
            .scalar_one_or_none()
            for table, column in ((Twin, Twin.revocation_effective_at), (Attestation, Attestation.expires_at))
        ]
        horizon = time.time() + 60
        nearest = min((m for m in moments if m is not None), default=None)
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
