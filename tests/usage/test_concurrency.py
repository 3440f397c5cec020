"""Sequence numbers stay gapless and unique when many reports of one licence arrive at once, on SQLite and on
PostgreSQL (the reporters sign again on a sequence mismatch); copies of one report racing each other make one use.
Two API processes on one PostgreSQL: tests/usage/test_two_api_processes.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from sqlmodel import Session

from twin_licensing.db.uses import Use
from twin_licensing.usage.intake import UseIntake, parse_report
from kit.uses import USDC, domain_of, signed_report, submit_report

REPORTS = 60
THREADS = 12


@pytest.fixture
def licences(market, model, brand, brand2):
    twin = market.twin(model)
    offer = market.offer(model, twin, per_use_fee=USDC)
    return market.licence(brand, offer, 1_000 * USDC), market.licence(brand2, offer, 1_000 * USDC)


def hammer(target_engine, chain, licences, brand, brand2, sync_index) -> None:
    """Reporters of both licences at once, each signing the number it believes next and signing again with the
    expected one on a 409 (as the web client does); then copies of one signed report racing each other."""
    sync_index(target_engine)
    domain = domain_of(chain)
    intake = UseIntake(target_engine, domain, chain.deployment.genesis_hash)
    now = chain.timestamp()
    a, b = licences
    jobs = [(brand, a, f"a{i}") for i in range(REPORTS)] + [(brand2, b, f"b{i}") for i in range(REPORTS)]
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda job: submit_report(intake, job[0], domain, job[1], job[2], used_at=now), jobs))
    assert all(r.created for r in results)
    duplicate = parse_report(signed_report(brand, domain, a, "dup", seq=REPORTS, used_at=now))
    with ThreadPoolExecutor(THREADS) as pool:
        copies = list(pool.map(intake.submit, [duplicate] * THREADS))
    assert sum(r.created for r in copies) == 1
    assert len({r.use.use_id for r in copies}) == 1  # the duplicate: one use, whoever came first
    with Session(target_engine) as session:
        for licence, count in ((a, REPORTS + 1), (b, REPORTS)):
            seqs = session.execute(select(Use.seq).where(Use.license_id == licence).order_by(Use.seq)).scalars().all()
            assert seqs == list(range(count)), f"licence {licence}: sequence numbers {seqs}"


def test_gapless_sequences_under_concurrency_sqlite(engine, chain, licences, brand, brand2, sync_index):
    hammer(engine, chain, licences, brand, brand2, sync_index)


def test_gapless_sequences_under_concurrency_postgres(pg_engine, chain, licences, brand, brand2, sync_index):
    hammer(pg_engine, chain, licences, brand, brand2, sync_index)
