"""Supervision of the child processes of `twinctl up`: start each with its own log, restart one that crashes, stop
them all.

Each child runs in its own session (process group = its PID): a Ctrl-C in the terminal reaches only the
supervisor, which then stops the children itself, by PID (SIGTERM to the child's own process group, SIGKILL after
a grace period): the services together, then the node they depend on, and reaps them. Nothing is ever stopped by
name.

A child started from an argv (the indexer, the settler, the API) is restarted when it exits by itself: each of
them resumes from the database (the indexer from its cursor, the settler by reconciling with the chain, the API is
stateless), so a restart loses nothing, whereas stopping everything would lose the local node's in-memory chain.
The delay doubles with each crash in the last minute (`RestartPolicy`); a child that keeps crashing is a fault a
restart will not cure, and like the death of an adopted child (the node) it raises `ChildExited`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from ._common import relative
from ..errors import TwinLicensingError


@dataclass(frozen=True)
class RestartPolicy:
    """When a crashed child is started again: after `first_delay_s`, doubled for each earlier crash within
    `window_s`, at most `max_delay_s`; its `max_crashes`-th crash within `window_s` is final."""

    first_delay_s: float = 0.5
    max_delay_s: float = 10.0
    window_s: float = 60.0
    max_crashes: int = 5

    def delay(self, crashes: int) -> float:
        """The wait before the restart that follows the `crashes`-th crash of the window (1, 2, ...)."""
        return min(self.first_delay_s * 2 ** (crashes - 1), self.max_delay_s)


@dataclass
class Child:
    """One supervised process. `poll()` returns None while it runs, else its exit code.

    `argv` is how to start it again: None for a process adopted from elsewhere, which is never restarted.
    """

    name: str
    pid: int
    log_path: Path
    poll: Callable[[], int | None]
    stop: Callable[[float], None]
    argv: tuple[str, ...] | None = None
    stopping: bool = field(default=False)
    # monotonic times of its crashes, the old ones dropped as they leave the policy's window
    crashes: deque[float] = field(default_factory=deque)
    # set while a crashed child waits for its restart (monotonic time)
    restart_at: float | None = None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class ChildExited(TwinLicensingError, RuntimeError):
    """A supervised process exited while it should have been running, and will not be restarted."""

    def __init__(self, child: Child, code: int, *, crashes: int = 1, window_s: float = 0.0) -> None:
        self.child, self.code, self.crashes = child, code, crashes
        if crashes > 1:
            what = (f"{child.name} (pid {child.pid}) exited with {describe_exit(code)}, its {ordinal(crashes)} crash "
                    f"in the last {_duration(window_s)}: it keeps crashing")
        else:
            what = f"{child.name} (pid {child.pid}) exited unexpectedly with {describe_exit(code)}"
        super().__init__(f"{what}; log: {child.log_path}")


def describe_exit(code: int) -> str:
    """`-9 (SIGKILL)` for a signal (Popen's negative return codes), `1` for an exit status."""
    if code < 0:
        try:
            return f"{code} ({signal.Signals(-code).name})"
        except ValueError:
            return str(code)
    return str(code)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _duration(seconds: float) -> str:
    return "minute" if seconds == 60 else f"{seconds:g} s"


def _kill_group(pid: int) -> None:
    """SIGKILL to whatever is left in the process group a dead child led (it should have stopped them itself)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


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
    _kill_group(process.pid)


class Supervisor:
    def __init__(self, *, cwd: Path, env: Mapping[str, str], log_dir: Path, say: Callable[[str], None] = print,
                 policy: RestartPolicy = RestartPolicy()) -> None:
        self.cwd = Path(cwd)
        self.env = dict(env)
        self.log_dir = Path(log_dir)
        self.say = say
        self.policy = policy
        self.children: list[Child] = []

    # ------------------------------------------------------------------ starting

    def start(self, name: str, argv: Sequence[str]) -> Child:
        """Starts `argv` with stdout and stderr appended to <log_dir>/<name>.log; restarted if it crashes."""
        return self.adopt(self._spawn(name, tuple(argv)))

    def _spawn(self, name: str, argv: tuple[str, ...]) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {name}: {' '.join(argv)} ---\n".encode())
            log.flush()
            process = subprocess.Popen(
                list(argv), cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return Child(name, process.pid, log_path, process.poll, lambda t: _stop_popen(process, t), argv=argv)

    def start_twinctl(self, name: str, *args: str) -> Child:
        """A `twinctl` subcommand, run by this interpreter (its PID is the command's, not a wrapper's)."""
        return self.start(name, [sys.executable, "-m", "twin_licensing.cli", *args])

    def adopt(self, child: Child) -> Child:
        """Supervises a process started elsewhere (the local node), stopped by its own `stop`."""
        self.children.append(child)
        return child

    # ------------------------------------------------------------------ watching and restarting

    def check(self) -> None:
        """Notices the children that exited and restarts those whose delay has passed; raises ChildExited for one
        that is not restarted (adopted, or crashing too often).

        The children are checked in the order they were started: the node, adopted first, is seen dead before the
        services that fail because it is gone.
        """
        for index, child in enumerate(self.children):
            if child.stopping:
                continue
            if child.restart_at is not None:
                if time.monotonic() >= child.restart_at:
                    self.children[index] = self._restart(child)
                continue
            code = child.poll()
            if code is not None:
                self._crashed(child, code)

    def _crashed(self, child: Child, code: int) -> None:
        if child.argv is None:
            raise ChildExited(child, code)
        _kill_group(child.pid)  # what it started dies with it: a restarted indexer must not meet its old fetcher
        now = time.monotonic()
        while child.crashes and now - child.crashes[0] >= self.policy.window_s:
            child.crashes.popleft()
        child.crashes.append(now)
        count = len(child.crashes)
        if count >= self.policy.max_crashes:
            raise ChildExited(child, code, crashes=count, window_s=self.policy.window_s)
        delay = self.policy.delay(count)
        child.restart_at = now + delay
        self.say(f"{child.name} exited with {describe_exit(code)}; restarting in {delay:.1f} s "
                 f"({ordinal(count)} restart in the last {_duration(self.policy.window_s)}); "
                 f"log: {relative(child.log_path, self.cwd)}")

    def _restart(self, child: Child) -> Child:
        assert child.argv is not None
        fresh = self._spawn(child.name, child.argv)
        fresh.crashes = child.crashes
        self.say(f"{fresh.name}: pid {fresh.pid} (restarted); log: {relative(fresh.log_path, self.cwd)}")
        return fresh

    def child(self, name: str) -> Child:
        """The current process of the child called `name` (a restart replaces it)."""
        for child in self.children:
            if child.name == name:
                return child
        raise KeyError(name)

    def wait(self, until: Callable[[], bool] | None = None, *, timeout: float | None = None,
             interval: float = 0.2) -> bool:
        """Watches the children, restarting those that crash, until `until()` holds (True), `timeout` passes
        (False), or one of them exits for good (ChildExited). Without `until`, runs until that exit or until the
        caller is interrupted."""
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
        """Stops every child still running and reports each one: the services together (each may take seconds to
        finish its work on SIGTERM, and none depends on another's stopping), the last started named first, then
        the adopted ones (the node), which the services may need until they have stopped."""
        for child in self.children:
            child.stopping = True
        services = [c for c in reversed(self.children) if c.argv is not None and c.poll() is None]
        for child in services:
            self.say(f"stopping {child.name} (pid {child.pid})")
        stoppers = [threading.Thread(target=self._stop, args=(child, timeout), name=f"stop-{child.name}")
                    for child in services]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        for child in reversed(self.children):
            if child.argv is None and child.poll() is None:
                self.say(f"stopping {child.name} (pid {child.pid})")
                self._stop(child, timeout)

    def _stop(self, child: Child, timeout: float) -> None:
        try:
            child.stop(timeout)
        except Exception as exc:  # noqa: BLE001 - keep stopping the others
            self.say(f"could not stop {child.name} (pid {child.pid}): {exc}")

    @property
    def pids(self) -> dict[str, int]:
        return {child.name: child.pid for child in self.children}
