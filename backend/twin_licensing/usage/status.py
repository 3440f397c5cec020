"""A use's status, derived from the tables of the settler and the indexer, its one public shape, and its Merkle proof.

pending   - accepted, not yet in a transaction;
submitted - in a settle transaction that is not (yet) indexed as settled;
settled   - covered by an indexed `UsesSettled` event: transaction, block, time, payees;
held      - the settler holds it with a reason a later event can cure (escrow short, a bad item on file): still
            waiting to be paid, like pending and submitted;
rejected  - it can never be paid: its licence's grace is over and it is unsettled; or it is what a final skip
            reason names (GraceOver over its item; signed at or after the end, or of its category's revocation;
            past the licence's max uses; in a withdrawn category whose grace is over); or the settler rejected it for
            good; or it was voided (`UsesVoided`: a handed-over licence's seller signed it and her escrow never will
            pay it - it lies below the licence's settled count, yet was never paid).

The rule is `verdict` below, and its count `waiting_count` (the same rule as a condition on the uses table):
every answer about a use - the report's own answer,
`GET /uses/{id}`, a licence's list of uses and its `uses_pending`, and `twinctl audit` - goes through them, so they
cannot disagree. Each answer is built by `use_views` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, func, or_, select, true
from sqlmodel import Session

from ..chain.merkle import MerkleProof, UseTree
from ..db.assets import attached_images
from ..db.license_state import License, SettleSkip, Settlement
from ..db.registry_state import Twin
from ..db.submissions import MINED, SENDING, SettleSubmission, SettleSubmissionItem
from ..db.uses import ChainScope, PayeeSharePublic, Use, UsePublic
from ..domain import category_consent, skip_reasons
from ..domain.shares import split
from ..domain.times import from_unix, when
from ..domain.use_record import HELD, PENDING, RECORD_FIELDS, REJECTED, SETTLED, SUBMITTED, record_of
from ..domain.vocabulary import category_name, territory_name
from .errors import ProofNotAvailable, UseNotFound
from .holds import hold_query
from .index_view import IndexView, SettlementView
from .licence_clock import LicenceTimes, chain_clock, chain_now, licence_times

@dataclass(frozen=True)
class UseProof:
    use: Use
    proof: MerkleProof
    settlement: SettlementView


# ------------------------------------------------------------------ the rule


@dataclass(frozen=True)
class Unsettled:
    """What decides the fate of a licence's unsettled uses, from the index (the API) or the events (the audit)."""

    grace_over: str | None = None  # the sentence once the licence's grace is over (every unsettled use rejected)
    end: int | None = None  # the licence's end: a use signed at or after it is never paid (SignedAfterEnd)
    max_uses: int = 0  # 0 = unlimited; a use numbered at or past it is never paid (MaxUsesExceeded)
    # (category, effective time of its revocation, whether the grace after it is over): a use in the category signed
    # at or after that time, or still unsettled once that grace is over, is never paid
    category_ends: tuple[tuple[int, int, bool], ...] = ()
    final_skips: tuple[tuple[int, int, int], ...] = ()  # (first_seq, count, reason) of skips with a final reason
    hold: tuple[int, str, bool] | None = None  # the settler's (from_seq, reason, permanent)
    # (first_seq, count, reason) of the licence's voided items: below its settled count, never paid
    voided: tuple[tuple[int, int, int], ...] = ()

    def skipped_as_grace_over(self) -> list[tuple[int, int]]:
        return [(f, c) for f, c, r in self.final_skips if r == skip_reasons.GRACE_OVER]


def final_skips(skips: Iterable[tuple[int, int, int]]) -> tuple[tuple[int, int, int], ...]:
    """The skips whose reason is final, from (first_seq, count, reason) of every skip of a licence."""
    return tuple((int(f), int(c), int(r)) for f, c, r in skips if skip_reasons.is_final(int(r)))


def grace_over_sentence(times: LicenceTimes) -> str | None:
    if not times.grace_over:
        return None
    return (f"the licence ended on {when(times.end)} and the grace period for settling the uses signed before its end "
            f"ran out on {when(times.grace_ends_at)} before this use was settled")


def verdict(seq: int, facts: Unsettled, used_at: int = 0, category: int = -1) -> tuple[str, str] | None:
    """(REJECTED or HELD, reason) of an unsettled use, or None while it simply waits (pending or submitted).

    A final skip says why an item could not be paid; which of its uses can never be paid follows from each use's own
    number and time (the settler cuts the item again for the others): a skip for GraceOver covers its whole item,
    SignedAfterEnd the uses signed at or after the end that applies, MaxUsesExceeded those past the licence's limit.
    """
    for first, count, reason in facts.voided:
        if first <= seq < first + count:
            return REJECTED, skip_reasons.void_sentence(reason)
    if any(first <= seq < first + count for first, count in facts.skipped_as_grace_over()):
        return REJECTED, skip_reasons.sentence(skip_reasons.GRACE_OVER)
    if facts.grace_over is not None:
        return REJECTED, facts.grace_over
    if facts.max_uses and seq >= facts.max_uses:
        return REJECTED, skip_reasons.sentence(skip_reasons.MAX_USES_EXCEEDED)
    if facts.end is not None and used_at >= facts.end:
        return REJECTED, skip_reasons.sentence(skip_reasons.SIGNED_AFTER_END)
    for cat, effective_at, over in facts.category_ends:
        if cat == category and (over or used_at >= effective_at):
            return REJECTED, (f"the model's withdrawal of consent to usage category {category_name(cat)} took effect "
                              f"on {when(effective_at)}, and this use " + (
                                  "was signed after it" if used_at >= effective_at
                                  else "was not settled within the grace period after it"))
    if facts.hold is not None and seq >= facts.hold[0]:
        from_seq, reason, permanent = facts.hold
        return (REJECTED if permanent else HELD), reason
    return None


def rejected_clause(facts: Unsettled):
    """`verdict`'s REJECTED as a condition on the `uses` table (None: no use is rejected)."""
    if facts.grace_over is not None:
        return true()
    terms = [and_(Use.seq >= f, Use.seq < f + c) for f, c in facts.skipped_as_grace_over()]
    if facts.max_uses:
        terms.append(Use.seq >= facts.max_uses)
    if facts.end is not None:
        terms.append(Use.used_at >= facts.end)
    for cat, effective_at, over in facts.category_ends:
        terms.append(Use.category == cat if over else and_(Use.category == cat, Use.used_at >= effective_at))
    if facts.hold is not None and facts.hold[2]:
        terms.append(Use.seq >= facts.hold[0])
    return or_(*terms) if terms else None


def rejected_count(session: Session, scope_conditions: Sequence[Any], license_id: int, settled: int,
                   facts: Unsettled) -> int:
    """How many of the licence's unsettled uses (numbered from `settled` on) `verdict` rejects: one count query."""
    clause = rejected_clause(facts)
    if clause is None:
        return 0
    return int(session.execute(
        select(func.count()).select_from(Use)
        .where(*scope_conditions, Use.license_id == license_id, Use.seq >= settled, clause)
    ).scalar_one())


def waiting_count(session: Session, scope_conditions: Sequence[Any], license_id: int, settled: int,
                  recorded_high: int, facts: Unsettled) -> int:
    """Uses still waiting to be paid (pending, submitted or held) among those numbered settled .. recorded_high - 1
    (numbers are gapless): a licence's `uses_pending` and the audit's pending uses."""
    unsettled = max(0, recorded_high - settled)
    return unsettled - (rejected_count(session, scope_conditions, license_id, settled, facts) if unsettled else 0)


def category_ends_of(twin: Twin | None, clock, now: int) -> tuple[tuple[int, int, bool], ...]:
    """(category, effective time, grace over) of the twin's category revocations in effect at `now`."""
    if twin is None:
        return ()
    out = []
    for cat, effective_at in sorted(category_consent.parse(twin.category_revocations).items()):
        if now >= effective_at:
            out.append((cat, effective_at, now >= clock.grace_ends_at(effective_at, now)))
    return tuple(out)


def unsettled_facts(session: Session, genesis_hash: str, lic: License, now: int, *, twin: Twin | None = None,
                    clock=None, with_hold: bool = True) -> Unsettled:
    """The index's facts for one licence (its end and grace as of `now`, its final skips, the settler's hold)."""
    if twin is None:
        twin = session.get(Twin, (lic.chain_id, lic.twin_id))
    clock = clock if clock is not None else chain_clock(session, lic.chain_id)
    times = licence_times(lic, twin, clock, now)
    rows = session.execute(
        select(SettleSkip.first_seq, SettleSkip.count, SettleSkip.reason, SettleSkip.voided)
        .where(SettleSkip.chain_id == lic.chain_id, SettleSkip.license_id == lic.license_id,
               or_(SettleSkip.reason.in_(sorted(skip_reasons.FINAL)), SettleSkip.voided.is_(True)))
    ).all()
    skips = [(r.first_seq, r.count, r.reason) for r in rows if not r.voided]
    voided = tuple((int(r.first_seq), int(r.count), int(r.reason)) for r in rows if r.voided)
    hold = session.execute(hold_query(lic.chain_id, genesis_hash, lic.license_id)).first() if with_hold else None
    return Unsettled(
        grace_over=grace_over_sentence(times),
        end=times.end,
        max_uses=lic.max_uses or 0,
        category_ends=category_ends_of(twin, clock, now),
        final_skips=final_skips(skips),
        hold=(int(hold.from_seq), hold.reason, bool(hold.permanent)) if hold is not None else None,
        voided=voided,
    )


def get_use(session: Session, scope: ChainScope, use_id: int) -> Use:
    use = session.get(Use, use_id)
    if use is None or use.chain_id != scope.chain_id or use.genesis_hash != scope.genesis_hash:
        raise UseNotFound(f"there is no use {use_id}: use ids are returned when a use is reported")
    return use


def _public(use: Any, fee: int | None, status: str, **state: Any) -> UsePublic:
    return UsePublic(
        **{f.name: getattr(use, f.name) for f in RECORD_FIELDS},
        id=use.use_id,
        label=use.label,
        category_name=category_name(use.category),
        territory_name=territory_name(use.territory),
        signer=use.signer,
        digest=use.digest,
        accepted_at=use.accepted_at,
        fee=fee,
        status=status,
        **{"reason": None, "settled_at": None, "tx_hash": None, "block_number": None, **state},
    )


def fresh_view(use: Any, fee: int) -> UsePublic:
    """A use accepted this very moment: pending, no need to ask the settler's and indexer's tables."""
    return _public(use, fee, PENDING)


def use_views(session: Session, index: IndexView, uses: Sequence[Any], licence: License | None = None, *,
              now: int | None = None) -> list[UsePublic]:
    """The public shape of each use (rows of `uses`, or the intake's `AcceptedUse`), in the given order.

    Reads per licence at most five small queries, whatever the number of uses: the page of a list costs what one
    use costs. `licence` spares reading the licence when the caller has it; `now` is the chain's time (read from
    the index when not given).
    """
    if now is None and uses:
        now = chain_now(session, uses[0].chain_id)
    by_licence: dict[int, list[Any]] = {}
    for use in uses:
        by_licence.setdefault(use.license_id, []).append(use)
    views: dict[int, UsePublic] = {}
    for license_id, group in by_licence.items():
        lic = licence if licence is not None and licence.license_id == license_id else None
        for use, view in zip(group, _licence_views(session, index, group, lic, now or 0)):
            views[id(use)] = view
    with_image = attached_images(session, [use.use_id for use in uses])
    for use in uses:
        views[id(use)].asset = use.use_id in with_image
    return [views[id(use)] for use in uses]


def _licence_views(session: Session, index: IndexView, uses: list[Any], lic: License | None,
                   now: int) -> list[UsePublic]:
    first = uses[0]
    chain_id, genesis, license_id = first.chain_id, first.genesis_hash, first.license_id
    low, high = min(u.seq for u in uses), max(u.seq for u in uses)
    if lic is None:
        lic = session.get(License, (chain_id, license_id))
    fee = lic.per_use_fee if lic is not None else None
    settlements = [
        row for row in session.execute(
            select(Settlement).where(
                Settlement.chain_id == chain_id,
                Settlement.license_id == license_id,
                Settlement.first_seq <= high,
                Settlement.first_seq + Settlement.count > low,
            )
        ).scalars()
    ]
    facts = unsettled_facts(session, genesis, lic, now) if lic is not None else Unsettled()
    unsettled = [u.seq for u in uses if not any(s.first_seq <= u.seq < s.first_seq + s.count for s in settlements)]
    submitted = []
    if unsettled:
        submitted = session.execute(
            select(SettleSubmissionItem.first_seq, SettleSubmissionItem.count, SettleSubmission.tx_hash,
                   SettleSubmission.block_number)
            .join(SettleSubmission, SettleSubmissionItem.submission_id == SettleSubmission.submission_id)
            .where(
                SettleSubmission.chain_id == chain_id,
                SettleSubmission.genesis_hash == genesis,
                SettleSubmission.status.in_((SENDING, MINED)),
                SettleSubmissionItem.license_id == license_id,
                SettleSubmissionItem.first_seq <= max(unsettled),
                SettleSubmissionItem.first_seq + SettleSubmissionItem.count > min(unsettled),
            )
            .order_by(SettleSubmission.submission_id.desc())
        ).all()
    payees = {}
    for twin_id in {s.twin_id for s in settlements}:
        payees[twin_id] = index.payees(session, chain_id, twin_id)

    views = []
    for use in uses:
        settled = next((s for s in settlements if s.first_seq <= use.seq < s.first_seq + s.count), None)
        if settled is not None:
            per_use = settled.amount // settled.count
            shares = payees[settled.twin_id]
            views.append(_public(
                use, per_use, SETTLED,
                tx_hash=settled.tx_hash,
                block_number=settled.block_number,
                settled_at=from_unix(settled.block_time),
                payees=[
                    PayeeSharePublic(account=p.account, role=p.role, share_bps=p.share_bps, amount=amount)
                    for p, amount in zip(shares, split(per_use, [p.share_bps for p in shares]))
                ],
            ))
        elif (outcome := verdict(use.seq, facts, use.used_at, use.category)) is not None:
            views.append(_public(use, fee, outcome[0], reason=outcome[1]))
        else:
            item = next((s for s in submitted if s.first_seq <= use.seq < s.first_seq + s.count), None)
            if item is not None:
                views.append(_public(use, fee, SUBMITTED, tx_hash=item.tx_hash, block_number=item.block_number))
            else:
                views.append(_public(use, fee, PENDING))
    return views


def licence_uses(
    session: Session, index: IndexView, lic: License, genesis_hash: str, *, status: str | None, offset: int,
    limit: int, now: int | None = None, signer: str | None = None,
) -> tuple[list[UsePublic], int]:
    """A licence's uses, newest first, each in the shape `GET /uses/{id}` gives it, and how many there are.

    `status` is "settled" or "unsettled" (pending, submitted, held or rejected), or None for all; settled means below
    the licence's indexed settled count. `signer` keeps only the uses that address signed (a former holder's own).
    """
    conditions = [Use.chain_id == lic.chain_id, Use.genesis_hash == genesis_hash, Use.license_id == lic.license_id]
    if status == "settled":
        conditions.append(Use.seq < lic.uses_settled)
    elif status == "unsettled":
        conditions.append(Use.seq >= lic.uses_settled)
    if signer is not None:
        conditions.append(func.lower(Use.signer) == signer.lower())
    count = session.execute(select(func.count()).select_from(Use).where(*conditions)).scalar_one()
    rows = list(
        session.execute(select(Use).where(*conditions).order_by(Use.seq.desc()).offset(offset).limit(limit)).scalars()
    )
    return (use_views(session, index, rows, lic, now=now) if rows else []), count


def use_proof(session: Session, index: IndexView, use: Use) -> UseProof:
    """The use's leaf and proof against the root of the `UsesSettled` event that paid it."""
    settled = index.settlement_of(session, use.chain_id, use.license_id, use.seq)
    if settled is None:
        raise ProofNotAvailable(
            f"use {use.use_id} is not settled on chain yet, so there is no root to prove it against: "
            "ask again once its status is settled"
        )
    uses = session.execute(
        select(Use)
        .where(
            Use.chain_id == use.chain_id,
            Use.genesis_hash == use.genesis_hash,
            Use.license_id == use.license_id,
            Use.seq >= settled.first_seq,
            Use.seq < settled.first_seq + settled.count,
        )
        .order_by(Use.seq)
    ).scalars().all()
    records = [record_of(u) for u in uses]
    if len(records) != settled.count:
        raise ProofNotAvailable(
            f"the settlement of use {use.use_id} covers {settled.count} uses but {len(records)} are recorded here, "
            "so no proof can be built: the audit command shows why"
        )
    tree = UseTree(records)
    if tree.root != settled.uses_root:
        raise ProofNotAvailable(
            f"the recorded uses do not hash to the settlement's root {settled.uses_root}, so no proof can be built: "
            "the audit command shows why"
        )
    return UseProof(use=use, proof=tree.proof(record_of(use)), settlement=settled)
