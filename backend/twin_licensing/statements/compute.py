"""A payee's statement for a period, from the index: balances at the period's boundary blocks and the lines between.

Boundaries. The opening balance is the state before the first block at or after the period's start that holds an
event of the deployment (blocks without events change nothing), the closing balance the same at the period's end;
a period still running closes at the index's head. At a boundary block B, as `LicenseToken` computes it:

    total earned(B) = distributed to her before B + her share of each twin's undistributed before B, split by the
                      twin's payees in force before B (the model takes the rounding remainder)
    claimable(B)    = total earned(B) - withdrawn before B

so closing claimable = opening claimable + earned - withdrawn, with earned = total earned(close) - total earned(open)
and withdrawn the withdrawals in between.

Lines. Each part of an upfront fee that vested (`UpfrontVested`: since issue 11 an upfront fee is income only as it
vests over the licence's term, not at purchase) and each settlement of one of her twins in the period, with her
part by the payees in force at its log, split per usage category by the uses each settlement paid (the `uses` table; uses not recorded there
are one line without a category). The contract splits sums, not lines: her part of a sum can differ from the sum
of her parts by a few micro-units, so each twin whose lines do not add up to its exact earnings gets one "rounding"
line with the difference. A twin that lists her without her acceptance (issue 10) credits her its lines, but its
undistributed part counts in her claimable only once she accepts: an "unaccepted" line takes that part out (and puts
it back in the period she accepts). The lines therefore sum to `earned` exactly. An upfront fee's unvested rest
paid back to the brand after an early end (`UpfrontRefunded`) is shown as a "refund" line of her part 0: the twin
never earned it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlmodel import Session

from ..db.chain_log import ChainEvent, IndexCursor
from ..db.license_state import Earning, Settlement
from ..db.registry_state import TwinPayee
from ..db.uses import Use
from ..domain.periods import Period, not_in_future
from ..domain.shares import share_of
from ..errors import NotFoundError
from .payees import ShareSchedule, payee_changes
from .upfront import REFUNDED, VESTED, upfront_events, vested_before

UPFRONT, USES, ROUNDING, UNACCEPTED, WITHDRAWAL = "upfront", "uses", "rounding", "unaccepted", "withdrawal"
REFUND = "refund"  # an upfront fee's unvested rest paid back to the brand: gross is the refund, her part 0
_END_OF_BLOCK = 1 << 30  # a log index after every real one


class StatementUnavailableError(NotFoundError):
    """The index holds nothing for this chain yet."""


@dataclass(frozen=True)
class Balance:
    """A payee's position before `block` (exclusive)."""

    block: int
    distributed: int
    withdrawn: int
    undistributed_share: int

    @property
    def total_earned(self) -> int:
        return self.distributed + self.undistributed_share

    @property
    def claimable(self) -> int:
        return self.total_earned - self.withdrawn


@dataclass(frozen=True)
class Line:
    kind: str  # upfront | uses | rounding | unaccepted | withdrawal
    block_number: int
    log_index: int
    block_time: int
    tx_hash: str
    twin_id: int | None
    license_id: int | None
    brand: str | None
    category: int | None  # a use category's bit; None for upfront fees, rounding, withdrawals, unrecorded uses
    first_seq: int | None
    uses: int
    gross: int  # what the twin earned on this line (the whole fee); withdrawals: 0
    share_bps: int | None
    amount: int  # her part; negative for a withdrawal
    uses_root: str | None


@dataclass(frozen=True)
class Group:
    twin_id: int | None
    brand: str | None
    category: int | None
    kind: str
    uses: int
    gross: int
    amount: int
    lines: int


@dataclass
class Statement:
    chain_id: int
    payee: str
    period: Period
    opening: Balance
    closing: Balance
    opening_time: int | None  # time of the opening boundary block; None when it is the index's head
    closing_time: int | None
    closes_at_head: bool  # the period has not ended: the closing balance is the index's latest
    head_block: int
    head_time: int
    as_of: int  # the statement's "now": the later of the clock and the index's latest block time
    lines: list[Line] = field(default_factory=list)  # earnings, oldest first
    withdrawals: list[Line] = field(default_factory=list)

    @property
    def running(self) -> bool:
        """The period has not ended yet (its closing balance is the latest, and will still move)."""
        return self.period.end_unix > self.as_of

    @property
    def earned(self) -> int:
        return self.closing.total_earned - self.opening.total_earned

    @property
    def withdrawn(self) -> int:
        return self.closing.withdrawn - self.opening.withdrawn

    @property
    def ties(self) -> bool:
        """Opening + earned - withdrawn = closing, and the lines add up to what they explain."""
        return (
            self.opening.claimable + self.earned - self.withdrawn == self.closing.claimable
            and sum(line.amount for line in self.lines) == self.earned
            and -sum(line.amount for line in self.withdrawals) == self.withdrawn
        )

    @property
    def uses(self) -> int:
        return sum(line.uses for line in self.lines)

    def groups(self) -> list[Group]:
        """Lines summed per twin, brand and category (upfront fees and rounding apart), in that order."""
        sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for line in self.lines:
            row = sums[(line.twin_id, line.brand, line.category, line.kind)]
            row[0] += line.uses
            row[1] += line.gross
            row[2] += line.amount
            row[3] += 1
        order = {UPFRONT: 0, REFUND: 0, USES: 1, UNACCEPTED: 2, ROUNDING: 3}
        keys = sorted(sums, key=lambda k: (k[0] or 0, k[1] or "~", order.get(k[3], 3), -1 if k[2] is None else k[2]))
        return [Group(k[0], k[1], k[2], k[3], *sums[k]) for k in keys]

    def daily(self) -> list[tuple[int, int]]:
        """(UTC day start, her earnings that day) for every day of the period up to its close, zeros included."""
        day = 86_400
        start = self.period.start_unix
        end = self.period.end_unix
        if self.closes_at_head:  # a running period: up to the day of the chain's latest block
            end = min(end, max(start + day, start + ((self.head_time - start) // day + 1) * day))
        totals: dict[int, int] = defaultdict(int)
        for line in self.lines:
            totals[start + (line.block_time - start) // day * day] += line.amount
        return [(t, totals.get(t, 0)) for t in range(start, end, day)]


# ------------------------------------------------------------------ boundaries


def boundary_block(session: Session, chain_id: int, unix: int, head: int) -> tuple[int, int] | None:
    """(block, time) of the first block holding an event with time >= `unix`, or None when there is none up to
    the head. A binary search over the events' block index: block times never decrease."""
    def first_at_or_after(block: int) -> tuple[int, int] | None:
        row = session.execute(
            select(ChainEvent.block_number, ChainEvent.block_time)
            .where(ChainEvent.chain_id == chain_id, ChainEvent.block_number >= block)
            .order_by(ChainEvent.block_number)
            .limit(1)
        ).first()
        return (int(row[0]), int(row[1])) if row else None

    low, high, found = 0, head + 1, None
    while low < high:
        mid = (low + high) // 2
        probe = first_at_or_after(mid)
        if probe is None or probe[0] > head:
            high = mid
        elif probe[1] >= unix:
            found, high = probe, mid
        else:
            low = probe[0] + 1
    return found


# ------------------------------------------------------------------ the computation


class _Ledger:
    """One payee's view of the index: her twins, their payees over time, and sums before a block."""

    def __init__(self, session: Session, chain_id: int, payee: str) -> None:
        self.session, self.chain_id, self.payee = session, chain_id, payee
        changes = payee_changes(session, chain_id)
        current: dict[int, list] = defaultdict(list)
        for twin_id, account, bps in session.execute(
            select(TwinPayee.twin_id, TwinPayee.account, TwinPayee.share_bps)
            .where(TwinPayee.chain_id == chain_id)
            .order_by(TwinPayee.twin_id, TwinPayee.position)
        ).all():
            current[twin_id].append((account, bps))
        schedules = {t: ShareSchedule(changes.get(t, []), current.get(t, [])) for t in set(changes) | set(current)}
        self.schedules = {t: s for t, s in schedules.items() if s.ever_lists(payee)}
        self.twin_ids = sorted(self.schedules)
        self.accepted: dict[int, list[tuple[int, int]]] = defaultdict(list)  # twin -> (block, log) of her acceptances
        for twin_id, block, log_index in session.execute(
            select(ChainEvent.twin_id, ChainEvent.block_number, ChainEvent.log_index)
            .where(ChainEvent.chain_id == chain_id, ChainEvent.account == payee, ChainEvent.name == "PayeeAccepted")
        ).all():
            if twin_id is not None:
                self.accepted[int(twin_id)].append((int(block), int(log_index)))

    def counts(self, twin_id: int, block: int) -> bool:
        """Whether the twin counts in her `claimable()` before `block`: she is its model, or she accepted being its
        payee and no later `PayeesSet` dropped her (`TwinRegistry.twinsOfPayee`)."""
        schedule = self.schedules[twin_id]
        payees = schedule.at(block, -1)
        if not payees or not any(a == self.payee for a, _ in payees):
            return False
        if payees[0][0] == self.payee:
            return True
        accepts = [key for key in self.accepted.get(twin_id, []) if key < (block, 0)]
        if not accepts:
            return False
        since = max(accepts)
        return all(any(a == self.payee for a, _ in listed) for b, i, listed in schedule.changes
                   if since < (b, i) < (block, 0))

    def part(self, twin_id: int, block: int, order: int, amount: int) -> tuple[int, int | None]:
        payees = self.schedules[twin_id].at(block, order)
        bps = next((b for a, b in payees if a == self.payee), None)
        return share_of(payees, amount, self.payee), bps

    def _sum_by_twin(self, query) -> dict[int, int]:
        return {int(t): int(v or 0) for t, v in self.session.execute(query).all() if t is not None}

    def balance(self, block: int) -> tuple[Balance, dict[int, int], dict[int, int]]:
        """Her balance before `block`; per twin, her total earned (distributed + her share of the undistributed
        earnings of a twin that counts for her), and her share of a twin's undistributed earnings that does not count
        yet (a listing she has not accepted: credited to her, but not in her claimable until she accepts)."""
        c = self.chain_id
        mine = self._sum_by_twin(
            select(Earning.twin_id, func.sum(Earning.amount))
            .where(Earning.chain_id == c, Earning.payee == self.payee, Earning.kind == "distributed",
                   Earning.block_number < block)
            .group_by(Earning.twin_id)
        )
        withdrawn = self.session.execute(
            select(func.sum(Earning.amount)).where(
                Earning.chain_id == c, Earning.payee == self.payee, Earning.kind == "withdrawn",
                Earning.block_number < block)
        ).scalar()
        twins = self.twin_ids
        settled = self._sum_by_twin(
            select(Settlement.twin_id, func.sum(Settlement.amount))
            .where(Settlement.chain_id == c, Settlement.twin_id.in_(twins), Settlement.block_number < block)
            .group_by(Settlement.twin_id)
        ) if twins else {}
        upfront = vested_before(self.session, c, twins, block)
        split = self._sum_by_twin(
            select(Earning.twin_id, func.sum(Earning.amount))
            .where(Earning.chain_id == c, Earning.kind == "distributed", Earning.twin_id.in_(twins),
                   Earning.block_number < block)
            .group_by(Earning.twin_id)
        ) if twins else {}
        earned: dict[int, int] = {}
        uncounted: dict[int, int] = {}
        for twin_id in set(twins) | set(mine):
            undistributed = settled.get(twin_id, 0) + upfront.get(twin_id, 0) - split.get(twin_id, 0)
            share = 0
            if undistributed and twin_id in self.schedules:
                share = share_of(self.schedules[twin_id].at(block, -1), undistributed, self.payee)
                if share and not self.counts(twin_id, block):
                    uncounted[twin_id], share = share, 0
            earned[twin_id] = mine.get(twin_id, 0) + share
        distributed = sum(mine.values())
        return Balance(block, distributed, int(withdrawn or 0), sum(earned.values()) - distributed), earned, uncounted


def build_statement(session: Session, chain_id: int, payee: str, period: Period, *, now: int) -> Statement:
    """The statement of `payee` (a checksummed address) for `period`. Raises PeriodError for a future period."""
    cursor = session.get(IndexCursor, chain_id)
    if cursor is None:
        raise StatementUnavailableError(f"The index holds nothing for chain {chain_id} yet; start the indexer first.")
    head = int(cursor.block_number)
    head_time = session.execute(
        select(ChainEvent.block_time).where(ChainEvent.chain_id == chain_id).order_by(
            ChainEvent.block_number.desc()).limit(1)
    ).scalar() or 0
    as_of = max(now, int(head_time))
    not_in_future(period, as_of)

    opening = boundary_block(session, chain_id, period.start_unix, head)
    closing = boundary_block(session, chain_id, period.end_unix, head)
    open_block = opening[0] if opening else head + 1
    close_block = closing[0] if closing else head + 1

    ledger = _Ledger(session, chain_id, payee)
    open_balance, open_twins, open_uncounted = ledger.balance(open_block)
    close_balance, close_twins, close_uncounted = ledger.balance(close_block)
    statement = Statement(
        chain_id=chain_id, payee=payee, period=period, opening=open_balance, closing=close_balance,
        opening_time=opening[1] if opening else None, closing_time=closing[1] if closing else None,
        closes_at_head=closing is None, head_block=head, head_time=int(head_time), as_of=as_of,
    )
    if open_block < close_block:
        statement.lines = _earning_lines(session, ledger, chain_id, open_block, close_block,
                                         cursor.genesis_hash)
        statement.withdrawals = _withdrawals(session, chain_id, payee, open_block, close_block)
    _add_adjustments(statement, open_twins, close_twins, open_uncounted, close_uncounted)
    return statement


def _earning_lines(session: Session, ledger: _Ledger, chain_id: int, first: int, end: int,
                   genesis_hash: str) -> list[Line]:
    twins = ledger.twin_ids
    if not twins:
        return []
    lines: list[Line] = []
    for event in upfront_events(session, chain_id, twins, first_block=first, end_block=end):
        if event.kind == VESTED:
            amount, bps = ledger.part(event.twin_id, event.block_number, event.log_index, event.amount)
            if amount or bps is not None:
                lines.append(Line(UPFRONT, event.block_number, event.log_index, event.block_time, event.tx_hash,
                                  event.twin_id, event.license_id, event.brand, None, None, 0, event.amount, bps,
                                  amount, None))
        elif event.kind == REFUNDED:
            bps = next((b for a, b in ledger.schedules[event.twin_id].at(event.block_number, event.log_index)
                        if a == ledger.payee), None)
            lines.append(Line(REFUND, event.block_number, event.log_index, event.block_time, event.tx_hash,
                              event.twin_id, event.license_id, event.brand, None, None, 0, event.amount, bps, 0, None))

    in_period = and_(Settlement.chain_id == chain_id, Settlement.twin_id.in_(twins),
                     Settlement.block_number >= first, Settlement.block_number < end)
    per_category: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for license_id, first_seq, category, count in session.execute(
        select(Settlement.license_id, Settlement.first_seq, Use.category, func.count())
        .join(Use, and_(Use.chain_id == Settlement.chain_id, Use.genesis_hash == genesis_hash,
                        Use.license_id == Settlement.license_id, Use.seq >= Settlement.first_seq,
                        Use.seq < Settlement.first_seq + Settlement.count))
        .where(in_period)
        .group_by(Settlement.license_id, Settlement.first_seq, Use.category)
    ).all():
        per_category[(int(license_id), int(first_seq))].append((int(category), int(count)))
    for s in session.execute(select(Settlement).where(in_period)).scalars():
        fee = s.amount // s.count if s.count else 0
        chunks = sorted(per_category.get((s.license_id, s.first_seq), []))
        recorded = sum(n for _, n in chunks)
        parts: list[tuple[int | None, int, int]] = [(cat, n, n * fee) for cat, n in chunks]
        if recorded < s.count:
            parts.append((None, s.count - recorded, s.amount - recorded * fee))
        for category, uses, gross in parts:
            amount, bps = ledger.part(s.twin_id, s.block_number, s.log_index, gross)
            if amount or bps is not None:
                lines.append(Line(USES, s.block_number, s.log_index, s.block_time, s.tx_hash, s.twin_id, s.license_id,
                                  s.holder, category, s.first_seq, uses, gross, bps, amount, s.uses_root))
    lines.sort(key=lambda line: (line.block_number, line.log_index, -1 if line.category is None else line.category))
    return lines


def _withdrawals(session: Session, chain_id: int, payee: str, first: int, end: int) -> list[Line]:
    rows = session.execute(
        select(Earning)
        .where(Earning.chain_id == chain_id, Earning.payee == payee, Earning.kind == "withdrawn",
               Earning.block_number >= first, Earning.block_number < end)
        .order_by(Earning.block_number, Earning.log_index)
    ).scalars()
    return [Line(WITHDRAWAL, w.block_number, w.log_index, w.block_time, w.tx_hash, None, None, None, None, None, 0, 0,
                 None, -w.amount, None) for w in rows]


def _add_adjustments(statement: Statement, opening: dict[int, int], closing: dict[int, int],
                     open_uncounted: dict[int, int], close_uncounted: dict[int, int]) -> None:
    """Per twin, what its lines do not explain of its exact earnings: her part of a listing she has not accepted
    (credited to her on the lines, not counted in her claimable until she accepts), then the split's rounding."""
    explained: dict[int, int] = defaultdict(int)
    for line in statement.lines:
        if line.twin_id is not None:
            explained[line.twin_id] += line.amount
    when = min(statement.closing_time if statement.closing_time is not None else statement.head_time,
               statement.period.end_unix - 1)

    def add(kind: str, twin_id: int, amount: int) -> None:
        statement.lines.append(Line(kind, statement.closing.block, _END_OF_BLOCK, when, "", twin_id, None, None, None,
                                    None, 0, 0, None, amount, None))

    for twin_id in sorted(set(opening) | set(closing) | set(explained)):
        difference = closing.get(twin_id, 0) - opening.get(twin_id, 0) - explained.get(twin_id, 0)
        pending = open_uncounted.get(twin_id, 0) - close_uncounted.get(twin_id, 0)
        if pending:
            add(UNACCEPTED, twin_id, pending)
        if difference - pending:
            add(ROUNDING, twin_id, difference - pending)
