"""Puts the three computations side by side: events (recomputed), contract views, database; and checks every
settled use against its settlement's Merkle root.

Issue 11: per licence the upfront fee's vesting (vested, released, refundable: `domain.vesting` over the events'
times), its end and grace (`domain.licence_end`, `domain.grace`), the seller's escrow after a handover and the items
skipped; the totals' invariant becomes balance == escrow (sellers' included) + unvested + owed. Recorded uses that
are not settled are pending or rejected by the one rule of a use's status (`usage.status.waiting_count`), with the
licence's end, grace and final skips taken from the events, so `--expect-settled` fails only for uses that can still
be paid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from ..chain.client import Chain
from ..chain.ledger import block_times, category_revocations, contract_views, fetch_events
from ..chain.merkle import UseTree
from ..db.license_state import License, PayeeBalance, SettleSkip
from ..db.registry_state import Twin, TwinPayee
from ..db.uses import ChainScope, Use
from ..domain import category_consent
from ..domain.grace import grace_ends_at
from ..domain.shares import share_of
from ..domain.skip_reasons import NOT_HOLDER
from ..domain.vesting import vesting_state
from ..domain.vocabulary import category_name
from ..domain.use_record import record_of
from ..usage.holds import hold_query
from ..usage.licence_clock import LicenceTimes
from ..usage.status import Unsettled, final_skips, grace_over_sentence, waiting_count
from .recompute import Books, recompute
from .voids import StoredUse, payable_uses_voided


@dataclass(frozen=True)
class Row:
    check: str
    subject: str
    events: int | None
    contract: int | None
    database: int | None

    @property
    def ok(self) -> bool:
        values = [v for v in (self.events, self.contract, self.database) if v is not None]
        return len(set(values)) <= 1


@dataclass
class AuditReport:
    block_number: int
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # contradictions that are not a number beside another
    uses_total: int = 0
    uses_settled: int = 0
    uses_pending: int = 0  # still payable: pending, submitted or held
    uses_rejected: int = 0  # never payable: grace over unsettled, a final skip, a rejection for good
    uses_proven: int = 0

    @property
    def differences(self) -> list[Row]:
        return [r for r in self.rows if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.differences and not self.problems


def audit(chain: Chain, engine: Engine | None, *, from_block: int, to_block: int | None = None) -> AuditReport:
    block = chain.block_number() if to_block is None else to_block
    books = recompute(fetch_events(chain, from_block, block))
    books.times_known(block_times(chain, books.blocks_needing_time()))
    payees = sorted(books.payees())
    listed = {payee: books.listed_on(payee) for payee in payees}
    views = contract_views(chain, payees, books.licenses, books.payees_of, block,
                           listed={p: twins for p, twins in listed.items() if twins})
    report = AuditReport(block_number=block, problems=list(books.problems))
    now = views.block_time
    times = _licence_times(books, now)

    db = _database(engine, chain.chain_id) if engine is not None else None
    for payee in payees:
        report.rows.append(
            Row("total earned", payee, books.total_earned(payee), views.total_earned.get(payee),
                db.total_earned(payee, books) if db else None)
        )
        report.rows.append(Row("claimable", payee, books.claimable(payee), views.claimable.get(payee), None))
        if listed[payee]:
            # withdrawFrom reaches every twin that lists her, those she never accepted included.
            report.rows.append(Row("claimable from listed twins", payee, books.claimable_from(payee, listed[payee]),
                                   views.claimable_from.get(payee), None))
    for license_id, book in sorted(books.licenses.items()):
        report.rows.append(
            Row("escrow", f"licence {license_id}", book.escrow, views.escrow.get(license_id),
                db.escrow.get(license_id) if db else None)
        )
        report.rows.append(
            Row("uses settled", f"licence {license_id}", book.uses_settled, views.uses_settled.get(license_id),
                db.uses_settled.get(license_id) if db else None)
        )
    for twin_id in sorted(set(books.undistributed) | set(books.payees_of)):
        report.rows.append(
            Row("undistributed", f"twin {twin_id}", books.undistributed.get(twin_id, 0),
                views.undistributed.get(twin_id), db.undistributed.get(twin_id) if db else None)
        )
    _licence_rows(books, views, db, times, now, report)
    total_escrow = books.escrow_total()
    total_owed = books.total_owed()
    report.rows.append(Row("total escrow", "LicenseToken", total_escrow, views.total_escrow, None))
    report.rows.append(Row("total owed", "LicenseToken", total_owed, views.total_owed, None))
    report.rows.append(Row("total unvested", "LicenseToken", books.total_unvested, views.total_unvested, None))
    report.rows.append(
        Row("token balance = escrow + unvested + owed", "LicenseToken", total_escrow + books.total_unvested + total_owed,
            views.token_balance, None)
    )
    # Consent per usage category: when each revocation takes effect (0 once granted again), three ways.
    ever = sorted(books.categories_ever_revoked)
    on_chain = category_revocations(chain, ever, block)
    for twin_id, category in ever:
        report.rows.append(
            Row(f"{category_name(category)} revoked, effective", f"twin {twin_id}",
                books.category_revocations.get(twin_id, {}).get(category, 0), on_chain.get((twin_id, category)),
                db.category_revocations.get(twin_id, {}).get(category, 0) if db else None)
        )
    if engine is not None:
        assert chain.deployment is not None
        scope = ChainScope(chain.chain_id, chain.deployment.genesis_hash)
        _check_uses(engine, scope, books, times, report)
        _check_voids(engine, scope, books, report)
        _check_categories(chain, engine, scope, books, report)
    return report


def _licence_times(books: Books, now: int) -> dict[int, LicenceTimes]:
    """Each licence's end and grace end at `now`, from the events alone."""
    pauses = books.pauses()
    out = {}
    for license_id, book in books.licenses.items():
        end = books.end_of(book)
        out[license_id] = LicenceTimes(end=end, grace_ends_at=grace_ends_at(end, books.grace_period, pauses, now),
                                       now=now)
    return out


def _licence_rows(books: Books, views, db: "_DbState | None", times: dict[int, LicenceTimes], now: int,
                  report: AuditReport) -> None:
    """Per licence: its end and grace, its upfront's vesting, the seller's escrow and the items skipped."""
    for license_id, book in sorted(books.licenses.items()):
        subject = f"licence {license_id}"
        t = times[license_id]
        state = vesting_state(book.upfront, books.started_at(book), book.duration, t.end, now,
                              released=book.released, refunded=book.refunded)
        chain_vesting = views.vesting.get(license_id)
        chain_handover = views.handover.get(license_id)
        db_licence = db.licences.get(license_id) if db else None
        report.rows += [
            Row("licence end", subject, t.end, views.license_end.get(license_id), None),
            Row("grace ends at", subject, t.grace_ends_at, views.grace_ends_at.get(license_id), None),
            Row("upfront vested", subject, state.vested, chain_vesting[1] if chain_vesting else None, None),
            Row("upfront released", subject, state.released, chain_vesting[2] if chain_vesting else None,
                db_licence.upfront_released if db_licence else None),
            Row("upfront refundable", subject, state.refundable, chain_vesting[3] if chain_vesting else None, None),
            Row("upfront refunded", subject, book.refunded, None, db_licence.upfront_refunded if db_licence else None),
            Row("seller escrow", subject, book.seller_escrow, chain_handover[2] if chain_handover else None,
                db_licence.seller_escrow if db_licence else None),
            Row("items skipped", subject, len(book.skips), None, db.skips.get(license_id, 0) if db else None),
            Row("uses voided", subject, book.uses_voided, None, db.voided.get(license_id, 0) if db else None),
        ]


@dataclass
class _DbState:
    escrow: dict[int, int]
    uses_settled: dict[int, int]
    undistributed: dict[int, int]
    distributed: dict[str, int]
    payees_of: dict[int, list[tuple[str, int]]]  # the index's payees, in order
    counted: set[tuple[int, str]]  # (twin, account) the index holds as counting for the account
    category_revocations: dict[int, dict[int, int]]  # twin -> {category: effective time}, as the index holds them
    licences: dict[int, License]
    skips: dict[int, int]  # licence -> items skipped
    voided: dict[int, int]  # licence -> uses voided (UsesVoided)

    def total_earned(self, payee: str, books: Books) -> int | None:
        if payee not in self.distributed and not any(payee == a for ps in self.payees_of.values() for a, _ in ps):
            return None
        # The database's split balance plus the payee's share of the undistributed earnings of each twin that counts
        # for her (her own, those she accepted), all as the index holds them.
        shared = sum(
            share_of(payees, self.undistributed.get(twin_id, 0), payee)
            for twin_id, payees in self.payees_of.items() if (twin_id, payee) in self.counted
        )
        return self.distributed.get(payee, 0) + shared


def _database(engine: Engine, chain_id: int) -> _DbState:
    with Session(engine) as session:
        licences = session.execute(select(License).where(License.chain_id == chain_id)).scalars().all()
        twins = session.execute(select(Twin).where(Twin.chain_id == chain_id)).scalars().all()
        balances = session.execute(select(PayeeBalance).where(PayeeBalance.chain_id == chain_id)).scalars().all()
        listings = session.execute(
            select(TwinPayee).where(TwinPayee.chain_id == chain_id).order_by(TwinPayee.twin_id, TwinPayee.position)
        ).scalars().all()
        payees_of: dict[int, list[tuple[str, int]]] = {}
        for row in listings:
            payees_of.setdefault(row.twin_id, []).append((row.account, row.share_bps))
        return _DbState(
            escrow={r.license_id: r.escrow for r in licences},
            uses_settled={r.license_id: r.uses_settled for r in licences},
            undistributed={r.twin_id: r.undistributed for r in twins},
            distributed={r.payee: r.distributed for r in balances},
            payees_of=payees_of,
            counted={(r.twin_id, r.account) for r in listings if r.accepted},
            category_revocations={r.twin_id: category_consent.parse(r.category_revocations) for r in twins},
            licences={r.license_id: r for r in licences},
            skips={int(k): int(v) for k, v in session.execute(
                select(SettleSkip.license_id, func.count())
                .where(SettleSkip.chain_id == chain_id, SettleSkip.voided.is_(False))
                .group_by(SettleSkip.license_id)).all()},
            voided={int(k): int(v) for k, v in session.execute(
                select(SettleSkip.license_id, func.sum(SettleSkip.count))
                .where(SettleSkip.chain_id == chain_id, SettleSkip.voided.is_(True))
                .group_by(SettleSkip.license_id)).all()},
        )


def _check_categories(chain: Chain, engine: Engine, scope: ChainScope, books: Books, report: AuditReport) -> None:
    """No settled use was payable no more in its usage category: signed at or after the effective time of the
    category's revocation, or settled once the grace after that time was over (pauses not counted). The contract
    checks only the item's mask and its last report; the uses' categories and times are in their Merkle leaves."""
    times = block_times(chain, [check[3] for check in books.category_checks])
    pauses = books.pauses()
    with Session(engine) as session:
        for license_id, first, count, block, tx_hash, revocations in books.category_checks:
            settled_at = times[block]
            in_effect = {c: at for c, at in revocations.items() if settled_at >= at}
            if not in_effect:
                continue
            for category, effective_at in sorted(in_effect.items()):
                grace_over = settled_at >= grace_ends_at(effective_at, books.grace_period, pauses, settled_at)
                unpayable = session.execute(
                    select(func.count())
                    .where(*scope.uses(), Use.license_id == license_id, Use.seq >= first, Use.seq < first + count,
                           Use.category == category, *(() if grace_over else (Use.used_at >= effective_at,)))
                ).scalar_one()
                if unpayable:
                    why = ("after the grace following" if grace_over else "signed at or after")
                    report.problems.append(
                        f"licence {license_id}: settlement {tx_hash} paid {unpayable} use(s) in usage category "
                        f"{category_name(int(category))} {why} its revocation's effect at {effective_at}"
                    )


def _check_voids(engine: Engine, scope: ChainScope, books: Books, report: AuditReport) -> None:
    """No `NotHolder` void swallowed a use the seller signed before the handover (`voids.payable_uses_voided`)."""
    with Session(engine) as session:
        for license_id, book in sorted(books.licenses.items()):
            for void in book.seller_voids:
                if void.reason != NOT_HOLDER:
                    continue
                rows = session.execute(
                    select(Use.seq, Use.signer, Use.used_at)
                    .where(*scope.uses(), Use.license_id == license_id, Use.seq >= void.first_seq,
                           Use.seq < void.first_seq + void.count)
                ).all()
                sentence = payable_uses_voided(void, (StoredUse(int(s), str(a), int(t)) for s, a, t in rows))
                if sentence is not None:
                    report.problems.append(sentence)


def _check_uses(engine: Engine, scope: ChainScope, books: Books, times: dict[int, LicenceTimes],
                report: AuditReport) -> None:
    """Every settled use is recorded here, in exactly one settlement, and its settlement's root is the root of the
    recorded uses: so each reported use was paid once, and nothing was paid that was not reported."""
    pauses = books.pauses()
    with Session(engine) as session:
        counts = dict(
            session.execute(
                select(Use.license_id, func.count()).where(*scope.uses()).group_by(Use.license_id)
            ).all()
        )
        report.uses_total = sum(int(c) for c in counts.values())
        for license_id, book in sorted(books.licenses.items()):
            recorded = int(counts.get(license_id, 0))
            if book.uses_settled > recorded:
                report.problems.append(
                    f"licence {license_id}: {book.uses_settled} uses settled on chain, only {recorded} recorded here"
                )
            # Voided uses are below the chain's settled count but were never paid: rejected, neither paid nor pending.
            below = min(book.uses_settled, recorded)
            voided = min(book.uses_voided, below)
            report.uses_settled += below - voided
            report.uses_rejected += voided
            for first, count, _amount, root, tx_hash, _log in book.settlements:
                uses = session.execute(
                    select(Use)
                    .where(*scope.uses(), Use.license_id == license_id, Use.seq >= first,
                           Use.seq < first + count)
                    .order_by(Use.seq)
                ).scalars().all()
                if len(uses) != count:
                    report.problems.append(
                        f"licence {license_id}: settlement {tx_hash} pays uses {first}..{first + count - 1}, "
                        f"{len(uses)} of them are recorded"
                    )
                    continue
                if UseTree(record_of(u) for u in uses).root != root:
                    report.problems.append(
                        f"licence {license_id}: the uses {first}..{first + count - 1} recorded here do not hash to the "
                        f"root {root} of settlement {tx_hash}"
                    )
                    continue
                report.uses_proven += count
        highs = dict(
            session.execute(
                select(Use.license_id, func.max(Use.seq)).where(*scope.uses()).group_by(Use.license_id)
            ).all()
        )
        for license_id, top in highs.items():
            book = books.licenses.get(license_id)
            settled = book.uses_settled if book is not None else 0
            facts = Unsettled()
            if book is not None:
                hold = session.execute(hold_query(scope.chain_id, scope.genesis_hash, license_id)).first()
                t = times[license_id]
                categories = tuple(
                    (c, at, t.now >= grace_ends_at(at, books.grace_period, pauses, t.now))
                    for c, at in sorted(books.category_revocations.get(book.twin_id, {}).items()) if t.now >= at
                )
                facts = Unsettled(
                    grace_over=grace_over_sentence(t),
                    end=t.end,
                    max_uses=book.max_uses,
                    category_ends=categories,
                    final_skips=final_skips(book.skips),
                    hold=(int(hold.from_seq), hold.reason, bool(hold.permanent)) if hold is not None else None,
                )
            waiting = waiting_count(session, scope.uses(), license_id, settled, int(top) + 1, facts)
            report.uses_pending += waiting
            report.uses_rejected += max(0, int(top) + 1 - settled) - waiting
