"""Crash tests: the settler or the API killed with SIGKILL at random moments while 2 000 uses flow through, restarted
each time; afterwards the audit proves every use was paid exactly once and none was lost."""

from __future__ import annotations

import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from twin_licensing.audit.compare import audit
from twin_licensing.chain.node import free_port
from usekit import USDC, backend_env, domain_of, insert_uses, kill, signed_report, spawn

USES = 2_000
LICENCES = 20
KILLS = 10
FEE = USDC
PACE_S = 0.12  # per delivering thread (8 of them)


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


def wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def api_ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def wait_all_settled(market, licences, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    total = 0
    while time.monotonic() < deadline:
        total = sum(market.settled(lid) for lid, _ in licences)
        if total >= expected:
            return total
        time.sleep(0.2)
    return total


def assert_audit_proves_exactly_once(chain, engine, sync_index, licences, market):
    sync_index(engine)
    report = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report.ok, [r for r in report.differences][:5] + report.problems[:5]
    assert report.uses_total == USES
    assert report.uses_proven == USES and report.uses_pending == 0
    for lid, _ in licences:
        assert market.settled(lid) == USES // LICENCES
        assert market.escrow(lid) == 5 * USDC  # exactly the uses' fees left escrow, once


def test_settler_killed_at_random_moments_pays_every_use_once(chain, market, engine, index_settings, sync_index,
                                                              twenty_licences, tmp_path):
    rng = random.Random(4)
    env = backend_env(index_settings)
    log = tmp_path / "settler.log"
    per_licence = USES // LICENCES
    done = threading.Event()

    def feed():
        next_seq = {lid: 0 for lid, _ in twenty_licences}
        order = [i for i in range(LICENCES) for _ in range(per_licence // 10)]
        rng.shuffle(order)
        for i in order:  # 10 uses of one licence at a time, ~12 s in all
            lid, brand = twenty_licences[i]
            insert_uses(engine, chain, brand, lid, 10, start_seq=next_seq[lid], tag="crash")
            next_seq[lid] += 10
            time.sleep(0.05)
        done.set()

    feeder = threading.Thread(target=feed)
    feeder.start()
    kills_while_settling = 0
    try:
        for attempt in range(KILLS):
            ready_before = log.read_text().count("reconciled") if log.exists() else 0
            settler = spawn(["settle", "--window", "0.05", "--max-batch", "300"], env, log)
            if attempt % 4 == 3:
                time.sleep(rng.uniform(0.3, 1.5))  # during start-up or reconciliation
            else:
                wait_for(lambda: log.read_text().count("reconciled") > ready_before, 30)
                time.sleep(rng.uniform(0.0, 0.8))  # while settling: between recording, sending, mining
                kills_while_settling += 1
            kill(settler, signal.SIGKILL)
    finally:
        feeder.join()
    assert kills_while_settling >= 7
    assert done.is_set()
    settler = spawn(["settle", "--window", "0.05"], env, log)
    try:
        settled = wait_all_settled(market, twenty_licences, USES, timeout=90)
    finally:
        kill(settler, signal.SIGTERM)
    assert settled == USES, log.read_text()[-3000:]
    assert_audit_proves_exactly_once(chain, engine, sync_index, twenty_licences, market)


def test_api_killed_at_random_moments_loses_no_report_and_doubles_none(chain, market, engine, index_settings,
                                                                       sync_index, twenty_licences, tmp_path):
    rng = random.Random(5)
    sync_index(engine)
    env = backend_env(index_settings)
    settler = spawn(["settle", "--window", "0.1"], env, tmp_path / "settler.log")
    domain = domain_of(chain)
    now = chain.timestamp()
    per_licence = USES // LICENCES
    reports = [signed_report(brand, domain, lid, f"api-{lid}-{k}", used_at=now)
               for k in range(per_licence) for lid, brand in twenty_licences]
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1/uses"
    answers: dict[int, int] = {}
    stop_killing = threading.Event()
    local = threading.local()

    def deliver(index: int) -> None:
        # A brand's client retries until it gets an answer: idempotency makes that safe.
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=10)
        while True:
            try:
                response = local.client.post(base, json=reports[index])
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            if response.status_code in (200, 201):
                answers[index] = response.json()["use_id"]
                time.sleep(PACE_S)  # spread the flow over the kills: ~65 reports/s while the API is up
                return
            if response.status_code == 503:
                time.sleep(0.05)
                continue
            raise AssertionError(f"report {index}: {response.status_code} {response.text}")

    api = spawn(["serve", "--port", str(port)], env, tmp_path / "api.log")
    kills = []

    def killer():
        nonlocal api
        for _ in range(KILLS):
            while not api_ready(port):  # kill it while it serves, not while it starts
                if stop_killing.wait(0.05):
                    return
            if stop_killing.wait(rng.uniform(0.05, 0.5)):
                return
            kill(api, signal.SIGKILL)
            kills.append(len(answers))
            api = spawn(["serve", "--port", str(port)], env, tmp_path / "api.log")

    chaos = threading.Thread(target=killer)
    chaos.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(deliver, range(len(reports))))
        chaos.join()
        assert len(kills) == KILLS and kills[-1] < USES, f"the API was killed {len(kills)} times, at {kills}"
        assert len(answers) == USES and len(set(answers.values())) == USES  # one use per report, none twice
        settled = wait_all_settled(market, twenty_licences, USES, timeout=90)
        assert settled == USES
    finally:
        stop_killing.set()
        chaos.join()
        kill(api, signal.SIGTERM)
        kill(settler, signal.SIGTERM)
    assert_audit_proves_exactly_once(chain, engine, sync_index, twenty_licences, market)
