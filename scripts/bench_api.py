#!/usr/bin/env python3
"""Benchmark of the read API: the catalogue and earnings endpoints under load (prints numbers, is not a test).

Builds the system in a scratch directory: a local node, the deployment, the demo seed (30 twins), 50 licences and
10 000 uses settled on chain by the recorder, all indexed into a fresh SQLite database. Then serves the API with
one uvicorn worker (`twinctl serve`) and loads it from a second process for `--duration` seconds (>= 10), over
loopback only, with `--connections` keep-alive connections. Everything it starts is stopped by PID at the end.

The last line is one JSON object: {"rps": r, "latency_ms": {"p50": a, "p99": b}}. Target: r >= 1000, b <= 60.

    .venv/bin/python scripts/bench_api.py [--duration 12] [--connections 8] [--uses 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TWINCTL = ROOT / ".venv" / "bin" / "twinctl"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, body: bytes | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
            with urllib.request.urlopen(request, timeout=2):
                return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


# ------------------------------------------------------------------ data: licences and settled uses on chain


def settle_uses(rpc_url: str, deployments: Path, uses: int, per_item: int = 10) -> int:
    """Buys 50 licences (5 brands x 10 twins) and settles `uses` uses over them as the recorder. Returns items."""
    sys.path.insert(0, str(ROOT / "backend"))
    from twin_licensing.chain.client import Chain
    from twin_licensing.chain.deployment import read_deployment
    from twin_licensing.chain.keys import dev_account
    from eth_utils import keccak

    from twin_licensing.chain.settlement import SKIP_EVENT, SettleItem, compact_signature
    from twin_licensing.chain.use_reports import UseReport, UseReportDomain, sign_report
    from twin_licensing.seed import data

    deployment = read_deployment(deployments, 31337)
    chain = Chain.connect(rpc_url, ROOT / "artifacts", deployment)
    brands = [dev_account(b.index) for b in data.BRANDS]
    licences: list[tuple[int, int, int]] = []  # (licence id, its categories: each item's mask, its territories)
    n_licences = len(brands) * 10
    per_licence = -(-uses // n_licences)
    first_offer: dict[int, tuple[int, int]] = {}  # twin -> (offer id, per-use fee) of its first offer
    for offer_id in range(1, chain.call("LicenseToken", "offerCount") + 1):
        offer = chain.call("LicenseToken", "offer", offer_id)
        first_offer.setdefault(offer[0], (offer_id, offer[2][1]))
    pending = []
    for brand in brands:
        chain.transact(brand, "PaymentToken", "approve", deployment.license_token, 2**255)
        for twin_id in range(1, 11):
            offer_id, per_use = first_offer[twin_id]
            pending.append(chain.transact(brand, "LicenseToken", "buyLicense", offer_id, per_use * per_licence,
                                          wait=False))
    for tx in pending:
        chain.wait(tx)
    first_new = chain.call("LicenseToken", "licenseCount") - len(pending) + 1  # the seed may have sold some before
    for license_id in range(first_new, first_new + len(pending)):
        terms = chain.call("LicenseToken", "licenseTerms", license_id)
        licences.append((license_id, terms[3], terms[4]))
    # Each item carries its holder's signature over its last use (the contract pays only what the holder signed).
    domain = UseReportDomain(chain.chain_id, deployment.license_token)
    key_of = {brand.address: brand.key for brand in brands}
    holder_key = {lid: key_of[chain.call("LicenseToken", "ownerOf", lid)] for lid, _, _ in licences}
    used_at = chain.w3.eth.get_block("latest")["timestamp"]  # inside every licence's term: each item pays

    def lowest(mask: int) -> int:
        return (mask & -mask).bit_length() - 1

    recorder = dev_account(data.RECORDER)
    items = []
    settled = {license_id: 0 for license_id, _, _ in licences}
    left = uses
    rng = random.Random(7)
    while left > 0:
        for license_id, categories, territories in licences:
            if left <= 0:
                break
            count = min(per_item, left)
            first = settled[license_id]
            use_ref = "0x" + rng.randbytes(32).hex()
            category, territory = lowest(categories), lowest(territories)
            last = UseReport(license_id, first + count - 1, use_ref, category, territory, used_at)
            sig_r, sig_vs = compact_signature(sign_report(holder_key[license_id], domain, last))
            items.append(SettleItem(license_id, first, count, "0x" + rng.randbytes(32).hex(), categories, use_ref,
                                    category, territory, used_at, sig_r, sig_vs).as_tuple())
            settled[license_id] += count
            left -= count
    txs = [chain.transact(recorder, "LicenseToken", "settle", items[i : i + 100], wait=False)
           for i in range(0, len(items), 100)]
    skip_topic = "0x" + keccak(text=SKIP_EVENT).hex()
    for tx in txs:
        skipped = [log for log in chain.wait(tx).logs if log.topics and log.topics[0].lower() == skip_topic]
        if skipped:
            raise RuntimeError(f"settle skipped {len(skipped)} items: the data would not hold {uses} settled uses")
    return len(items)


# ------------------------------------------------------------------ the load, in a second process


async def _client(host: str, port: int, paths: list[str], until: float, latencies: list[float], errors: list[int],
                  seed: int) -> None:
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            path = rng.choice(paths)
            started = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


def _load(host: str, port: int, paths: list[str], duration: float, connections: int, out: str) -> None:
    async def main() -> tuple[list[float], list[int], float]:
        latencies: list[float] = []
        errors: list[int] = []
        started = time.perf_counter()
        until = started + duration
        await asyncio.gather(*(_client(host, port, paths, until, latencies, errors, i) for i in range(connections)))
        return latencies, errors, time.perf_counter() - started

    latencies, errors, elapsed = asyncio.run(main())
    Path(out).write_text(json.dumps({"latencies": latencies, "errors": errors, "elapsed": elapsed}))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=12.0, help="seconds of load (at least 10)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections")
    parser.add_argument("--uses", type=int, default=10_000, help="settled uses in the data")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (logs, database)")
    args = parser.parse_args()
    args.duration = max(10.0, min(args.duration, 120.0))

    scratch = Path(tempfile.mkdtemp(prefix="bench-api-"))
    node_port, api_port = free_port(), free_port()
    env = dict(os.environ)
    env.update(TWIN_VAR_DIR=str(scratch / "var"), TWIN_DEPLOYMENTS_DIR=str(scratch / "deployments"),
               TWIN_RPC_URL=f"http://127.0.0.1:{node_port}")
    env.pop("DATABASE_URL", None)
    env.pop("TWIN_DATABASE_URL", None)
    processes: list[subprocess.Popen] = []

    def start(name: str, *command: str) -> subprocess.Popen:
        out = open(scratch / f"{name}.log", "w")  # noqa: SIM115
        process = subprocess.Popen([str(TWINCTL), *command], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    try:
        started = time.monotonic()
        start("node", "node", "--port", str(node_port))
        wait_http(env["TWIN_RPC_URL"], 60, b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}')
        for command in ("deploy", "seed"):
            subprocess.run([str(TWINCTL), command], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
        items = settle_uses(env["TWIN_RPC_URL"], scratch / "deployments", args.uses)
        indexed = subprocess.run([str(TWINCTL), "index", "--once", "--no-progress"], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=300)
        if indexed.returncode != 0:
            raise RuntimeError(f"twinctl index --once failed:\n{indexed.stdout[-2000:]}{indexed.stderr[-2000:]}")
        log(f"data: seed + 50 licences + {args.uses} settled uses in {items} items, indexed "
            f"({time.monotonic() - started:.0f} s)")

        start("api", "serve", "--port", str(api_port))
        base = f"http://127.0.0.1:{api_port}"
        wait_http(base + "/health", 60)
        accounts = json.loads((scratch / "deployments" / "31337.accounts.json").read_text())["accounts"]
        payees = [a["address"] for a in accounts if a["role"] in ("model", "agency", "crew")]
        catalogue = ["/api/v1/twins", "/api/v1/twins?available=true&limit=24", "/api/v1/twins?offset=20"]
        catalogue += [f"/api/v1/twins?category={c}&available=true" for c in range(8)]
        catalogue += [f"/api/v1/twins?territory={t}" for t in range(8)]
        catalogue += [f"/api/v1/twins?min_fee={f * 1_000_000}&max_fee={(f + 10) * 1_000_000}" for f in (0, 2, 5, 10, 20)]
        earnings = [f"/api/v1/earnings/{p}" for p in payees]
        paths = catalogue + earnings
        for path in paths:  # warm-up: each answer computed once, as after any new block
            with urllib.request.urlopen(base + path, timeout=30) as response:
                assert response.status == 200, path
        sample = json.loads(urllib.request.urlopen(base + "/api/v1/earnings/" + payees[0], timeout=30).read())
        log(f"earnings of {payees[0]}: chain claimable {sample['chain']['claimable']}, agree={sample['agree']}, "
            f"{sum(b['uses'] for b in sample['by_brand'])} uses")

        out = scratch / "load.json"
        ctx = multiprocessing.get_context("spawn")
        loader = ctx.Process(target=_load, args=("127.0.0.1", api_port, paths, args.duration, args.connections, str(out)))
        loader.start()
        loader.join(timeout=args.duration + 60)
        if loader.is_alive():
            loader.kill()
            raise RuntimeError("the load process did not finish")
        result = json.loads(out.read_text())
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in reversed(processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)

    latencies = result["latencies"]
    rps = len(latencies) / result["elapsed"]
    p50, p99 = percentile(latencies, 0.50) * 1000, percentile(latencies, 0.99) * 1000
    log(f"{len(latencies)} requests in {result['elapsed']:.1f} s over {args.connections} connections "
        f"({len(paths)} URLs: {len(catalogue)} catalogue, {len(earnings)} earnings); non-200: {len(result['errors'])}")
    log(f"p90 {percentile(latencies, 0.9) * 1000:.2f} ms, max {max(latencies) * 1000:.2f} ms")
    print(json.dumps({"rps": round(rps, 1), "latency_ms": {"p50": round(p50, 2), "p99": round(p99, 2)}}))
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
