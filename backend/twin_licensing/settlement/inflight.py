"""The settler's transactions in flight: several `settle` transactions at once, none waited for.

The settler calls, from its one loop:

- `submit(items, gas) -> Handle`: records the submission (write-ahead: the submission, its items and its signed
  transaction, before anything is broadcast), broadcasts it on the recorder's next free nonce and returns at once;
- `poll() -> [Finished]`: once per new head (every call without a head feed) asks the chain, in one request, about
  every transaction in flight (`chain.tx_pipeline`): it resolves the mined ones (`MINED`, or `REVERTED` with the
  replayed reason), resends the dropped ones, replaces the ones the fee market will not mine, and says which
  submissions need their uses planned again (`RETRY`: its nonce went to a transaction that is none of ours). Each
  finished submission's row gets its final status here (mined / failed / dropped);
- `busy()`: the licences with an item in flight. The settler plans none of them until their transaction resolves
  (an item must start at the chain's settled count, which the one in flight is about to move); the other licences
  go on in new transactions on the following nonces, so a stuck licence holds no other;
- `restore()`: at start and after a crash, puts back in flight every submission recorded as sending, with every
  signed version of its nonce, and checks them at once: mined ones are finished, dropped ones sent again, the
  rest watched. The settler sends nothing before it has called this.

Which uses are paid is still read from the chain's settled counts (see settler.py); these records say what is in
flight, so that nothing is planned twice and a crash loses no transaction.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Sequence

from sqlalchemy import Engine, select
from sqlmodel import Session

from ..chain.fees import with_gas_margin
from ..chain.heads import HeadFeed
from ..chain.settlement import SettleItem, SettlementClient
from ..chain.tx_pipeline import LOST, MINED as LANDED_MINED, Landed, SignedTx, TxPipeline
from ..db.submissions import DROPPED, FAILED, MINED, SENDING, SettleSubmission, SettleSubmissionItem, SettleTransaction
from ..db.uses import ChainScope

log = logging.getLogger("twin_licensing.settler.inflight")

# Outcomes of a finished submission (its row's status is MINED, FAILED or DROPPED respectively).
SETTLED, REVERTED, RETRY = "mined", "reverted", "retry"

# Without a new head announced, the transactions in flight are checked at least this often anyway (a missed
# announcement must not leave a dropped transaction unnoticed).
_CHECK_AT_LEAST_EVERY_S = 5.0


@dataclass(frozen=True)
class Span:
    """The uses an item covers: `count` of licence `license_id` from `first_seq`."""

    license_id: int
    first_seq: int
    count: int


@dataclass(frozen=True)
class Handle:
    """A submission in flight."""

    submission_id: int
    nonce: int
    spans: tuple[Span, ...]
    tx_hash: str  # its first signed version (replacements are in settle_transactions)

    @property
    def uses(self) -> int:
        return sum(s.count for s in self.spans)

    @property
    def license_ids(self) -> frozenset[int]:
        return frozenset(s.license_id for s in self.spans)


@dataclass(frozen=True)
class Finished:
    """A submission that left flight. SETTLED / REVERTED carry the mined transaction's receipt fields (and its logs,
    JSON-RPC objects, e.g. for `chain.settlement.skips_of`); RETRY means none of its versions was mined."""

    handle: Handle
    outcome: str
    tx_hash: str | None = None
    block_number: int | None = None
    block_hash: str | None = None
    gas_used: int | None = None
    error: str | None = None
    logs: tuple[dict, ...] = ()


def item_row(submission_id: int, item: SettleItem) -> SettleSubmissionItem:
    """The record of one item of a submission (what `restore` reads back: licence, first seq, count)."""
    return SettleSubmissionItem(submission_id=submission_id, license_id=item.license_id, first_seq=item.first_seq,
                                count=item.count, uses_root=item.uses_root, categories=item.categories)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class InFlight:
    """The recorder's settle transactions in flight, on one chain (`scope`), recorded in `engine`."""

    def __init__(
        self,
        engine: Engine,
        client: SettlementClient,
        scope: ChainScope,
        *,
        heads: HeadFeed | None = None,
        max_in_flight: int = 8,
        item_row: Callable[[int, SettleItem], SettleSubmissionItem] = item_row,
    ) -> None:
        self.engine = engine
        self.client = client
        self.scope = scope
        self.heads = heads
        self.recorder = client.address
        self._item_row = item_row
        self.pipeline = TxPipeline(client.chain, client.recorder, record=self._record, max_in_flight=max_in_flight)
        self._handles: dict[int, Handle] = {}
        self._seen_head = -1
        self._checked_at = float("-inf")
        self._landed: list[Landed] = []  # ends the pipeline reported, not yet recorded
        self._ready: list[Finished] = []  # recorded, not yet returned by `poll`

    def __len__(self) -> int:
        return len(self._handles)

    def handles(self) -> list[Handle]:
        return sorted(self._handles.values(), key=lambda h: h.nonce)

    def busy(self) -> set[int]:
        """Licences with an item in flight: not to be planned again until it resolves."""
        return {lid for handle in self._handles.values() for lid in handle.license_ids}

    def has_room(self) -> bool:
        return self.pipeline.has_room()

    # ------------------------------------------------------------------ sending

    def submit(self, items: Sequence[SettleItem], gas: int, *, fees: tuple[int, int] | None = None) -> Handle:
        """Records and broadcasts one settle of `items` (`gas`: the simulation's estimate; a margin is added) on the
        next free nonce; returns without waiting. `fees` (maxFeePerGas, tip) overrides the market's."""
        items = list(items)
        if not items:
            raise ValueError("a settle transaction needs at least one item")
        busy = self.busy() & {i.license_id for i in items}
        if busy:
            raise ValueError(f"licences {sorted(busy)} already have a transaction in flight")
        limit = with_gas_margin(gas)
        signed = self.pipeline.sign_new(
            lambda nonce, max_fee, tip: self.client.sign(items, nonce=nonce, gas=limit, max_fee_per_gas=max_fee,
                                                         max_priority_fee_per_gas=tip),
            fees=fees,
        )
        with Session(self.engine) as session:  # write-ahead: on record before it can exist anywhere else
            submission = SettleSubmission(
                chain_id=self.scope.chain_id, genesis_hash=self.scope.genesis_hash, recorder=self.recorder,
                nonce=signed.nonce, tx_hash=signed.tx_hash, status=SENDING, uses=sum(i.count for i in items))
            session.add(submission)
            session.flush()
            submission_id = submission.submission_id
            assert submission_id is not None
            for item in items:
                session.add(self._item_row(submission_id, item))
            session.add(_tx_row(submission_id, signed))
            session.commit()
        handle = Handle(submission_id, signed.nonce, tuple(Span(i.license_id, i.first_seq, i.count) for i in items),
                        signed.tx_hash)
        self._handles[submission_id] = handle
        self.pipeline.launch(submission_id, signed)
        return handle

    def _record(self, submission_id: object, signed: SignedTx) -> None:
        """A replacement or re-signed version of a submission's transaction, recorded before it is broadcast."""
        assert isinstance(submission_id, int)
        with Session(self.engine) as session:
            session.add(_tx_row(submission_id, signed))
            row = session.get(SettleSubmission, submission_id)
            if row is not None:
                row.tx_hash = signed.tx_hash
                row.updated_at = _now()
                session.add(row)
            session.commit()

    # ------------------------------------------------------------------ watching

    def poll(self, *, force: bool = False) -> list[Finished]:
        """Checks the transactions in flight if a head came since the last check (always without a head feed, or
        with `force`); returns the submissions that finished, their rows updated."""
        if not self._handles and not self._ready:
            return []
        if self._handles and (force or self.heads is None or self._head_came()):
            self._checked_at = time.monotonic()
            self._landed.extend(self.pipeline.check())
        # One at a time, each kept until handed over: an error on the way (the database busy) loses none of them.
        while self._landed:
            self._ready.append(self._finish(self._landed[0]))
            self._landed.pop(0)
        ready, self._ready = self._ready, []
        return ready

    def _head_came(self) -> bool:
        """Whether a new head was announced since the last check (or the last check is too long ago)."""
        assert self.heads is not None
        sequence = self.heads.sequence
        if sequence == self._seen_head and time.monotonic() - self._checked_at < _CHECK_AT_LEAST_EVERY_S:
            return False
        self._seen_head = sequence
        return True

    def wait(self, handle: Handle, timeout: float = 60.0) -> list[Finished]:
        """Polls until `handle` finished (or `timeout`); every submission that finished meanwhile, `handle`'s
        included when it did. For one-shot callers and automine tests; the settler's loop polls instead."""
        deadline = time.monotonic() + timeout
        finished: list[Finished] = []
        delay = 0.01
        while True:
            seen = self.heads.sequence if self.heads is not None else 0
            finished += self.poll(force=True)
            if handle.submission_id not in self._handles or time.monotonic() >= deadline:
                return finished
            if self.heads is not None and self.heads.subscribed.is_set():
                self.heads.wait_for_next(seen, timeout=max(0.01, min(2.0, deadline - time.monotonic())))
            else:
                time.sleep(delay)
                delay = min(delay * 2, 0.25)

    def _finish(self, landed: Landed) -> Finished:
        handle = self._handles[int(landed.key)]  # type: ignore[arg-type]
        if landed.outcome == LOST:
            outcome, status, error = RETRY, DROPPED, landed.detail
        elif landed.outcome == LANDED_MINED:
            outcome, status, error = SETTLED, MINED, None
        else:
            outcome, status = REVERTED, FAILED
            error = str(self.client.explain_failure(landed.tx_hash, landed.block_number))
            log.warning("settlement %s reverted: %s", landed.tx_hash, error)
        with Session(self.engine) as session:
            row = session.get(SettleSubmission, handle.submission_id)
            if row is not None:
                row.status = status
                row.error = error
                if landed.tx_hash is not None:
                    row.tx_hash = landed.tx_hash
                    row.block_number = landed.block_number
                    row.block_hash = landed.block_hash
                    row.gas_used = landed.gas_used
                row.updated_at = _now()
                session.add(row)
                session.commit()
        del self._handles[handle.submission_id]  # busy until its row says how it ended
        return Finished(handle=handle, outcome=outcome, tx_hash=landed.tx_hash, block_number=landed.block_number,
                        block_hash=landed.block_hash, gas_used=landed.gas_used, error=error, logs=landed.logs)

    # ------------------------------------------------------------------ after a start or a crash

    def restore(self) -> list[Finished]:
        """Puts back in flight every submission of this recorder and chain recorded as sending (with all the signed
        versions of its nonce), then checks them at once; returns those that had finished meanwhile."""
        with Session(self.engine) as session:
            rows = session.execute(
                select(SettleSubmission).where(
                    SettleSubmission.chain_id == self.scope.chain_id,
                    SettleSubmission.genesis_hash == self.scope.genesis_hash,
                    SettleSubmission.recorder == self.recorder,
                    SettleSubmission.status == SENDING,
                ).order_by(SettleSubmission.nonce, SettleSubmission.submission_id)
            ).scalars().all()
            restored = []
            for row in rows:
                assert row.submission_id is not None
                txs = session.execute(
                    select(SettleTransaction).where(SettleTransaction.submission_id == row.submission_id)
                    .order_by(SettleTransaction.created_at)
                ).scalars().all()
                spans = session.execute(
                    select(SettleSubmissionItem).where(SettleSubmissionItem.submission_id == row.submission_id)
                    .order_by(SettleSubmissionItem.id)
                ).scalars().all()
                versions = [SignedTx(tx_hash=t.tx_hash, nonce=int(row.nonce), gas=int(t.gas),
                                     max_fee_per_gas=int(t.max_fee_per_gas),
                                     max_priority_fee_per_gas=int(t.max_priority_fee_per_gas), raw=bytes(t.raw))
                            for t in txs]
                handle = Handle(row.submission_id, int(row.nonce),
                                tuple(Span(s.license_id, s.first_seq, s.count) for s in spans),
                                versions[0].tx_hash if versions else row.tx_hash)
                restored.append((handle, versions))
        finished = []
        for handle, versions in restored:
            if handle.submission_id in self._handles:
                continue
            try:
                if not versions:
                    raise ValueError("no signed transaction on record")
                self.pipeline.restore(handle.submission_id, versions)
            except ValueError as exc:
                # Not resendable (or its nonce is another's on record): its uses are planned again from the chain.
                self._handles[handle.submission_id] = handle
                finished.append(self._finish(Landed(key=handle.submission_id, nonce=handle.nonce, outcome=LOST,
                                                    detail=f"not restored after a restart: {exc}")))
                continue
            self._handles[handle.submission_id] = handle
        if restored:
            log.info("restored %d settle transactions in flight", len(self._handles))
        return finished + self.poll(force=True)


def _tx_row(submission_id: int, signed: SignedTx) -> SettleTransaction:
    return SettleTransaction(
        tx_hash=signed.tx_hash,
        submission_id=submission_id,
        gas=signed.gas,
        max_fee_per_gas=str(signed.max_fee_per_gas),
        max_priority_fee_per_gas=str(signed.max_priority_fee_per_gas),
        raw=signed.raw,
    )
