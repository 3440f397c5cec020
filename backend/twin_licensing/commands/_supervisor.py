"""Supervision of the child processes of `twinctl up`: start each with its own log, notice one dying, stop them all.

Each child runs in its own session (process group = its PID): a Ctrl-C in the terminal reaches only the
supervisor, which then stops the children itself, in reverse order of start, by PID (SIGTERM to the child's own
process group, SIGKILL after a grace period), and reaps them. Nothing is ever stopped by name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence


@dataclass
class Child:
    """One supervised process. `poll()` returns None while it runs, else its exit code."""

    name: str
    pid: int
    log_path: Path
    poll: Callable[[], int | None]
    stop: Callable[[float], None]
    stopping: bool = field(default=False)

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class ChildExited(RuntimeError):
    """A supervised process exited while it should have been running."""

    def __init__(self, child: Child, code: int) -> None:
        self.child, self.code = child, code
        super().__init__(f"{child.name} (pid {child.pid}) exited unexpectedly with code {code}; log: {child.log_path}")


def _stop_popen(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM to the process group the child leads, SIGKILL after `timeout`; reaps it."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)  # the child's own group (start_new_session): it and anything it started
        except ProcessLookupError:
            pass
        except PermissionError:  # not our group after all: signal the PID alone
            try:
                os.kill(process.pid, sig)
            except ProcessLookupError:
                pass
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Whatever the child left in its group after it exited (it should have stopped them itself).
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Supervisor:
    def __init__(self, *, cwd: Path, env: Mapping[str, str], log_dir: Path, say: Callable[[str], None] = print) -> None:
        self.cwd = Path(cwd)
        self.env = dict(env)
        self.log_dir = Path(log_dir)
        self.say = say
        self.children: list[Child] = []

    # ------------------------------------------------------------------ starting

    def start(self, name: str, argv: Sequence[str]) -> Child:
        """Starts `argv` with stdout and stderr appended to <log_dir>/<name>.log."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {name}: {' '.join(argv)} ---\n".encode())
            log.flush()
            process = subprocess.Popen(
                list(argv), cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self.adopt(Child(name, process.pid, log_path, process.poll, lambda t: _stop_popen(process, t)))

    def start_twinctl(self, name: str, *args: str) -> Child:
        """A `twinctl` subcommand, run by this interpreter (its PID is the command's, not a wrapper's)."""
        return self.start(name, [sys.executable, "-m", "twin_licensing.cli", *args])

    def adopt(self, child: Child) -> Child:
        """Supervises a process started elsewhere (the local node), stopped by its own `stop`."""
        self.children.append(child)
        return child

    # ------------------------------------------------------------------ watching

    def check(self) -> None:
        """Raises ChildExited for the first child that is no longer running."""
        for child in self.children:
            if child.stopping:
                continue
            code = child.poll()
            if code is not None:
                raise ChildExited(child, code)

    def wait(self, until: Callable[[], bool] | None = None, *, timeout: float | None = None,
             interval: float = 0.2) -> bool:
        """Watches the children until `until()` holds (True), `timeout` passes (False), or one of them exits
        (ChildExited). Without `until`, runs until a child exits or the caller is interrupted."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.check()
            if until is not None and until():
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    # ------------------------------------------------------------------ stopping

    def stop_all(self, timeout: float = 10.0) -> None:
        """Stops every child still running, the last started first, and reports each one."""
        for child in reversed(self.children):
            child.stopping = True
            if child.poll() is not None:
                continue
            self.say(f"stopping {child.name} (pid {child.pid})")
            try:
                child.stop(timeout)
            except Exception as exc:  # noqa: BLE001 - keep stopping the others
                self.say(f"could not stop {child.name} (pid {child.pid}): {exc}")

    @property
    def pids(self) -> dict[str, int]:
        return {child.name: child.pid for child in self.children}
