"""Fetches consecutive block ranges of logs ahead of the writer, in a thread of its own.

Each batch is proven to extend the previous one: the header of its last block is read before and after
`eth_getLogs`, and after it also the header of the block before its first (must still be the previous batch's
last) and of every block a log names (must match the log's blockHash). Anything else means the chain changed
under us: the fetcher stops with `ReorgSuspected` and the writer finds out what happened.

The range grows while responses are small and shrinks when they are large or the provider refuses them, so
requests stay near `target_logs` whatever the density of events.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import queue
import signal
import struct
import threading
from dataclasses import dataclass
from typing import Any

from ..chain.events import DecodedEvent, EventDecoder
from ..chain.heads import Head, HeadFeed
from ..chain.logs import BlockHeader, LogRangeTooLarge, RpcClient, parse_logs
from .config import IndexerConfig
from .handlers import event_values
from ..errors import TwinLicensingError

log = logging.getLogger(__name__)


@dataclass
class Batch:
    start: int
    end: int
    parent_hash: str  # hash of block start - 1: the previous batch's (or the cursor's) last block
    end_hash: str
    head: int  # the chain's head when the batch was fetched
    headers: dict[int, BlockHeader]  # the blocks the events are in, and the last `recent_blocks` of the range
    events: list[DecodedEvent]
    event_values: list[tuple]  # chain_events rows without `final`, one per event (see handlers.event_values)


@dataclass
class ReorgSuspected:
    reason: str


@dataclass
class Caught:
    """The fetcher reached `stop_at` (sync mode)."""


@dataclass
class Failed:
    error: BaseException


Item = Batch | ReorgSuspected | Caught | Failed


class _Reorg(TwinLicensingError):
    pass


class RangeSizer:
    """How many blocks to ask for next: grows x2 while responses are under target, shrinks to fit otherwise."""

    def __init__(self, config: IndexerConfig) -> None:
        self.span = max(1, config.initial_span)
        self.max_span = max(1, config.max_span)
        self.target = max(1, config.target_logs)

    def succeeded(self, span: int, logs: int) -> None:
        if logs > 2 * self.target:
            self.span = max(1, span * self.target // logs)
        elif logs < self.target // 2:
            self.span = min(self.max_span, max(span, self.span) * 2)

    def refused(self, span: int, error: LogRangeTooLarge, start: int) -> None:
        if span <= 1:
            raise error  # one block is too much for this provider: nothing smaller to ask for
        if error.suggested_to is not None and start <= error.suggested_to < start + span - 1:
            self.span = error.suggested_to - start + 1
        elif error.suggested_span is not None and error.suggested_span < span:
            self.span = error.suggested_span
        else:
            self.span = max(1, span // 2)
        log.info("log range refused, shrinking", extra={"blocks": span, "next_blocks": self.span})


class _Outbox:
    """The bounded queue a fetcher hands its items to the writer through, and the flag that halts it."""

    def __init__(self, config: IndexerConfig) -> None:
        self.out: queue.Queue[Item] = queue.Queue(maxsize=max(1, config.prefetch))
        self._halt = threading.Event()

    def _put(self, item: Item) -> bool:
        """Waits for room unless halted; False when halted (the writer no longer reads)."""
        while not self._halt.is_set():
            try:
                self.out.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _halt_and_drain(self) -> None:
        self._halt.set()
        # Unblock a put() waiting for room.
        try:
            while True:
                self.out.get_nowait()
        except queue.Empty:
            pass


class Fetcher(_Outbox, threading.Thread):
    def __init__(
        self,
        client: RpcClient,
        decoder: EventDecoder,
        config: IndexerConfig,
        *,
        chain_id: int,
        start: int,
        parent_hash: str,
        stop_at: int | None = None,
        wake: threading.Event | None = None,
        sizer: RangeSizer | None = None,
        heads: HeadFeed | None = None,
    ) -> None:
        threading.Thread.__init__(self, name="indexer-fetcher", daemon=True)
        _Outbox.__init__(self, config)
        self.client = client
        self.chain_id = chain_id
        self.decoder = decoder
        self.config = config
        self.next = start
        self.parent_hash = parent_hash
        self.stop_at = stop_at
        self.wake = wake or threading.Event()
        self.sizer = sizer or RangeSizer(config)
        self.head_seen = start - 1
        self.pipeline_client: RpcClient | None = None  # set: requests run one range ahead (see _pipelined)
        # Heads pushed by the node: they set `wake` and save the head request (and often every request: see
        # _passes_over). Without them the fetcher polls the head every `poll_interval`.
        self.heads = heads
        self._used_head: Head | None = None

    def stop(self) -> None:
        self._halt_and_drain()
        self.wake.set()

    def run(self) -> None:
        try:
            self._loop()
        except _Reorg as exc:
            self._put(ReorgSuspected(str(exc)))
        except BaseException as exc:  # handed to the writer, which decides (retry later, or stop)
            self._put(Failed(exc))

    def _loop(self) -> None:
        addresses = self.decoder.addresses
        while not self._halt.is_set():
            self.wake.clear()  # before reading the head: a head announced from now on wakes the wait below
            head, pushed = self._head()
            self.head_seen = head.number
            if head.number < self.next - 1 or (head.number == self.next - 1 and head.hash != self.parent_hash):
                raise _Reorg(f"head {head.number} {head.hash[:10]} does not extend block {self.next - 1}")
            last = head.number if self.stop_at is None else min(head.number, self.stop_at)
            if pushed is None or not self._passes_over(pushed, last, addresses):
                if self.pipeline_client is not None and self.next <= last:
                    self._pipelined(last, head.number, addresses, self.pipeline_client)
                while self.next <= last and not self._halt.is_set():
                    batch = self._fetch(self.next, last, head.number, addresses, head if pushed is not None else None)
                    if not self._put(batch):
                        return
                    self.next, self.parent_hash = batch.end + 1, batch.end_hash
                if self.stop_at is not None and self.next > self.stop_at:
                    self._put(Caught())
                    return
            # Caught up: wait for a new head. Pushed heads set `wake` at once (the feed polls for us while its
            # subscription is down); the timeout is only a safety net then.
            self.wake.wait(self.config.poll_interval if self.heads is None else max(self.config.poll_interval, 30.0))

    def _head(self) -> tuple[BlockHeader, Head | None]:
        """The chain's head: the one last pushed if it is new to us and not behind us, else asked for."""
        heads = self.heads
        latest = heads.latest if heads is not None else None
        if latest is not None and latest is not self._used_head and latest.number >= self.next - 1:
            self._used_head = latest
            return latest.header, latest
        head = self.client.header("latest")
        if head is None:
            raise _Reorg("the node has no latest block")
        return head, None

    def _passes_over(self, pushed: Head, last: int, addresses: list[str]) -> bool:
        """Following, one block behind a pushed head whose logs bloom proves that none of our contracts logged in
        it: the block goes to the writer as an empty batch with no request at all (an idle chain then costs the
        indexer nothing). Its parent is checked here; a later reorganisation is found by the next block's."""
        header = pushed.header
        if (self.stop_at is not None or last != self.next or header.number != self.next
                or header.parent_hash != self.parent_hash or pushed.may_have_logs_of(addresses)):
            return False
        batch = Batch(header.number, header.number, self.parent_hash, header.hash, header.number,
                      {header.number: header}, [], [])
        if self._put(batch):
            self.next, self.parent_hash = header.number + 1, header.hash
        return True

    def _fetch(self, start: int, last: int, head: int, addresses: list[str],
               pushed: BlockHeader | None = None) -> Batch:
        end, before, body = self._request(self.client, start, last, addresses, pushed)
        return self._finish(start, end, before, body, head, count_logs=True)

    def _request(self, client: RpcClient, start: int, last: int, addresses: list[str],
                 pushed: BlockHeader | None = None) -> tuple[int, BlockHeader, bytes]:
        """eth_getLogs from `start` over as many blocks as the sizer says (shrinking while refused): the range's
        end, the header of its last block read before the logs (a pushed head is one, read just now), and the
        response body."""
        while True:
            span = self.sizer.span
            end = min(last, start + span - 1)
            before = pushed if pushed is not None and pushed.number == end else client.header(end)
            if before is None:
                raise _Reorg(f"block {end} vanished")
            try:
                return end, before, client.get_logs_body(start, end, addresses)
            except LogRangeTooLarge as exc:
                self.sizer.refused(end - start + 1, exc, start)

    def _finish(self, start: int, end: int, before: BlockHeader, body: bytes, head: int, *,
                count_logs: bool) -> Batch:
        """Parses, checks (the chain did not change under the range) and decodes one range's logs."""
        client = self.client
        # Parsed and decoded in this thread, which runs while the writer's is inside SQLite (the GIL released).
        logs = parse_logs(body, start, end)
        window_start = max(start, end - self.config.recent_blocks + 1)
        log_blocks = {int(entry["blockNumber"], 16) for entry in logs}
        wanted = set(log_blocks)
        wanted.update(range(window_start, end + 1))
        if start > 0:
            wanted.add(start - 1)
        headers = client.headers(sorted(wanted))
        after, parent = headers.get(end), headers.get(start - 1)
        if after is None or after.hash != before.hash:
            raise _Reorg(f"block {end} changed while its logs were read")
        if start > 0 and (parent is None or parent.hash != self.parent_hash):
            raise _Reorg(f"block {start - 1} is no longer {self.parent_hash[:10]}")
        for entry in logs:
            header = headers.get(int(entry["blockNumber"], 16))
            if header is None or header.hash != entry["blockHash"]:
                raise _Reorg(f"a log of block {int(entry['blockNumber'], 16)} is from another branch")
        if count_logs:
            self.sizer.succeeded(end - start + 1, len(logs))
        events = self.decoder.decode(logs)
        values = [event_values(self.chain_id, ev, headers[ev.block_number].timestamp) for ev in events]
        headers.pop(start - 1, None)
        return Batch(start, end, self.parent_hash, after.hash, head,
                     {n: h for n, h in headers.items() if h is not None}, events, values)

    def _pipelined(self, last: int, head: int, addresses: list[str], client: RpcClient) -> None:
        """Fetches self.next .. last with the next eth_getLogs already on its way (another thread, another
        connection) while this thread parses and decodes the previous one: the node and we work at once."""
        ahead: queue.Queue[Any] = queue.Queue(maxsize=2)
        done = threading.Event()

        def request() -> None:
            start = self.next
            try:
                while start <= last and not done.is_set():
                    end, before, body = self._request(client, start, last, addresses)
                    # One "logIndex" per log object: the count the sizer needs, without parsing here.
                    self.sizer.succeeded(end - start + 1, body.count(b'"logIndex"'))
                    ahead.put((start, end, before, body))
                    start = end + 1
                ahead.put(None)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the fetcher's thread
                ahead.put(exc)

        requester = threading.Thread(target=request, name="indexer-requester", daemon=True)
        requester.start()
        try:
            while not self._halt.is_set():
                got = ahead.get()
                if got is None:
                    return
                if isinstance(got, BaseException):
                    raise got
                start, end, before, body = got
                batch = self._finish(start, end, before, body, head, count_logs=False)
                if not self._put(batch):
                    return
                self.next, self.parent_hash = batch.end + 1, batch.end_hash
        finally:
            done.set()
            try:
                ahead.get_nowait()  # room for a requester blocked on put
            except queue.Empty:
                pass


# ---------------------------------------------------------------------------------------------- fetch process
#
# During a backfill the fetcher's work (reading eth_getLogs responses, JSON parsing, decoding, building the event
# rows) and the writer's (state derivation, SQLite/PostgreSQL inserts) both need the interpreter: in threads of one
# process they take turns on the GIL and the backfill runs at about the sum of the two. `ProcessFetcher` runs the
# very same `Fetcher` in a forked child and sends its items back through a pipe, so the two run on two cores. The
# child never touches the database (it closes every inherited descriptor: the lock file, database connections),
# so crash safety is unchanged: rows and cursor are still written only by the parent, in one transaction per batch.

_HEADER = struct.Struct("<Q")


def _wire(item: Item, span: int) -> tuple:
    """A compact, quickly pickled form of an item (a dataclass per event would cost ~4x more to unpickle)."""
    if isinstance(item, Batch):
        return ("batch", item.start, item.end, item.parent_hash, item.end_hash, item.head,
                [(h.number, h.hash, h.parent_hash, h.timestamp) for h in item.headers.values()],
                item.event_values, [ev.args for ev in item.events], span)
    if isinstance(item, ReorgSuspected):
        return ("reorg", item.reason)
    if isinstance(item, Caught):
        return ("caught",)
    error = item.error
    state = {k: v for k, v in getattr(error, "__dict__", {}).items() if not k.startswith("_")}
    try:
        pickle.dumps((type(error), error.args, state))
        return ("failed", type(error), error.args, state)
    except Exception:  # noqa: BLE001 - an unpicklable exception: its text is what matters
        return ("failed", RuntimeError, (f"{type(error).__name__}: {error}",), {})


def _unwire(wire: tuple, sizer: RangeSizer) -> Item:
    kind = wire[0]
    if kind == "batch":
        _, start, end, parent_hash, end_hash, head, headers, values, args, span = wire
        sizer.span = span  # the next fetcher, thread or process, starts from the size the child arrived at
        events = [DecodedEvent(v[3], v[4], v[1], v[6], v[2], v[7], v[8], a) for v, a in zip(values, args)]
        return Batch(start, end, parent_hash, end_hash, head, {h[0]: BlockHeader(*h) for h in headers}, events,
                     values)
    if kind == "reorg":
        return ReorgSuspected(wire[1])
    if kind == "caught":
        return Caught()
    _, cls, error_args, state = wire
    error = cls.__new__(cls)
    error.args = error_args
    error.__dict__.update(state)
    return Failed(error)


class _PipeOut:
    """Stands in for the fetcher's queue inside the child: `put` sends the item to the parent (blocking while the
    pipe is full, which holds the child back like a full queue)."""

    def __init__(self, fd: int, sizer: RangeSizer) -> None:
        self.fd = fd
        self.sizer = sizer

    def put(self, item: Item, timeout: float | None = None) -> None:
        payload = pickle.dumps(_wire(item, self.sizer.span), protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(_HEADER.pack(len(payload)) + payload)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]


class ProcessFetcher(_Outbox):
    """`Fetcher`'s interface (start, stop, join, out, head_seen) with the fetching done in a forked process."""

    def __init__(
        self,
        client: RpcClient,
        decoder: EventDecoder,
        config: IndexerConfig,
        *,
        chain_id: int,
        start: int,
        parent_hash: str,
        stop_at: int,
        sizer: RangeSizer | None = None,
    ) -> None:
        self.client = client
        self.decoder = decoder
        self.config = config
        self.chain_id = chain_id
        self.start_block = start
        self.parent_hash = parent_hash
        self.stop_at = stop_at
        self.sizer = sizer or RangeSizer(config)
        super().__init__(config)
        self.head_seen = start - 1
        self._pid: int | None = None
        self._reader: threading.Thread | None = None

    # ------------------------------------------------------------------ parent

    def start(self) -> None:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 0
            try:
                os.close(read_fd)
                self._child(write_fd)
            except BaseException:  # noqa: BLE001 - nothing can be reported any more (the parent is gone)
                code = 1
            finally:
                os._exit(code)
        os.close(write_fd)
        self._pid = pid
        self._reader = threading.Thread(target=self._read, args=(read_fd,), name="indexer-fetch-reader",
                                        daemon=True)
        self._reader.start()

    def _read(self, fd: int) -> None:
        stream = os.fdopen(fd, "rb", buffering=1 << 20)
        try:
            while not self._halt.is_set():
                header = stream.read(_HEADER.size)
                if len(header) < _HEADER.size:
                    if not self._halt.is_set():
                        self._put(Failed(RuntimeError("the indexer's fetch process ended without a word")))
                    return
                (size,) = _HEADER.unpack(header)
                payload = stream.read(size)
                if len(payload) < size:
                    if not self._halt.is_set():
                        self._put(Failed(RuntimeError("the indexer's fetch process ended mid-message")))
                    return
                item = _unwire(pickle.loads(payload), self.sizer)
                if isinstance(item, Batch):
                    self.head_seen = max(self.head_seen, item.head)
                if not self._put(item) or not isinstance(item, Batch):
                    return
        except Exception as exc:  # noqa: BLE001 - handed to the writer like the fetcher's own failures
            self._put(Failed(exc))
        finally:
            stream.close()

    def stop(self) -> None:
        self._halt.set()
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGKILL)  # it holds nothing but a pipe and an HTTP connection
            except ProcessLookupError:
                pass
        self._halt_and_drain()

    def join(self, timeout: float | None = None) -> None:
        if self._pid is not None:
            try:
                os.waitpid(self._pid, 0)
            except ChildProcessError:
                pass
            self._pid = None
        if self._reader is not None:
            self._reader.join(timeout)

    # ------------------------------------------------------------------ child

    def _child(self, write_fd: int) -> None:
        # Objects copied from the parent (its database connections among them) are never collected here: a
        # finalizer could otherwise act on a descriptor number that, closed below, now belongs to our socket.
        gc.freeze()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        # Close everything inherited but the pipe: the indexer lock (a SIGKILLed parent must release it at once),
        # database connections, the parent's keep-alive HTTP connection.
        os.closerange(3, write_fd)
        os.closerange(write_fd + 1, _max_fd())
        old = self.client
        client = RpcClient(old.url, timeout=old.timeout, retries=old.retries, backoff=old.backoff,
                           max_backoff=old.max_backoff)
        fetcher = Fetcher(client, self.decoder, self.config, chain_id=self.chain_id, start=self.start_block,
                          parent_hash=self.parent_hash, stop_at=self.stop_at, sizer=self.sizer)
        fetcher.out = _PipeOut(write_fd, fetcher.sizer)  # type: ignore[assignment]
        fetcher.pipeline_client = RpcClient(old.url, timeout=old.timeout, retries=old.retries, backoff=old.backoff,
                                            max_backoff=old.max_backoff)
        fetcher.run()


def _max_fd() -> int:
    try:
        return max(256, os.sysconf("SC_OPEN_MAX"))
    except (OSError, ValueError):
        return 4096
