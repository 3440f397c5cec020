"""The one rule of an unsettled use's fate (`usage.status`): `verdict` per use, and `waiting_count` /
`rejected_count`, which the licence's uses_pending and the audit use, count exactly the uses `verdict` leaves
waiting or rejects, whatever the skips and holds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from twin_licensing.domain import skip_reasons
from twin_licensing.domain.use_record import HELD, REJECTED
from twin_licensing.usage.status import Unsettled, final_skips, rejected_count, verdict, waiting_count

skips = st.lists(st.tuples(st.integers(0, 40), st.integers(1, 10), st.integers(0, 10)), max_size=5)
holds = st.none() | st.tuples(st.integers(0, 40), st.just("why"), st.booleans())


@given(settled=st.integers(0, 30), extra=st.integers(0, 30), all_skips=skips, hold=holds, grace_over=st.booleans())
def test_counts_agree_with_the_verdict_of_each_use(settled, extra, all_skips, hold, grace_over):
    facts = Unsettled(grace_over="over" if grace_over else None, final_skips=final_skips(all_skips), hold=hold)
    high = settled + extra
    verdicts = [verdict(seq, facts) for seq in range(settled, high)]
    rejected = sum(1 for v in verdicts if v is not None and v[0] == REJECTED)
    assert rejected_count(settled, high, facts) == rejected
    assert waiting_count(settled, high, facts) == extra - rejected


def test_which_reasons_reject_and_which_hold():
    facts = Unsettled(final_skips=final_skips([(0, 2, skip_reasons.INSUFFICIENT_ESCROW), (2, 2, skip_reasons.GRACE_OVER),
                                               (4, 1, skip_reasons.BAD_SIGNATURE)]),
                      hold=(4, "a bad signature on file", False))
    assert verdict(0, facts) is None  # escrow short: not final, still waiting
    assert verdict(2, facts) == (REJECTED, skip_reasons.sentence(skip_reasons.GRACE_OVER))
    assert verdict(4, facts) == (HELD, "a bad signature on file")
    assert verdict(9, Unsettled(grace_over="ran out")) == (REJECTED, "ran out")
    assert verdict(5, Unsettled(hold=(3, "for good", True))) == (REJECTED, "for good")
