"""Response models of the read API (`XPublic`; lists as `{data, count}`), and the validated types of its inputs.

Amounts are integers in the payment token's smallest unit (micro-USDC); times are unix seconds; addresses are
checksummed; bitmasks come with their bit indices and names so that a client never decodes them itself.
"""

from __future__ import annotations

import re
from typing import Annotated, Generic, Literal, TypeVar

from eth_utils import is_checksum_address, to_checksum_address
from fastapi import Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, Field

T = TypeVar("T")

# SQLite stores 64-bit signed integers: larger ids cannot exist in the index, so they are refused as input.
ID_MAX = 2**63 - 1
ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
HASH_RE = re.compile(r"^0x[0-9a-fA-F]{64}$")


def checksum_address(value: str) -> str:
    """An address as 0x + 40 hex digits; mixed case must be a valid EIP-55 checksum. Returns it checksummed."""
    if not isinstance(value, str) or not ADDRESS_RE.match(value):
        raise ValueError("not an address: expected 0x followed by 40 hexadecimal digits")
    body = value[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(value):
        raise ValueError("the address's mixed-case checksum (EIP-55) is wrong: check it for a typo")
    return to_checksum_address(value)


def request_error(location: tuple[str, ...], message: str, value: object = None) -> RequestValidationError:
    """A 422 in FastAPI's own shape, for checks made inside a route."""
    return RequestValidationError([{"type": "value_error", "loc": location, "msg": message, "input": value}])


Address = Annotated[str, AfterValidator(checksum_address)]
AddressPath = Annotated[
    str,
    Path(description="an account address, 0x + 40 hex digits (EIP-55 checksum if mixed case)", min_length=42, max_length=42),
    AfterValidator(checksum_address),
]
TwinIdPath = Annotated[int, Path(ge=1, le=ID_MAX, description="the twin's token id")]
LicenseIdPath = Annotated[int, Path(ge=1, le=ID_MAX, description="the licence's token id")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="rows to skip")]
Limit = Annotated[int, Query(ge=1, le=100, description="rows to return, at most 100")]
Amount = Annotated[int, Query(ge=0, le=2**64 - 1, description="micro-units of the payment token")]
BitIndex = Annotated[int, Query(ge=0, le=7, description="bit index 0..7")]


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int = Field(description="rows matching, over all pages")


# ------------------------------------------------------------------ twins and offers


class ConsentPublic(BaseModel):
    state: Literal["granted", "revocation_pending", "revoked"]
    effective_at: int | None = Field(description="when a revocation takes (or took) effect; null while granted")
    consent_hash: str = Field(description="keccak256 of the consent document last granted")


class ConsentChangePublic(BaseModel):
    kind: Literal["registered", "revoked", "granted"]
    consent_hash: str | None
    effective_at: int | None
    block_number: int
    timestamp: int
    tx_hash: str


class OfferPublic(BaseModel):
    offer_id: int
    twin_id: int
    active: bool
    upfront_fee: int
    per_use_fee: int
    duration: int = Field(description="seconds from purchase to expiry")
    max_uses: int = Field(description="0 = unlimited")
    categories: int = Field(description="bitmask of usage categories")
    category_ids: list[int]
    category_names: list[str]
    territories: int = Field(description="bitmask of territories")
    territory_ids: list[int]
    territory_names: list[str]
    exclusive: bool
    transferable: bool
    licenses_sold: int
    published_at: int
    published_block: int
    withdrawn_block: int | None


class PayeePublic(BaseModel):
    account: str
    share_bps: int
    role: str
    label: str = Field(description="who the account is, when known (development accounts of the local chain)")


class TwinSummaryPublic(BaseModel):
    twin_id: int
    name: str
    image: str | None
    agency: str | None
    model: str
    consent: ConsentPublic
    offers: list[OfferPublic] = Field(description="the twin's active offers")
    licenses_sold: int
    uses_settled: int


class TwinPublic(TwinSummaryPublic):
    uri: str
    description: str | None
    consent_document: str | None
    model_label: str
    payees: list[PayeePublic]
    consent_history: list[ConsentChangePublic]
    all_offers: list[OfferPublic] = Field(description="every offer, withdrawn ones included")
    earned: int = Field(description="all the twin earned: upfront fees and settled uses")
    registered_at: int
    registered_block: int


# ------------------------------------------------------------------ licences and their uses


class LicenseTermsPublic(BaseModel):
    upfront_fee: int
    per_use_fee: int
    max_uses: int
    categories: int
    category_ids: list[int]
    category_names: list[str]
    territories: int
    territory_ids: list[int]
    territory_names: list[str]
    exclusive: bool
    transferable: bool


class TwinRefPublic(BaseModel):
    twin_id: int
    name: str
    image: str | None


LicenseStatus = Literal["active", "revocation_pending", "expired", "revoked", "exhausted"]


class LicensePublic(BaseModel):
    license_id: int
    offer_id: int
    twin: TwinRefPublic
    buyer: str
    holder: str
    holder_label: str
    terms: LicenseTermsPublic
    started_at: int
    expiry: int
    escrow: int = Field(description="escrow left on chain (indexed)")
    escrow_deposited: int
    escrow_spent: int
    escrow_reclaimed: int
    uses_settled: int
    uses_pending: int = Field(description="uses accepted but not yet settled on chain")
    uses_left: int | None = Field(description="uses the licence still allows, pending ones counted; null if unlimited")
    escrow_uses_left: int | None = Field(description="uses the escrow still pays for, pending ones counted")
    status: LicenseStatus
    consent: ConsentPublic
    reclaimable: bool = Field(description="whether the holder may take back the unspent escrow now")
    can_report: bool
    report_blocked_reason: str | None
    purchased_block: int
    purchased_tx: str


class LicenseUsePublic(BaseModel):
    use_id: int
    seq: int
    use_ref: str
    category: int
    category_name: str
    territory: int
    territory_name: str
    used_at: int
    accepted_at: int
    status: Literal["pending", "submitted", "settled", "rejected"]
    fee: int
    tx_hash: str | None
    block_number: int | None
    reason: str | None


# ------------------------------------------------------------------ earnings


class ChainEarningsPublic(BaseModel):
    available: bool = Field(description="false when the node could not be read; the values are then null")
    block_number: int | None = Field(description="the block the values were read at: the index's block")
    claimable: int | None
    total_earned: int | None
    withdrawn: int | None


class IndexEarningsPublic(BaseModel):
    block_number: int | None
    claimable: int
    total_earned: int
    withdrawn: int
    distributed: int = Field(description="earnings already split to the payee's own balance")
    undistributed_share: int = Field(description="her share of her twins' earnings not split yet")


class EarningsGroupPublic(BaseModel):
    key: str
    label: str
    amount: int
    uses: int
    licenses: int


class EarningsPointPublic(BaseModel):
    timestamp: int
    amount: int
    uses: int
    cumulative: int


class EarningsPublic(BaseModel):
    payee: str
    label: str
    chain: ChainEarningsPublic
    index: IndexEarningsPublic
    agree: bool | None = Field(description="index and chain give the same claimable and total; null if unknown")
    by_brand: list[EarningsGroupPublic]
    by_twin: list[EarningsGroupPublic]
    series: list[EarningsPointPublic] = Field(description="earnings over time, at most 200 points, for a chart")
    twins: list[TwinRefPublic]


class EarningItemPublic(BaseModel):
    kind: Literal["upfront", "uses", "withdrawal"]
    timestamp: int
    block_number: int
    tx_hash: str
    twin_id: int | None
    twin_name: str | None
    license_id: int | None
    brand: str | None
    brand_label: str | None
    uses: int
    amount: int = Field(description="the payee's part, as the contract splits it (a withdrawal: what she took)")
    share_bps: int | None


# ------------------------------------------------------------------ deployment, accounts, health


class AccountPublic(BaseModel):
    address: str
    role: str
    name: str
    label: str = Field(description='what a person reads: "Model: Ava Lindqvist"')
    index: int | None
    extra: dict


class FloorPublic(BaseModel):
    category: int
    name: str
    min_per_use_fee: int


class UseReportSpecPublic(BaseModel):
    domain: dict
    types: dict
    primary_type: str


class IndexStatePublic(BaseModel):
    block_number: int | None
    events: int | None
    ready: bool


class DeploymentPublic(BaseModel):
    chain_id: int
    genesis_hash: str
    block_number: int
    contracts: dict[str, str]
    roles: dict[str, str]
    test_token: bool
    local: bool = Field(description="the local development chain: dev accounts and the RPC relay are available")
    token: dict
    categories: list[str]
    territories: list[str]
    floors: list[FloorPublic]
    agency_cap_bps: int | None
    notice_period: int | None
    use_report: UseReportSpecPublic
    index: IndexStatePublic


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded", "down"]
    version: str
    chain_id: int
    database: bool
    chain: bool
    chain_head: int | None
    index_block: int | None
    index_lag_blocks: int | None


def _optional_address(value: str | None) -> str | None:
    return None if value is None else checksum_address(value)


OptionalAddress = Annotated[str | None, AfterValidator(_optional_address)]
