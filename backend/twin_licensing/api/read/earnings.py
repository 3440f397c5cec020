"""A payee's earnings from the index: totals computed as the contract computes them, and a history per use and brand.

Totals. The contract credits a twin's earnings to the twin (`undistributed`) and splits them among its payees only
when a payee withdraws or the payees change. So what a payee may claim is what was split to her (`distributed`)
minus what she withdrew, plus her share of each of her twins' undistributed earnings, split now by the current
shares with the remainder to the model: exactly `LicenseToken.claimable`. Her twins are those she is the model of and
those she accepted being a payee of; a twin that lists her without her acceptance adds nothing here (its part is
reached by `withdrawFrom`, and `/payees/{address}/listings` shows it).

History. Each upfront fee and each settled item is attributed to the payee by the shares in force at its block
(the twin's `PayeesSet` events); a rounding unit may land differently than in the contract's split of the sum, so
the history explains the totals, the totals come from the rule above.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from ...db.license_state import Earning, License, PayeeBalance, Settlement
from ...db.registry_state import Twin, TwinPayee
from ...domain.periods import bucket_starts
from ...domain.shares import share_of
from ...domain.vesting import vesting_state
from ...statements.payees import ShareSchedule, payee_changes
from ...statements.upfront import VESTED, upfront_events
from ...usage.licence_clock import chain_clock, licence_times
from ..context import ApiContext
from .catalogue import twin_ref
from .schemas import (
    EarningItemPublic,
    EarningsGroupPublic,
    EarningsPointPublic,
    IndexEarningsPublic,
    Overlay,
    Page,
    TwinRefPublic,
    TwinVestingPublic,
)



@dataclass(frozen=True)
class IndexTotals:
    distributed: int
    withdrawn: int
    undistributed_share: int

    def public(self, block: int | None) -> IndexEarningsPublic:
        return IndexEarningsPublic(
            block_number=block,
            claimable=self.distributed - self.withdrawn + self.undistributed_share,
            total_earned=self.distributed + self.undistributed_share,
            withdrawn=self.withdrawn,
            distributed=self.distributed,
            undistributed_share=self.undistributed_share,
        )


def _current_payees(session: Session, chain_id: int, twin_ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    out: dict[int, list[tuple[str, int]]] = defaultdict(list)
    if not twin_ids:
        return out
    rows = session.execute(
        select(TwinPayee.twin_id, TwinPayee.account, TwinPayee.share_bps)
        .where(TwinPayee.chain_id == chain_id, TwinPayee.twin_id.in_(twin_ids))
        .order_by(TwinPayee.twin_id, TwinPayee.position)
    ).all()
    for twin_id, account, bps in rows:
        out[twin_id].append((account, bps))
    return out


def index_totals(session: Session, chain_id: int, payee: str) -> IndexTotals:
    balance = session.get(PayeeBalance, (chain_id, payee))
    # The twins that count in the contract's claimable(): her own, and those she accepted being a payee of.
    twin_ids = list(
        session.execute(
            select(TwinPayee.twin_id).where(
                TwinPayee.chain_id == chain_id, TwinPayee.account == payee, TwinPayee.accepted.is_(True)
            )
        ).scalars()
    )
    pending = 0
    if twin_ids:
        undistributed = dict(
            session.execute(
                select(Twin.twin_id, Twin.undistributed).where(Twin.chain_id == chain_id, Twin.twin_id.in_(twin_ids))
            ).all()
        )
        payees = _current_payees(session, chain_id, [t for t in twin_ids if undistributed.get(t)])
        pending = sum(share_of(payees[t], undistributed[t], payee) for t in payees)
    return IndexTotals(
        distributed=balance.distributed if balance else 0,
        withdrawn=balance.withdrawn if balance else 0,
        undistributed_share=pending,
    )


# ------------------------------------------------------------------ history


@dataclass(frozen=True)
class Credit:
    kind: str  # upfront | uses | withdrawal
    block_number: int
    order: int  # log index where known, to order items of one block
    timestamp: int
    tx_hash: str
    twin_id: int | None
    license_id: int | None
    brand: str | None
    uses: int
    amount: int  # the payee's part
    share_bps: int | None


def _payee_twins(session: Session, chain_id: int, payee: str) -> list[int]:
    current = set(
        session.execute(
            select(TwinPayee.twin_id).where(TwinPayee.chain_id == chain_id, TwinPayee.account == payee)
        ).scalars()
    )
    # A former payee was paid her part when she was removed: her distributions name the twin.
    former = set(
        session.execute(
            select(Earning.twin_id)
            .where(Earning.chain_id == chain_id, Earning.payee == payee, Earning.twin_id.is_not(None))
            .distinct()
        ).scalars()
    )
    return sorted(current | former)


def credits(session: Session, chain_id: int, payee: str) -> list[Credit]:
    """Every upfront fee and settled item of the payee's twins, with her part; and her withdrawals. Oldest first."""
    twin_ids = _payee_twins(session, chain_id, payee)
    out: list[Credit] = []
    if twin_ids:
        current = _current_payees(session, chain_id, twin_ids)
        changes = payee_changes(session, chain_id, twin_ids)
        schedules = {t: ShareSchedule(changes.get(t, []), current.get(t, [])) for t in twin_ids}

        def part(twin_id: int, block: int, order: int, amount: int) -> tuple[int, int | None]:
            payees = schedules[twin_id].at(block, order)
            bps = next((b for a, b in payees if a == payee), None)
            return share_of(payees, amount, payee), bps

        # An upfront fee is earned as it vests (UpfrontVested), not at purchase.
        for event in upfront_events(session, chain_id, twin_ids, kinds=(VESTED,)):
            amount, bps = part(event.twin_id, event.block_number, event.log_index, event.amount)
            if amount:
                out.append(Credit("upfront", event.block_number, event.log_index, event.block_time, event.tx_hash,
                                  event.twin_id, event.license_id, event.brand, 0, amount, bps))
        for s in session.execute(
            select(Settlement.twin_id, Settlement.license_id, Settlement.holder, Settlement.amount, Settlement.count,
                   Settlement.block_number, Settlement.log_index, Settlement.block_time, Settlement.tx_hash)
            .where(Settlement.chain_id == chain_id, Settlement.twin_id.in_(twin_ids))
        ).all():
            amount, bps = part(s.twin_id, s.block_number, s.log_index, s.amount)
            if amount:
                out.append(Credit("uses", s.block_number, s.log_index, s.block_time, s.tx_hash, s.twin_id,
                                  s.license_id, s.holder, s.count, amount, bps))
    for w in session.execute(
        select(Earning).where(Earning.chain_id == chain_id, Earning.payee == payee, Earning.kind == "withdrawn")
    ).scalars():
        out.append(Credit("withdrawal", w.block_number, w.log_index, w.block_time, w.tx_hash, None, None, None, 0,
                          w.amount, None))
    out.sort(key=lambda c: (c.block_number, c.order, c.kind))
    return out


def summarise(ctx: ApiContext, session: Session, items: list[Credit]) -> dict:
    """Per brand, per twin, and a time series (per day, week or month) of the payee's earnings."""
    brands: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    twins: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    brand_licenses: dict[str, set] = defaultdict(set)
    twin_licenses: dict[int, set] = defaultdict(set)
    earned = [c for c in items if c.kind != "withdrawal"]
    for c in earned:
        for table, key, seen in ((brands, c.brand or "", brand_licenses), (twins, c.twin_id, twin_licenses)):
            row = table[key]
            row[0] += c.amount
            row[1] += c.uses
            seen[key].add(c.license_id)
    twin_rows = {
        t.twin_id: t
        for t in session.execute(
            select(Twin).where(Twin.chain_id == ctx.chain_id, Twin.twin_id.in_([k for k in twins if k is not None]))
        ).scalars()
    } if twins else {}
    by_brand = [
        EarningsGroupPublic(key=k, label=ctx.label(k) or k, amount=v[0], uses=v[1], licenses=len(brand_licenses[k]))
        for k, v in sorted(brands.items(), key=lambda kv: -kv[1][0])
    ]
    refs = {k: twin_ref(ctx, twin_rows.get(k), k) for k in twins if k is not None}
    by_twin = [
        EarningsGroupPublic(key=str(k), label=refs[k].name, amount=v[0], uses=v[1], licenses=len(twin_licenses[k]))
        for k, v in sorted(twins.items(), key=lambda kv: -kv[1][0])
        if k is not None
    ]
    return {"by_brand": by_brand, "by_twin": by_twin, "series": _series(earned), "twins": list(refs.values())}


def _series(earned: list[Credit]) -> list[EarningsPointPublic]:
    """The payee's earnings per day, week or month (by the range they span), every bucket from the first to the
    last: a time axis with one date per bar, never two bars of the same date."""
    if not earned:
        return []
    _, starts = bucket_starts(earned[0].timestamp, earned[-1].timestamp)
    sums = {start: [0, 0] for start in starts}
    for c in earned:
        row = sums[starts[bisect.bisect_right(starts, c.timestamp) - 1]]
        row[0] += c.amount
        row[1] += c.uses
    total = 0
    points = []
    for start in starts:
        amount, uses = sums[start]
        total += amount
        points.append(EarningsPointPublic(timestamp=start, amount=amount, uses=uses, cumulative=total))
    return points


def history_page(
    ctx: ApiContext, session: Session, items: list[Credit], *, kind: str | None, offset: int, limit: int
) -> Page[EarningItemPublic]:
    rows = [c for c in items if kind is None or c.kind == kind]
    rows.reverse()  # newest first
    page = rows[offset : offset + limit]
    twin_ids = {c.twin_id for c in page if c.twin_id is not None}
    twin_rows = {
        t.twin_id: t
        for t in session.execute(select(Twin).where(Twin.chain_id == ctx.chain_id, Twin.twin_id.in_(list(twin_ids)))).scalars()
    } if twin_ids else {}
    data = []
    for c in page:
        ref: TwinRefPublic | None = twin_ref(ctx, twin_rows.get(c.twin_id), c.twin_id) if c.twin_id is not None else None
        brand_label = (ctx.label(c.brand) or None) if c.brand else None
        view = Overlay(c, twin_name=ref.name if ref else None, brand_label=brand_label)
        data.append(EarningItemPublic.model_validate(view, from_attributes=True))
    return Page[EarningItemPublic](data=data, count=len(rows))


# ------------------------------------------------------------------ upfront vesting


def vesting_of(ctx: ApiContext, session: Session, payee: str, now: int) -> dict:
    """Per twin that counts in the payee's withdraw (her own, those she accepted): its upfront fees vested vs still
    vesting, as of `now`; and the licences whose vested upfront is not credited yet, which the model's withdraw passes
    to `withdrawVested` so that it is paid at once."""
    twin_ids = sorted(set(
        session.execute(
            select(TwinPayee.twin_id).where(
                TwinPayee.chain_id == ctx.chain_id, TwinPayee.account == payee, TwinPayee.accepted.is_(True)
            )
        ).scalars()
    ))
    if not twin_ids:
        return {"vesting": [], "vestable_license_ids": []}
    twins = {t.twin_id: t for t in session.execute(
        select(Twin).where(Twin.chain_id == ctx.chain_id, Twin.twin_id.in_(twin_ids))).scalars()}
    clock = chain_clock(session, ctx.chain_id)
    sums: dict[int, list[int]] = {t: [0, 0, 0, 0, 0] for t in twin_ids}  # upfront, vested, released, vesting, refund
    vestable: list[int] = []
    for lic in session.execute(
        select(License).where(License.chain_id == ctx.chain_id, License.twin_id.in_(twin_ids), License.upfront_fee > 0)
        .order_by(License.license_id)
    ).scalars():
        end = licence_times(lic, twins.get(lic.twin_id), clock, now).end
        state = vesting_state(lic.upfront_fee, lic.started_at, lic.duration or (lic.expiry - lic.started_at), end, now,
                              released=lic.upfront_released, refunded=lic.upfront_refunded)
        row = sums[lic.twin_id]
        row[0] += state.upfront
        row[1] += state.vested
        row[2] += state.released
        row[3] += state.still_vesting
        row[4] += state.refunded + state.refundable
        if state.vestable > 0:
            vestable.append(lic.license_id)
    return {
        "vesting": [
            TwinVestingPublic(twin=twin_ref(ctx, twins.get(t), t), upfront=v[0], vested=v[1], released=v[2],
                              vestable=v[1] - v[2], still_vesting=v[3], refunded=v[4])
            for t, v in sums.items() if v[0]
        ],
        "vestable_license_ids": vestable,
    }
