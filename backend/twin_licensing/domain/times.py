"""Times for people and for JSON. The chain counts unix seconds; the API writes every time as ISO 8601 UTC with a
`Z`; sentences write "2026-12-01 10:00:00 UTC"."""

from __future__ import annotations

from datetime import datetime, timezone


def aware(moment: datetime) -> datetime:
    """A datetime in UTC. A naive one is taken to be UTC already: SQLite hands back naive datetimes written in UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def from_unix(unix_seconds: int) -> datetime:
    return datetime.fromtimestamp(unix_seconds, timezone.utc)


def iso_utc(moment: datetime) -> str:
    """"2026-12-01T10:00:00.123456Z" (microseconds only when there are any)."""
    return aware(moment).isoformat().replace("+00:00", "Z")


def when(unix_seconds: int) -> str:
    """For sentences: "2026-12-01 10:00:00 UTC"."""
    return from_unix(unix_seconds).strftime("%Y-%m-%d %H:%M:%S UTC")
