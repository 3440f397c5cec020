"""What the use intake and the use status read from the indexer's tables (never from the chain directly)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from ..db.license_state import Settlement
from ..db.registry_state import TwinPayee
from ..domain import category_consent
from ..domain.licence_end import parse_consent_ends


@dataclass(frozen=True)
class LicenseSnapshot:
    license_id: int
    twin_id: int
    holder: str
    started_at: int | None
    expiry: int
    categories: int
    territories: int
    max_uses: int  # 0 = unlimited
    per_use_fee: int
    escrow: int
    uses_settled: int
    ended_at: int | None = None  # the model ended it as an idle exclusive licence (its expiry became this time)
    seller: str | None = None  # the last transfer's seller (its escrow pays the uses she signed before it)
    handover_at: int | None = None  # ... and its time: the holder's uses start there


@dataclass(frozen=True)
class ConsentSnapshot:
    twin_id: int
    revocation_effective_at: int  # 0 while consent is granted

    @property
    def effective_at(self) -> int | None:
        return self.revocation_effective_at or None

    def effective_at_time(self, now: int) -> bool:
        """Whether uses may still be settled at `now` (the contract's rule: revoked once `now >= effectiveAt`)."""
        return self.revocation_effective_at == 0 or now < self.revocation_effective_at

    # The twin's revoked usage categories as the index stores them (`domain.category_consent`).
    category_revocations: str = ""
    # Whole-twin revocations that took effect before consent was granted again (`domain.licence_end`).
    consent_ends: str = ""

    def ended_by_revocation(self, started_at: int) -> int | None:
        """The effective time of a past revocation (consent granted again since) that ended a licence bought at
        `started_at` for good: the first after its purchase; None if none did."""
        return next((at for at in parse_consent_ends(self.consent_ends) if at > started_at), None)

    def category_revocation_at(self, category: int) -> int | None:
        """When the revocation of `category` takes (or took) effect, pending or in effect; None while granted."""
        return category_consent.parse(self.category_revocations).get(category)

    def category_revoked_since(self, category: int, now: int) -> int | None:
        """When the revocation of `category` took effect, if it had by `now` (the contract then refuses its uses)."""
        return category_consent.in_effect(category_consent.parse(self.category_revocations), category, now)


@dataclass(frozen=True)
class SettlementView:
    tx_hash: str
    log_index: int
    block_number: int
    block_time: int
    license_id: int
    twin_id: int
    first_seq: int
    count: int
    amount: int
    uses_root: str


@dataclass(frozen=True)
class PayeeView:
    account: str
    share_bps: int
    role: str


class IndexView:
    """The indexer's settlements and payees as the use status reads them. (The intake reads licences, consent and
    the chain's clock in one statement of its own: `usage.snapshot`.)"""

    def settlement_of(self, session: Session, chain_id: int, license_id: int, seq: int) -> SettlementView | None:
        """The `UsesSettled` that paid use `seq` of the licence, if indexed."""
        row = session.execute(
            select(Settlement)
            .where(Settlement.chain_id == chain_id, Settlement.license_id == license_id, Settlement.first_seq <= seq)
            .order_by(Settlement.first_seq.desc())
            .limit(1)
        ).scalars().first()
        if row is None or seq >= row.first_seq + row.count:
            return None
        return SettlementView(**{name: getattr(row, name) for name in SettlementView.__dataclass_fields__})

    def payees(self, session: Session, chain_id: int, twin_id: int) -> list[PayeeView]:
        rows = session.execute(
            select(TwinPayee)
            .where(TwinPayee.chain_id == chain_id, TwinPayee.twin_id == twin_id)
            .order_by(TwinPayee.position)
        ).scalars()
        return [PayeeView(r.account, r.share_bps, r.role) for r in rows]
