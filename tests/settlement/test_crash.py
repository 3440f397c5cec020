"""Crash tests: the settler or the API killed with SIGKILL at random moments while 2 000 uses flow through, restarted
each time, and (settler) a reorganisation undoing settlements while a settler is at work; afterwards the audit
(`twinctl audit --expect-settled`, as an operator runs it) proves every signed use was paid exactly once and none
was lost.

The kills are paced by what the processes do, not by the clock: the uses flow in slices, one slice released per
kill, and each kill waits for its moment (the lock taken, the reconciliation logged, a batch recorded, reports being
answered). Every successor is started ahead of the kill, waiting for its predecessor's lock (the settler) or
listening on a port of its own (the API), so that a restart does not wait for an interpreter to start.
"""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from twin_licensing.audit.compare import audit
from twin_licensing.chain.node import free_port
from twin_licensing.db.submissions import SettleSubmission
from kit.uses import TWINCTL, USDC, backend_env, domain_of, insert_uses, kill, signed_report, spawn

USES = 2_000
LICENCES = 20
KILLS = 10
FEE = USDC
CHUNK = 10  # uses of one licence inserted together, as an intake commits a burst of reports
SLICE = USES // (KILLS + 1)  # uses released per incarnation: every one of them has uses to settle
# About a minute each on a quiet machine; the limit is a hang guard for a shared one (at load 28 one took 330 s).
pytestmark = pytest.mark.timeout(900)
LOCK_TAKEN = "settler for recorder"  # what `twinctl settle` prints once it holds the recorder's lock
RECONCILED = "reconciled:"
SNAPSHOT_AT, REORG_AT = 1, 5  # incarnations: the chain is snapshotted while the one settles, reverted under the other


@pytest.fixture
def twenty_licences(market, model, model2, agency, brands_all):
    twins = [market.twin(model, agency), market.twin(model2)]
    offers = [market.offer(model, twins[0], per_use_fee=FEE), market.offer(model2, twins[1], per_use_fee=FEE)]
    per_licence = USES // LICENCES
    held = []
    for i in range(LICENCES):
        brand = brands_all[i % len(brands_all)]
        held.append((market.licence(brand, offers[i % 2], per_licence * FEE + 5 * USDC), brand))
    return held


@pytest.fixture(scope="session")
def brands_all():
    from twin_licensing.chain.keys import dev_account
    from twin_licensing.seed import data

    return [dev_account(b.index) for b in data.BRANDS]


class Gate:
    """Lets work items through up to a limit that only grows: `release(n)` opens items below n, `enter(i)` waits
    until item i is open."""

    def __init__(self) -> None:
        self._opened = 0
        self._changed = threading.Condition()

    def release(self, limit: int) -> None:
        with self._changed:
            self._opened = max(self._opened, limit)
            self._changed.notify_all()

    def enter(self, item: int, timeout: float = 120) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: item < self._opened, timeout), f"item {item} was never released"


class Counter:
    """A count that threads can wait on."""

    def __init__(self) -> None:
        self.value = 0
        self._changed = threading.Condition()

    def add(self) -> None:
        with self._changed:
            self.value += 1
            self._changed.notify_all()

    def wait_until(self, at_least: int, timeout: float) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.value >= at_least, timeout), f"{self.value} < {at_least}"


def wait_for(condition, timeout: float, what: str, process: subprocess.Popen | None = None, log: Path | None = None):
    """Polls `condition` until it holds; fails at once if `process` exited meanwhile."""
    deadline = time.monotonic() + timeout
    while not condition():
        tail = log.read_text()[-3000:] if log is not None and log.exists() else ""
        assert process is None or process.poll() is None, f"exited with {process.returncode} before {what}:\n{tail}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{tail}"
        time.sleep(0.02)


def logged(log: Path, text: str) -> bool:
    return log.exists() and text in log.read_text()


def submissions(engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(SettleSubmission)).scalar_one()


def api_ready(probe: httpx.Client, base: str) -> bool:
    try:
        return probe.get(f"{base}/openapi.json").status_code == 200
    except httpx.TransportError:
        return False


def wait_all_settled(market, licences, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    total = 0
    while time.monotonic() < deadline:
        total = sum(market.settled(lid) for lid, _ in licences)
        if total >= expected:
            return total
        time.sleep(0.1)
    return total


def assert_audit_proves_exactly_once(chain, engine, sync_index, licences, market, env):
    sync_index(engine)
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, [r for r in report.differences][:5] + report.problems[:5]
    assert report.uses_total == USES
    assert report.uses_proven == USES and report.uses_pending == 0
    # The operator's check says the same, by its exit status.
    done = subprocess.run([str(TWINCTL), "audit", "--expect-settled"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for lid, _ in licences:
        assert market.settled(lid) == USES // LICENCES
        assert market.escrow(lid) == 5 * USDC  # exactly the uses' fees left escrow, once


def test_settler_killed_at_random_moments_pays_every_use_once(chain, market, engine, index_settings, sync_index,
                                                              twenty_licences, tmp_path):
    rng = random.Random(4)
    env = backend_env(index_settings)
    per_licence = USES // LICENCES
    chunks = [i for i in range(LICENCES) for _ in range(per_licence // CHUNK)]
    rng.shuffle(chunks)
    gate = Gate()
    fed = threading.Event()

    def feed():
        next_seq = {lid: 0 for lid, _ in twenty_licences}
        for n, i in enumerate(chunks):
            gate.enter(n * CHUNK)
            lid, brand = twenty_licences[i]
            insert_uses(engine, chain, brand, lid, CHUNK, start_seq=next_seq[lid], tag="crash")
            next_seq[lid] += CHUNK
        fed.set()

    started: list[subprocess.Popen] = []

    def settler(incarnation: int) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"settler-{incarnation}.log"
        # Started ahead, it waits for the lock of the one before it, which the kernel frees when that one dies.
        args = ["settle", "--window", "0.05", "--max-batch", "300", "--wait-lock", "300"]
        started.append(spawn(args, env, log))
        return started[-1], log

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    current, log = settler(0)
    kills_while_settling = 0
    snapshot = None
    undone = 0
    try:
        for attempt in range(KILLS):
            recorded = submissions(engine)  # the ones before are dead: they record no more
            gate.release((attempt + 1) * SLICE)
            wait_for(lambda: logged(log, LOCK_TAKEN), 60, "the lock", current, log)
            successor = settler(attempt + 1)  # after the lock is taken: it must not take it first
            if attempt in (SNAPSHOT_AT, REORG_AT):
                wait_for(lambda: submissions(engine) > recorded, 60, "a batch recorded", current, log)
            if attempt == SNAPSHOT_AT:
                snapshot = chain.rpc("evm_snapshot")
            elif attempt == REORG_AT:
                # A reorganisation under a working settler: every block since the snapshot is gone, with the
                # settlements in it and the transactions it has in flight; the settler must pay them again, once.
                before = sum(market.settled(lid) for lid, _ in twenty_licences)
                assert chain.rpc("evm_revert", [snapshot])
                chain.resync_nonces()
                chain.rpc("evm_mine")
                undone = before - sum(market.settled(lid) for lid, _ in twenty_licences)
            if attempt % 4 == 3:
                time.sleep(rng.uniform(0.0, 0.15))  # during its reconciliation
            else:
                wait_for(lambda: logged(log, RECONCILED), 60, "the reconciliation", current, log)
                wait_for(lambda: submissions(engine) > recorded, 60, "a batch recorded", current, log)
                time.sleep(rng.uniform(0.0, 0.1))  # between recording, sending and mining it
                kills_while_settling += 1
            kill(current, signal.SIGKILL)
            current, log = successor
        gate.release(USES)
        feeder.join(timeout=120)
        assert fed.is_set(), "the feeder did not insert every use"
        assert kills_while_settling >= 7
        assert undone > 0, "the reorganisation undid no settlement"
        settled = wait_all_settled(market, twenty_licences, USES, timeout=90)
        assert settled == USES, log.read_text()[-3000:]
    finally:
        gate.release(USES)
        for process in reversed(started):  # a waiting successor would take the lock of a stopped one
            kill(process, signal.SIGTERM)
    assert_audit_proves_exactly_once(chain, engine, sync_index, twenty_licences, market, env)


def test_api_killed_at_random_moments_loses_no_report_and_doubles_none(chain, market, engine, index_settings,
                                                                       sync_index, twenty_licences, tmp_path):
    rng = random.Random(5)
    sync_index(engine)
    env = backend_env(index_settings)
    settler = spawn(["settle", "--window", "0.1"], env, tmp_path / "settler.log")
    domain = domain_of(chain)
    now = chain.timestamp()
    per_licence = USES // LICENCES
    # Report k of every licence is signed as its use #k+1 (seq k): each licence's client sends its reports in order,
    # as a brand's client numbering its own reports does, so none waits for a 409 and a re-signature.
    reports = [signed_report(brand, domain, lid, f"api-{lid}-{k}", seq=k, used_at=now)
               for k in range(per_licence) for lid, brand in twenty_licences]
    answers: dict[int, int] = {}
    answered = Counter()
    gate = Gate()
    local = threading.local()

    started: list[subprocess.Popen] = []

    def start_api() -> tuple[subprocess.Popen, str]:
        port = free_port()
        started.append(spawn(["serve", "--port", str(port)], env, tmp_path / f"api-{port}.log"))
        return started[-1], f"http://127.0.0.1:{port}/api/v1"

    api, base = start_api()
    serving = {"base": base}  # where the brands' clients send their reports: the live API

    def deliver_licence(i: int) -> None:
        for k in range(per_licence):
            deliver(k * LICENCES + i)

    def deliver(index: int) -> None:
        # A brand's client retries the same signed report until it gets an answer: idempotency makes that safe
        # (the same report again is answered with the use it made).
        gate.enter(index)
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=10)
        while True:
            try:
                response = local.client.post(f"{serving['base']}/uses", json=reports[index])
            except httpx.TransportError:
                time.sleep(0.01)  # killed under this request: the successor takes over
                continue
            if response.status_code in (200, 201):
                answers[index] = response.json()["id"]
                answered.add()
                return
            if response.status_code == 503:
                time.sleep(0.05)
                continue
            raise AssertionError(f"report {index}: {response.status_code} {response.text}")

    kills: list[int] = []
    failures: list[BaseException] = []

    def killer() -> None:
        nonlocal api
        probe = httpx.Client(timeout=1)
        try:
            successor, successor_base = start_api()  # warms up while the one before it serves
            wait_for(lambda: api_ready(probe, serving["base"]), 60, "the API", api)
            for k in range(KILLS):
                wait_for(lambda: api_ready(probe, successor_base), 60, "the next API", successor)
                gate.release((k + 1) * SLICE)
                # Killed while it serves: reports of this slice answered, and more in flight.
                answered.wait_until(k * SLICE + rng.randint(1, SLICE - 16), timeout=120)
                kill(api, signal.SIGKILL)
                kills.append(len(answers))
                api, serving["base"] = successor, successor_base
                if k < KILLS - 1:
                    successor, successor_base = start_api()
        except BaseException as exc:
            failures.append(exc)
            raise
        finally:
            probe.close()
            gate.release(USES)  # no client waits for a slice that will never come

    chaos = threading.Thread(target=killer, daemon=True)
    chaos.start()
    try:
        with ThreadPoolExecutor(LICENCES) as pool:
            list(pool.map(deliver_licence, range(LICENCES)))
        chaos.join(timeout=60)
        assert not failures, failures
        assert len(kills) == KILLS and kills[-1] < USES, f"the API was killed {len(kills)} times, at {kills}"
        assert len(answers) == USES and len(set(answers.values())) == USES  # one use per report, none twice
        settled = wait_all_settled(market, twenty_licences, USES, timeout=90)
        assert settled == USES
    finally:
        gate.release(USES)
        chaos.join(timeout=60)
        for process in started:
            kill(process, signal.SIGTERM)
        kill(settler, signal.SIGTERM)
    assert_audit_proves_exactly_once(chain, engine, sync_index, twenty_licences, market, env)
