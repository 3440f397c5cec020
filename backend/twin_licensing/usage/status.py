"""A use's status, derived from the tables of the settler and the indexer, and its Merkle proof.

pending   - accepted, not yet in a transaction;
submitted - in a settle transaction that is not (yet) indexed as settled;
settled   - covered by an indexed `UsesSettled` event: block, amount, payees;
rejected  - the chain refuses to settle it, with the reason (a hold the settler lifts if the cause goes away).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session

from ..chain.merkle import MerkleProof, UseTree
from ..db.submissions import MINED, SENDING, SettleSubmission, SettleSubmissionItem, UseRejection
from ..db.uses import ChainScope, Use
from ..settlement.batch import record_of
from .errors import ProofNotAvailable, UseNotFound
from .index_view import IndexView, PayeeView, SettlementView

PENDING, SUBMITTED, SETTLED, REJECTED = "pending", "submitted", "settled", "rejected"


@dataclass(frozen=True)
class PayeeShare:
    account: str
    role: str
    share_bps: int
    amount: int  # of this use's fee, split as the contract splits: remainder to the model (first payee)


@dataclass(frozen=True)
class UseStatus:
    status: str
    tx_hash: str | None = None
    block_number: int | None = None
    block_time: int | None = None
    amount: int | None = None  # the fee paid for this one use
    payees: list[PayeeShare] = field(default_factory=list)
    reason: str | None = None
    settlement: SettlementView | None = None


@dataclass(frozen=True)
class UseProof:
    use: Use
    proof: MerkleProof
    settlement: SettlementView


def get_use(session: Session, scope: ChainScope, use_id: int) -> Use:
    use = session.get(Use, use_id)
    if use is None or use.chain_id != scope.chain_id or use.genesis_hash != scope.genesis_hash:
        raise UseNotFound(f"there is no use {use_id}; use ids are returned when a use is reported")
    return use


def split(amount: int, payees: list[PayeeView]) -> list[PayeeShare]:
    shares = [PayeeShare(p.account, p.role, p.share_bps, amount * p.share_bps // 10_000) for p in payees[1:]]
    if not payees:
        return []
    model = payees[0]
    rest = amount - sum(s.amount for s in shares)
    return [PayeeShare(model.account, model.role, model.share_bps, rest), *shares]


def use_status(session: Session, index: IndexView, use: Use) -> UseStatus:
    settled = index.settlement_of(session, use.chain_id, use.license_id, use.seq)
    if settled is not None:
        per_use = settled.amount // settled.count
        return UseStatus(
            status=SETTLED,
            tx_hash=settled.tx_hash,
            block_number=settled.block_number,
            block_time=settled.block_time,
            amount=per_use,
            payees=split(per_use, index.payees(session, use.chain_id, settled.twin_id)),
            settlement=settled,
        )
    hold = session.get(UseRejection, (use.chain_id, use.genesis_hash, use.license_id))
    if hold is not None and use.seq >= hold.from_seq:
        return UseStatus(status=REJECTED, reason=hold.reason)
    submitted = session.execute(
        select(SettleSubmission)
        .join(SettleSubmissionItem, SettleSubmissionItem.submission_id == SettleSubmission.submission_id)
        .where(
            SettleSubmission.chain_id == use.chain_id,
            SettleSubmission.genesis_hash == use.genesis_hash,
            SettleSubmission.status.in_((SENDING, MINED)),
            SettleSubmissionItem.license_id == use.license_id,
            SettleSubmissionItem.first_seq <= use.seq,
            SettleSubmissionItem.first_seq + SettleSubmissionItem.count > use.seq,
        )
        .order_by(SettleSubmission.submission_id.desc())
        .limit(1)
    ).scalars().first()
    if submitted is not None:
        return UseStatus(status=SUBMITTED, tx_hash=submitted.tx_hash, block_number=submitted.block_number)
    return UseStatus(status=PENDING)


def use_proof(session: Session, index: IndexView, use: Use) -> UseProof:
    """The use's leaf and proof against the root of the `UsesSettled` event that paid it."""
    settled = index.settlement_of(session, use.chain_id, use.license_id, use.seq)
    if settled is None:
        raise ProofNotAvailable(
            f"use {use.use_id} is not settled on chain yet, so there is no root to prove it against; "
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
            f"the settlement of use {use.use_id} covers {settled.count} uses but {len(records)} are recorded here"
        )
    tree = UseTree(records)
    if tree.root != settled.uses_root:
        raise ProofNotAvailable(
            f"the recorded uses do not hash to the settlement's root {settled.uses_root}; the audit command shows why"
        )
    return UseProof(use=use, proof=tree.proof(record_of(use)), settlement=settled)
