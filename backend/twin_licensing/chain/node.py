"""A local Hardhat node on a free 127.0.0.1 port, started and stopped by its own PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from ..errors import NodeStartError
from .logs import RpcClient, RpcError


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (8545 may belong to someone else on a shared machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def rpc_chain_id(url: str, timeout: float = 2.0) -> int | None:
    """The chain id the endpoint answers with, or None if it does not answer (yet)."""
    client = RpcClient(url, timeout=timeout, retries=0)
    try:
        return client.chain_id()
    except (RpcError, OSError, ValueError, TypeError):
        return None
    finally:
        client.close()


def _dev_rpc(url: str, method: str, params: list) -> object:
    client = RpcClient(url, timeout=10.0, retries=0)
    try:
        return client.call(method, params)
    finally:
        client.close()


def set_interval_mining(url: str, interval_ms: int) -> None:
    """Hardhat: mine a block every `interval_ms` whatever the pool holds, as a real network does (0: back to mining
    each transaction as it arrives). Transactions then wait in the pool, where they can be dropped or underpriced."""
    if interval_ms < 0:
        raise ValueError("the mining interval is a number of milliseconds >= 0")
    _dev_rpc(url, "evm_setAutomine", [interval_ms == 0])
    _dev_rpc(url, "evm_setIntervalMining", [interval_ms])


def drop_transaction(url: str, tx_hash: str) -> bool:
    """Hardhat: removes a transaction from the node's pool, as a real node evicts one; whether it was there."""
    return bool(_dev_rpc(url, "hardhat_dropTransaction", [tx_hash]))


def set_next_base_fee(url: str, wei: int) -> None:
    """Hardhat: the next block's base fee (a spike of the fee market); later blocks move from it by the
    EIP-1559 rule."""
    _dev_rpc(url, "hardhat_setNextBlockBaseFeePerGas", [hex(wei)])


class LocalNode:
    """`hardhat node` as a child process.

    The binary in node_modules/.bin is started directly: through npx the PID would be npm's, and killing it leaves
    the node running. It runs in its own session so that a Ctrl-C in the terminal reaches only us, and we stop it.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        project_root: Path,
        *,
        port: int = 0,
        log_path: Path | None = None,
        startup_timeout: float = 60.0,
        mining_interval_ms: int = 0,
    ) -> None:
        self.project_root = Path(project_root)
        self.requested_port = port
        self.port = 0
        self.log_path = Path(log_path) if log_path else self.project_root / "var" / "log" / "hardhat-node.log"
        self.startup_timeout = startup_timeout
        # 0: a block per transaction (Hardhat's automine); else a block every this many ms, like a real network.
        self.mining_interval_ms = mining_interval_ms
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> "LocalNode":
        if self.is_running():
            return self
        binary = self.project_root / "node_modules" / ".bin" / "hardhat"
        if not binary.exists():
            raise NodeStartError(f"{binary} is missing; run `npm ci` (or `make install`) first")
        # Between picking a free port and the node binding it another process may take it: retry a few times.
        attempts = 1 if self.requested_port else 3
        for attempt in range(attempts):
            self.port = self.requested_port or free_port(self.host)
            # Someone else's node on the port would answer our readiness probe: refuse before starting.
            if not port_is_free(self.port, self.host):
                raise NodeStartError(f"port {self.port} on {self.host} is already in use")
            try:
                self._spawn(binary)
                self._wait_ready()
                if self.mining_interval_ms:
                    set_interval_mining(self.url, self.mining_interval_ms)
                return self
            except NodeStartError:
                self.stop()
                if attempt == attempts - 1 or "EADDRINUSE" not in self.log_tail():
                    raise
            except BaseException:
                # Ctrl-C while starting: `with` never reaches __exit__ when __enter__ raises, so stop it here.
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _spawn(self, binary: Path) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n--- hardhat node on {self.url} ---\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                [str(binary), "node", "--hostname", self.host, "--port", str(self.port)],
                cwd=self.project_root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise NodeStartError(
                    f"hardhat node exited with code {self._process.returncode}; log {self.log_path}:\n"
                    f"{self.log_tail()}"
                )
            if rpc_chain_id(self.url, timeout=1.0) is not None:
                return
            time.sleep(0.05)
        raise NodeStartError(f"hardhat node did not answer on {self.url} within {self.startup_timeout:.0f} s")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Stops exactly the process we started (SIGTERM, then SIGKILL) and reaps it."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
        except ProcessLookupError:
            process.wait(timeout=timeout)

    def wait(self) -> int:
        """Blocks until the node exits by itself (or is stopped); returns its exit code."""
        process = self._process
        return process.wait() if process else 0

    def __enter__(self) -> "LocalNode":
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
