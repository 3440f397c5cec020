"""Sequence numbers stay gapless and unique when many reports of one licence arrive at once, on SQLite and on
PostgreSQL; copies of one report racing each other make one use."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from sqlmodel import Session

from twin_licensing.db.uses import Use
from twin_licensing.usage.intake import UseIntake, parse_report
from kit.uses import USDC, domain_of, signed_report

REPORTS = 60
THREADS = 12


@pytest.fixture
def licences(market, model, brand, brand2):
    twin = market.twin(model)
    offer = market.offer(model, twin, per_use_fee=USDC)
    return market.licence(brand, offer, 1_000 * USDC), market.licence(brand2, offer, 1_000 * USDC)


def hammer(target_engine, chain, licences, brand, brand2, sync_index) -> None:
    sync_index(target_engine)
    intake = UseIntake(target_engine, domain_of(chain), chain.deployment.genesis_hash)
    now = chain.timestamp()
    a, b = licences
    reports = [parse_report(signed_report(brand, domain_of(chain), a, f"a{i}", used_at=now)) for i in range(REPORTS)]
    reports += [parse_report(signed_report(brand2, domain_of(chain), b, f"b{i}", used_at=now)) for i in range(REPORTS)]
    duplicate = parse_report(signed_report(brand, domain_of(chain), a, "dup", used_at=now))
    reports += [duplicate] * THREADS
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(intake.submit, reports))
    assert sum(r.created for r in results) == 2 * REPORTS + 1
    assert len({r.use.use_id for r in results[-THREADS:]}) == 1  # the duplicate: one use, whoever came first
    with Session(target_engine) as session:
        for licence, count in ((a, REPORTS + 1), (b, REPORTS)):
            seqs = session.execute(select(Use.seq).where(Use.license_id == licence).order_by(Use.seq)).scalars().all()
            assert seqs == list(range(count)), f"licence {licence}: sequence numbers {seqs}"


def test_gapless_sequences_under_concurrency_sqlite(engine, chain, licences, brand, brand2, sync_index):
    hammer(engine, chain, licences, brand, brand2, sync_index)


def test_gapless_sequences_under_concurrency_postgres(pg_engine, chain, licences, brand, brand2, sync_index):
    hammer(pg_engine, chain, licences, brand, brand2, sync_index)
