"""The settler: takes pending uses, settles them on chain in batches, and survives crashes and reorganisations.

Why a use is paid exactly once: the chain, not this process, is the record of what is paid. Every item starts at
the licence's on-chain settled count (`firstSeq`), which the contract checks, so a replayed or overlapping item
reverts instead of paying twice. Why no use is dropped: a use stays pending as long as its sequence number is at
or above its licence's on-chain settled count, whatever this process remembers, so a lost transaction, a crash or
a reorganisation only delays it. What this process keeps (submissions) is for people and for recovery, never for
deciding what is paid.

Why nothing the holder did not sign is paid: each item carries the holder's signature over its last use (stored by
the intake with the use), and the contract pays an item only to that signature's count, from the escrow of whoever
held the licence when the use was signed (`batch.split_run` cuts items at signer changes for that). An item the
contract cannot pay is skipped with a reason (`SettleItemSkipped`) while the rest of the batch settles; the settler
reads those events from the receipt and retries, holds or rejects the item's uses (`reasons`).

Why a handed-over licence's seller cannot block its buyer: settlement is sequential and the seller's uses come
first, so an item of hers that can never be paid (signed at or after the handover, her escrow short, her grace
over) would hold every later use. The settler sends such an item anyway, cut at the handover's time, and the
contract voids it (`UsesVoided`): its uses are rejected for good (the index records the void; `usage.status` says
why) and the buyer's go on in the next step.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Callable, Sequence

from sqlalchemy import Engine, delete, func, select
from sqlmodel import Session

from ..chain.heads import HeadFeed
from ..chain.settlement import ItemSkip, LicenseChainState, SettlementClient, skips_of, voids_of
from ..db.submissions import UseRejection
from ..errors import ContractRevert, TransactionError
from ..db.license_state import License
from ..db.registry_state import Twin
from ..db.uses import ChainScope, Use
from ..domain import category_consent, skip_reasons
from .batch import max_seqs, max_seqs_since, pending_summary, pending_uses, plan_items
from .config import SettlerConfig
from .inflight import REVERTED, RETRY, SETTLED, Finished, InFlight, Span
from .reasons import Hold, LicenceFacts, hold_for

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
        # Escrow, fee and limit per licence (and the seller's escrow after a handover), as last read, minus what
        # our own settlements spent since: what a batch may ask of each licence without being skipped.
        self.states: dict[int, LicenseChainState] = {}
        # Item cuts read from the chain for licences whose item was skipped as signed after the end: the index's
        # revocations may lag behind the chain, and an item cut wrongly must not lose its payable uses for good.
        # licence -> (first_seq of the skipped item, {category: end}).
        self._chain_cutoffs: dict[int, tuple[int, dict[int, int]]] = {}
        self._last_full_refresh = float("-inf")
        self._last_recheck = float("-inf")
        self._recent: deque[tuple[str, str]] = deque(maxlen=4)  # (tx hash, block hash) of recent mined batches
        # The settle transactions in flight, each on its own nonce: a licence with one in flight is not planned
        # again until it resolves, the others go on in new transactions (`inflight`, `chain.tx_pipeline`).
        self.inflight = InFlight(engine, client, self.scope, heads=heads, max_in_flight=self.config.max_in_flight)
        self._license_token = deployment.license_token
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
            except ContractRevert as revert:
                # Not about an item (those are skipped, never reverted): paused, or the recorder lost its role.
                log.warning("settle would revert for the whole batch (%s); waiting", revert)
                stop.wait(self.config.error_backoff_s)
                continue
            except Exception:  # noqa: BLE001 - a settler that dies stops every payment: log and go on
                log.exception("unexpected error in the settler; retrying")
                stop.wait(self.config.error_backoff_s)
                continue
            if not result.uses:
                stop.wait(self.config.poll_s)

    def reconcile(self) -> None:
        """After a start or a crash: put every recorded transaction back in flight (mined ones are answered, dropped
        ones sent again), then read the chain's settled counts. Nothing new is sent before."""
        finished = self.inflight.restore()
        for done in finished:
            self._on_finished(done)
        self.refresh_all()
        log.info("reconciled: %d licences with uses, %d submissions in flight, %d resolved", len(self.floors),
                 len(self.inflight), len(finished))

    # ------------------------------------------------------------------ one batch

    def step(self) -> StepResult:
        """Answers the transactions that finished, then sends one batch if one is due; returns what was sent (and,
        when its transaction was mined at once, as on an automining node, how it went)."""
        for done in self.inflight.poll():
            self._on_finished(done)
        now = time.monotonic()
        new_block = self._new_block()
        if self._last_full_refresh == float("-inf") or (new_block and (
                now - self._last_full_refresh >= self.config.full_refresh_s or self._reorganised())):
            self.refresh_all()
        if new_block and now - self._last_recheck >= self.config.recheck_rejections_s:
            self._recheck_rejections()

        if not self.inflight.has_room():
            return StepResult()
        with Session(self.engine) as session:
            floors = self._candidate_floors(session)
            busy = self.inflight.busy()
            floors = {lid: floor for lid, floor in floors.items() if lid not in busy}
            if not floors:
                return StepResult()
            summary = pending_summary(session, self.scope, floors)
            if not summary.uses:
                return StepResult()
            age = (_now() - summary.oldest).total_seconds() if summary.oldest else 0.0
            if summary.uses < self.config.max_batch_uses and age < self.config.window_s:
                return StepResult()
            pending = pending_uses(session, self.scope, floors)
            cutoffs = self._cutoffs(session, list(pending))
        starved: list[tuple[ItemSkip, LicenceFacts]] = []
        planned = plan_items(
            pending, floors, max_uses=self.config.max_batch_uses, max_items=self.config.max_items,
            cutoffs=cutoffs, afford=self._affordable(floors, starved),
            handovers={lid: state.handover.at for lid, state in self.states.items()
                       if lid in pending and state.handover is not None},
        )
        if starved:
            self._hold_all(starved)
        if not planned:
            return StepResult()
        # The estimate is the batch's gas limit; it reverts only for the whole batch (paused, the recorder's role
        # gone): an item the contract cannot pay is skipped inside the transaction and read from its receipt.
        items = [p.item for p in planned]
        handle = self.inflight.submit(items, self.client.simulate(items))
        # One look at once: on an automining node it is mined already, and answering it now saves a round.
        result = StepResult(uses=handle.uses, tx_hash=handle.tx_hash)
        for done in self.inflight.poll(force=True):
            self._on_finished(done)
            if done.handle.submission_id == handle.submission_id:
                skipped = self._skipped(done) | self._voided(done)
                result = StepResult(
                    uses=sum(s.count for s in done.handle.spans if (s.license_id, s.first_seq) not in skipped),
                    tx_hash=done.tx_hash, gas_used=done.gas_used, succeeded=done.outcome == SETTLED)
        return result

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

    def _cutoffs(self, session: Session, license_ids: list[int]) -> dict[int, dict[int, int]]:
        """Per licence, when each revoked usage category of its twin stops (index): items are cut before a use
        signed at or after it, so that a later use of another category does not take payable uses down with it."""
        twins = {self.twin_of[lid] for lid in license_ids if lid in self.twin_of}
        by_twin = {}
        if twins:
            rows = session.execute(
                select(Twin.twin_id, Twin.category_revocations).where(
                    Twin.chain_id == self.chain_id, Twin.twin_id.in_(sorted(twins)), Twin.category_revocations != ""
                )
            ).all()
            by_twin = {twin_id: category_consent.parse(text) for twin_id, text in rows}
        cutoffs = {lid: dict(by_twin[self.twin_of[lid]]) for lid in license_ids if self.twin_of.get(lid) in by_twin}
        for lid in license_ids:
            if lid in self._chain_cutoffs:
                merged = cutoffs.setdefault(lid, {})
                for category, end in self._chain_cutoffs[lid][1].items():
                    merged[category] = min(end, merged.get(category, end))
        return cutoffs

    def _affordable(self, floors: dict[int, int], starved: list) -> Callable[[int, Sequence[Use]], int]:
        """How many uses of an item (one signer's consecutive uses) the escrow that pays it, and the licence's
        limit, allow now, spending down per batch. A licence that cannot pay its very next use is recorded in
        `starved` (held without sending: the contract would skip it for the same reason)."""
        escrows: dict[tuple[int, bool], int] = {}
        remaining: dict[int, int] = {}

        def afford(license_id: int, uses: Sequence[Use]) -> int:
            state = self.states.get(license_id)
            if state is None:
                return len(uses)
            first = uses[0]
            n = len(uses)
            code = skip_reasons.INSUFFICIENT_ESCROW
            if state.max_uses:
                left = remaining.setdefault(license_id, max(0, state.max_uses - floors[license_id]))
                n = min(n, left)
                code = skip_reasons.MAX_USES_EXCEEDED
            handover = state.handover
            sellers = handover is not None and handover.pays(first.signer, first.used_at)
            by_seller = handover is not None and first.signer.lower() == handover.seller.lower()
            if by_seller and not sellers:
                # Her report dated at or after the handover: nobody's escrow pays it, the contract voids it.
                if state.max_uses:
                    remaining[license_id] -= n
                return n
            if sellers and n and state.per_use_fee and escrows.get(
                    (license_id, True), handover.seller_escrow) < state.per_use_fee:
                # Her escrow cannot pay even one more of her uses: sent whole, the contract voids it.
                if state.max_uses:
                    remaining[license_id] -= n
                return n
            if state.per_use_fee and n:
                key = (license_id, sellers)
                escrow = escrows.setdefault(key, state.handover.seller_escrow if sellers else state.escrow)
                n = min(n, escrow // state.per_use_fee)
                escrows[key] = escrow - n * state.per_use_fee
                code = skip_reasons.INSUFFICIENT_ESCROW
            if state.max_uses:
                remaining[license_id] -= n
            if n == 0 and first.seq == floors[license_id]:
                skip = ItemSkip(license_id, first.seq, len(uses), code)
                starved.append((skip, LicenceFacts(
                    max_uses=state.max_uses, settled=floors[license_id], per_use_fee=state.per_use_fee,
                    escrow=state.handover.seller_escrow if sellers else state.escrow, seller_escrow=sellers,
                )))
            return n

        return afford

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
            self.states[lid] = state
        for lid in license_ids:
            if lid not in states:  # not on this chain (any more): a reorganisation undid its purchase
                self.floors.pop(lid, None)
                self.states.pop(lid, None)

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

    # ------------------------------------------------------------------ skips and holds

    def _apply_skips(self, skips: Sequence[ItemSkip]) -> None:
        """Answers each skipped item (`reasons`): re-reads the chain's counts of the licences concerned, then holds
        or rejects the uses of every skip that is not a stale count."""
        license_ids = sorted({s.license_id for s in skips})
        self._refresh(license_ids)
        holding = [s for s in skips if s.reason not in skip_reasons.RESYNC and not self._recut(s)]
        if not holding:
            return
        ends = self.client.license_ends({s.license_id for s in holding})
        found = []
        for skip in holding:
            state = self.states.get(skip.license_id)
            last = self._last_use(skip.license_id, skip.first_seq + skip.count - 1)
            end, grace_ends_at = ends.get(skip.license_id, (None, None))
            sellers = state is not None and state.handover is not None and last is not None and state.handover.pays(*last)
            found.append((skip, LicenceFacts(
                end=end,
                grace_ends_at=grace_ends_at,
                ended_idle=self._ended(skip.license_id),
                max_uses=state.max_uses if state else 0,
                settled=state.uses_settled if state else 0,
                escrow=(state.handover.seller_escrow if sellers else state.escrow) if state else None,
                seller_escrow=bool(sellers),
                per_use_fee=state.per_use_fee if state else 0,
                signer=last[0] if last is not None else None,
                used_at=last[1] if last is not None else None,
            )))
        self._hold_all(found)

    def _recut(self, skip: ItemSkip) -> bool:
        """Whether an item skipped as signed after the end is worth cutting again, with the ends read from the chain:
        once per item start, when it has several uses (some may precede the end that applies to the others)."""
        if skip.reason != skip_reasons.SIGNED_AFTER_END or skip.count < 2:
            return False
        seen = self._chain_cutoffs.get(skip.license_id)
        if seen is not None and seen[0] == skip.first_seq:
            return False  # cut with the chain's ends already, and still too late: final
        twin_id = self.twin_of.get(skip.license_id)
        if twin_id is None:
            return False
        cutoffs = self.client.cutoffs(skip.license_id, twin_id)
        log.info("licence %d: item from seq %d signed after an end the index did not know yet; cut again with the "
                 "chain's ends %s", skip.license_id, skip.first_seq, cutoffs)
        self._chain_cutoffs[skip.license_id] = (skip.first_seq, cutoffs)
        return True

    def _hold_all(self, found: Sequence[tuple[ItemSkip, LicenceFacts]]) -> None:
        """Records a hold (or a rejection for good) per licence, from the first use that cannot settle."""
        with Session(self.engine) as session:
            for skip, facts in found:
                hold: Hold | None = hold_for(skip, facts)
                if hold is None:
                    continue
                key = (self.chain_id, self.scope.genesis_hash, skip.license_id)
                existing = session.get(UseRejection, key)
                if existing is not None and (existing.from_seq < skip.first_seq or (
                        existing.from_seq == skip.first_seq and (existing.permanent or not hold.permanent))):
                    continue  # an earlier use of the licence is held already (or as firmly): that is the one to tell
                log.warning("%s uses of licence %d from seq %d: %s", "rejecting" if hold.permanent else "holding",
                            skip.license_id, skip.first_seq, hold.reason)
                if existing is not None:
                    session.delete(existing)
                    session.flush()
                session.add(UseRejection(
                    chain_id=self.chain_id,
                    genesis_hash=self.scope.genesis_hash,
                    license_id=skip.license_id,
                    from_seq=skip.first_seq,
                    code=hold.code,
                    reason=hold.reason,
                    permanent=hold.permanent,
                ))
            session.commit()

    def _last_use(self, license_id: int, seq: int) -> tuple[str, int] | None:
        """(signer, used_at) of a use: whose escrow pays the item it ends, and who signed it."""
        with Session(self.engine) as session:
            row = session.execute(
                select(Use.signer, Use.used_at).where(*self.scope.uses(), Use.license_id == license_id, Use.seq == seq)
            ).first()
        return (row[0], int(row[1])) if row is not None else None

    def _ended(self, license_id: int) -> bool:
        """Whether the index says the model ended the licence for being idle (issue 10)."""
        with Session(self.engine) as session:
            return session.execute(
                select(License.ended_at).where(License.chain_id == self.chain_id, License.license_id == license_id)
            ).scalar() is not None

    def _recheck_rejections(self) -> None:
        """Lifts the holds for want of escrow once the escrow that pays the held use can pay a use again. Other
        holds stay: a bad signature or a bad item is never retried blindly, and final ones are final."""
        self._last_recheck = time.monotonic()
        curable = skip_reasons.name(skip_reasons.INSUFFICIENT_ESCROW)
        with Session(self.engine) as session:
            holds = session.execute(
                select(UseRejection).where(
                    UseRejection.chain_id == self.chain_id,
                    UseRejection.genesis_hash == self.scope.genesis_hash,
                    UseRejection.permanent.is_(False),
                    UseRejection.code == curable,
                )
            ).scalars().all()
            if not holds:
                return
            self._refresh([h.license_id for h in holds])
            for hold in holds:
                state = self.states.get(hold.license_id)
                if state is None:
                    continue
                use = session.execute(select(Use).where(
                    *self.scope.uses(), Use.license_id == hold.license_id, Use.seq == max(hold.from_seq,
                                                                                          state.uses_settled))
                ).scalars().first()
                sellers = use is not None and state.handover is not None and state.handover.pays(use.signer,
                                                                                                  use.used_at)
                escrow = state.handover.seller_escrow if sellers else state.escrow
                # A seller's use her escrow cannot pay is sent to be voided (`_affordable`), so it holds nothing.
                if use is None or escrow >= state.per_use_fee or sellers:
                    log.info("lifting the hold on licence %d (%s): its uses can settle now", hold.license_id, hold.code)
                    session.delete(hold)
                else:
                    hold.checked_at = _now()
                    session.add(hold)
            session.commit()

    # ------------------------------------------------------------------ transactions that finished

    def _skipped(self, done: Finished) -> set[tuple[int, int]]:
        return {(k.license_id, k.first_seq) for k in skips_of(done.logs, self._license_token)}

    def _voided(self, done: Finished) -> set[tuple[int, int]]:
        return {(k.license_id, k.first_seq) for k in voids_of(done.logs, self._license_token)}

    def _on_finished(self, done: Finished) -> None:
        """Everything a finished settle means (its row's status is `inflight`'s): settled counts and escrows of the
        paid items, the answer to each skipped one, or the counts to read again."""
        spans = done.handle.spans
        if done.outcome == SETTLED:
            skips = skips_of(done.logs, self._license_token)
            skipped = {(k.license_id, k.first_seq) for k in skips}
            voids = {(k.license_id, k.first_seq): k for k in voids_of(done.logs, self._license_token)}
            for span in spans:
                if (span.license_id, span.first_seq) in skipped:
                    continue
                void = voids.get((span.license_id, span.first_seq))
                if void is not None:
                    self._void(void)
                    continue
                self.floors[span.license_id] = max(self.floors.get(span.license_id, 0), span.first_seq + span.count)
                self._spent(span)
            if done.tx_hash and done.block_hash:
                self._recent.append((done.tx_hash, done.block_hash))
            if skips:
                self._apply_skips(skips)
        elif done.outcome == REVERTED:
            self._last_full_refresh = float("-inf")  # re-read every count before the next batch
        elif done.outcome == RETRY:
            # Its nonce went to a transaction that is none of ours: what it carried is pending by the chain's counts.
            self._refresh(sorted(done.handle.license_ids))

    def _void(self, void: ItemSkip) -> None:
        """A voided item: the chain's settled count moved past it and no escrow paid it. Its uses are rejected for
        good by the index's record of the void (`usage.status`), so nothing is held here: the buyer's uses go on."""
        log.warning("licence %d: uses %d to %d voided, never paid: %s", void.license_id, void.first_seq,
                    void.first_seq + void.count - 1, skip_reasons.void_sentence(void.reason))
        self.floors[void.license_id] = max(self.floors.get(void.license_id, 0), void.first_seq + void.count)
        state = self.states.get(void.license_id)
        if state is not None:
            self.states[void.license_id] = replace(state, uses_settled=void.first_seq + void.count)

    def _spent(self, span: Span) -> None:
        """Takes a paid item's cost off the escrow that paid it, as the contract did (until the next read)."""
        state = self.states.get(span.license_id)
        if state is None:
            return
        cost = span.count * state.per_use_fee
        handover = state.handover
        last = self._last_use(span.license_id, span.first_seq + span.count - 1) if handover is not None else None
        if handover is not None and last is not None and handover.pays(*last):
            state = replace(state, handover=replace(handover, seller_escrow=max(0, handover.seller_escrow - cost)))
        else:
            state = replace(state, escrow=max(0, state.escrow - cost))
        self.states[span.license_id] = replace(state, uses_settled=span.first_seq + span.count)


def clear_holds(engine: Engine, scope: ChainScope) -> int:
    """Deletes every hold of a chain that is not a rejection for good (an operator's reset after looking into
    them); returns how many there were."""
    with Session(engine) as session:
        result = session.execute(
            delete(UseRejection).where(
                UseRejection.chain_id == scope.chain_id, UseRejection.genesis_hash == scope.genesis_hash,
                UseRejection.permanent.is_(False),
            )
        )
        session.commit()
        return result.rowcount or 0
