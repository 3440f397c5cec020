"""Benchmark of the use pipeline: signed reports -> API -> settler -> chain -> indexer -> settled in the index.

Starts its own local node, deploys, buys 20 licences, then runs the indexer, the API and the settler as separate
processes (as `twinctl` runs them) against a fresh SQLite database, and drives N signed use reports (default 5 000)
through the API from this process. Latency is measured per use from its acceptance (the `uses.accepted_at` the API
wrote) to the moment its settlement row is seen in the index. Gas per use is the settle transactions' gas over N.

The reports follow the signed-sequence flow of issue 11: 16 concurrent reporters (`--concurrency`) share the 20
licences, each an independent client that knows only what the API told it: it signs a report with the number that
follows its own last accepted report on that licence (0 at first), posts it, and on a 409 signs again with the
API's `expected_seq` and posts again. Reporters on one licence race, so many reports need that; their count is
printed. Signing is part of the measured run (a number is only known when the report is sent).

`--interval-mining 2` starts the node mining a block every 2 s instead of one per transaction (as an OP-stack L2
does): the latency a brand sees there. There is no bar for that run.

    .venv/bin/python scripts/bench_settlement.py [--uses 5000] [--window S] [--concurrency 16] [--interval-mining S]

Prints a few lines of detail and the bar (>= 300 uses/s, p95 <= 2 s, <= 2 000 gas per use), then, as its last
line, one JSON object:
    {"uses": N, "uses_per_s": t, "latency_ms": {"p50": a, "p95": b}, "gas_per_use": g}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timezone
from pathlib import Path

import httpx

from twin_licensing.chain.client import Chain
from twin_licensing.chain.deploy import deploy
from twin_licensing.chain.keys import dev_account
from twin_licensing.chain.node import LocalNode, free_port, set_interval_mining
from twin_licensing.chain.use_reports import UseReport, UseReportDomain, sign_report
from twin_licensing.db.engine import make_engine
from twin_licensing.db.migrate import upgrade_database
from twin_licensing.domain.vocabulary import AGENCY, MODEL
from twin_licensing.seed import data
from twin_licensing.seed.seeder import attest_as_guild
from twin_licensing.settings import find_project_root

ROOT = find_project_root()
TWINCTL = Path(sys.executable).with_name("twinctl")
LICENCES = 20
FEE = 2 * 10**6
BAR_USES_PER_S, BAR_P95_MS, BAR_GAS_PER_USE = 300, 2_000, 2_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def setup_market(chain: Chain, uses: int) -> list[tuple[int, object]]:
    """Two twins, one offer each, 20 licences held by the 5 demo brands, escrow for every use."""
    model, model2, agency = dev_account(data.MODEL_INDICES[0]), dev_account(data.MODEL_INDICES[1]), dev_account(3)
    brands = [dev_account(b.index) for b in data.BRANDS]
    token = chain.deployment.license_token
    attest_as_guild(chain, [(model.address, MODEL, "bench model"), (model2.address, MODEL, "bench model 2")])
    for who, payees in ((model, [(model.address, 8_000, MODEL), (agency.address, 2_000, AGENCY)]),
                        (model2, [(model2.address, 10_000, MODEL)])):
        chain.transact(who, "TwinRegistry", "registerTwin", "ipfs://bench", b"\x01" * 32, payees)
    chain.transact(agency, "TwinRegistry", "acceptPayee", 1)
    terms = (10 * 10**6, FEE, 365 * 24 * 3600, 0, 0b11, 0b11, False, False, 0)
    chain.transact(model, "LicenseToken", "publishOffer", 1, terms)
    chain.transact(model2, "LicenseToken", "publishOffer", 2, terms)
    escrow = (uses // LICENCES + 10) * FEE
    pending = []
    for brand in brands:
        amount = (10 * 10**6 + escrow) * (LICENCES // len(brands))
        pending.append(chain.transact(brand, "PaymentToken", "faucet", brand.address, amount, wait=False))
        pending.append(chain.transact(brand, "PaymentToken", "approve", token, amount, wait=False))
    for tx in pending:
        chain.wait(tx)
    held = []
    for i in range(LICENCES):
        brand = brands[i % len(brands)]
        chain.transact(brand, "LicenseToken", "buyLicense", 1 + i % 2, escrow)
        held.append((i + 1, brand))
    return held


def spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "ab") as out:
        return subprocess.Popen([str(TWINCTL), *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def http_request(port: int, path: str, body: dict) -> bytes:
    payload = json.dumps(body, separators=(",", ":")).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n").encode()
    return head + payload


class Reporters:
    """The brands' keys, and how the holder signs a report; each reporter keeps its own idea of the next numbers."""

    def __init__(self, domain: UseReportDomain, licences: list[tuple[int, object]]) -> None:
        self.domain = domain
        self.holder = dict(licences)
        self.resigned = 0  # reports signed again after a 409

    def body(self, license_id: int, seq: int, use_ref: str, k: int, used_at: int) -> dict:
        report = UseReport(license_id, seq, use_ref, k % 2, k % 2, used_at)
        return {"license_id": license_id, "seq": seq, "use_ref": use_ref, "category": report.category,
                "territory": report.territory, "used_at": used_at,
                "signature": sign_report(self.holder[license_id].key, self.domain, report)}


async def drive(port: int, count: int, reporters: Reporters, concurrency: int, used_at: int) -> int:
    """POSTs `count` reports over `concurrency` keep-alive connections, report k on licence k % 20, each signed with
    the number its reporter expects next and signed again on a 409; returns how many were accepted.

    A bare HTTP/1.1 client on asyncio streams: a general-purpose client costs more CPU per request than the API
    itself, and on a 2-core machine the load generator's CPU is taken from the system under test.
    """
    licence_ids = sorted(reporters.holder)
    todo = list(range(count))[::-1]
    accepted = 0

    async def worker() -> None:
        nonlocal accepted
        reader = writer = None
        known: dict[int, int] = {}  # this reporter's next number per licence: after its own last accepted report
        while todo:
            k = todo.pop()
            license_id = licence_ids[k % len(licence_ids)]
            use_ref = "0x" + os.urandom(32).hex()
            seq = known.get(license_id, 0)
            body = reporters.body(license_id, seq, use_ref, k, used_at)
            while True:
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.write(http_request(port, "/api/v1/uses", body))
                    head = await reader.readuntil(b"\r\n\r\n")
                    status = int(head[9:12])
                    length = next((int(line[15:]) for line in head.split(b"\r\n")
                                   if line[:15].lower() == b"content-length:"), 0)
                    answer = await reader.readexactly(length)
                except (OSError, asyncio.IncompleteReadError):
                    writer = None
                    await asyncio.sleep(0.05)
                    continue
                if status in (200, 201):
                    accepted += 1
                    known[license_id] = seq + 1
                    break
                if status == 409 and b"expected_seq" in answer:
                    # Another reporter took the number: sign again with the one the API expects.
                    seq = int(json.loads(answer)["expected_seq"])
                    body = reporters.body(license_id, seq, use_ref, k, used_at)
                    reporters.resigned += 1
                    continue
                if status == 503:
                    await asyncio.sleep(0.05)
                    continue
                raise RuntimeError(f"report refused: {status} {answer[:300]!r}")
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return accepted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uses", type=int, default=5_000)
    parser.add_argument("--window", type=float, default=None, help="settler batch window (default: the settler's)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--interval-mining", type=float, default=0.0, metavar="S",
                        help="mine a block every S seconds instead of one per transaction (default: automine)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-settlement-"))
    processes: list[subprocess.Popen] = []
    # The market is set up on an automining node (fast); interval mining starts just before the reports.
    with LocalNode(ROOT, log_path=workdir / "node.log") as node:
        bare = Chain.connect(node.url, ROOT / "artifacts")
        deployed = deploy(bare, dev_account(data.ADMIN), workdir / "deployments",
                          guild=dev_account(data.GUILD).address, recorder=dev_account(data.RECORDER).address)
        chain = bare.bind(deployed.deployment) if hasattr(bare, "bind") else Chain(bare.w3, bare.artifacts,
                                                                                  deployed.deployment)
        licences = setup_market(chain, args.uses)
        db_path = workdir / "twin.db"
        engine = make_engine(f"sqlite:///{db_path}")
        upgrade_database(engine)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_") and k != "DATABASE_URL"}
        env.update({
            "TWIN_RPC_URL": node.url,
            "TWIN_DEPLOYMENTS_DIR": str(workdir / "deployments"),
            "TWIN_ARTIFACTS_DIR": str(ROOT / "artifacts"),
            "TWIN_VAR_DIR": str(workdir),
            "DATABASE_URL": f"sqlite:///{db_path}",
        })
        port = free_port()
        settle_args = ["settle"] + (["--window", str(args.window)] if args.window is not None else [])
        try:
            processes.append(spawn(["index"], env, workdir / "indexer.log"))
            processes.append(spawn(["serve", "--port", str(port)], env, workdir / "api.log"))
            wait_http(f"http://127.0.0.1:{port}/api/v1/openapi.json")
            # The API refuses reports of licences it does not know: wait until the indexer has all 20.
            deadline = time.monotonic() + 60
            while True:
                with engine.connect() as conn:
                    known = conn.exec_driver_sql("SELECT count(*) FROM licenses").scalar()
                if known >= LICENCES or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            processes.append(spawn(settle_args, env, workdir / "settler.log"))
            # Latency counts from acceptance: start the clock only once the settler has reconciled and is polling.
            deadline = time.monotonic() + 60
            while "reconciled" not in (workdir / "settler.log").read_text() and time.monotonic() < deadline:
                time.sleep(0.05)

            domain = UseReportDomain(chain.chain_id, deployed.deployment.license_token)
            now = chain.timestamp()
            reporters = Reporters(domain, licences)
            if args.interval_mining:
                set_interval_mining(node.url, int(args.interval_mining * 1000))
            log(f"driving {args.uses} reports through http://127.0.0.1:{port} ({args.concurrency} reporters on "
                f"{LICENCES} licences, signed-sequence flow"
                + (f", a block every {args.interval_mining:g} s)" if args.interval_mining else ", automine)"))

            settled_at: dict[tuple[int, int], tuple[int, int, float]] = {}  # (licence, first_seq) -> count

            started = time.time()
            driver = asyncio.new_event_loop()
            import threading

            result: dict[str, int] = {}
            thread = threading.Thread(
                target=lambda: result.setdefault("accepted", driver.run_until_complete(
                    drive(port, args.uses, reporters, args.concurrency, now))))
            thread.start()
            # Poll the index for settlement rows: the moment a row is first seen is when its uses are settled.
            deadline = time.monotonic() + args.timeout
            total_settled = 0
            while time.monotonic() < deadline:
                with engine.connect() as conn:
                    rows = conn.exec_driver_sql("SELECT license_id, first_seq, count FROM settlements").all()
                observed = time.time()
                for license_id, first_seq, count in rows:
                    if (license_id, first_seq) not in settled_at:
                        settled_at[(license_id, first_seq)] = (count, first_seq, observed)
                total_settled = sum(c for c, _, _ in settled_at.values())
                if total_settled >= args.uses and not thread.is_alive():
                    break
                time.sleep(0.02)
            thread.join()
            finished = max(t for _, _, t in settled_at.values()) if settled_at else time.time()

            with engine.connect() as conn:
                uses = conn.exec_driver_sql("SELECT license_id, seq, accepted_at FROM uses").all()
                gas = conn.exec_driver_sql(
                    "SELECT coalesce(sum(gas_used), 0), count(*) FROM settle_submissions WHERE status = 'mined'"
                ).one()
        finally:
            for process in reversed(processes):
                stop(process)

    from datetime import datetime

    latencies = []
    first_accept = None
    by_licence: dict[int, list[tuple[int, int, float]]] = {}
    for count, first_seq, observed in settled_at.values():
        pass
    for (license_id, first_seq), (count, _, observed) in settled_at.items():
        by_licence.setdefault(license_id, []).append((first_seq, count, observed))
    for license_id, seq, accepted_at in uses:
        accepted = datetime.fromisoformat(str(accepted_at))
        accepted = accepted if accepted.tzinfo else accepted.replace(tzinfo=timezone.utc)
        t_accept = accepted.timestamp()
        first_accept = t_accept if first_accept is None else min(first_accept, t_accept)
        for first_seq, count, observed in by_licence.get(license_id, []):
            if first_seq <= seq < first_seq + count:
                latencies.append((observed - t_accept) * 1000)
                break
    latencies.sort()
    settled = len(latencies)
    elapsed = finished - (first_accept or started)

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else float("nan")

    summary = {
        "uses": settled,
        "uses_per_s": round(settled / elapsed, 1) if elapsed > 0 else 0.0,
        "latency_ms": {"p50": pct(0.50), "p95": pct(0.95)},
        "gas_per_use": round(gas[0] / settled) if settled else None,
    }
    log(f"window {args.window if args.window is not None else 'default'} s: {settled}/{args.uses} uses settled in "
        f"{elapsed:.1f} s over {gas[1]} settle transactions ({gas[0]:,} gas); logs in {workdir}")
    log(f"409 retries: {reporters.resigned} reports were signed again with the number the API expected "
        f"({reporters.resigned / max(1, args.uses):.1%} of {args.uses})")
    if args.interval_mining:
        log(f"interval mining, a block every {args.interval_mining:g} s: no bar, the latency a brand sees there")
    else:
        p95, gas_per_use = summary["latency_ms"]["p95"], summary["gas_per_use"]
        met = (summary["uses_per_s"] >= BAR_USES_PER_S, p95 == p95 and p95 <= BAR_P95_MS,
               gas_per_use is not None and gas_per_use <= BAR_GAS_PER_USE)
        log(f"bar: {summary['uses_per_s']} uses/s >= {BAR_USES_PER_S}: {'met' if met[0] else 'MISSED'}; "
            f"p95 {p95} ms <= {BAR_P95_MS}: {'met' if met[1] else 'MISSED'}; "
            f"{gas_per_use} gas/use <= {BAR_GAS_PER_USE}: {'met' if met[2] else 'MISSED'}")
    print(json.dumps(summary), flush=True)
    return 0 if settled == args.uses else 1


if __name__ == "__main__":
    sys.exit(main())
