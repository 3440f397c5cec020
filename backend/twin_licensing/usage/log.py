"""The usage log: every use of a set of twins, newest first, one keyset page at a time, with its settlement.

Who may see which twins is decided by the caller (the API's visibility rules); this module answers "the uses of
these twins" (`twins=None`: of every twin, the guild's view) with filters, and stays fast however many uses there
are:

- order: time reported (`accepted_at`), then use id, both descending: stable, and new uses only ever come first;
- a page is one backwards range scan of `ix_uses_twin_log` (chain, genesis, twin, accepted_at, use_id) for the
  twins asked for (`ix_uses_twin_category` when a category is asked for too), or of `ix_uses_accepted` for every
  twin;
  the cursor continues strictly after the last row shown, so paging never repeats or skips a use, even while new
  uses arrive;
- each row's settlement is one primary-key probe of `settlements` (the one whose first sequence number is the
  greatest at or below the use's, if it covers it), made only for the rows of the page.

`usage_log_page` is the entry point (the API and `scripts/bench_statements.py` call it); `new_since` and
`mark_visit` serve "new since your last visit"; `settled_since` feeds the live stream.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from ..db.license_state import Settlement
from ..db.usage_log import UsageLogVisit
from ..db.uses import ChainScope, Use
from ..domain import periods
from ..domain.times import aware, from_unix
from ..domain.vocabulary import CATEGORIES, TERRITORIES, category_name, territory_name
from ..errors import RequestRefused

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_CURSOR = struct.Struct(">qq")  # accepted_at in microseconds since the epoch, use id
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class UsageLogError(RequestRefused, ValueError):
    """A usage-log request that cannot be answered (a bad filter or cursor); the message is one sentence."""

    status_code = 422
    code = "bad_usage_log_request"


@dataclass(frozen=True)
class LogFilters:
    """What a viewer narrowed the log to; None means "any". `since` is inclusive, `until` exclusive (UTC)."""

    twin_id: int | None = None
    license_id: int | None = None
    brand: str | None = None  # the licence holder who reported the use (its signer)
    category: int | None = None
    territory: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class LogEntry:
    use_id: int
    twin_id: int
    license_id: int
    seq: int
    brand: str
    category: int
    territory: int
    label: str | None
    use_ref: str
    used_at: int
    accepted_at: datetime
    settled_at: datetime | None
    tx_hash: str | None
    uses_root: str | None
    block_number: int | None

    @property
    def category_name(self) -> str:
        return category_name(self.category)

    @property
    def territory_name(self) -> str:
        return territory_name(self.territory)

    @property
    def settled(self) -> bool:
        return self.tx_hash is not None

    @property
    def key(self) -> tuple[datetime, int]:
        return (self.accepted_at, self.use_id)


@dataclass(frozen=True)
class LogPage:
    entries: list[LogEntry]
    next_cursor: str | None  # None: this is the oldest page


# ---------------------------------------------------------------------------------------------- inputs in words


def _vocabulary_index(vocabulary: Sequence[str], what: str, value: str | int | None) -> int | None:
    """A category or territory given as its bit index or its name (any case); a sentence when it names none."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.isdigit() and int(text) < len(vocabulary):
        return int(text)
    for index, name in enumerate(vocabulary):
        if name.lower() == text.lower():
            return index
    raise UsageLogError(f"There is no {what} \"{text[:40]}\": choose one of {', '.join(vocabulary)}.")


def category_filter(value: str | int | None) -> int | None:
    return _vocabulary_index(CATEGORIES, "usage category", value)


def territory_filter(value: str | int | None) -> int | None:
    return _vocabulary_index(TERRITORIES, "territory", value)


def period_filter(first_day: str | None, last_day: str | None, now: datetime) -> tuple[datetime | None, datetime | None]:
    """`since`, `until` from two optional days (YYYY-MM-DD, both included); reversed or future periods refused."""

    def day(text: str | None, what: str) -> datetime | None:
        # The date format is the statements' (domain.periods); either end of the log's period may be open.
        if not text:
            return None
        try:
            return periods.midnight(periods.day(text, what))
        except periods.PeriodError as exc:
            raise UsageLogError(str(exc)) from None

    since, last = day(first_day, "from"), day(last_day, "to")
    until = last + timedelta(days=1) if last is not None else None
    if since is not None and last is not None and last < since:
        raise UsageLogError(
            f"The period ends on {last.date()} before it starts on {since.date()}: put the earlier date first."
        )
    if since is not None and since > now:
        raise UsageLogError(
            f"The period starts on {since.date()}, after today ({now.date()}): no use can have been reported then."
        )
    return since, until


def encode_cursor(entry: LogEntry) -> str:
    micros = (aware(entry.accepted_at) - _EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(_CURSOR.pack(micros, entry.use_id)).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        micros, use_id = _CURSOR.unpack(raw)
        return _EPOCH + timedelta(microseconds=micros), use_id
    except (binascii.Error, struct.error, ValueError, OverflowError):
        raise UsageLogError(
            "The page cursor is not one this log gave out: open the log again from its first page."
        ) from None


# ---------------------------------------------------------------------------------------------- the query


def _settlement_columns():
    """The settlement covering each use: the one starting at the greatest first_seq <= seq, if it reaches seq."""
    s = aliased(Settlement, name="s")
    start = (
        select(func.max(Settlement.first_seq))
        .where(
            Settlement.chain_id == Use.chain_id,
            Settlement.license_id == Use.license_id,
            Settlement.first_seq <= Use.seq,
        )
        .correlate(Use)
        .scalar_subquery()
    )
    on = and_(
        s.chain_id == Use.chain_id,
        s.license_id == Use.license_id,
        s.first_seq == start,
        Use.seq < s.first_seq + s.count,
    )
    return s, on


def _conditions(scope: ChainScope, twins: Iterable[int] | None, filters: LogFilters) -> list:
    conditions = list(scope.uses())
    if twins is not None:
        wanted = sorted(set(twins))
        if filters.twin_id is not None:
            wanted = [t for t in wanted if t == filters.twin_id]
        conditions.append(Use.twin_id.in_(wanted) if len(wanted) != 1 else Use.twin_id == wanted[0])
    elif filters.twin_id is not None:
        conditions.append(Use.twin_id == filters.twin_id)
    if filters.license_id is not None:
        conditions.append(Use.license_id == filters.license_id)
    if filters.brand is not None:
        conditions.append(func.lower(Use.signer) == filters.brand.lower())
    if filters.category is not None:
        conditions.append(Use.category == filters.category)
    if filters.territory is not None:
        conditions.append(Use.territory == filters.territory)
    if filters.since is not None:
        conditions.append(Use.accepted_at >= filters.since)
    if filters.until is not None:
        conditions.append(Use.accepted_at < filters.until)
    return conditions


def _select(conditions: list, limit: int):
    s, on = _settlement_columns()
    return (
        select(
            Use.use_id, Use.twin_id, Use.license_id, Use.seq, Use.signer, Use.category, Use.territory, Use.label,
            Use.use_ref, Use.used_at, Use.accepted_at, s.block_time, s.tx_hash, s.uses_root, s.block_number,
        )
        .select_from(Use)
        .outerjoin(s, on)
        .where(*conditions)
        .order_by(Use.accepted_at.desc(), Use.use_id.desc())
        .limit(limit)
    )


def _entries(rows) -> list[LogEntry]:
    return [
        LogEntry(
            use_id=row.use_id, twin_id=row.twin_id, license_id=row.license_id, seq=row.seq, brand=row.signer,
            category=row.category, territory=row.territory, label=row.label, use_ref=row.use_ref,
            used_at=row.used_at, accepted_at=aware(row.accepted_at),
            settled_at=from_unix(row.block_time) if row.block_time is not None else None,
            tx_hash=row.tx_hash, uses_root=row.uses_root, block_number=row.block_number,
        )
        for row in rows
    ]


def log_query(scope: ChainScope, twins: Iterable[int] | None, filters: LogFilters, cursor: str | None, limit: int):
    """The SELECT of one page (`limit` + 1 rows, to know whether an older page exists); for EXPLAIN too."""
    conditions = _conditions(scope, twins, filters)
    if cursor is not None:
        at, use_id = decode_cursor(cursor)
        conditions.append(Use.accepted_at <= at)
        conditions.append(or_(Use.accepted_at < at, Use.use_id < use_id))
    return _select(conditions, limit + 1)


def usage_log_page(
    session: Session,
    scope: ChainScope,
    twins: Iterable[int] | None,
    filters: LogFilters = LogFilters(),
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> LogPage:
    """One page of the log of `twins` (None: every twin), newest first, after `cursor` (None: the first page).

    An empty `twins` gives an empty page (a viewer who is no twin's model or payee). Raises `UsageLogError` for a
    cursor this function did not make.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    if twins is not None:
        twins = list(twins)
        if not twins or (filters.twin_id is not None and filters.twin_id not in twins):
            if cursor is not None:
                decode_cursor(cursor)
            return LogPage([], None)
    rows = session.execute(log_query(scope, twins, filters, cursor, limit)).all()
    entries = _entries(rows[:limit])
    more = len(rows) > limit
    return LogPage(entries, encode_cursor(entries[-1]) if more and entries else None)


# ---------------------------------------------------------------------------------------------- new since last visit


def last_visit(session: Session, chain_id: int, viewer: str) -> datetime | None:
    visit = session.get(UsageLogVisit, (chain_id, viewer.lower()))
    return aware(visit.seen_at) if visit is not None else None


def new_since(session: Session, scope: ChainScope, twins: Iterable[int] | None, since: datetime | None) -> int:
    """How many uses of `twins` (None: every twin) were reported after `since` (None: ever)."""
    conditions = _conditions(scope, twins, LogFilters(since=None))
    if twins is not None and not list(twins):
        return 0
    if since is not None:
        conditions.append(Use.accepted_at > since)
    return session.execute(select(func.count()).select_from(Use).where(*conditions)).scalar_one()


def mark_visit(session: Session, chain_id: int, viewer: str, at: datetime) -> None:
    """Records that `viewer` opened the log at `at`; commits."""
    visit = session.get(UsageLogVisit, (chain_id, viewer.lower()))
    if visit is None:
        session.add(UsageLogVisit(chain_id=chain_id, viewer=viewer.lower(), seen_at=at))
    else:
        visit.seen_at = at
        session.add(visit)
    session.commit()


# ---------------------------------------------------------------------------------------------- live updates

SettlementMark = tuple[int, int]  # (block number, log index) of the newest settlement already announced


def settlement_mark(session: Session, chain_id: int) -> SettlementMark:
    """Where a live stream starts: after the newest indexed settlement."""
    row = session.execute(
        select(Settlement.block_number, Settlement.log_index)
        .where(Settlement.chain_id == chain_id)
        .order_by(Settlement.block_number.desc(), Settlement.log_index.desc())
        .limit(1)
    ).first()
    return (row.block_number, row.log_index) if row is not None else (-1, -1)


def settled_since(
    session: Session, scope: ChainScope, twins: Iterable[int] | None, after: SettlementMark, *, max_settlements: int = 20
) -> tuple[list[LogEntry], SettlementMark]:
    """The uses of `twins` paid by settlements indexed after `after`, oldest settlement first, and the new mark."""
    block, log_index = after
    conditions = [
        Settlement.chain_id == scope.chain_id,
        or_(Settlement.block_number > block, and_(Settlement.block_number == block, Settlement.log_index > log_index)),
    ]
    if twins is not None:
        twins = list(twins)
        if not twins:
            return [], after
        conditions.append(Settlement.twin_id.in_(twins))
    settlements = session.execute(
        select(Settlement.license_id, Settlement.first_seq, Settlement.count, Settlement.block_number,
               Settlement.log_index)
        .where(*conditions)
        .order_by(Settlement.block_number, Settlement.log_index)
        .limit(max_settlements)
    ).all()
    if not settlements:
        return [], after
    entries: list[LogEntry] = []
    for paid in settlements:
        rows = session.execute(_select(
            [*scope.uses(), Use.license_id == paid.license_id, Use.seq >= paid.first_seq,
             Use.seq < paid.first_seq + paid.count],
            paid.count,
        )).all()
        entries.extend(reversed(_entries(rows)))
    last = settlements[-1]
    return entries, (last.block_number, last.log_index)
