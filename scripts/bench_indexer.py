#!/usr/bin/env python3
"""Indexer benchmark (prints numbers, is not a test).

On a fresh local Hardhat node: deploys, emits N events (default 100 000, nearly all `UsesSettled`), then measures
  (a) raw `eth_getLogs` over the whole range, no decoding or storage: the ceiling;
  (b) a full backfill by the indexer into a fresh SQLite database;
  (c) block-to-row latency while following: the indexer runs as its own process (`twinctl index`), one
      transaction per block is sent, and the time from the block being mined to its row being visible in the
      database is taken over at least 200 blocks.
The last line printed is one JSON object:
  {"events": N, "indexer_events_per_s": x, "raw_events_per_s": r, "latency_ms": {"p50": a, "p95": b}}

    .venv/bin/python scripts/bench_indexer.py [--events 100000] [--latency-blocks 200]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

from eth_abi import encode  # noqa: E402
from eth_utils import keccak  # noqa: E402

from twin_licensing.chain.client import Chain  # noqa: E402
from twin_licensing.chain.deploy import deploy  # noqa: E402
from twin_licensing.chain.keys import dev_account  # noqa: E402
from twin_licensing.chain.logs import RpcClient, parse_logs  # noqa: E402
from twin_licensing.chain.node import LocalNode  # noqa: E402
from twin_licensing.chain.settlement import SettleItem, compact_signature, skips_of  # noqa: E402
from twin_licensing.chain.use_reports import UseReport, UseReportDomain, sign_report  # noqa: E402
from twin_licensing.indexer.service import build_indexer  # noqa: E402
from twin_licensing.domain.vocabulary import AGENCY, MODEL  # noqa: E402
from twin_licensing.seed import data  # noqa: E402
from twin_licensing.seed.seeder import attest_as_guild  # noqa: E402
from twin_licensing.settings import get_settings  # noqa: E402

# TwinTypes.SettleItem: licenseId, firstSeq, count, usesRoot, categories, then the holder-signed last report
# (useRef, category, territory, usedAt) and its EIP-2098 compact signature (r, vs).
ITEM_TYPE = "(uint256,uint32,uint32,bytes32,uint8,bytes32,uint8,uint8,uint64,bytes32,bytes32)[]"
SETTLE = keccak(text=f"settle({ITEM_TYPE})")[:4]
ITEMS_PER_TX = 200  # Hardhat executes a settle of <= ~300 items fast; larger ones slow it down sharply
GAS_PER_ITEM = 60_000  # an item checks its signature on chain (~30k gas measured); this leaves headroom
LICENSES = 8


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Emitter:
    """Drives the contracts: a twin, an offer and a few licences, then settlements as fast as the node mines."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.w3 = chain.w3
        self.model = dev_account(data.MODEL_INDICES[0])
        self.agency = dev_account(data.AGENCIES[0].index)
        self.brand = dev_account(data.BRANDS[0].index)
        self.recorder = dev_account(data.RECORDER)
        self.token = chain.deployment.license_token
        self.seq: dict[int, int] = {}
        self.nonce = 0
        self.domain = UseReportDomain(chain.chain_id, self.token)
        self.used_at = 0

    def setup(self) -> None:
        c = self.chain
        payees = [(self.model.address, 8_000, MODEL), (self.agency.address, 2_000, AGENCY)]
        attest_as_guild(c, [(self.model.address, MODEL, "bench model")])
        c.transact(self.model, "TwinRegistry", "registerTwin", "ipfs://bench", b"\x01" * 32, payees, gas=900_000)
        c.transact(self.agency, "TwinRegistry", "acceptPayee", 1, gas=200_000)
        c.transact(self.model, "LicenseToken", "publishOffer", 1, (0, 1, 10**8, 0, 1, 1, False, False, 0), gas=400_000)
        c.transact(self.brand, "PaymentToken", "faucet", self.brand.address, 10**12)
        c.transact(self.brand, "PaymentToken", "approve", self.token, 2**255)
        for license_id in range(1, LICENSES + 1):
            c.transact(self.brand, "LicenseToken", "buyLicense", 1, 10**12 // LICENSES, gas=700_000)
            self.seq[license_id] = 0
        # Every report is dated at the last purchase: inside each licence's term, so every item pays.
        self.used_at = self.w3.eth.get_block("latest")["timestamp"]
        self.nonce = self.w3.eth.get_transaction_count(self.recorder.address, "pending")

    def settle_raw(self, count: int) -> bytes:
        items = []
        for n in range(count):
            license_id = 1 + n % LICENSES
            items.append(self.item(license_id, self.seq[license_id]))
            self.seq[license_id] += 1
        tx = {"to": self.token, "data": SETTLE + encode([ITEM_TYPE], [items]),
              "gas": 1_000_000 + GAS_PER_ITEM * count, "nonce": self.nonce, "chainId": self.chain.chain_id, "maxFeePerGas": 100 * 10**9,
              "maxPriorityFeePerGas": 1, "value": 0}
        self.nonce += 1
        return self.recorder.sign_transaction(tx).raw_transaction

    def item(self, license_id: int, seq: int) -> tuple:
        """A one-use item whose report the brand (the holder) signed, as the settler builds it."""
        use_ref = "0x" + os.urandom(32).hex()
        report = UseReport(license_id, seq, use_ref, 0, 0, self.used_at)  # the offer's category and territory
        sig_r, sig_vs = compact_signature(sign_report(self.brand.key, self.domain, report))
        return SettleItem(license_id, seq, 1, "0x" + os.urandom(32).hex(), 0b1, use_ref, 0, 0, self.used_at,
                          sig_r, sig_vs).as_tuple()

    def emit(self, events: int) -> None:
        sent, last = 0, None
        while sent < events:
            count = min(ITEMS_PER_TX, events - sent)
            last = self.w3.eth.send_raw_transaction(self.settle_raw(count))
            sent += count
        receipt = self.w3.eth.wait_for_transaction_receipt(last, timeout=600, poll_latency=0.05)
        assert receipt["status"] == 1, "a settle transaction failed"
        skipped = skips_of(receipt["logs"], self.token)
        assert not skipped, f"settle skipped items (a report the contract refuses): {skipped[:3]}"
        # A few events of other kinds: the agency withdraws (earnings split to both payees, then paid).
        self.chain.resync_nonces()
        self.chain.transact(self.agency, "LicenseToken", "withdraw", gas=500_000)


def raw_rate(url: str, addresses: list[str], first: int, last: int, events: int) -> float:
    """Best of a few passes of plain eth_getLogs (parsed, nothing else) over the range, in ~10k-log requests."""
    client = RpcClient(url, timeout=120)
    blocks_per_request = max(1, (last - first + 1) * 10_000 // max(events, 1))
    best = 0.0
    for _ in range(2):
        started, got = time.perf_counter(), 0
        for start in range(first, last + 1, blocks_per_request):
            got += len(parse_logs(client.get_logs_body(start, min(last, start + blocks_per_request - 1), addresses)))
        best = max(best, got / (time.perf_counter() - started))
    return best


def follow_latency(settings, emitter: Emitter, db_path: Path, blocks: int) -> list[float]:
    env = {**os.environ, "TWIN_RPC_URL": settings.rpc_url, "DATABASE_URL": f"sqlite:///{db_path}",
           "TWIN_DEPLOYMENTS_DIR": str(settings.deployments_dir), "PYTHONPATH": str(ROOT / "backend")}
    process = subprocess.Popen([sys.executable, "-m", "twin_licensing.cli", "index", "--no-progress"], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        conn = sqlite3.connect(db_path, timeout=30)

        def indexed() -> int:
            try:
                row = conn.execute("SELECT block_number FROM index_cursors").fetchone()
            except sqlite3.OperationalError:  # not migrated yet
                return -1
            return row[0] if row else -1

        deadline = time.monotonic() + 300
        while indexed() < emitter.w3.eth.block_number:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the indexer process did not catch up")
            time.sleep(0.05)
        samples = []
        for _ in range(blocks):
            time.sleep(random.uniform(0.02, 0.08))  # blocks at irregular moments, as on a real chain
            raw = emitter.settle_raw(1)
            emitter.w3.eth.send_raw_transaction(raw)  # automine: the block exists when this returns
            mined = time.perf_counter()
            block = emitter.w3.eth.block_number
            while indexed() < block:
                time.sleep(0.0005)
            samples.append((time.perf_counter() - mined) * 1000)
        return samples
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--latency-blocks", type=int, default=200)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-indexer-"))
    node = LocalNode(ROOT, log_path=work / "node.log").start()
    try:
        bare = Chain.connect(node.url, ROOT / "artifacts")
        bare.rpc("hardhat_setLoggingEnabled", [False])  # its console log would slow the node down
        deployed = deploy(bare, dev_account(data.ADMIN), work / "deployments",
                          guild=dev_account(data.GUILD).address, recorder=dev_account(data.RECORDER).address)
        chain = bare.bind(deployed.deployment)
        emitter = Emitter(chain)
        emitter.setup()
        say(f"emitting {args.events} events on {node.url} ...")
        started = time.perf_counter()
        emitter.emit(args.events)
        head = chain.w3.eth.block_number
        say(f"  emitted in {time.perf_counter() - started:.1f} s, blocks {deployed.deployment.block_number}..{head}")

        addresses = [deployed.deployment.twin_registry, deployed.deployment.license_token]
        first = deployed.deployment.block_number
        total = len(parse_logs(RpcClient(node.url, timeout=120).get_logs_body(first, head, addresses)))
        raw = raw_rate(node.url, addresses, first, head, total)
        say(f"(a) raw eth_getLogs: {total} events, {raw:,.0f} events/s")

        db_path = work / "index.db"
        settings = get_settings(rpc_url=node.url, deployments_dir=work / "deployments", var_dir=work,
                                database_url=f"sqlite:///{db_path}")
        indexer = build_indexer(settings)  # migrates the fresh database first
        started = time.perf_counter()
        cursor = indexer.sync()
        elapsed = time.perf_counter() - started
        indexed = cursor.events
        rate = indexed / elapsed
        say(f"(b) backfill: {indexed} events in {elapsed:.2f} s, {rate:,.0f} events/s ({rate / raw:.2f} of raw)")
        indexer.engine.dispose()

        chain.resync_nonces()
        emitter.nonce = chain.w3.eth.get_transaction_count(emitter.recorder.address, "pending")
        samples = follow_latency(settings, emitter, db_path, args.latency_blocks)
        p50 = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[18]
        say(f"(c) block-to-row latency over {len(samples)} blocks: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    finally:
        node.stop()
    print(json.dumps({"events": indexed, "indexer_events_per_s": round(rate), "raw_events_per_s": round(raw),
                      "latency_ms": {"p50": round(p50, 1), "p95": round(p95, 1)}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
