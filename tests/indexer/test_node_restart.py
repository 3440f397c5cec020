"""A restarted local node is a new chain (new genesis hash): the indexer says so and rebuilds the index from the
new deployment, without crashing, while it runs."""

from __future__ import annotations

import logging
import socket
import threading
import time

from sqlalchemy import select

from kit.index_dump import assert_same_index
from kit.scenario import Scenario
from twin_licensing.chain.artifacts import ArtifactStore
from twin_licensing.chain.client import Chain
from twin_licensing.chain.deploy import deploy
from twin_licensing.chain.keys import dev_account
from twin_licensing.chain.logs import RpcClient
from twin_licensing.chain import node as node_module
from twin_licensing.chain.node import LocalNode
from twin_licensing.db.chain_log import IndexCursor
from twin_licensing.indexer.config import IndexerConfig
from twin_licensing.indexer.service import Indexer
from twin_licensing.seed import data


def _deploy(node: LocalNode, project_root, deployments_dir) -> Chain:
    bare = Chain.connect(node.url, project_root / "artifacts")
    result = deploy(bare, dev_account(data.ADMIN), deployments_dir, guild=dev_account(data.GUILD).address,
                    recorder=dev_account(data.RECORDER).address)
    return bare.bind(result.deployment)


def _indexer(engine, node: LocalNode, project_root, deployments_dir) -> Indexer:
    return Indexer(engine, RpcClient(node.url, retries=2, backoff=0.05), ArtifactStore(project_root / "artifacts"),
                   deployments_dir, IndexerConfig(subscribe=False, poll_interval=0.05))


def _port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    # As LocalNode checks it, but with SO_REUSEADDR like the node itself binds: connections of the stopped node
    # linger in TIME_WAIT on its port for a minute and would make a plain bind() fail.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def test_a_restarted_node_is_detected_and_the_index_rebuilt(db, databases, project_root, tmp_path, caplog,
                                                             monkeypatch):
    monkeypatch.setattr(node_module, "port_is_free", _port_is_free)
    deployments_dir = tmp_path / "deployments"
    node = LocalNode(project_root, log_path=tmp_path / "node.log").start()
    stop = threading.Event()
    runner = None
    try:
        first = _deploy(node, project_root, deployments_dir)
        Scenario(first).everything()
        indexer = _indexer(db, node, project_root, deployments_dir)
        caplog.set_level(logging.WARNING, logger="twin_licensing.indexer")
        runner = threading.Thread(target=indexer.run, args=(stop,), daemon=True)
        runner.start()
        old_genesis = first.info().genesis_hash

        def cursor():
            with db.connect() as conn:
                row = conn.execute(select(IndexCursor)).mappings().first()
            return dict(row) if row else None

        def logged(text: str) -> bool:
            return any(text in record.getMessage() for record in list(caplog.records))

        def wait(predicate, what: str) -> None:
            deadline = time.monotonic() + 60
            while not predicate():
                assert runner.is_alive(), "the indexer crashed"
                assert time.monotonic() < deadline, f"timed out waiting for {what}"
                time.sleep(0.05)

        wait(lambda: (c := cursor()) is not None and c["block_number"] == first.w3.eth.block_number, "the backfill")

        # The node goes away and comes back, on the same port, as a new chain; the contracts are deployed again.
        port = node.port
        node.stop()
        wait(lambda: logged("node unreachable"), "the indexer to meet the refused connection")
        node = LocalNode(project_root, port=port, log_path=tmp_path / "node2.log").start()
        second = _deploy(node, project_root, deployments_dir)
        assert second.info().genesis_hash != old_genesis
        s = Scenario(second)
        s.twin()
        s.twin()
        wait(lambda: (c := cursor()) is not None and c["genesis_hash"] != old_genesis
             and c["block_number"] == second.w3.eth.block_number, "the rebuilt index")
        # The same as an index built from scratch on the new chain, row by row.
        expected = databases.new()
        _indexer(expected, node, project_root, deployments_dir).sync()
    finally:
        stop.set()
        if runner is not None:
            runner.join(timeout=30)
        node.stop()
    assert logged("the node was restarted"), caplog.text
    assert_same_index(db, expected)
