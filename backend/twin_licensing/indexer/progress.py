"""What the indexer tells people: a progress bar on a terminal during a long backfill, structured logs otherwise.

Logs are logfmt lines (`ts=… level=info event="caught up" block=123 events_per_s=15000`), one per event, easy
for people to read and for log shippers to parse.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeRemainingColumn

log = logging.getLogger("twin_licensing.indexer")

# A backfill this many blocks behind the head gets a progress bar (on a terminal) or periodic log lines.
LONG_BACKFILL_BLOCKS = 50
LOG_EVERY_S = 5.0
_STANDARD = set(vars(logging.makeLogRecord({})))


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        line = " ".join(f"{key}={_quote(value)}" for key, value in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _quote(value: Any) -> str:
    text = str(value)
    return f'"{text}"' if not text or any(c in text for c in ' "=') else text


def configure_logging(level: int = logging.INFO) -> None:
    """logfmt on stderr for the project's loggers, unless the application configured logging already."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root.addHandler(handler)
    root.setLevel(level)


class Progress:
    """Reports backfill progress: a rich bar when `enabled` and on a TTY, else a log line every few seconds."""

    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.bar_enabled = enabled and self.console.is_terminal
        self.log_enabled = enabled
        self._bar: RichProgress | None = None
        self._task: Any = None
        self._start_block = 0
        self._events = 0
        self._t0 = time.monotonic()
        self._last_log = 0.0
        self._backfilling = False

    def begin(self, cursor_block: int, head: int) -> None:
        self._start_block, self._events, self._t0 = cursor_block, 0, time.monotonic()
        self._backfilling = head - cursor_block >= LONG_BACKFILL_BLOCKS
        if self._backfilling and self.log_enabled:
            log.info("backfill", extra={"from_block": cursor_block + 1, "head": head})
        if self._backfilling and self.bar_enabled and self._bar is None:
            self._bar = RichProgress(
                TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TextColumn("blocks"),
                TextColumn("{task.fields[events]:,} events  {task.fields[rate]:,.0f}/s"), TimeRemainingColumn(),
                console=self.console, transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("blocks", total=head - cursor_block, events=0, rate=0.0)

    def advance(self, events: int, cursor: Any, head: int) -> None:
        self._events += events
        elapsed = max(time.monotonic() - self._t0, 1e-6)
        rate = self._events / elapsed
        done = cursor.block_number - self._start_block
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=max(head - self._start_block, done),
                             events=self._events, rate=rate)
        if not self._backfilling or not self.log_enabled:
            return
        now = time.monotonic()
        caught_up = cursor.block_number >= head
        if caught_up or now - self._last_log >= LOG_EVERY_S:
            self._last_log = now
            blocks_per_s = done / elapsed
            eta = (head - cursor.block_number) / blocks_per_s if blocks_per_s > 0 else None
            extra = {"block": cursor.block_number, "head": head, "events": self._events,
                     "events_per_s": round(rate), "eta_s": round(eta, 1) if eta is not None else "?"}
            if caught_up:
                self.close()
                self._backfilling = False
                log.info("caught up", extra={**extra, "seconds": round(elapsed, 2)})
            else:
                log.info("backfill progress", extra=extra)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
