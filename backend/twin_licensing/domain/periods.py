"""Statement periods: a month, a quarter, a year or custom dates, as half-open UTC intervals [start, end).

People name periods as "2026-11", "2026-Q4", "2026" or two dates "2026-11-03" .. "2026-11-20" (both days
included); the statement takes the chain's state at the first block at or after each boundary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from ..errors import TwinLicensingError

KINDS = ("month", "quarter", "year", "custom")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
FIRST_YEAR = 2000
_EXAMPLES = {"month": "2026-11", "quarter": "2026-Q4", "year": "2026"}


class PeriodError(TwinLicensingError, ValueError):
    """A statement period that is malformed, reversed or in the future: the message says which, in one sentence."""


@dataclass(frozen=True)
class Period:
    kind: str  # month | quarter | year | custom
    start: datetime  # inclusive, UTC midnight
    end: datetime  # exclusive, UTC midnight

    @property
    def start_unix(self) -> int:
        return int(self.start.timestamp())

    @property
    def end_unix(self) -> int:
        return int(self.end.timestamp())

    @property
    def label(self) -> str:
        """"2026-11", "2026-Q4", "2026" or "2026-11-03 to 2026-11-20"."""
        if self.kind == "month":
            return self.start.strftime("%Y-%m")
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.date().isoformat()} to {(self.end - timedelta(days=1)).date().isoformat()}"

    @property
    def slug(self) -> str:
        """For file names: "2026-11", "2026-Q4", "2026", "2026-11-03_2026-11-20"."""
        return self.label.replace(" to ", "_")


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def _year(text: str) -> int:
    year = int(text)
    if year < FIRST_YEAR:
        raise PeriodError(f"The year {year} is before {FIRST_YEAR}; choose a year the chain can have earnings in.")
    return year


def month(text: str) -> Period:
    found = _MONTH.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise PeriodError(f"The month {text[:20]!r} is not a month; write it as YYYY-MM, for example 2026-11.")
    year, number = _year(found.group(1)), int(found.group(2))
    start = datetime(year, number, 1, tzinfo=timezone.utc)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=timezone.utc)
    return Period("month", start, end)


def quarter(text: str) -> Period:
    found = _QUARTER.match(text.strip())
    if not found:
        raise PeriodError(f"The quarter {text[:20]!r} is not a quarter; write it as YYYY-Qn, for example 2026-Q4.")
    year, number = _year(found.group(1)), int(found.group(2))
    start = datetime(year, 3 * number - 2, 1, tzinfo=timezone.utc)
    end = datetime(year + 1, 1, 1, tzinfo=timezone.utc) if number == 4 else datetime(year, 3 * number + 1, 1,
                                                                                          tzinfo=timezone.utc)
    return Period("quarter", start, end)


def year(text: str) -> Period:
    found = _YEAR.match(text.strip())
    if not found:
        raise PeriodError(f"The year {text[:20]!r} is not a year; write it as YYYY, for example 2026.")
    number = _year(found.group(1))
    return Period("year", datetime(number, 1, 1, tzinfo=timezone.utc), datetime(number + 1, 1, 1, tzinfo=timezone.utc))


def day(text: str, what: str) -> date:
    """A day written YYYY-MM-DD (`what` names the field in the refusal)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"The {what} date {text[:20]!r} is not a date; write it as YYYY-MM-DD, for example 2026-11-03.") from None


def custom(first_day: str, last_day: str) -> Period:
    """From `first_day` to `last_day`, both included."""
    first, last = day(first_day, "from"), day(last_day, "to")
    _year(str(first.year))
    if last < first:
        raise PeriodError(f"The period ends ({last}) before it starts ({first}); put the earlier date first.")
    return Period("custom", midnight(first), midnight(last) + timedelta(days=1))


def parse(kind: str, value: str | None = None, *, first_day: str | None = None, last_day: str | None = None) -> Period:
    """The period a person asked for: `kind` is month, quarter or year with `value`, or custom with two dates."""
    if kind == "custom":
        if not first_day or not last_day:
            raise PeriodError("A custom period needs both a from date and a to date (YYYY-MM-DD).")
        return custom(first_day, last_day)
    parsers = {"month": month, "quarter": quarter, "year": year}
    if kind not in parsers:
        raise PeriodError(f"The period kind {kind[:20]!r} is not one of {', '.join(KINDS)}.")
    if not value:
        raise PeriodError(f"A {kind} period needs a value, for example {_EXAMPLES[kind]}.")
    return parsers[kind](value)


def not_in_future(period: Period, now: int) -> Period:
    """`period` if it has begun by `now` (unix seconds); a period still running ends at the latest block."""
    if period.start_unix > now:
        raise PeriodError(
            f"the period {period.label} starts after today ({datetime.fromtimestamp(now, timezone.utc).date()}); "
            "choose a period that has begun."
        )
    return period


# ------------------------------------------------------------------ chart buckets

DAY = 86_400
DAILY_UP_TO_DAYS = 62  # a range longer than this is shown per week
WEEKLY_UP_TO_DAYS = 2 * 366  # and longer than this per month
MIN_DAYS_SHOWN = 7  # a day chart shows at least a week, so that its axis reads as time


def bucket_unit(first: int, last: int) -> str:
    """"day", "week" or "month": the bucket that shows [first, last] (unix seconds) in a few dozen bars."""
    days = (last - first) / DAY
    return "day" if days <= DAILY_UP_TO_DAYS else "week" if days <= WEEKLY_UP_TO_DAYS else "month"


def bucket_start(unix: int, unit: str) -> int:
    """The UTC start of the day, week (Monday) or month holding `unix`."""
    day = datetime.fromtimestamp(unix - unix % DAY, timezone.utc)
    if unit == "week":
        day -= timedelta(days=day.weekday())
    elif unit == "month":
        day = day.replace(day=1)
    return int(day.timestamp())


def bucket_starts(first: int, last: int) -> tuple[str, list[int]]:
    """The unit and the start of every bucket from the one holding `first` to the one holding `last`, empty ones
    included (a time axis has no gaps)."""
    unit = bucket_unit(first, last)
    if unit == "day":
        first = min(first, last - (MIN_DAYS_SHOWN - 1) * DAY)
    start, end = bucket_start(first, unit), bucket_start(last, unit)
    starts = []
    while start <= end:
        starts.append(start)
        moment = datetime.fromtimestamp(start, timezone.utc)
        if unit == "month":
            start = int(datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=timezone.utc)
                        .timestamp())
        else:
            start += 7 * DAY if unit == "week" else DAY
    return unit, starts
