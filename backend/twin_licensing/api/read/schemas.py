"""Response models of the read API (`XPublic`; lists as `{data, count}`), and the validated types of its inputs.

Amounts are integers in the payment token's smallest unit (micro-USDC); times are unix seconds; addresses are
checksummed; bitmasks come with their bit indices and names so that a client never decodes them itself.
"""

from __future__ import annotations

import re
from typing import Annotated, Generic, Literal, TypeVar

from fastapi import Path, Query
from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, computed_field

from ...chain.hashing import checksum_address as checksummed
from ...db.uses import UsePublic, UtcDateTime
from ...domain.vocabulary import CATEGORIES, TERRITORIES

T = TypeVar("T")

# SQLite stores 64-bit signed integers: larger ids cannot exist in the index, so they are refused as input.
ID_MAX = 2**63 - 1
ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
HASH_RE = re.compile(r"^0x[0-9a-fA-F]{64}$")


def checksum_address(value: str) -> str:
    """An address as 0x + 40 hex digits; mixed case must be a valid EIP-55 checksum. Returns it checksummed."""
    if not isinstance(value, str) or not ADDRESS_RE.match(value):
        # Worded to follow the field's name in the API's sentence: "The payee's address is not an address: ...".
        raise ValueError("is not an address: enter 0x followed by 40 hexadecimal digits")
    body = value[2:]
    checksum = checksummed(bytes.fromhex(body))
    if body != body.lower() and body != body.upper() and value != checksum:
        raise ValueError("has a wrong mixed-case checksum (EIP-55): check it for a typo, or enter it in lower case")
    return checksum


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


class Overlay:
    """A database row with computed values laid over it, so that one `Model.model_validate(overlay,
    from_attributes=True)` builds a response: the row's columns and the computed values are read alike."""

    def __init__(self, row: object, **computed: object) -> None:
        self._row = row
        self.__dict__.update(computed)

    def __getattr__(self, name: str) -> object:  # only called for what `computed` does not hold
        return getattr(self._row, name)


class RowModel(BaseModel):
    """A response read from a row's attributes (`model_validate(row, from_attributes=True)`)."""

    model_config = ConfigDict(from_attributes=True)


def bits(mask: int) -> list[int]:
    return [bit for bit in range(8) if mask >> bit & 1]


def names(mask: int, table: tuple[str, ...]) -> list[str]:
    return [table[bit] if bit < len(table) else f"#{bit}" for bit in bits(mask)]


# ------------------------------------------------------------------ twins and offers


class ConsentPublic(BaseModel):
    state: Literal["granted", "revocation_pending", "revoked"]
    effective_at: int | None = Field(description="when a revocation takes (or took) effect; null while granted")
    consent_hash: str = Field(description="keccak256 of the consent document last granted")


class CategoryConsentPublic(BaseModel):
    category: int = Field(description="bit index of the usage category")
    name: str
    state: Literal["granted", "revocation_pending", "revoked"] = Field(
        description="revocation_pending: offers and purchases including it are refused, its uses still settle until "
        "effective_at; revoked: its uses are refused too"
    )
    effective_at: int | None = Field(description="when its revocation takes (or took) effect; null while granted")


class ConsentChangePublic(RowModel):
    kind: Literal["registered", "revoked", "granted"]
    consent_hash: str | None
    effective_at: int | None
    category: int | None = Field(
        default=None, description="the usage category a per-category revocation or grant concerns; null for the twin"
    )
    block_number: int
    timestamp: int = Field(validation_alias=AliasChoices("timestamp", "block_time"))
    tx_hash: str


class TermsPublic(RowModel):
    """The terms an offer sets and a licence bought under it keeps; bitmasks come with their bits and names."""

    upfront_fee: int
    per_use_fee: int
    max_uses: int = Field(description="0 = unlimited")
    categories: int = Field(description="bitmask of usage categories")
    territories: int = Field(description="bitmask of territories")
    exclusive: bool
    transferable: bool
    idle_end_after: int = Field(
        default=0,
        description="exclusive terms: seconds without a settled use after which the model may end the licence; 0 "
        "otherwise",
    )

    @computed_field
    @property
    def category_ids(self) -> list[int]:
        return bits(self.categories)

    @computed_field
    @property
    def category_names(self) -> list[str]:
        return names(self.categories, CATEGORIES)

    @computed_field
    @property
    def territory_ids(self) -> list[int]:
        return bits(self.territories)

    @computed_field
    @property
    def territory_names(self) -> list[str]:
        return names(self.territories, TERRITORIES)


class OfferPublic(TermsPublic):
    offer_id: int
    twin_id: int
    active: bool
    duration: int = Field(description="seconds from purchase to expiry")
    licenses_sold: int
    published_at: int = Field(validation_alias=AliasChoices("published_at", "published_time"))
    published_block: int
    withdrawn_block: int | None


class PayeePublic(RowModel):
    account: str
    share_bps: int
    role: str
    label: str = Field(description="who the account is, when known (development accounts of the local chain)")
    accepted: bool = Field(
        default=False,
        description="whether the twin counts in the account's withdraw() and claimable(): always for the model, for "
        "another payee once it accepted being one (until then its part is reached by withdrawFrom)",
    )


AttestationStateName = Literal["valid", "expired", "revoked"]


class AttestationPublic(RowModel):
    """The guild's attestation that an address is a model or an agency."""

    attestation_id: int
    subject: str
    subject_label: str = Field(description="who the subject is, when known (development accounts)")
    role: Literal["model", "agency"]
    label: str = Field(description="who the subject is, as the guild wrote it when attesting")
    issued_at: int
    expires_at: int
    revoked: bool
    revoked_at: int | None = Field(description="when the guild revoked it; null if it did not")
    state: AttestationStateName = Field(description="valid (unexpired, unrevoked), expired or revoked, now")
    current: bool = Field(description="whether it is the subject's latest attestation (the one the contracts check)")
    guild: str = Field(description="the guild account that attested (the caller, or the signer of attestWithSig)")
    block_number: int
    tx_hash: str


class VerificationPublic(BaseModel):
    """"Verified by the guild": the model's current attestation, and the one her twin was registered under."""

    verified: bool = Field(description="the model's current attestation is a valid model attestation")
    attestation_id: int | None = Field(description="the model's current attestation; null if the index has none")
    issued_at: int | None = Field(description="when the guild issued it: the date to show")
    expires_at: int | None
    state: AttestationStateName | None
    registered_under: int = Field(description="the attestation the twin was registered under (0 before issue 10)")


class TwinSummaryPublic(RowModel):
    twin_id: int
    name: str
    image: str | None
    agency: str | None
    model: str
    verification: VerificationPublic = Field(description="whether the guild vouches for the model, and since when")
    consent: ConsentPublic
    category_consent: list[CategoryConsentPublic] = Field(
        description="the consent of each usage category, all of them in bit order (independent of the twin's consent)"
    )
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
    registered_at: int = Field(validation_alias=AliasChoices("registered_at", "registered_time"))
    registered_block: int
    notice_period: int = Field(
        description="seconds from a revocation of consent to its effect for this twin: the registry's notice period "
        "when its consent was granted (stated by TwinRegistered or the last ConsentGranted); an admin's later change "
        "does not alter it"
    )



# ------------------------------------------------------------------ licences and their uses


class TwinRefPublic(BaseModel):
    twin_id: int
    name: str
    image: str | None


class PayeeListingPublic(BaseModel):
    """A twin that lists an account among its payees (not as its model)."""

    twin: TwinRefPublic
    model: str
    model_label: str
    share_bps: int
    role: str
    accepted: bool = Field(description="false: the twin is pending, it does not count in withdraw() or claimable()")
    since_block: int = Field(description="the block of the payee list that names the account")
    undistributed_share: int = Field(
        description="the account's part of the twin's earnings not split yet: what withdrawFrom([twin]) would add"
    )


LicenseStatus = Literal["active", "revocation_pending", "expired", "ended", "revoked", "exhausted"]


class LicensePublic(RowModel):
    license_id: int
    offer_id: int
    twin: TwinRefPublic
    buyer: str
    holder: str
    holder_label: str
    terms: TermsPublic
    started_at: int
    expiry: int
    escrow: int = Field(description="escrow left on chain (indexed)")
    escrow_deposited: int
    escrow_spent: int
    escrow_reclaimed: int
    uses_settled: int
    uses_pending: int = Field(description="uses accepted, not settled on chain yet and still payable (pending, "
                              "submitted or held; rejected ones are not counted)")
    uses_left: int | None = Field(description="uses the licence still allows, pending ones counted; null if unlimited")
    escrow_uses_left: int | None = Field(description="uses the escrow still pays for, pending ones counted")
    status: LicenseStatus = Field(description="ended: the model ended this idle exclusive licence (ended_at); "
                                  "revoked: a withdrawal of consent ended it (the twin's, even if granted again since, "
                                  "or of every category it covers)")
    consent: ConsentPublic
    reclaimable: bool = Field(description="whether the holder may take back the unspent escrow now (the grace "
                              "after the licence's end is over)")
    ends_at: int = Field(description="the licence's end: expiry, an idle end or a revocation's effective time, the "
                         "earliest")
    grace_ends_at: int = Field(description="uses signed before the end settle until then (time paused not counted)")
    refundable_escrow: RefundableEscrowPublic
    upfront: UpfrontPublic
    handover: HandoverPublic | None = Field(description="the last transfer; null if it never changed hands")
    next_seq: int = Field(description="the sequence number the holder signs on the next use report")
    last_skip: SkipPublic | None = Field(description="the last settle item of this licence the contract skipped")
    locked: bool = Field(description="ERC-5192: a non-transferable licence is locked (it can be neither moved nor "
                         "approved)")
    idle_since: int | None = Field(description="exclusive licences: the purchase or the last settled use, whichever "
                                   "is later; null for others")
    endable_at: int | None = Field(description="exclusive licences: from when the model may end it if it stays idle "
                                   "(idle_since + terms.idle_end_after); null for others")
    endable_now: bool = Field(description="whether the twin's model may end this exclusive licence now")
    ended_at: int | None = Field(description="when the model ended it for being idle (it expired then); null if not")
    can_report: bool
    report_blocked_reason: str | None
    purchased_block: int
    purchased_tx: str


class RefundableEscrowPublic(BaseModel):
    amount: int = Field(description="what reclaimEscrow would pay the holder: the licence's escrow left")
    from_: int = Field(alias="from", serialization_alias="from",
                       description="from when it may be reclaimed: the end of the grace after the licence's end")

    # "from" is a Python keyword: the field is from_, written as "from" in every answer and in the schema.
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class UpfrontPublic(BaseModel):
    """The upfront fee: it vests linearly over the term bought and stops vesting at the licence's end."""

    amount: int
    vested: int = Field(description="vested so far (frozen at the licence's end)")
    released: int = Field(description="credited to the twin's earnings already (vest / withdrawVested)")
    refundable: int = Field(description="what reclaimUnvested would pay the holder now: unvested after an early end")
    refunded: int = Field(description="paid back to the holder already")
    still_vesting: int = Field(description="neither vested nor refunded: the twin earns it as the term runs on")


class HandoverPublic(BaseModel):
    """The licence's last transfer: the escrow it held then stays the seller's, for uses the seller signed before."""

    seller: str
    seller_label: str
    at: int
    seller_escrow: int = Field(description="the seller's escrow left (zero once spent or reclaimed)")
    reclaimable_from: int = Field(description="from when the seller may reclaim it (reclaimSellerEscrow): the end of "
                                  "the grace after the handover, time paused not counted")
    inherited_uses: int = Field(description="uses the seller signed that were not settled at the handover: paid "
                                "from the seller's escrow, never from the buyer's")


class SkipPublic(BaseModel):
    reason: int = Field(description="TwinTypes.SkipReason")
    name: str
    sentence: str = Field(description="why the contract did not settle the item, in words")
    final: bool = Field(description="its uses can never be paid")
    first_seq: int
    count: int
    block_number: int


class PreviousHolderUsePublic(BaseModel):
    """A use one of the licence's former holders signed, as its holder sees it (`api.visibility.LicenceSight`): the
    number and status the licence needs; its label, use_ref (the asset's hash), image, category, territory and times
    stay its signer's."""

    previous_holder: Literal[True] = Field(default=True, description="always true: tells this shape from a use's")
    license_id: int
    seq: int
    signer: str = Field(description="the former holder who signed it (a licence's handovers are chain facts)")
    status: str = Field(description="as a use's status")
    reason: str | None
    settled_at: UtcDateTime | None
    tx_hash: str | None
    block_number: int | None


# A licence's uses have the one shape of a use (the use-record family in `db.uses`), but those of its former holders,
# which its holder sees by number and status only.
LicenseUsePublic = UsePublic | PreviousHolderUsePublic


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


class TwinVestingPublic(BaseModel):
    """A twin's upfront fees (every licence sold): they vest over each licence's term; only vested money is paid."""

    twin: TwinRefPublic
    upfront: int = Field(description="upfront fees of the twin's licences")
    vested: int = Field(description="vested so far: the twin's (credited, or to credit on the next withdraw)")
    released: int = Field(description="vested and credited to the twin's earnings already")
    vestable: int = Field(description="vested, not credited yet: the next withdraw (withdrawVested) credits it")
    still_vesting: int = Field(description="not vested yet: the twin earns it as the licences' terms run on")
    refunded: int = Field(description="the unvested rest of licences that ended early, the brands' (refunded or "
                          "refundable)")


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
    vesting: list[TwinVestingPublic] = Field(
        description="per twin that counts in her withdraw: upfront fees vested vs still vesting"
    )
    vestable_license_ids: list[int] = Field(
        description="licences whose vested upfront is not credited yet: what the withdraw button passes to "
        "withdrawVested so that it is paid with the rest"
    )


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


class TokenPublic(BaseModel):
    address: str
    symbol: str | None = Field(description="read from the token contract; null while the node cannot be read")
    decimals: int | None = Field(description="read from the token contract; null while the node cannot be read")


class AssetRulesPublic(BaseModel):
    max_bytes: int = Field(description="the largest image a use report may attach, or an image check take, in bytes")
    media_types: list[str] = Field(description="the kinds of image taken, judged by content")
    note_max: int = Field(description="the longest note of an unlicensed-use report, in characters")


class DeploymentPublic(BaseModel):
    chain_id: int
    genesis_hash: str
    block_number: int
    contracts: dict[str, str]
    roles: dict[str, str]
    test_token: bool
    local: bool = Field(description="the local development chain: dev accounts and the RPC relay are available")
    faucet: bool = Field(description="the payment token is the local test stablecoin: anyone may call its `faucet`")
    token: TokenPublic = Field(description="the payment token: amounts are integers in its smallest unit")
    categories: list[str]
    territories: list[str]
    floors: list[FloorPublic]
    agency_cap_bps: int | None = Field(description="the most all agency payees of a twin may share, basis points")
    non_model_cap_bps: int | None = Field(
        description="the most all payees but the model may share, basis points; null only while the node cannot be "
        "read and the index holds no change of it"
    )
    exclusivity_minimum: int | None = Field(
        description="the smallest upfront fee of an exclusive offer, at publication and at purchase (micro-units); "
        "null only while the node cannot be read and the index holds no change of it"
    )
    notice_period: int | None = Field(
        description="seconds from a model's revocation of consent to its effect; null only while the node cannot "
        "be read and the index holds no change of it"
    )
    use_report: UseReportSpecPublic
    assets: AssetRulesPublic = Field(description="the rules of images attached to uses and checked (issue 13)")
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
