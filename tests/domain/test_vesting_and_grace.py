"""The upfront fee's vesting and the grace after a licence's end (`domain.vesting`, `domain.grace`), each checked
against a straightforward reference: exact rational arithmetic for vesting, a second-by-second clock for grace."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from twin_licensing.domain.grace import DEFAULT_GRACE_PERIOD, grace_ends_at, grace_over, pause_intervals
from twin_licensing.domain.vesting import refundable, vested, vesting_state

UINT64 = 2**64 - 1
times = st.integers(min_value=0, max_value=2**40 - 1)


def reference_vested(upfront: int, started_at: int, duration: int, end: int, t: int) -> int:
    stop = min(t, end, started_at + duration)
    if stop <= started_at:
        return 0
    share = Fraction(stop - started_at, duration)
    return int(upfront * share)  # Fraction truncates toward zero: rounding down, as the contract does


@given(upfront=st.integers(0, UINT64), started_at=times, duration=st.integers(1, 2**32 - 1),
       end_offset=st.integers(-10, 2**32), t_offset=st.integers(-2**33, 2**33))
def test_vested_is_linear_rounded_down_and_frozen_at_the_end(upfront, started_at, duration, end_offset, t_offset):
    end = started_at + end_offset
    t = started_at + t_offset
    got = vested(upfront, started_at, duration, end, t)
    assert got == reference_vested(upfront, started_at, duration, end, t)
    assert 0 <= got <= upfront
    # Monotonic in time, and nothing more vests after the end.
    assert vested(upfront, started_at, duration, end, t + 1) >= got
    assert vested(upfront, started_at, duration, end, max(t, end) + 5) == vested(upfront, started_at, duration, end, end)


@given(upfront=st.integers(0, UINT64), started_at=times, duration=st.integers(1, 2**32 - 1),
       end_offset=st.integers(0, 2**32), now_offset=st.integers(0, 2**33))
def test_refund_and_vested_add_up_to_the_fee(upfront, started_at, duration, end_offset, now_offset):
    end = started_at + min(end_offset, duration)
    now = started_at + now_offset
    back = refundable(upfront, started_at, duration, end, now)
    if end < started_at + duration and now >= end:
        # An early end that has passed: the twin keeps what vested up to it, the holder gets exactly the rest.
        assert back + vested(upfront, started_at, duration, end, now) == upfront
    else:
        assert back == 0
    assert refundable(upfront, started_at, duration, end, now, refunded=True) == 0


def test_vesting_examples():
    year = 365 * 86_400
    # 10 000 USDC for a year, revoked after 72 h: the twin keeps 72 h worth, the brand gets the rest back.
    fee = 10_000 * 10**6
    assert vested(fee, 1_000, year, 1_000 + 72 * 3600, 1_000 + year) == fee * 72 * 3600 // year
    state = vesting_state(fee, 1_000, year, 1_000 + 72 * 3600, 1_000 + 100 * 3600, released=0, refunded=0)
    assert state.refundable == fee - state.vested and state.still_vesting == 0 and state.vestable == state.vested
    # Before the end nothing is refundable, and the rest is still vesting.
    running = vesting_state(fee, 1_000, year, 1_000 + year, 1_000 + year // 2, released=10, refunded=0)
    assert running.vested == fee // 2 and running.refundable == 0 and running.still_vesting == fee - fee // 2
    assert running.vestable == fee // 2 - 10 and running.unvested == fee - 10
    # After the refund: nothing more refundable, nothing still vesting.
    done = vesting_state(fee, 1_000, year, 1_000 + 3600, 1_000 + 7200, released=fee * 3600 // year,
                         refunded=fee - fee * 3600 // year)
    assert done.refundable == 0 and done.still_vesting == 0 and done.unvested == 0 and done.vestable == 0
    # Rounding goes to the holder: 1 micro-unit over 3 seconds vests nothing until the term is over.
    assert [vested(1, 0, 3, 3, t) for t in range(5)] == [0, 0, 0, 1, 1]


# ------------------------------------------------------------------ grace


def reference_grace_end(end: int, grace: int, pauses: list[tuple[int, int | None]], now: int) -> int:
    """Walk the clock one second at a time from the end, counting only unpaused seconds."""
    closed = [(s, now if e is None else min(e, now)) for s, e in pauses]

    def paused(t: int) -> bool:
        return any(s <= t < e for s, e in closed)

    t, counted = end, 0
    while counted < grace:
        if not paused(t):
            counted += 1
        t += 1
    return t


@st.composite
def pause_timelines(draw):
    """Disjoint pauses in order, the last maybe still open, all before `now`."""
    t = draw(st.integers(0, 40))
    pauses = []
    for _ in range(draw(st.integers(0, 4))):
        start = t + draw(st.integers(0, 15))
        length = draw(st.integers(1, 15))
        pauses.append((start, start + length))
        t = start + length + draw(st.integers(1, 5))
    now = t + draw(st.integers(0, 30))
    if pauses and draw(st.booleans()):
        start, _ = pauses[-1]
        pauses[-1] = (start, None)  # still paused now
    return pauses, now


@settings(max_examples=300)
@given(end=st.integers(0, 60), grace=st.integers(0, 40), timeline=pause_timelines())
def test_grace_end_counts_only_unpaused_seconds(end, grace, timeline):
    pauses, now = timeline
    got = grace_ends_at(end, grace, pauses, now)
    assert got == reference_grace_end(end, grace, pauses, now)
    assert grace_over(end, grace, pauses, now) == (now >= got)


def test_grace_examples():
    day = 86_400
    # No pause: end + grace, and a report at expiry - 1 s settled at expiry + 1 h is in time.
    assert grace_ends_at(1_000, DEFAULT_GRACE_PERIOD, [], 1_000 + 3600) == 1_000 + 7 * day
    assert not grace_over(1_000, DEFAULT_GRACE_PERIOD, [], 1_000 + 3600)
    # A day paused across the end: the part after the end adds to the grace.
    assert grace_ends_at(1_000, DEFAULT_GRACE_PERIOD, [(500, 1_000 + day)], 1_000 + 2 * day) == 1_000 + 8 * day
    # Still paused: the end moves with the clock.
    assert grace_ends_at(1_000, 100, [(1_050, None)], 5_000) == 1_000 + 100 + 3_950
    # A pause after the grace ran out does not reopen it (LicenseLedger.graceEnd: "the grace was over before this
    # pause").
    assert grace_ends_at(1_000, 100, [(2_000, 3_000)], 4_000) == 1_100
    assert grace_over(1_000, 100, [(2_000, 3_000)], 2_500)
    # An end still to come: no pause counts yet, not even one still on.
    assert grace_ends_at(5_000, 100, [(1_000, None)], 2_000) == 5_100


def test_pause_intervals_from_events():
    assert pause_intervals([(10, True), (20, False), (30, True)]) == [(10, 20), (30, None)]
    assert pause_intervals([(5, False), (10, True), (12, True), (15, False)]) == [(10, 15)]
    assert pause_intervals([]) == []
