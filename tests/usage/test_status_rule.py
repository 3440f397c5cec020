"""The one rule of an unsettled use's fate (`usage.status`): `verdict` per use, and `waiting_count`, which the
licence's uses_pending and the audit use (the rule as a condition on the uses table), count exactly the uses
`verdict` leaves waiting, whatever the skips, holds, limits, ends and category withdrawals."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlmodel import Session

from kit.uses import sqlite_engine
from twin_licensing.db.uses import Use
from twin_licensing.domain import skip_reasons
from twin_licensing.domain.use_record import HELD, REJECTED
from twin_licensing.usage.status import Unsettled, final_skips, verdict, waiting_count

CHAIN, GENESIS, LICENCE = 31337, "0x" + "ab" * 32, 7
SCOPE = (Use.chain_id == CHAIN, Use.genesis_hash == GENESIS)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return sqlite_engine(tmp_path_factory.mktemp("rule"))


skips = st.lists(st.tuples(st.integers(0, 40), st.integers(1, 10), st.integers(0, 10)), max_size=5)
holds = st.none() | st.tuples(st.integers(0, 40), st.just("why"), st.booleans())
uses = st.lists(st.tuples(st.integers(0, 100), st.integers(0, 3)), max_size=30)  # (used_at, category) by seq
category_ends = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 100), st.booleans()), max_size=3,
                         unique_by=lambda c: c[0])


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(settled=st.integers(0, 30), rows=uses, all_skips=skips, hold=holds, grace_over=st.booleans(),
       end=st.none() | st.integers(0, 100), max_uses=st.integers(0, 50), cats=category_ends)
def test_counts_agree_with_the_verdict_of_each_use(engine, settled, rows, all_skips, hold, grace_over, end, max_uses,
                                                   cats):
    facts = Unsettled(grace_over="over" if grace_over else None, end=end, max_uses=max_uses,
                      category_ends=tuple(cats), final_skips=final_skips(all_skips), hold=hold)
    high = settled + len(rows)
    with Session(engine) as session:
        session.execute(delete(Use))
        for n, (used_at, category) in enumerate(rows):
            seq = settled + n
            session.add(Use(chain_id=CHAIN, genesis_hash=GENESIS, license_id=LICENCE, twin_id=1, seq=seq,
                            use_ref="0x" + f"{seq:064x}", category=category, territory=0, used_at=used_at,
                            signer="0x" + "11" * 20, signature="0x", digest="0x" + f"{seq + 1:064x}",
                            accepted_at=datetime.now(timezone.utc)))
        session.commit()
        verdicts = [verdict(settled + n, facts, used_at, category) for n, (used_at, category) in enumerate(rows)]
        waiting = sum(1 for v in verdicts if v is None or v[0] != REJECTED)
        assert waiting_count(session, SCOPE, LICENCE, settled, high, facts) == waiting


def test_which_reasons_reject_and_which_hold():
    facts = Unsettled(final_skips=final_skips([(0, 2, skip_reasons.INSUFFICIENT_ESCROW), (2, 2, skip_reasons.GRACE_OVER),
                                               (4, 1, skip_reasons.BAD_SIGNATURE)]),
                      hold=(4, "a bad signature on file", False))
    assert verdict(0, facts) is None  # escrow short: not final, still waiting
    assert verdict(2, facts) == (REJECTED, skip_reasons.sentence(skip_reasons.GRACE_OVER))
    assert verdict(4, facts) == (HELD, "a bad signature on file")
    assert verdict(9, Unsettled(grace_over="ran out")) == (REJECTED, "ran out")
    assert verdict(5, Unsettled(hold=(3, "for good", True))) == (REJECTED, "for good")
    # Past the licence's limit, or signed at or after its end: never paid.
    assert verdict(40, Unsettled(max_uses=40))[0] == REJECTED and verdict(39, Unsettled(max_uses=40)) is None
    assert verdict(1, Unsettled(end=100), used_at=100)[0] == REJECTED
    assert verdict(1, Unsettled(end=100), used_at=99) is None
    # A withdrawn category: its uses signed before the withdrawal took effect wait for the grace, then are rejected.
    assert verdict(1, Unsettled(category_ends=((2, 50, False),)), used_at=49, category=2) is None
    assert verdict(1, Unsettled(category_ends=((2, 50, True),)), used_at=49, category=2)[0] == REJECTED
    assert verdict(1, Unsettled(category_ends=((2, 50, True),)), used_at=49, category=1) is None
