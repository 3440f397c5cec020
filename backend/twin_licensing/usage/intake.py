"""Use intake: checks a signed use report against the index and numbers it within its licence.

Order of work: parse and recover the signer (no database); then, holding the licence's intake lock, read in one
statement the report's digest (the same report again is answered with the stored use), the licence, its twin's
consent and the licence's last sequence number, check, and insert with the next number. A refusal raises a
`UseReportRefused` and stores nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from sqlalchemy import Engine, insert, select

from ..chain.use_reports import (
    MAX_UINT64,
    InvalidSignatureError,
    UseReport,
    UseReportDomain,
    recover_signer,
    report_digest,
)
from ..db.uses import ChainScope, Use
from . import errors
from .index_view import ConsentSnapshot, LicenseSnapshot
from .locking import license_write_transaction
from .snapshot import IntakeSnapshot, read_snapshot
from .names import category_name, describe_mask, territory_name, when

# Built once: composing the statement per request costs more than running it.
_INSERT_USE = insert(Use).returning(Use.use_id)

# A report may be signed a little ahead of the server's clock (clock skew), not more.
FUTURE_SKEW_SECONDS = 300


@dataclass(frozen=True)
class SignedUseReport:
    license_id: int
    use_ref: str
    category: int
    territory: int
    used_at: int
    signature: str

    @property
    def report(self) -> UseReport:
        return UseReport(self.license_id, self.use_ref, self.category, self.territory, self.used_at)


@dataclass(frozen=True)
class AcceptedUse:
    """A row of `uses`, as plain data (building an ORM instance costs more than the insert)."""

    use_id: int
    chain_id: int
    genesis_hash: str
    license_id: int
    seq: int
    use_ref: str
    category: int
    territory: int
    used_at: int
    signer: str
    signature: str
    digest: str
    accepted_at: datetime


@dataclass(frozen=True)
class IntakeResult:
    use: AcceptedUse
    created: bool  # False when the same report was already accepted


class UseIntake:
    def __init__(
        self,
        engine: Engine,
        domain: UseReportDomain,
        genesis_hash: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.domain = domain
        self.chain_id = domain.chain_id
        self.scope = ChainScope(domain.chain_id, genesis_hash)
        self.clock = clock

    def submit(self, signed: SignedUseReport) -> IntakeResult:
        report = signed.report
        _check_shape(report)
        try:
            signer = recover_signer(self.domain, report, signed.signature)
        except (InvalidSignatureError, ValueError) as exc:
            raise errors.InvalidSignature(f"the signature is not valid: {exc}") from None
        digest = report_digest(self.domain, report)

        with license_write_transaction(self.engine, report.license_id) as conn:
            snap = read_snapshot(conn, self.chain_id, self.scope.genesis_hash, report.license_id, digest)
            if snap.existing_use_id is not None:
                # The same report again (a retry, or two copies racing: the lock put this one second).
                return IntakeResult(self._load(conn, snap.existing_use_id), created=False)
            license_ = snap.license
            if license_ is None:
                raise errors.UnknownLicense(
                    f"licence {report.license_id} is not known on chain {self.chain_id}; if it was just bought, "
                    "retry in a few seconds, once its purchase is indexed"
                )
            if signer.lower() != license_.holder.lower():
                raise errors.NotLicenseHolder(
                    f"the report is signed by {signer}, but licence {report.license_id} is held by "
                    f"{license_.holder}: sign it with the holder's wallet"
                )
            now = max(int(self.clock()), snap.chain_time or 0)
            self._check_terms(license_, snap, report, now)
            # Never below the chain's settled count: a use numbered there could never settle.
            seq = max(-1 if snap.max_seq is None else snap.max_seq, license_.uses_settled - 1) + 1
            self._check_allowance(license_, seq)
            values = {
                "chain_id": self.chain_id,
                "genesis_hash": self.scope.genesis_hash,
                "license_id": report.license_id,
                "seq": seq,
                "use_ref": report.use_ref.lower(),
                "category": report.category,
                "territory": report.territory,
                "used_at": report.used_at,
                "signer": signer,
                "signature": signed.signature.lower(),
                "digest": digest,
                "accepted_at": datetime.now(timezone.utc),
            }
            use_id = conn.execute(_INSERT_USE, values).scalar_one()
        return IntakeResult(AcceptedUse(use_id=use_id, **values), created=True)

    # ------------------------------------------------------------------ checks

    @staticmethod
    def _load(conn, use_id: int) -> AcceptedUse:
        row = conn.execute(select(Use.__table__).where(Use.use_id == use_id)).one()
        return AcceptedUse(**row._asdict())

    def _check_terms(self, license_: LicenseSnapshot, snap: IntakeSnapshot, report: UseReport, now: int) -> None:
        lid = report.license_id
        if report.used_at > now + FUTURE_SKEW_SECONDS:
            raise errors.MalformedReport(
                f"the use is dated {when(report.used_at)}, in the future; report a use once it has happened"
            )
        if now >= license_.expiry:
            raise errors.LicenseExpired(
                f"licence {lid} expired on {when(license_.expiry)}; buy a new licence to report further uses"
            )
        if license_.started_at is not None and report.used_at < license_.started_at:
            raise errors.MalformedReport(
                f"the use is dated {when(report.used_at)}, before licence {lid} began on {when(license_.started_at)}"
            )
        consent = snap.consent
        if consent is not None and not consent.effective_at_time(now):
            raise errors.ConsentRevoked(
                f"the model revoked consent for twin {license_.twin_id}, effective {when(consent.effective_at or now)}: "
                "no further uses can be reported or paid; reclaim the licence's unspent escrow"
            )
        if not license_.categories >> report.category & 1:
            raise errors.CategoryNotAllowed(
                f"usage category {category_name(report.category)} is not allowed by licence {lid} "
                f"(allowed: {describe_mask(license_.categories, category_name)})"
            )
        if not license_.territories >> report.territory & 1:
            raise errors.TerritoryNotAllowed(
                f"territory {territory_name(report.territory)} is not allowed by licence {lid} "
                f"(allowed: {describe_mask(license_.territories, territory_name)})"
            )
        if snap.hold_reason is not None:
            raise errors.LicenseUnsettleable(
                f"earlier uses of licence {lid} cannot be settled: {snap.hold_reason}; no further uses are accepted"
            )

    def _check_allowance(self, license_: LicenseSnapshot, seq: int) -> None:
        lid = license_.license_id
        if license_.max_uses and seq >= license_.max_uses:
            raise errors.MaxUsesReached(
                f"licence {lid} allows {license_.max_uses} uses and all of them are reported already "
                f"({license_.uses_settled} settled, {seq - license_.uses_settled} waiting); buy a new licence"
            )
        unsettled = seq - license_.uses_settled + 1  # this one included
        needed = unsettled * license_.per_use_fee
        if needed > license_.escrow:
            covered = license_.escrow // license_.per_use_fee if license_.per_use_fee else 0
            raise errors.InsufficientEscrow(
                f"licence {lid} has {_money(license_.escrow)} in escrow, which covers {covered} uses at "
                f"{_money(license_.per_use_fee)} each, and {unsettled - 1} are waiting to be settled; top up the "
                f"escrow by at least {_money(needed - license_.escrow)} to report this use"
            )


def _check_shape(report: UseReport) -> None:
    if report.license_id <= 0 or report.license_id >= 2**63:
        raise errors.MalformedReport("the licence id must be a positive integer below 2**63")
    ref = report.use_ref
    if not (isinstance(ref, str) and ref.startswith("0x") and len(ref) == 66 and _is_hex(ref[2:])):
        raise errors.MalformedReport("the use reference must be 0x followed by 64 hex digits (a 32-byte hash)")
    if int(ref, 16) == 0:
        raise errors.MalformedReport("the use reference is zero: give the hash of the asset or campaign item")
    if not 0 <= report.category < 8:
        raise errors.MalformedReport("the usage category must be a number from 0 to 7")
    if not 0 <= report.territory < 8:
        raise errors.MalformedReport("the territory must be a number from 0 to 7")
    if not 0 < report.used_at <= MAX_UINT64:
        raise errors.MalformedReport("the use time must be positive unix seconds")


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
        return True
    except ValueError:
        return False


def _money(micro: int) -> str:
    return f"{micro // 10**6:,}.{micro % 10**6:06d} USDC"


__all__ = ["ConsentSnapshot", "IntakeResult", "LicenseSnapshot", "SignedUseReport", "UseIntake"]
