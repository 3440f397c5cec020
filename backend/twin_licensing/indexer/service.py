"""The indexer: keeps the database in step with the deployed contracts' events, from the deployment block on.

One loop serves backfill and follow: a fetcher thread reads consecutive ranges ahead (large ranges while far
behind, one block at a time at the head) and this thread writes each batch in one transaction. When the fetcher
sees the chain change under it, the writer finds the common ancestor, rolls back, and starts again from there;
when the node itself is a new chain (restarted local node: new genesis hash), the index is rebuilt from the new
deployment.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ..chain.artifacts import ArtifactStore
from ..chain.deployment import Deployment, read_deployment
from ..chain.events import EventDecoder
from ..chain.heads import HeadFeed
from ..chain.logs import RpcClient
from ..db.engine import make_engine
from ..db.migrate import upgrade_database
from ..errors import DeploymentNotFoundError, RpcConnectionError, TwinLicensingError
from .config import IndexerConfig
from .fetcher import Batch, Caught, Failed, Fetcher, ProcessFetcher, RangeSizer, ReorgSuspected
from .lock import IndexerLock
from .progress import Progress
from .reorg import find_common_ancestor, rollback
from .store import Cursor, read_cursor, save_cursor, wipe, write_batch, write_transaction

log = logging.getLogger("twin_licensing.indexer")


class DeploymentUnavailable(TwinLicensingError, LookupError):
    """No deployment of the contracts exists on the node's current chain (yet)."""


class Indexer:
    def __init__(
        self,
        engine: Engine,
        client: RpcClient,
        artifacts: ArtifactStore,
        deployments_dir: Path,
        config: IndexerConfig | None = None,
        *,
        rpc_url: str | None = None,
        progress: Progress | None = None,
        heads: HeadFeed | None = None,
    ) -> None:
        self.engine = engine
        self.client = client
        self.artifacts = artifacts
        self.deployments_dir = Path(deployments_dir)
        self.config = config or IndexerConfig()
        self.rpc_url = rpc_url or client.url
        self.progress = progress or Progress(enabled=False)
        self.chain_id = client.chain_id()
        self.cursor: Cursor | None = None
        self.decoder: EventDecoder | None = None
        self.sizer = RangeSizer(self.config)
        self.heads = heads  # a feed shared with others in this process; else run() starts its own
        self._lock = IndexerLock(engine, self.chain_id)

    # ------------------------------------------------------------------ chain identity

    def _deployment(self, genesis: str, wait: bool, stop: threading.Event) -> Deployment:
        told = False
        while True:
            try:
                deployment = read_deployment(self.deployments_dir, self.chain_id)
                if deployment.genesis_hash.lower() == genesis.lower():
                    return deployment
                problem = (f"the deployment file is for another chain {self.chain_id} (genesis "
                           f"{deployment.genesis_hash[:10]}…, the node has {genesis[:10]}…): deploy again")
            except DeploymentNotFoundError as exc:
                problem = str(exc)
            if not wait or stop.is_set():
                raise DeploymentUnavailable(problem)
            if not told:
                log.warning("waiting for a deployment on this chain", extra={"reason": problem})
                told = True
            stop.wait(1.0)

    def prepare(self, *, wait: bool = False, stop: threading.Event | None = None) -> Cursor:
        """Checks that the index belongs to the node's chain and deployment (rebuilding it if not) and returns the
        cursor to resume from."""
        stop = stop or threading.Event()
        genesis_header = self.client.header(0)
        assert genesis_header is not None
        genesis = genesis_header.hash
        deployment = self._deployment(genesis, wait, stop)
        with write_transaction(self.engine) as conn:
            cursor = read_cursor(conn, self.chain_id)
            reason = None
            if cursor is not None and cursor.genesis_hash.lower() != genesis.lower():
                reason = (f"the node was restarted: its chain {self.chain_id} has genesis {genesis[:10]}…, the index "
                          f"was built from genesis {cursor.genesis_hash[:10]}…; rebuilding the index from the new "
                          f"deployment at block {deployment.block_number}")
            elif cursor is not None and (cursor.twin_registry.lower(), cursor.license_token.lower(),
                                         cursor.deployment_block) != (deployment.twin_registry.lower(),
                                                                      deployment.license_token.lower(),
                                                                      deployment.block_number):
                reason = (f"the contracts were deployed again (registry {deployment.twin_registry}, block "
                          f"{deployment.block_number}); rebuilding the index")
            if reason is not None:
                log.warning(reason, extra={"chain_id": self.chain_id})
                wipe(conn, self.chain_id)
                cursor = None
            if cursor is None:
                cursor = self._initial_cursor(deployment, genesis)
                save_cursor(conn, cursor)
        self.cursor = cursor
        abi = {name: self.artifacts.load(name).abi for name in ("TwinRegistry", "LicenseToken")}
        self.decoder = EventDecoder({
            deployment.twin_registry: ("TwinRegistry", abi["TwinRegistry"]),
            deployment.license_token: ("LicenseToken", abi["LicenseToken"]),
        })
        return cursor

    def _initial_cursor(self, deployment: Deployment, genesis: str) -> Cursor:
        start = deployment.block_number - 1  # nothing of the project exists before the deployment block
        header = self.client.header(start)
        if header is None:
            raise DeploymentUnavailable(f"block {start} before the deployment is not on the chain")
        return Cursor(chain_id=self.chain_id, genesis_hash=genesis, twin_registry=deployment.twin_registry,
                      license_token=deployment.license_token, deployment_block=deployment.block_number,
                      block_number=start, block_hash=header.hash, final_block=start)

    # ------------------------------------------------------------------ running

    def sync(self) -> Cursor:
        """Indexes up to the chain's current head, then returns (tests, benchmarks, one-shot runs)."""
        return self.run(until_head=True)

    def run(self, stop: threading.Event | None = None, *, until_head: bool = False,
            lock_wait: float | None = None) -> Cursor:
        """Indexes and follows the head until `stop` is set (or, with `until_head`, until the head of now)."""
        stop = stop or threading.Event()
        self._lock.acquire(wait=lock_wait)
        wake = threading.Event()
        heads, own_heads = None, False
        try:
            cursor = self.prepare(wait=not until_head, stop=stop)
            if self.config.subscribe and not until_head:
                heads = self.heads
                if heads is None:
                    heads, own_heads = HeadFeed(self.rpc_url, self.config.ws_url,
                                                poll_interval=self.config.poll_interval), True
                    heads.start()
                heads.listen(wake)
            stop_at = self.client.block_number() if until_head else None
            failures = 0
            recover: str | None = None  # why the index must be checked against the chain before going on
            while not stop.is_set():
                try:
                    if recover is not None:
                        cursor = self._recover(recover, stop, wait=not until_head)
                        recover, failures = None, 0
                    outcome = self._run_fetcher(cursor, stop, stop_at, wake, heads)
                except RpcConnectionError as error:
                    outcome = Failed(error)
                cursor = self.cursor or cursor
                if isinstance(outcome, Caught):
                    break
                if isinstance(outcome, ReorgSuspected):
                    failures = 0
                    recover = outcome.reason
                elif isinstance(outcome, Failed):
                    if until_head or not isinstance(outcome.error, RpcConnectionError):
                        raise outcome.error  # a one-shot run reports the outage; a follower waits it out
                    # The node is down (or restarting: then the genesis check in _recover rebuilds the index).
                    failures += 1
                    delay = min(10.0, 0.25 * 2 ** min(failures, 6))
                    log.warning("node unreachable; retrying",
                                extra={"error": str(outcome.error)[:200], "retry_in_s": delay})
                    stop.wait(delay)
                    recover = "the node was unreachable"
            return cursor
        finally:
            if heads is not None:
                heads.unlisten(wake)
                if own_heads:
                    heads.stop()
            self.progress.close()
            self._lock.release()

    def _run_fetcher(self, cursor: Cursor, stop: threading.Event, stop_at: int | None,
                     wake: threading.Event, heads: HeadFeed | None = None) -> Any:
        assert self.decoder is not None
        head = self.client.block_number()
        end = head if stop_at is None else min(stop_at, head)
        fetcher: Fetcher | ProcessFetcher
        far_behind = end - cursor.block_number >= self.config.process_min_blocks
        if self.config.fetch_process and far_behind and hasattr(os, "fork"):
            # Far behind: a backfill up to the head of now, fetched and decoded in a process of its own (see
            # ProcessFetcher); following resumes in a thread afterwards (a fork per block would cost latency).
            fetcher = ProcessFetcher(self.client, self.decoder, self.config, chain_id=self.chain_id,
                                     start=cursor.block_number + 1, parent_hash=cursor.block_hash, stop_at=end,
                                     sizer=self.sizer)
            backfill_end: int | None = end
        else:
            fetcher = Fetcher(self.client, self.decoder, self.config, chain_id=self.chain_id,
                              start=cursor.block_number + 1,
                              parent_hash=cursor.block_hash, stop_at=stop_at, wake=wake, sizer=self.sizer,
                              heads=heads)
            backfill_end = None
        fetcher.start()
        self.progress.begin(cursor.block_number, head)
        try:
            while not stop.is_set():
                try:
                    item = fetcher.out.get(timeout=0.2)
                except queue.Empty:
                    continue
                if not isinstance(item, Batch):
                    if isinstance(item, Caught) and backfill_end is not None and backfill_end != stop_at:
                        return None  # the backfill is done: go on (following) from the new cursor
                    return item
                with write_transaction(self.engine) as conn:
                    cursor = write_batch(conn, cursor, item, self.config.confirmations, self.config.recent_blocks)
                self.cursor = cursor
                self.progress.advance(len(item.events or ()), cursor, max(item.head, fetcher.head_seen))
            return None
        finally:
            fetcher.stop()
            fetcher.join(timeout=self.config.rpc_timeout + 5)

    def _recover(self, reason: str, stop: threading.Event, wait: bool) -> Cursor:
        """After a suspected reorganisation or an outage: same chain? then roll back to the common ancestor."""
        cursor = self.prepare(wait=wait, stop=stop)  # a new genesis (restarted node) rebuilds the index here
        with write_transaction(self.engine) as conn:
            found = find_common_ancestor(conn, self.client, self.chain_id)
            if found is not None and found[0] == cursor.block_number:
                return cursor  # false alarm: the cursor's block is still on the chain
            if found is None or found[0] < cursor.deployment_block - 1:
                log.warning("reorganisation deeper than the stored blocks: rebuilding the index from the deployment",
                            extra={"reason": reason, "cursor": cursor.block_number})
                wipe(conn, self.chain_id)
                deployment = read_deployment(self.deployments_dir, self.chain_id)
                cursor = self._initial_cursor(deployment, cursor.genesis_hash)
                save_cursor(conn, cursor)
            else:
                log.warning("reorganisation: rolling back", extra={
                    "reason": reason, "from_block": cursor.block_number, "to_block": found[0]})
                cursor = rollback(conn, cursor, found[0], found[1])
        self.cursor = cursor
        return cursor


def build_indexer(settings: Any, *, engine: Engine | None = None, config: IndexerConfig | None = None,
                  progress: Progress | None = None, migrate: bool = True, heads: HeadFeed | None = None) -> Indexer:
    """An indexer for the settings' node, deployment and database (migrated to the newest schema first)."""
    engine = engine or make_engine(str(settings.database_url))
    if migrate:
        upgrade_database(engine)
    config = config or IndexerConfig.from_settings(settings)
    client = RpcClient(settings.rpc_url, timeout=config.rpc_timeout, retries=config.rpc_retries)
    return Indexer(engine, client, ArtifactStore(settings.artifacts_dir), settings.deployments_dir, config,
                   rpc_url=settings.rpc_url, progress=progress, heads=heads)

