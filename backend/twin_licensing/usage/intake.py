"""Use intake: checks a signed use report against the index and numbers it within its licence.

Order of work: parse and recover the signer (no database); then, holding the licence's intake lock, read in one
statement the report's digest and who signed the stored copy, the licence, its twin's consent and the licence's last
sequence number. The same report again, signed by the same key, is answered with the stored use; anything else is
checked in full, the signer first (a stranger's signature on an accepted body is refused, never answered with the
use), then the licence's end and terms, then the signed `seq`, which must be the licence's next number
(`usage.sequence`; 409 with `expected_seq` otherwise, and the client signs again), then escrow and max uses; and
inserted. A refusal raises a `UseReportRefused` and stores nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, NoReturn

from pydantic import ValidationError
from sqlalchemy import Engine, insert, select

from ..chain.hashing import keccak256
from ..chain.use_reports import InvalidSignatureError, UseReport, UseReportDomain, recover_signer, report_digest
from ..db.uses import ChainScope, Use, UseCreate
from ..domain.licence_end import licence_end
from ..domain.money import format_money
from ..domain.times import when
from ..domain.use_record import REPORT_FIELDS, use_label
from ..domain.vocabulary import category_name, describe_mask, labelled, territory_name
from . import errors
from .errors import plural
from .index_view import ConsentSnapshot, LicenseSnapshot
from .locking import license_write_transaction
from .sequence import next_seq_after
from .snapshot import IntakeSnapshot, former_holder, read_snapshot, unsettled_signed_by

# Built once: composing the statement per request costs more than running it.
_INSERT_USE = insert(Use).returning(Use.use_id)

# A report may be signed a little ahead of the server's clock (clock skew), not more.
FUTURE_SKEW_SECONDS = 300

_category = labelled(category_name)
_territory = labelled(territory_name)


def parse_report(data: Mapping[str, Any]) -> UseCreate:
    """A report from plain data (JSON), validated once by the model; a refusal in words otherwise."""
    try:
        return UseCreate.model_validate(data)
    except ValidationError as exc:
        raise errors.malformed(exc.errors(), UseCreate.model_fields) from None


def report_of(create: UseCreate) -> UseReport:
    """The signed part of a report."""
    return UseReport(*(getattr(create, f.name) for f in REPORT_FIELDS))


@dataclass(frozen=True)
class AcceptedUse:
    """A row of `uses`, as plain data (building an ORM instance costs more than the insert)."""

    use_id: int
    chain_id: int
    genesis_hash: str
    license_id: int
    twin_id: int
    seq: int
    use_ref: str
    category: int
    territory: int
    used_at: int
    signer: str
    signature: str
    digest: str
    label: str | None
    accepted_at: datetime


@dataclass(frozen=True)
class IntakeResult:
    use: AcceptedUse
    created: bool  # False when the same report was already accepted
    fee: int | None = None  # the licence's per-use fee, known to the intake when it creates the use


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

    def submit(self, signed: UseCreate) -> IntakeResult:
        """Accepts a report whose shape `UseCreate` validated (the API's body, or `parse_report`)."""
        report = report_of(signed)
        if signed.label is not None and "0x" + keccak256(signed.label.encode()).hex() != report.use_ref:
            raise errors.MalformedReport(
                f'the use reference is not the hash of the label "{signed.label}": send the label the reference '
                "was made from, or leave the label out"
            )
        try:
            signer = recover_signer(self.domain, report, signed.signature)
        except (InvalidSignatureError, ValueError):
            raise errors.InvalidSignature(
                "the signature does not belong to this report: sign the report again with the licence holder's wallet"
            ) from None
        digest = report_digest(self.domain, report)

        with license_write_transaction(self.engine, report.license_id) as conn:
            snap = read_snapshot(conn, self.chain_id, self.scope.genesis_hash, report.license_id, digest)
            if snap.existing_use_id is not None and snap.existing_signer == signer:
                # The same report again, signed by the one who sent it first (a retry, or two copies racing: the
                # lock put this one second). Anyone else's signature on the same body goes through every check below
                # and is refused there: a stranger never learns the stored use.
                return IntakeResult(self._load(conn, snap.existing_use_id), created=False)
            license_ = snap.license
            if license_ is None:
                raise errors.UnknownLicense(
                    f"there is no licence {report.license_id} on record yet: if you just bought it, try again in a "
                    "few seconds, once its purchase is on record"
                )
            if signer.lower() != license_.holder.lower():
                self._refuse_signer(conn, license_, signer)
            now = max(int(self.clock()), snap.chain_time or 0)
            self._check_terms(license_, snap, report, now)
            seq = next_seq_after(snap.max_seq, license_.uses_settled)
            self._check_sequence(license_, report, seq)
            self._check_allowance(conn, license_, seq)
            values = {
                "chain_id": self.chain_id,
                "genesis_hash": self.scope.genesis_hash,
                "license_id": report.license_id,
                "twin_id": license_.twin_id,
                "seq": seq,
                "use_ref": report.use_ref.lower(),
                "category": report.category,
                "territory": report.territory,
                "used_at": report.used_at,
                "signer": signer,
                "signature": signed.signature.lower(),
                "digest": digest,
                "label": signed.label,
                "accepted_at": datetime.now(timezone.utc),
            }
            use_id = conn.execute(_INSERT_USE, values).scalar_one()
        return IntakeResult(AcceptedUse(use_id=use_id, **values), created=True, fee=license_.per_use_fee)

    # ------------------------------------------------------------------ checks

    @staticmethod
    def _load(conn, use_id: int) -> AcceptedUse:
        row = conn.execute(select(Use.__table__).where(Use.use_id == use_id)).one()
        return AcceptedUse(**row._asdict())

    def _refuse_signer(self, conn, license_: LicenseSnapshot, signer: str) -> NoReturn:
        lid = license_.license_id
        if former_holder(conn, self.scope, lid, signer):
            raise errors.FormerHolder(
                f"this report is signed by {signer}, who held licence {lid} before it passed to {license_.holder}: "
                "only the holder's reports are accepted, and a former holder's uses are not paid from it; report "
                "uses of a licence before passing it on, or ask its holder to report the uses made now"
            )
        raise errors.NotLicenseHolder(
            f"this report is signed by {signer}, but licence {lid} is held by {license_.holder}: sign it with the "
            "holder's wallet, for this network and this licence contract (a report signed for another one, or "
            "changed after signing, reads as signed by someone else)"
        )

    @staticmethod
    def _check_sequence(license_: LicenseSnapshot, report: UseReport, expected: int) -> None:
        """The signed number must be the licence's next: the contract pays an item only up to the number its
        holder signed, so a gap or a number used twice could never be settled."""
        if report.seq == expected:
            return
        lid = license_.license_id
        if report.seq < expected:
            reason = (
                f"{use_label(report.seq)} of licence {lid} was reported by someone else a moment ago (or by an earlier "
                f"report of yours): sign the report again as {use_label(expected)}"
            )
        else:
            reason = (
                f"this report is signed as {use_label(report.seq)}, but licence {lid} has "
                f"{plural(expected, 'use')} reported so far and numbers cannot be skipped: sign the report again as "
                f"{use_label(expected)}"
            )
        raise errors.SequenceMismatch(reason, expected_seq=expected)

    def _check_terms(self, license_: LicenseSnapshot, snap: IntakeSnapshot, report: UseReport, now: int) -> None:
        lid = report.license_id
        if report.used_at > now + FUTURE_SKEW_SECONDS:
            raise errors.MalformedReport(
                f"the use is dated {when(report.used_at)}, which is in the future: report a use once it has happened"
            )
        if license_.ended_at is not None:
            raise errors.LicenseEnded(
                f"the model ended exclusive licence {lid} on {when(license_.ended_at)}, after it had settled no use "
                "for the idle period its offer stated, so no further uses can be reported or paid: reclaim its unspent "
                "escrow, or buy a new licence"
            )
        if now >= license_.expiry:
            raise errors.LicenseExpired(
                f"licence {lid} expired on {when(license_.expiry)}: buy a new licence to report further uses"
            )
        if license_.started_at is not None and report.used_at < license_.started_at:
            raise errors.MalformedReport(
                f"the use is dated {when(report.used_at)}, before licence {lid} began on "
                f"{when(license_.started_at)}: check the date of the use"
            )
        if license_.handover_at is not None and report.used_at < license_.handover_at:
            # The contract pays a report dated before the handover only from the seller's escrow, signed by her: the
            # holder's would be skipped for good, and block every later use of the licence with it.
            raise errors.MalformedReport(
                f"the use is dated {when(report.used_at)}, before licence {lid} passed to {license_.holder} on "
                f"{when(license_.handover_at)}: uses before that were its previous holder's to report; check the "
                "date of the use"
            )
        consent = snap.consent
        if consent is not None and not consent.effective_at_time(now):
            raise errors.ConsentRevoked(
                f"the model revoked consent for this twin, effective {when(consent.effective_at or now)}, so no "
                "further uses can be reported or paid: reclaim the licence's unspent escrow once its grace period "
                "is over"
            )
        ended_by = consent.ended_by_revocation(license_.started_at or 0) if consent is not None else None
        if ended_by is not None and now >= ended_by:
            raise errors.ConsentRevoked(
                f"the model revoked consent for this twin, effective {when(ended_by)}, which ended licence {lid} for "
                "good (consent granted again later does not revive a licence alive then): buy a new licence to "
                "report further uses, and reclaim this one's unspent escrow once its grace period is over"
            )
        if not license_.categories >> report.category & 1:
            raise errors.CategoryNotAllowed(
                f"usage category {_category(report.category)} is not allowed by licence {lid}, which allows "
                f"{describe_mask(license_.categories, _category)}: report the use under one of those, or buy a "
                "licence that covers it"
            )
        revoked_since = consent.category_revoked_since(report.category, now) if consent is not None else None
        if revoked_since is not None:
            raise errors.CategoryConsentRevoked(
                f"the model withdrew her consent to usage category {_category(report.category)} for this twin, "
                f"effective {when(revoked_since)}, so no further uses in it can be reported or paid: report only uses "
                f"in the licence's other categories"
            )
        if not license_.territories >> report.territory & 1:
            raise errors.TerritoryNotAllowed(
                f"territory {_territory(report.territory)} is not allowed by licence {lid}, which allows "
                f"{describe_mask(license_.territories, _territory)}: report the use under one of those, or buy a "
                "licence that covers it"
            )
        self._check_used_before_end(license_, consent, report)
        if snap.hold_reason is not None:
            raise errors.LicenseUnsettleable(
                f"licence {lid} takes no further uses because its earlier uses cannot be settled: {snap.hold_reason}"
            )

    @staticmethod
    def _check_used_before_end(license_: LicenseSnapshot, consent: ConsentSnapshot | None, report: UseReport) -> None:
        """A use dated at or after the end that applies to it is never payable (the contract skips its item with
        SignedAfterEnd), even when it is reported a moment before that end (a clock a little ahead, a pending
        revocation): refused here rather than accepted and then never paid."""
        lid = license_.license_id
        revoked_at = consent.revocation_effective_at if consent is not None else 0
        end = licence_end(license_.expiry, license_.started_at or 0, revoked_at,
                          consent.consent_ends if consent is not None else "")
        if end == license_.ended_at:
            what = f"the model ended licence {lid} ({when(end)})"
        elif end == license_.expiry:
            what = f"licence {lid} ends ({when(end)})"
        else:
            what = f"the model's revocation of consent for this twin takes effect ({when(end)})"
        ends = [(end, what)]
        category_at = consent.category_revocation_at(report.category) if consent is not None else None
        if category_at is not None:
            ends.append((category_at, f"the model's withdrawal of usage category {_category(report.category)} takes "
                                      f"effect ({when(category_at)})"))
        end, what = min(ends)
        if report.used_at >= end:
            raise errors.UsedAfterEnd(
                f"the use is dated {when(report.used_at)}, when or after {what}: a use from that moment on cannot be "
                "paid, so it cannot be reported; check the date of the use"
            )

    def _check_allowance(self, conn, license_: LicenseSnapshot, seq: int) -> None:
        lid = license_.license_id
        waiting = seq - license_.uses_settled  # reported, not settled yet
        if license_.max_uses and seq >= license_.max_uses:
            reported = "it is" if license_.max_uses == 1 else f"all {license_.max_uses} are"
            raise errors.MaxUsesReached(
                f"licence {lid} allows {plural(license_.max_uses, 'use')}, and {reported} reported already "
                f"({license_.uses_settled} settled, {waiting} waiting to be settled): buy a new licence to "
                "report more"
            )
        if license_.seller is not None:
            # Handed over: a seller's waiting uses are paid from the seller's escrow, so the holder's escrow
            # answers only for the holder's own.
            waiting = unsettled_signed_by(conn, self.scope, lid, license_.uses_settled, license_.holder)
        needed = (waiting + 1) * license_.per_use_fee  # this one included
        if needed > license_.escrow:
            fee = format_money(license_.per_use_fee)
            waiting_part = (
                f", and {plural(waiting, 'reported use')} {'is' if waiting == 1 else 'are'} still waiting to be paid "
                "from it" if waiting else ""
            )
            raise errors.InsufficientEscrow(
                f"the escrow of licence {lid} ({format_money(license_.escrow)}) does not cover this use at {fee}"
                f"{waiting_part}: top up the escrow by at least {format_money(needed - license_.escrow)} to report it"
            )


__all__ = ["AcceptedUse", "ConsentSnapshot", "IntakeResult", "LicenseSnapshot", "UseIntake", "parse_report"]
