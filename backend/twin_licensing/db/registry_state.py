"""Twins, their payees and consent, the guild's attestations and rules, as the indexer derives them from the events.

One writer: the indexer. Read by the use intake (consent) and the API (catalogue, consent history, payees).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Text
from sqlmodel import Field, SQLModel

from .types import Amount


class Twin(SQLModel, table=True):
    __tablename__ = "twins"
    __table_args__ = (Index("ix_twins_model", "chain_id", "model"),)

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    twin_id: int = Field(primary_key=True, sa_type=BigInteger)
    model: str = Field(default="", max_length=42)
    uri: str = Field(default="", sa_type=Text)
    consent_hash: str = Field(default="", max_length=66)  # of the consent document last granted
    # 0 while consent is granted; else when the revocation takes effect (settlements stop, purchases stopped).
    revocation_effective_at: int = Field(default=0, sa_type=BigInteger)
    # Whole-twin revocations that took effect before consent was granted again: their effective times, ascending,
    # comma-separated ('' if none). Such a revocation ended for good every licence alive then, i.e. a licence's
    # revocation end is the first of these (or `revocation_effective_at`) after its `started_at`. A revocation
    # withdrawn by a grant before its effective time ended nothing and is not listed.
    consent_ends: str = Field(default="", sa_type=Text)
    # Money the twin earned (settled uses + upfront fees as they vest), how much of it was split among the payees,
    # and the rest. An upfront fee counts as earned only once UpfrontVested moved it to the twin.
    earned: int = Field(default=0, sa_type=Amount)
    distributed: int = Field(default=0, sa_type=Amount)
    undistributed: int = Field(default=0, sa_type=Amount)
    # Upfront fees of the licences sold (held unvested by the contract at purchase) and the part vested to the twin
    # (also in `earned`); the licences' `upfront_refunded` went back to holders, the rest is still vesting.
    upfront_sold: int = Field(default=0, sa_type=Amount)
    upfront_released: int = Field(default=0, sa_type=Amount)
    uses_settled: int = Field(default=0, sa_type=BigInteger)
    licenses_sold: int = Field(default=0, sa_type=BigInteger)
    registered_block: int = Field(default=0, sa_type=BigInteger)
    registered_time: int = Field(default=0, sa_type=BigInteger)
    registered_tx: str = Field(default="", max_length=66)
    # The guild attestation (that the model is a model) the twin was registered under.
    attestation_id: int = Field(default=0, sa_type=BigInteger)
    # Seconds from a revocation to its effect: the registry's notice period when this consent was granted, as
    # TwinRegistered or the last ConsentGranted state it (the default included; later admin changes leave it).
    notice_period: int = Field(default=0, sa_type=BigInteger)
    # The usage categories whose consent the model revoked (pending or in effect) and when each takes effect, in the
    # form of domain/category_consent.py (`parse`, `dump`); '' while every category is granted.
    category_revocations: str = Field(default="", sa_type=Text)
    updated_block: int = Field(default=0, sa_type=BigInteger)


class TwinPayee(SQLModel, table=True):
    """The current payees of a twin, in contract order: position 0 is the model, who takes rounding remainders."""

    __tablename__ = "twin_payees"
    __table_args__ = (Index("ix_twin_payees_account", "chain_id", "account"),)

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    twin_id: int = Field(primary_key=True, sa_type=BigInteger)
    position: int = Field(primary_key=True)
    account: str = Field(max_length=42)
    share_bps: int
    role: str = Field(max_length=8)  # model | agency | crew
    since_block: int = Field(sa_type=BigInteger)
    # Whether the twin counts in the account's withdraw() and claimable(): always for the model; for another payee
    # once it accepted the listing (kept while it stays listed, lost when the model drops it).
    accepted: bool = False


class ConsentChange(SQLModel, table=True):
    """Consent history of a twin: registered (with its document), revoked (effective later), granted again."""

    __tablename__ = "consent_changes"
    __table_args__ = (
        Index("ix_consent_changes_twin", "chain_id", "twin_id"),
        Index("ix_consent_changes_block", "chain_id", "block_number"),
    )

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    tx_hash: str = Field(primary_key=True, max_length=66)
    log_index: int = Field(primary_key=True)
    twin_id: int = Field(sa_type=BigInteger)
    kind: str = Field(max_length=12)  # registered | revoked | granted
    consent_hash: str | None = Field(default=None, max_length=66)
    effective_at: int | None = Field(default=None, sa_type=BigInteger)  # revocations: when settlements stop
    # The usage category of a per-category change (kind revoked / granted of that category only); None for the twin.
    category: int | None = None
    block_number: int = Field(sa_type=BigInteger)
    block_time: int = Field(sa_type=BigInteger)


class GuildFloor(SQLModel, table=True):
    """The guild's minimum per-use fee of a usage category (bit index 0..7)."""

    __tablename__ = "guild_floors"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    category: int = Field(primary_key=True)
    min_per_use_fee: int = Field(default=0, sa_type=Amount)
    block_number: int = Field(default=0, sa_type=BigInteger)


class ProtocolParam(SQLModel, table=True):
    """Contract-wide settings: agency_cap_bps, non_model_cap_bps, exclusivity_minimum, notice_period,
    license_contract, paused ('true' / 'false'), grace_period (seconds, the licence contract's GracePeriodSet; no
    row: the contract's default, domain.grace.DEFAULT_GRACE_PERIOD)."""

    __tablename__ = "protocol_params"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    name: str = Field(primary_key=True, max_length=32)
    value: str = Field(default="", max_length=80)
    block_number: int = Field(default=0, sa_type=BigInteger)


class PausePeriod(SQLModel, table=True):
    """A time the licence contract was paused (OpenZeppelin Paused / Unpaused): grace after a licence's end does not
    count it. Keyed by the Paused log; `unpaused_at` None while still paused. Block times, unix seconds."""

    __tablename__ = "pause_periods"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    paused_block: int = Field(primary_key=True, sa_type=BigInteger)
    paused_log_index: int = Field(primary_key=True)
    paused_at: int = Field(sa_type=BigInteger)
    unpaused_at: int | None = Field(default=None, sa_type=BigInteger)
    unpaused_block: int | None = Field(default=None, sa_type=BigInteger)


class RoleMember(SQLModel, table=True):
    """Current holders of the AccessControl roles (admin, guild, recorder) of each contract."""

    __tablename__ = "role_members"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    contract: str = Field(primary_key=True, max_length=32)
    role: str = Field(primary_key=True, max_length=66)  # bytes32 hex
    account: str = Field(primary_key=True, max_length=42)
    role_name: str = Field(default="", max_length=32)
    block_number: int = Field(default=0, sa_type=BigInteger)


class Attestation(SQLModel, table=True):
    """The guild's word that an address is a model or an agency, until `expires_at` unless revoked. The latest
    attestation of a subject (highest id) is its current one; earlier ones stay as history."""

    __tablename__ = "attestations"
    __table_args__ = (Index("ix_attestations_subject", "chain_id", "subject"),)

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    attestation_id: int = Field(primary_key=True, sa_type=BigInteger)
    subject: str = Field(default="", max_length=42)
    role: str = Field(default="", max_length=8)  # model | agency
    issued_at: int = Field(default=0, sa_type=BigInteger)  # unix seconds
    expires_at: int = Field(default=0, sa_type=BigInteger)
    label: str = Field(default="", sa_type=Text)  # who the subject is, as the guild wrote it (in the event only)
    guild: str = Field(default="", max_length=42)  # the guild account that attested (caller or signer)
    revoked: bool = False
    revoked_at: int | None = Field(default=None, sa_type=BigInteger)  # block time of the revocation
    block_number: int = Field(default=0, sa_type=BigInteger)
    tx_hash: str = Field(default="", max_length=66)
