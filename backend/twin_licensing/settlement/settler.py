"""The settler: takes pending uses, settles them on chain in batches, and survives crashes and reorganisations.

Why a use is paid exactly once: the chain, not this process, is the record of what is paid. Every item starts at
the licence's on-chain settled count (`firstSeq`), which the contract checks, so a replayed or overlapping item
reverts instead of paying twice. Why no use is dropped: a use stays pending as long as its sequence number is at
or above its licence's on-chain settled count, whatever this process remembers, so a lost transaction, a crash or
a reorganisation only delays it. What this process keeps (submissions) is for people and for recovery, never for
deciding what is paid.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Engine, delete, func, select
from sqlmodel import Session

from ..chain.heads import HeadFeed
from ..chain.settlement import NonceTooLowError, SettleItem, SettlementClient, SignedSettle
from ..db.submissions import (
    DROPPED,
    FAILED,
    MINED,
    SENDING,
    SettleSubmission,
    SettleSubmissionItem,
    SettleTransaction,
    UseRejection,
)
from ..errors import ContractRevert, TransactionError
from ..db.license_state import License
from ..db.uses import ChainScope, Use
from .batch import PlannedItem, max_seqs, max_seqs_since, pending_summary, pending_uses, plan_items
from .config import SettlerConfig
from .reasons import PER_TWIN, PER_TWIN_CATEGORY, hold_for

log = logging.getLogger("twin_licensing.settler")


@dataclass(frozen=True)
class StepResult:
    uses: int = 0  # uses in the transaction sent, 0 if none was sent
    tx_hash: str | None = None
    gas_used: int | None = None
    succeeded: bool = False


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Settler:
    def __init__(
        self,
        engine: Engine,
        client: SettlementClient,
        config: SettlerConfig | None = None,
        heads: HeadFeed | None = None,
    ) -> None:
        self.engine = engine
        self.client = client
        # New heads, pushed by the node: the chain-side checks (reorganisation, settled counts, holds) run once per
        # new block instead of once per step, since between blocks nothing on chain can have changed. Without a
        # feed every step looks (tests drive `step()` by hand).
        self.heads = heads
        self._head_sequence = -1
        deployment = client.chain.deployment
        assert deployment is not None, "the settler needs the chain bound to its deployment"
        self.chain_id = client.chain.chain_id
        self.scope = ChainScope(self.chain_id, deployment.genesis_hash)
        self.recorder = client.address
        self.config = config or SettlerConfig()
        self.floors: dict[int, int] = {}  # on-chain settled count per licence, as last read or made so by us
        self.twin_of: dict[int, int] = {}
        self._last_full_refresh = float("-inf")
        self._last_recheck = float("-inf")
        self._recent: deque[tuple[str, str]] = deque(maxlen=4)  # (tx hash, block hash) of recent mined batches
        # Set while a recorded submission's fate is unknown (an error escaped between recording and its receipt):
        # the next step resolves it before sending anything else.
        self._unresolved = False
        # Highest sequence number reported per licence, kept up to date from the uses added since `_use_mark`
        # (and rebuilt by every full refresh, which also covers ids committed out of order on PostgreSQL).
        self._highest: dict[int, int] = {}
        self._use_mark = 0

    # ------------------------------------------------------------------ lifecycle

    def run(self, stop: threading.Event) -> None:
        """Reconciles, then settles until `stop` is set. Errors are logged and retried, never fatal."""
        self.reconcile()
        while not stop.is_set():
            try:
                result = self.step()
            except (TransactionError, OSError, ConnectionError) as exc:
                log.warning("settle step failed, retrying: %s", exc)
                stop.wait(self.config.error_backoff_s)
                continue
            except Exception:  # noqa: BLE001 - a settler that dies stops every payment: log and go on
                log.exception("unexpected error in the settler; retrying")
                stop.wait(self.config.error_backoff_s)
                continue
            if not result.uses:
                stop.wait(self.config.poll_s)

    def reconcile(self) -> None:
        """After a start or a crash: settle the fate of every recorded in-flight transaction, wait out any other
        pending transaction of the recorder, then read the chain's settled counts. Nothing is sent before."""
        with Session(self.engine) as session:
            open_ids = session.execute(
                select(SettleSubmission.submission_id)
                .where(
                    SettleSubmission.chain_id == self.chain_id,
                    SettleSubmission.genesis_hash == self.scope.genesis_hash,
                    SettleSubmission.recorder == self.recorder,
                    SettleSubmission.status == SENDING,
                )
                .order_by(SettleSubmission.nonce)
            ).scalars().all()
        for submission_id in open_ids:
            self._resolve(submission_id)
        deadline = time.monotonic() + self.config.stuck_after_s
        nonces = self.client.nonces()
        while nonces.pending > nonces.mined and time.monotonic() < deadline:
            time.sleep(0.2)
            nonces = self.client.nonces()
        if nonces.pending > nonces.mined:
            log.warning(
                "recorder %s still has %d unknown transactions pending; settling anyway (the chain rejects overlaps)",
                self.recorder,
                nonces.pending - nonces.mined,
            )
        self.refresh_all()
        log.info("reconciled: %d licences with uses, %d submissions resolved", len(self.floors), len(open_ids))

    def _resolve(self, submission_id: int) -> None:
        with Session(self.engine) as session:
            submission = session.get(SettleSubmission, submission_id)
            txs = session.execute(
                select(SettleTransaction)
                .where(SettleTransaction.submission_id == submission_id)
                .order_by(SettleTransaction.created_at)
            ).scalars().all()
            items = self._items_of(session, submission_id)
            hashes = [tx.tx_hash for tx in txs]
            latest = txs[-1] if txs else None
        for tx_hash in hashes:
            receipt = self.client.receipt(tx_hash)
            if receipt is not None:
                self._finish(submission_id, receipt.tx_hash, receipt.succeeded, receipt.block_number,
                             receipt.block_hash, receipt.gas_used, items)
                return
        if latest is not None and any(self.client.is_known(h) for h in hashes):
            signed = SignedSettle(
                tx_hash=latest.tx_hash,
                nonce=submission.nonce,
                gas=latest.gas,
                max_fee_per_gas=int(latest.max_fee_per_gas),
                max_priority_fee_per_gas=int(latest.max_priority_fee_per_gas),
                raw=latest.raw,
            )
            self._await(submission_id, items, signed, hashes)
            return
        # Never broadcast (the crash came between recording and sending) or evicted: its uses are still pending
        # by the chain's counts and go into a new batch.
        self._mark(submission_id, DROPPED, error="not mined and unknown to the node after a restart")

    # ------------------------------------------------------------------ one batch

    def step(self) -> StepResult:
        """Sends one batch if one is due; returns what was sent."""
        if self._unresolved:
            self.reconcile()
            self._unresolved = False
        now = time.monotonic()
        new_block = self._new_block()
        if self._last_full_refresh == float("-inf") or (new_block and (
                now - self._last_full_refresh >= self.config.full_refresh_s or self._reorganised())):
            self.refresh_all()
        if new_block and now - self._last_recheck >= self.config.recheck_rejections_s:
            self._recheck_rejections()

        with Session(self.engine) as session:
            floors = self._candidate_floors(session)
            if not floors:
                return StepResult()
            summary = pending_summary(session, self.scope, floors)
            if not summary.uses:
                return StepResult()
            age = (_now() - summary.oldest).total_seconds() if summary.oldest else 0.0
            if summary.uses < self.config.max_batch_uses and age < self.config.window_s:
                return StepResult()
            pending = pending_uses(session, self.scope, floors)
            planned = plan_items(
                pending, floors, max_uses=self.config.max_batch_uses, max_items=self.config.max_items
            )
        planned, gas = self._simulate_and_prune(planned)
        if not planned:
            return StepResult()
        return self._submit(planned, gas)

    def _candidate_floors(self, session: Session) -> dict[int, int]:
        """Licences that have uses at or above their settled count and are not held, with that count."""
        added, self._use_mark = max_seqs_since(session, self.scope, self._use_mark)
        for lid, seq in added.items():
            self._highest[lid] = max(seq, self._highest.get(lid, -1))
        highest = self._highest
        held = set(
            session.execute(select(UseRejection.license_id).where(
                UseRejection.chain_id == self.chain_id, UseRejection.genesis_hash == self.scope.genesis_hash
            )).scalars()
        )
        unknown = [lid for lid in highest if lid not in self.floors and lid not in held]
        if unknown:
            self._refresh(unknown)
        return {
            lid: self.floors[lid]
            for lid, top in highest.items()
            if lid in self.floors and lid not in held and top >= self.floors[lid]
        }

    def refresh_all(self) -> None:
        with Session(self.engine) as session:
            # The mark first: a use added between the two reads is then counted, at worst twice, never missed.
            self._use_mark = session.execute(select(func.max(Use.use_id)).where(*self.scope.uses())).scalar() or 0
            self._highest = max_seqs(session, self.scope)
        self._refresh(list(self._highest))
        self._last_full_refresh = time.monotonic()

    def _refresh(self, license_ids: list[int]) -> None:
        states = self.client.license_states(license_ids)
        for lid, state in states.items():
            self.floors[lid] = state.uses_settled
            self.twin_of[lid] = state.twin_id
        for lid in license_ids:
            if lid not in states:  # not on this chain (any more): a reorganisation undid its purchase
                self.floors.pop(lid, None)

    def _new_block(self) -> bool:
        """Whether the chain may have moved since the last step: a new head was announced (always, without a feed)."""
        if self.heads is None:
            return True
        sequence = self.heads.sequence
        moved, self._head_sequence = sequence != self._head_sequence, sequence
        return moved

    def _reorganised(self) -> bool:
        """Whether a recent batch of ours left the chain (its receipt vanished or moved to another block)."""
        recent = list(self._recent)
        if not recent:
            return False
        receipts = self.client.receipts([tx_hash for tx_hash, _ in recent])  # one request for all of them
        for tx_hash, block_hash in recent:
            receipt = receipts.get(tx_hash)
            if receipt is None or receipt.block_hash != block_hash:
                log.warning("settlement %s is no longer in block %s: reorganisation, re-reading counts", tx_hash, block_hash)
                self._recent.clear()
                return True
        return False

    def _simulate_and_prune(self, planned: list[PlannedItem]) -> tuple[list[PlannedItem], int]:
        """Leaves out the items that would make the batch revert, holding their uses when the cause is theirs."""
        while planned:
            try:
                return planned, self.client.simulate([p.item for p in planned])
            except ContractRevert as revert:
                planned = self._prune(planned, revert)
        return [], 0

    def _prune(self, planned: list[PlannedItem], revert: ContractRevert) -> list[PlannedItem]:
        first = next(iter(revert.named_args.values()), None)
        if revert.name == "LicenseTokenSequenceMismatch":
            # Our count was stale (a reorganisation, or a batch we thought lost was mined): take the chain's.
            self.floors[int(first)] = int(revert.named_args.get("expected", list(revert.named_args.values())[1]))
            return [p for p in planned if p.item.license_id != first]
        if revert.name == "LicenseTokenUnknownLicense":
            self.floors.pop(int(first), None)
            return [p for p in planned if p.item.license_id != first]
        hold = hold_for(revert, ended=revert.name == "LicenseTokenExpired" and self._ended(int(first)))
        if hold is None:
            raise revert  # not about one item (paused, role missing): the whole batch waits
        if revert.name in PER_TWIN:
            hit = [p for p in planned if self.twin_of.get(p.item.license_id) == first]
        elif revert.name in PER_TWIN_CATEGORY:
            bit = 1 << int(revert.named_args["category"])
            hit = [p for p in planned if self.twin_of.get(p.item.license_id) == first and p.item.categories & bit]
        else:
            hit = [p for p in planned if p.item.license_id == first]
        if not hit:
            raise revert
        with Session(self.engine) as session:
            for p in hit:
                log.warning("holding uses of licence %d from seq %d: %s", p.item.license_id, p.item.first_seq, hold.reason)
                existing = session.get(UseRejection, (self.chain_id, self.scope.genesis_hash, p.item.license_id))
                if existing is None:
                    session.add(
                        UseRejection(
                            chain_id=self.chain_id,
                            genesis_hash=self.scope.genesis_hash,
                            license_id=p.item.license_id,
                            from_seq=p.item.first_seq,
                            code=hold.code,
                            reason=hold.reason,
                            permanent=hold.permanent,
                        )
                    )
            session.commit()
        hit_ids = {p.item.license_id for p in hit}
        return [p for p in planned if p.item.license_id not in hit_ids]

    def _ended(self, license_id: int) -> bool:
        """Whether the index says the model ended the licence for being idle (issue 10)."""
        with Session(self.engine) as session:
            return session.execute(
                select(License.ended_at).where(License.chain_id == self.chain_id, License.license_id == license_id)
            ).scalar() is not None

    def _recheck_rejections(self) -> None:
        """Lifts holds whose cause is gone (consent granted again, escrow topped up) so their uses settle."""
        self._last_recheck = time.monotonic()
        with Session(self.engine) as session:
            holds = session.execute(
                select(UseRejection).where(
                    UseRejection.chain_id == self.chain_id,
                    UseRejection.genesis_hash == self.scope.genesis_hash,
                    UseRejection.permanent.is_(False),
                )
            ).scalars().all()
            if not holds:
                return
            self._refresh([h.license_id for h in holds])
            for hold in holds:
                floor = self.floors.get(hold.license_id)
                if floor is None:
                    continue
                pending = pending_uses(session, self.scope, {hold.license_id: floor})
                planned = plan_items(pending, {hold.license_id: floor}, max_uses=self.config.max_batch_uses, max_items=1)
                lift = not planned
                if planned:
                    try:
                        self.client.simulate([planned[0].item])
                        lift = True
                    except ContractRevert:
                        lift = False
                if lift:
                    log.info("lifting the hold on licence %d (%s): its uses can settle now", hold.license_id, hold.code)
                    session.delete(hold)
                else:
                    hold.checked_at = _now()
                    session.add(hold)
            session.commit()

    # ------------------------------------------------------------------ send and wait

    def _submit(self, planned: list[PlannedItem], gas: int) -> StepResult:
        items = [p.item for p in planned]
        uses = sum(i.count for i in items)
        nonce = self.client.nonces().pending
        signed = self.client.prepare(items, nonce=nonce, gas_estimate=gas)
        # Write-ahead: the transaction is on record before it can exist anywhere else.
        with Session(self.engine) as session:
            submission = SettleSubmission(
                chain_id=self.chain_id,
                genesis_hash=self.scope.genesis_hash,
                recorder=self.recorder,
                nonce=nonce,
                tx_hash=signed.tx_hash,
                status=SENDING,
                uses=uses,
            )
            session.add(submission)
            session.flush()
            submission_id = submission.submission_id
            assert submission_id is not None
            for item in items:
                session.add(
                    SettleSubmissionItem(
                        submission_id=submission_id,
                        license_id=item.license_id,
                        first_seq=item.first_seq,
                        count=item.count,
                        uses_root=item.uses_root,
                        categories=item.categories,
                    )
                )
            session.add(self._tx_row(submission_id, signed))
            session.commit()
        self._unresolved = True
        result = self._send_and_await(submission_id, items, signed)
        self._unresolved = False
        return result

    def _send_and_await(self, submission_id: int, items: list[SettleItem], signed: SignedSettle) -> StepResult:
        try:
            self.client.send(signed)
        except NonceTooLowError as exc:
            self._mark(submission_id, DROPPED, error=str(exc))
            return StepResult()
        except ContractRevert as revert:
            # Hardhat in automine mode mines a reverting transaction and reports the revert on sending.
            receipt = self.client.receipt(signed.tx_hash)
            if receipt is not None:
                self._finish(submission_id, receipt.tx_hash, False, receipt.block_number, receipt.block_hash,
                             receipt.gas_used, items, error=str(revert))
            else:
                self._mark(submission_id, DROPPED, error=str(revert))
            self.refresh_all()
            return StepResult()
        return self._await(submission_id, items, signed, [signed.tx_hash])

    def _await(self, submission_id: int, items: list[SettleItem], signed: SignedSettle, hashes: list[str]) -> StepResult:
        """Waits for one of the submission's transactions; replaces the latest with a higher fee when stuck."""
        replacements = 0
        since = time.monotonic()
        delay = 0.01
        while True:
            seen = self.heads.sequence if self.heads is not None else 0
            receipts = self.client.receipts(hashes)
            for tx_hash in reversed(hashes):
                receipt = receipts.get(tx_hash)
                if receipt is not None:
                    self._finish(submission_id, receipt.tx_hash, receipt.succeeded, receipt.block_number,
                                 receipt.block_hash, receipt.gas_used, items)
                    return StepResult(
                        uses=sum(i.count for i in items),
                        tx_hash=receipt.tx_hash,
                        gas_used=receipt.gas_used,
                        succeeded=receipt.succeeded,
                    )
            if self.client.mined_nonce() > signed.nonce and not any(self.client.receipts(hashes).values()):
                # The nonce went to a transaction we do not know: ours were replaced or the chain moved on.
                self._mark(submission_id, DROPPED, error=f"nonce {signed.nonce} used by another transaction")
                self.refresh_all()
                return StepResult()
            if time.monotonic() - since >= self.config.stuck_after_s and replacements < self.config.max_replacements:
                signed = self.client.bump(items, signed)
                with Session(self.engine) as session:
                    session.add(self._tx_row(submission_id, signed))
                    row = session.get(SettleSubmission, submission_id)
                    row.tx_hash = signed.tx_hash
                    row.updated_at = _now()
                    session.add(row)
                    session.commit()
                hashes.append(signed.tx_hash)
                replacements += 1
                since = time.monotonic()
                log.warning("settlement nonce %d stuck; replaced by %s (fee %d)", signed.nonce, signed.tx_hash,
                            signed.max_fee_per_gas)
                try:
                    self.client.send(signed)
                except NonceTooLowError:
                    pass  # one of ours was mined meanwhile: the next loop finds its receipt
                except ContractRevert:
                    pass
            if self.heads is not None and self.heads.subscribed.is_set():
                # A receipt can only appear with a new block: wait for it (the timeout is a safety net, and the
                # moment a stuck transaction is due for replacement).
                due = (self.config.stuck_after_s - (time.monotonic() - since)
                       if replacements < self.config.max_replacements else 5.0)
                self.heads.wait_for_next(seen, timeout=max(0.05, min(due, 5.0)))
            else:
                time.sleep(delay)
                delay = min(delay * 2, 0.25)

    def _finish(
        self,
        submission_id: int,
        tx_hash: str,
        succeeded: bool,
        block_number: int,
        block_hash: str,
        gas_used: int,
        items: list[SettleItem],
        error: str | None = None,
    ) -> None:
        if succeeded:
            for item in items:
                self.floors[item.license_id] = max(self.floors.get(item.license_id, 0), item.first_seq + item.count)
            self._recent.append((tx_hash, block_hash))
        else:
            if error is None:
                error = str(self.client.explain_failure(tx_hash, block_number))
            log.warning("settlement %s reverted: %s", tx_hash, error)
            self._last_full_refresh = float("-inf")  # re-read every count before the next batch
        with Session(self.engine) as session:
            row = session.get(SettleSubmission, submission_id)
            row.status = MINED if succeeded else FAILED
            row.tx_hash = tx_hash
            row.block_number = block_number
            row.block_hash = block_hash
            row.gas_used = gas_used
            row.error = error
            row.updated_at = _now()
            session.add(row)
            session.commit()

    def _mark(self, submission_id: int, status: str, error: str | None = None) -> None:
        with Session(self.engine) as session:
            row = session.get(SettleSubmission, submission_id)
            row.status = status
            row.error = error
            row.updated_at = _now()
            session.add(row)
            session.commit()

    @staticmethod
    def _items_of(session: Session, submission_id: int) -> list[SettleItem]:
        rows = session.execute(
            select(SettleSubmissionItem)
            .where(SettleSubmissionItem.submission_id == submission_id)
            .order_by(SettleSubmissionItem.id)
        ).scalars()
        return [SettleItem(r.license_id, r.first_seq, r.count, r.uses_root, r.categories) for r in rows]

    @staticmethod
    def _tx_row(submission_id: int, signed: SignedSettle) -> SettleTransaction:
        return SettleTransaction(
            tx_hash=signed.tx_hash,
            submission_id=submission_id,
            gas=signed.gas,
            max_fee_per_gas=str(signed.max_fee_per_gas),
            max_priority_fee_per_gas=str(signed.max_priority_fee_per_gas),
            raw=signed.raw,
        )


def clear_holds(engine: Engine, scope: ChainScope) -> int:
    """Deletes every hold of a chain (an operator's reset); returns how many there were."""
    with Session(engine) as session:
        result = session.execute(
            delete(UseRejection).where(
                UseRejection.chain_id == scope.chain_id, UseRejection.genesis_hash == scope.genesis_hash
            )
        )
        session.commit()
        return result.rowcount or 0
