"""The API scales out (issue 11): two `twinctl serve` processes on one PostgreSQL database take signed reports for
the same licences at once. Each reporter signs the number it believes next and, on a 409 sequence_mismatch, signs
the report again with the `expected_seq` the API gave (the web client's flow); some accepted reports are sent
again to the other process. The intake's per-licence lock is a PostgreSQL advisory lock, so it holds across
processes: in the end every licence's numbers are 0..n-1 with no gap, no digest is stored twice, and every report
answered 201 is stored exactly once, under the id and number it was answered with."""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import Session

from twin_licensing.chain.node import free_port
from twin_licensing.db.uses import Use
from kit.uses import USDC, backend_env, domain_of, kill, resigned, signed_report, spawn

LICENCES = 4
REPORTERS = 16
REPORTS_EACH = 20  # 320 reports, 80 per licence
RESEND_EVERY = 5  # every fifth accepted report is sent again, to the other process


@pytest.fixture
def licences(market, model, brand, brand2):
    twin = market.twin(model)
    offer = market.offer(model, twin, per_use_fee=USDC)
    owners = [brand, brand2] * (LICENCES // 2)
    return [(market.licence(owner, offer, 200 * USDC), owner) for owner in owners]


def _ready(base: str, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 60
    with httpx.Client(timeout=2) as probe:
        while True:
            assert process.poll() is None, f"serve exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            try:
                if probe.get(f"{base}/api/v1/openapi.json").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"serve did not answer at {base}:\n{log.read_text()[-3000:]}"
            time.sleep(0.1)


@pytest.mark.timeout(300)
def test_two_serve_processes_on_one_postgres_keep_each_licences_numbers_gapless(
        pg_engine, chain, licences, index_settings, sync_index, tmp_path):
    sync_index(pg_engine)  # the index, on the shared database
    settings = index_settings.model_copy(
        update={"database_url": pg_engine.url.render_as_string(hide_password=False)})
    env = backend_env(settings)
    processes, bases = [], []
    try:
        for name in ("a", "b"):
            port = free_port()
            log = tmp_path / f"serve-{name}.log"
            processes.append(spawn(["serve", "--port", str(port)], env, log))
            bases.append(f"http://127.0.0.1:{port}")
            _ready(bases[-1], processes[-1], log)

        domain = domain_of(chain)
        now = chain.timestamp()
        lock = threading.Lock()
        conflicts = 0
        accepted: dict[str, tuple[int, int, int]] = {}  # digest -> (use id, licence, seq) as answered
        resent = 0

        def reporter(k: int) -> None:
            nonlocal conflicts, resent
            rng = random.Random(k)
            believed: dict[int, int] = defaultdict(int)  # this reporter's idea of each licence's next number
            clients = [httpx.Client(base_url=base, timeout=30) for base in bases]
            try:
                for i in range(REPORTS_EACH):
                    licence, owner = licences[rng.randrange(LICENCES)]
                    body = signed_report(owner, domain, licence, f"r{k}-{i}", seq=believed[licence], used_at=now)
                    for _ in range(500):
                        response = clients[rng.randrange(2)].post("/api/v1/uses", json=body)
                        if response.status_code == 409 and response.json().get("code") == "sequence_mismatch":
                            with lock:
                                conflicts += 1
                            body = resigned(owner, domain, body, response.json()["expected_seq"])
                            continue
                        break
                    assert response.status_code == 201, response.text
                    use = response.json()
                    assert use["seq"] == body["seq"]
                    believed[licence] = use["seq"] + 1
                    with lock:
                        assert use["digest"] not in accepted
                        accepted[use["digest"]] = (use["id"], licence, use["seq"])
                    if i % RESEND_EVERY == 0:  # the answer was lost, say: the same report again, elsewhere
                        again = clients[rng.randrange(2)].post("/api/v1/uses", json=body)
                        assert again.status_code == 200 and again.json()["id"] == use["id"], again.text
                        with lock:
                            resent += 1
            finally:
                for client in clients:
                    client.close()

        started = time.monotonic()
        with ThreadPoolExecutor(REPORTERS) as pool:
            list(pool.map(reporter, range(REPORTERS)))
        elapsed = time.monotonic() - started
        total = REPORTERS * REPORTS_EACH
        print(f"\n{total} reports through 2 serve processes on one PostgreSQL in {elapsed:.1f} s: "
              f"{conflicts} answered 409 sequence_mismatch and signed again, {resent} resent (200)")
    finally:
        for process in processes:
            kill(process)

    assert len(accepted) == total
    with Session(pg_engine) as session:
        rows = session.execute(select(Use.use_id, Use.license_id, Use.seq, Use.digest)).all()
    assert len(rows) == total, f"{len(rows)} uses stored for {total} accepted reports"
    assert len({r.digest for r in rows}) == total  # no report stored twice
    assert {r.digest: (r.use_id, r.license_id, r.seq) for r in rows} == accepted  # each as it was answered
    for licence, _ in licences:
        seqs = sorted(r.seq for r in rows if r.license_id == licence)
        assert seqs == list(range(len(seqs))), f"licence {licence}: numbers {seqs}"
    assert conflicts > 0  # the reporters did race: the 409 path was taken
