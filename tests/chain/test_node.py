"""The local node helper starts hardhat on a free 127.0.0.1 port and stops exactly that process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from twin_licensing.chain.node import LocalNode, free_port, rpc_chain_id
from twin_licensing.errors import NodeStartError, TwinLicensingError
from twin_licensing.settings import LOCAL_CHAIN_ID, find_project_root


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_node_answers_on_loopback_and_stops_by_pid(tmp_path: Path) -> None:
    node = LocalNode(find_project_root(), log_path=tmp_path / "node.log")
    with node:
        pid = node.pid
        assert pid is not None and _alive(pid)
        assert node.url.startswith("http://127.0.0.1:")
        assert rpc_chain_id(node.url) == LOCAL_CHAIN_ID
        # Started directly, not through npx: the PID we hold is the node itself.
        assert "hardhat" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    assert not _alive(pid)
    assert rpc_chain_id(node.url, timeout=0.5) is None
    assert "hardhat node on" in (tmp_path / "node.log").read_text()


def test_stop_is_idempotent(tmp_path: Path) -> None:
    node = LocalNode(find_project_root(), log_path=tmp_path / "node.log")
    node.stop()  # never started: nothing to do
    node.start()
    node.stop()
    node.stop()
    assert not node.is_running()


def test_missing_hardhat_binary_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NodeStartError, match="npm ci"):
        LocalNode(tmp_path, log_path=tmp_path / "node.log").start()


def test_busy_port_is_reported(tmp_path: Path, local_node: LocalNode) -> None:
    # The session's node holds its port: a second node asked for the same port must fail, not hang.
    with pytest.raises(TwinLicensingError):
        LocalNode(find_project_root(), port=local_node.port, log_path=tmp_path / "node.log", startup_timeout=20).start()


def test_free_port_is_bindable() -> None:
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
