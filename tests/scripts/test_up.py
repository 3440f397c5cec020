"""`twinctl up` (what `make run` runs) as a developer uses it: the whole system comes up, the web client answers
with the seeded catalogue, and Ctrl-C (or the death of one of its processes) stops every process it started."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from twin_licensing.settings import find_project_root

ROOT = find_project_root()
pytestmark = pytest.mark.timeout(120)


class Up:
    """`twinctl up` in a scratch var/ and deployments/ directory, its output collected by a reader thread."""

    def __init__(self, tmp_path: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_") and k not in ("DATABASE_URL",)}
        env.update(TWIN_VAR_DIR=str(tmp_path / "var"), TWIN_DEPLOYMENTS_DIR=str(tmp_path / "deployments"))
        self.log_dir = tmp_path / "var" / "log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "twin_licensing.cli", "up"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            if self.process.poll() is not None:
                self._reader.join(2)
                raise AssertionError(f"twinctl up exited with {self.process.returncode}:\n{self.output}")
            time.sleep(0.1)
        raise AssertionError(f"no line matching {pattern!r} within {timeout:.0f} s:\n{self.output}")

    def child_pids(self) -> dict[str, int]:
        """name -> pid of each process `up` started, from what it printed."""
        pids = {}
        for line in self.lines:
            if match := re.match(r"local node: \S+ \(pid (\d+)\)", line):
                pids["node"] = int(match[1])
            elif match := re.match(r"(indexer|settler|api): pid (\d+);", line):
                pids[match[1]] = int(match[2])
        return pids

    def stop(self) -> None:
        """Whatever happened in the test: no process of ours survives it (by PID, never by name)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.child_pids().values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for every purpose but the process table of its (dead) parent.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def up(tmp_path: Path):
    running = Up(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_up_serves_the_web_client_and_ctrl_c_stops_every_process(up: Up) -> None:
    url = up.wait_for_line(r"^Web client: (http://127\.0\.0\.1:\d+/)$", timeout=90)[1]
    assert re.search(r"^RPC URL: +http://127\.0\.0\.1:\d+", up.output, re.M), up.output
    pids = up.child_pids()
    assert set(pids) == {"node", "indexer", "settler", "api"}, up.output
    assert all(alive(pid) for pid in pids.values())

    status, body = get(url)
    assert status == 200 and b"<title>Twin Licence" in body
    wait_until(lambda: json.loads(get(url + "api/v1/twins?limit=100")[1])["count"] == 30, 30,
               "the indexer to index the 30 seeded twins")
    status, body = get(url + "api/v1/twins?limit=100")
    assert status == 200 and len(json.loads(body)["data"]) == 30
    for name in ("hardhat-node", "indexer", "settler", "api"):
        assert (up.log_dir / f"{name}.log").stat().st_size > 0, name

    up.process.send_signal(signal.SIGINT)
    assert up.process.wait(timeout=30) == 130
    up._reader.join(5)
    assert "Ctrl-C: stopping everything" in up.output
    assert up.lines[-1] == "stopped", up.output
    # Every child, the Hardhat node included, is gone: no orphan keeps a port or the database.
    assert [name for name, pid in pids.items() if alive(pid)] == []


def test_up_stops_everything_when_a_process_dies(up: Up) -> None:
    up.wait_for_line(r"^Web client: ", timeout=90)
    pids = up.child_pids()
    os.kill(pids["settler"], signal.SIGKILL)
    assert up.process.wait(timeout=30) == 1
    up._reader.join(5)
    assert re.search(rf"settler \(pid {pids['settler']}\) exited unexpectedly with code -9", up.output), up.output
    assert [name for name, pid in pids.items() if alive(pid)] == []
