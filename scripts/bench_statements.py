"""Benchmark: the usage log and a month's statement over 1 000 000 settled uses on SQLite.

Seeds a fresh SQLite database directly (bulk inserts into the indexer's and the intake's real tables, not through
the chain): 30 twins of 30 models under 4 agencies (5 twins later add a crew member), 5 brands with a licence on
every twin, uses settled 100 per settlement over the last six whole months, and every payee withdrawing at each
month's end. Then measures:

- the first page of a model's usage log (`usage.log.usage_log_page`, the module the API serves);
- a filtered page deep in that log (one brand, one category, from a cursor half-way down);
- the model's statement for the last whole month, as CSV and as PDF (`statements`).

Usage: .venv/bin/python scripts/bench_statements.py [--uses 1000000] [--runs 40] [--keep PATH]
Its last line is one JSON object:
{"uses": N, "log_ms": {"p50": a, "p95": b}, "statement_ms": {"csv": c, "pdf": d}}
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

from sqlmodel import Session

from twin_licensing.db.engine import make_engine
from twin_licensing.db.migrate import upgrade_database
from twin_licensing.db.uses import ChainScope
from twin_licensing.domain.periods import month
from twin_licensing.domain.shares import split
from twin_licensing.statements.compute import build_statement
from twin_licensing.statements.render import Names, to_csv, to_pdf
from twin_licensing.usage.log import LogFilters, encode_cursor, usage_log_page

CHAIN_ID = 31337
GENESIS = "0x" + "ab" * 32
TWINS, BRANDS, AGENCIES = 30, 5, 4
PER_SETTLEMENT = 100
USDC = 10**6


def address(kind: int, n: int) -> str:
    return "0x" + f"{kind:02x}" + f"{n:038x}"


def hexhash(*parts: object) -> str:
    return "0x" + hashlib.sha256(repr(parts).encode()).hexdigest()


def stamp(unix: float) -> str:
    """How SQLAlchemy stores a DateTime on SQLite (naive UTC)."""
    return datetime.fromtimestamp(unix, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def months_back(now: datetime, n: int) -> int:
    year, number = now.year, now.month - n
    while number < 1:
        number += 12
        year -= 1
    return int(datetime(year, number, 1, tzinfo=timezone.utc).timestamp())


class Seeder:
    def __init__(self, conn, total_uses: int, now: datetime) -> None:
        self.conn = conn
        self.total = total_uses
        self.start = months_back(now, 6)
        self.end = months_back(now, 0)
        self.block = 100
        self.events: list[tuple] = []
        self.earnings: list[tuple] = []
        self.undistributed = [0] * (TWINS + 1)
        self.payees = {t: [(address(0xAA, t), 8_000), (address(0x0A, t % AGENCIES), 2_000)]
                       for t in range(1, TWINS + 1)}
        self.balances: dict[str, int] = {}

    def event(self, name: str, time_: int, *, twin=None, licence=None, account=None, args="{}", contract="LicenseToken"):
        self.block += 1
        tx = hexhash("tx", self.block, name)
        self.events.append((CHAIN_ID, tx, 0, self.block, hexhash("block", self.block), time_, 0, contract, name,
                            twin, licence, None, account, args, 1))
        return self.block, tx

    def payees_set(self, twin: int, time_: int) -> None:
        accounts, shares = zip(*self.payees[twin])
        self.event("PayeesSet", time_, twin=twin, contract="TwinRegistry",
                   args=json.dumps({"twinId": twin, "accounts": list(accounts), "sharesBps": list(shares)}))

    def distribute(self, twin: int, time_: int) -> None:
        amount = self.undistributed[twin]
        if not amount:
            return
        self.undistributed[twin] = 0
        parts = split(amount, [bps for _, bps in self.payees[twin]])
        for (account, _), part in list(zip(self.payees[twin], parts))[1:] + [(self.payees[twin][0], parts[0])]:
            if part:
                block, tx = self.event("EarningsDistributed", time_, twin=twin, account=account)
                self.earnings.append((CHAIN_ID, tx, 0, account, "distributed", twin, part, block, time_))
                self.balances[account] = self.balances.get(account, 0) + part

    def month_end(self, time_: int) -> None:
        for twin in range(1, TWINS + 1):
            self.distribute(twin, time_)
        for account, balance in sorted(self.balances.items()):
            if balance:
                block, tx = self.event("Withdrawn", time_, account=account)
                self.earnings.append((CHAIN_ID, tx, 0, account, "withdrawn", None, balance, block, time_))
                self.balances[account] = 0

    def run(self) -> None:
        c = self.conn
        twins = [(CHAIN_ID, t, address(0xAA, t), f"data:application/json,{{\"name\":\"Twin {t}\"}}", "0x" + "00" * 32,
                  0, 0, 0, 0, 0, 0, 0, self.start, "0x" + "00" * 32, 0) for t in range(1, TWINS + 1)]
        c.executemany(
            "INSERT INTO twins (chain_id, twin_id, model, uri, consent_hash, revocation_effective_at, earned, "
            "distributed, undistributed, uses_settled, licenses_sold, registered_block, registered_time, registered_tx, "
            "updated_block) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", twins)
        for t in range(1, TWINS + 1):
            self.payees_set(t, self.start - 2 * 86_400)
        licences = []
        fee_of: dict[int, int] = {}
        twin_of: dict[int, int] = {}
        holder_of: dict[int, str] = {}
        for t in range(1, TWINS + 1):
            for b in range(BRANDS):
                lid = len(licences) + 1
                fee = 2 * USDC + 10_007 * lid
                brand = address(0xBB, b)
                block, tx = self.event("LicensePurchased", self.start - 86_400, twin=t, licence=lid, account=brand)
                licences.append((CHAIN_ID, lid, 1, t, brand, brand, 50 * USDC, fee, 0, 0b111, 0b11, 0, 0,
                                 self.start - 86_400, self.end + 365 * 86_400, 0, 0, 0, 0, 0, block, tx, block))
                self.undistributed[t] += 50 * USDC
                fee_of[lid], twin_of[lid], holder_of[lid] = fee, t, brand
        slots = self.total // PER_SETTLEMENT
        span = (self.end - self.start - 86_400) / slots
        next_seq = {lid: 0 for lid in fee_of}
        rng = random.Random(12)
        settlements, uses = [], []
        month_ends = sorted({months_back(datetime.fromtimestamp(self.start, timezone.utc), -k) - 1 for k in range(1, 7)})
        changed = False
        for i in range(slots):
            at = int(self.start + i * span)
            while month_ends and at >= month_ends[0]:
                self.month_end(month_ends.pop(0))
            if not changed and at >= self.start + 75 * 86_400:  # mid-way: five twins add a crew member
                changed = True
                for t in range(1, 6):
                    self.distribute(t, at)
                    self.payees[t] = [(address(0xAA, t), 8_000), (address(0x0A, t % AGENCIES), 1_500),
                                      (address(0x0C, t), 500)]
                    self.payees_set(t, at)
            lid = rng.randrange(1, len(licences) + 1)
            first = next_seq[lid]
            next_seq[lid] += PER_SETTLEMENT
            for k in range(PER_SETTLEMENT):
                seq = first + k
                accepted = at - PER_SETTLEMENT + k
                uses.append((lid, hexhash("ref", lid, seq), (seq * 7 + lid) % 3, seq % 2, accepted, CHAIN_ID, GENESIS,
                             seq, twin_of[lid], holder_of[lid], "0x" + "11" * 65, hexhash("digest", lid, seq), None,
                             stamp(accepted + k / 1000)))
            amount = PER_SETTLEMENT * fee_of[lid]
            block, tx = self.event("UsesSettled", at + 5, twin=twin_of[lid], licence=lid)
            settlements.append((CHAIN_ID, lid, first, PER_SETTLEMENT, twin_of[lid], amount, hexhash("root", lid, first),
                                holder_of[lid], tx, 0, block, at + 5))
            self.undistributed[twin_of[lid]] += amount
            if len(uses) >= 200_000:
                self._uses(uses)
                uses.clear()
        self._uses(uses)
        while month_ends:
            self.month_end(month_ends.pop(0))
        c.executemany("INSERT INTO licenses (chain_id, license_id, offer_id, twin_id, buyer, holder, upfront_fee, "
                      "per_use_fee, max_uses, categories, territories, exclusive, transferable, started_at, expiry, "
                      "escrow, escrow_deposited, escrow_spent, escrow_reclaimed, uses_settled, purchased_block, "
                      "purchased_tx, updated_block) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", licences)
        c.executemany("INSERT INTO settlements (chain_id, license_id, first_seq, count, twin_id, amount, uses_root, "
                      "holder, tx_hash, log_index, block_number, block_time) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                      settlements)
        c.executemany("INSERT INTO earnings (chain_id, tx_hash, log_index, payee, kind, twin_id, amount, block_number, "
                      "block_time) VALUES (?,?,?,?,?,?,?,?,?)", self.earnings)
        c.executemany("INSERT INTO chain_events (chain_id, tx_hash, log_index, block_number, block_hash, block_time, "
                      "tx_index, contract, name, twin_id, license_id, offer_id, account, args, final) "
                      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", self.events)
        current = [(CHAIN_ID, t, pos, account, bps, ("model", "agency", "crew")[pos], 0)
                   for t, payees in self.payees.items() for pos, (account, bps) in enumerate(payees)]
        c.executemany("INSERT INTO twin_payees (chain_id, twin_id, position, account, share_bps, role, since_block) "
                      "VALUES (?,?,?,?,?,?,?)", current)
        c.execute("INSERT INTO index_cursors (chain_id, genesis_hash, twin_registry, license_token, deployment_block, "
                  "block_number, block_hash, final_block, events) VALUES (?,?,?,?,?,?,?,?,?)",
                  (CHAIN_ID, GENESIS, address(0xEE, 1), address(0xEE, 2), 100, self.block, hexhash("block", self.block),
                   self.block, len(self.events)))
        c.commit()

    def _uses(self, rows: list[tuple]) -> None:
        self.conn.executemany(
            "INSERT INTO uses (license_id, use_ref, category, territory, used_at, chain_id, genesis_hash, seq, twin_id, "
            "signer, signature, digest, label, accepted_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1000, out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uses", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40, help="timed runs of each log query")
    parser.add_argument("--keep", help="write the database here instead of a temporary directory")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory(prefix="bench-statements-")
    path = Path(args.keep) if args.keep else Path(scratch.name) / "bench.db"
    path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    now = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    raw = engine.raw_connection()
    try:
        seeder = Seeder(raw.driver_connection, args.uses, now)
        seeder.run()
        raw.driver_connection.execute("ANALYZE")
    finally:
        raw.close()
    total = (args.uses // PER_SETTLEMENT) * PER_SETTLEMENT
    print(f"seeded {total} settled uses, {len(seeder.events)} events in {time.perf_counter() - t0:.1f} s "
          f"({path.stat().st_size / 1e6:.0f} MB)", flush=True)

    scope = ChainScope(CHAIN_ID, GENESIS)
    model, twins = address(0xAA, 1), [1]
    log_ms: list[float] = []
    with Session(engine) as session:
        # A cursor half-way down the twin's log, as a person paging through it would hold.
        deep = session.execute(
            __import__("sqlalchemy").text(
                "SELECT accepted_at, use_id FROM uses WHERE twin_id = 1 ORDER BY accepted_at DESC, use_id DESC "
                "LIMIT 1 OFFSET :n"), {"n": total // TWINS // 2}).first()
        cursor = encode_cursor(SimpleNamespace(accepted_at=datetime.fromisoformat(str(deep[0])), use_id=deep[1]))
        filters = LogFilters(brand=address(0xBB, 2), category=1)
        first_ms, deep_ms = [], []
        for _ in range(args.runs):
            ms, page = timed(lambda: usage_log_page(session, scope, twins, LogFilters(), limit=50))
            assert len(page.entries) == 50
            first_ms.append(ms)
            ms, page = timed(lambda: usage_log_page(session, scope, twins, filters, cursor=cursor, limit=50))
            assert page.entries and all(e.category == 1 for e in page.entries)
            deep_ms.append(ms)
        log_ms = first_ms + deep_ms
        print(f"usage log, first page of a model's log: p50 {pct(first_ms, .5)} ms, p95 {pct(first_ms, .95)} ms",
              flush=True)
        print(f"usage log, filtered page half-way down (brand + category): p50 {pct(deep_ms, .5)} ms, "
              f"p95 {pct(deep_ms, .95)} ms", flush=True)

        period = month(datetime.fromtimestamp(months_back(now, 1), timezone.utc).strftime("%Y-%m"))
        csv_runs, pdf_runs = [], []
        for _ in range(3):
            ms, text = timed(lambda: to_csv(build_statement(session, CHAIN_ID, model, period, now=int(now.timestamp())),
                                            Names()))
            csv_runs.append(ms)
            ms, pdf = timed(lambda: to_pdf(build_statement(session, CHAIN_ID, model, period, now=int(now.timestamp())),
                                           Names()))
            pdf_runs.append(ms)
        statement = build_statement(session, CHAIN_ID, model, period, now=int(now.timestamp()))
        print(f"statement {period.label} of the model of twin 1: {statement.uses} uses, {len(statement.lines)} lines, "
              f"{len(statement.withdrawals)} withdrawals, ties: {statement.ties}; CSV {len(text)} bytes, "
              f"PDF {len(pdf)} bytes", flush=True)
        assert statement.ties
    engine.dispose()
    print(json.dumps({"uses": total, "log_ms": {"p50": pct(log_ms, .5), "p95": pct(log_ms, .95)},
                      "statement_ms": {"csv": round(statistics.median(csv_runs), 1),
                                       "pdf": round(statistics.median(pdf_runs), 1)}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
