"""Accepted use reports, and the one family of models every layer uses for a use. One writer of the table: the
API's use intake (`twin_licensing.usage`).

A row is a use the licence holder signed and the backend accepted and numbered; it is never updated or deleted.
Its status (pending, submitted, settled, rejected) is derived from the settler's and the indexer's tables.

The family (SQLModel's pattern):

- `UseBase`: the fields the holder signs, generated from `domain.use_record.REPORT_FIELDS` with their ranges, so
  that the columns, the request schema and the validation come from the one declaration;
- `UseUnsigned` (what the typed-data endpoint takes) and `UseCreate` (+ signature, optional label: what
  `POST /uses` takes), both refusing unknown fields;
- `Use`: the table;
- `UsePublic`: the one shape every API answer about a use has (`POST /uses`, `GET /uses/{id}`, a licence's uses).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Optional

from pydantic import AfterValidator, ConfigDict, PlainSerializer, field_validator
from sqlalchemy import BigInteger, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..domain.times import aware, iso_utc
from ..domain.use_record import (
    LABEL_MAX,
    MAX_DB_INT,
    REPORT_FIELDS,
    SEQ,
    STATUSES,
    USE_REF,
    UseField,
)

HEX32_PATTERN = r"^0x[0-9a-fA-F]{64}$"
SIGNATURE_PATTERN = r"^0x[0-9a-fA-F]{130}$"

# Every time a use shows is ISO 8601 UTC ending in "Z" (SQLite hands datetimes back naive: they are UTC).
UtcDateTime = Annotated[datetime, AfterValidator(aware), PlainSerializer(iso_utc, return_type=str)]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _column(f: UseField) -> Any:
    """The model field of a declared use field: its range (the API schema and validation) and its column type."""
    if f.is_bytes32:
        return Field(max_length=66, description=f.description, schema_extra={"pattern": HEX32_PATTERN})
    wide = {"sa_type": BigInteger} if f.high > 2**31 - 1 else {}
    return Field(ge=f.low, le=f.high, description=f.description, **wide)


def _nonzero_ref(cls, value: str) -> str:
    # The pattern admits 0x00..00, which names no asset: the declaration's range starts at 1.
    if int(value, 16) < USE_REF.low:
        raise ValueError(USE_REF.rule)
    return value.lower()


# Generated, not written out: the signed fields are declared once, in `domain.use_record`.
UseBase = type(
    "UseBase",
    (SQLModel,),
    {
        "__module__": __name__,
        "__doc__": "The fields of a use report the licence holder signs, as `REPORT_FIELDS` declares them.",
        "__annotations__": {f.name: str if f.is_bytes32 else int for f in REPORT_FIELDS},
        **{f.name: _column(f) for f in REPORT_FIELDS},
        "_nonzero_ref": field_validator(USE_REF.name)(classmethod(_nonzero_ref)),
    },
)


class UseUnsigned(UseBase):
    """A use report before it is signed: what `POST /uses/typed-data` turns into the typed data a wallet signs."""

    model_config = ConfigDict(extra="forbid", strict=True)  # strict: `true` or "5" is not a number here


class UseCreate(UseUnsigned):
    """A use report and the licence holder's EIP-712 signature of it (`eth_signTypedData_v4`)."""

    signature: str = Field(description="65-byte signature r || s || v, 0x-hex", schema_extra={"pattern": SIGNATURE_PATTERN})
    label: Optional[str] = Field(
        default=None,
        description=f"what the use is, 1-{LABEL_MAX} characters; when given, use_ref must be keccak256 of its "
        "UTF-8 bytes (trimmed). Stored with the use, not signed.",
    )

    @field_validator("label")
    @classmethod
    def _trimmed_label(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        try:
            value.encode("utf-8")  # its hash is the use reference's; stored as text
        except UnicodeEncodeError:
            raise ValueError(
                "the label contains a broken character (an unpaired UTF-16 surrogate): retype the label"
            ) from None
        if not 1 <= len(value) <= LABEL_MAX:
            raise ValueError(f"the label must be 1 to {LABEL_MAX} characters long (spaces around it do not count)")
        return value

    @field_validator("signature")
    @classmethod
    def _lower_signature(cls, value: str) -> str:
        return value.lower()


class Use(UseBase, table=True):
    __tablename__ = "uses"
    __table_args__ = (
        # Gapless numbering per licence is enforced by the intake's lock; this makes a slip impossible to store.
        UniqueConstraint("chain_id", "genesis_hash", "license_id", "seq", name="uq_uses_license_seq"),
        UniqueConstraint("genesis_hash", "digest", name="uq_uses_digest"),
        Index("ix_uses_accepted", "chain_id", "genesis_hash", "accepted_at"),
        # A twin's usage log, newest first (`usage.log`).
        Index("ix_uses_twin_log", "chain_id", "genesis_hash", "twin_id", "accepted_at", "use_id"),
        Index("ix_uses_twin_category", "chain_id", "genesis_hash", "twin_id", "category", "accepted_at", "use_id"),
    )

    use_id: int | None = Field(default=None, primary_key=True)
    chain_id: int = Field(sa_type=BigInteger)
    # A restarted local node is a new chain with the same id (and the same contract addresses): the genesis hash
    # keeps its uses apart from the old chain's, which must never be settled on the new one.
    genesis_hash: str = Field(max_length=66)
    seq: int = Field(sa_type=BigInteger)  # from 0 within the licence: the on-chain sequence number
    # The licence's twin, copied by the intake (a licence never changes twin): a twin's log is one index range.
    twin_id: int = Field(sa_type=BigInteger)
    signer: str = Field(max_length=42)
    signature: str = Field(max_length=132)
    # The EIP-712 digest identifies the report: the same report sent again finds this row.
    digest: str = Field(max_length=66)
    label: str | None = Field(default=None, max_length=LABEL_MAX)
    accepted_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class PayeeSharePublic(SQLModel):
    account: str
    role: str
    share_bps: int
    amount: int = Field(description="this payee's part of the use's fee, split as the contract splits it")


class UsePublic(UseBase):
    """A use as every API answer shows it."""

    id: int = Field(ge=1, le=MAX_DB_INT, description="the use id")
    seq: int = Field(ge=SEQ.low, description=SEQ.description)
    label: str | None = Field(description="what the use is, as the brand named it; null when none was given")
    category_name: str
    territory_name: str
    fee: int | None = Field(
        description="the per-use fee, micro-units of the payment token (null while the licence is not indexed)"
    )
    status: str = Field(description=" | ".join(STATUSES), schema_extra={"enum": list(STATUSES)})
    reason: str | None = Field(description="why a rejected use cannot be settled now; null otherwise")
    accepted_at: UtcDateTime = Field(description="when the backend accepted the report, ISO 8601 UTC")
    settled_at: UtcDateTime | None = Field(description="the settling block's time, ISO 8601 UTC; null until settled")
    tx_hash: str | None = Field(description="the settle transaction (submitted or settled uses)")
    block_number: int | None = Field(description="its block, once mined")
    signer: str
    digest: str = Field(description="EIP-712 digest of the report: its identity")
    payees: list[PayeeSharePublic] = Field(
        default_factory=list, description="who got what of the fee (settled uses): remainder to the model"
    )
    asset: bool = Field(
        default=False, description="an image is attached: GET /uses/{id}/asset/thumbnail (its holder and its twin's "
        "model, payees and guild)"
    )


class UseRecordPublic(UseBase):
    """The use record a settlement's Merkle leaf encodes (`IUseProofVerifier.UseRecord`)."""

    seq: int = Field(ge=SEQ.low, le=SEQ.high, description=SEQ.description)


@dataclass(frozen=True)
class ChainScope:
    """Which chain rows belong to: its id and its genesis block (a restarted local node keeps the id only)."""

    chain_id: int
    genesis_hash: str

    def uses(self) -> tuple:
        """WHERE conditions selecting this chain's uses."""
        return (Use.chain_id == self.chain_id, Use.genesis_hash == self.genesis_hash)
