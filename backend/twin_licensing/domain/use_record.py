"""What a use *is*: the one declaration of its fields, from which everything else that spells them is derived.

A use has two on-chain shapes with the same members, both built from the same `UseField`s:

- the report the licence holder signs (EIP-712 `UseReport`): licence, the use's sequence number within its licence,
  use reference, category, territory, time. Signing the sequence number is what binds settlement to the holder: the
  contract checks the holder's signature over an item's last report, so it never pays more uses than she signed;
- the record a settlement commits to (`IUseProofVerifier.UseRecord`, the Merkle leaf).

From these tuples come the EIP-712 member list and type string (`chain.use_reports`), the leaf's ABI encoding
(`chain.merkle`), the database columns and API models with their ranges (`db.uses`), and the refusal sentences
for a malformed report. Change a field here and every one of them follows; the digests and leaves stay
byte-identical as long as names, types and order do (the JS library and `UseProofVerifier` check them).
"""

from __future__ import annotations

from dataclasses import dataclass, make_dataclass
from typing import Any, Iterable, Sequence

from .vocabulary import CATEGORIES, TERRITORIES

MAX_UINT64 = 2**64 - 1
# Ids and sequence numbers are stored in 64-bit signed columns (every database stores those exactly).
MAX_DB_INT = 2**63 - 1



def use_number(seq: int) -> int:
    """Which use of its licence a use is, as a person counts: from 1, while its `seq` (the API's, the chain's and
    the credential's number) counts from 0. The web client's `useLabel` counts the same."""
    return seq + 1


def use_label(seq: int) -> str:
    """A use named in a sentence: "use #N", as the licence page names it."""
    return f"use #{use_number(seq)}"


@dataclass(frozen=True)
class UseField:
    """One member of the use's structs. `low`..`high` (inclusive) is what the backend accepts, which may be
    narrower than the ABI type (a category is a uint8 but there are 8 of them); `rule` says it to a person."""

    name: str  # Python attribute, JSON key and column name
    abi_name: str  # Solidity struct member
    abi_type: str  # a static ABI type: uintN or bytes32
    low: int
    high: int
    rule: str
    description: str

    @property
    def is_bytes32(self) -> bool:
        return self.abi_type == "bytes32"

    def abi_bounds(self) -> tuple[int, int]:
        """The range the ABI type itself can encode."""
        if self.is_bytes32:
            return 0, 2**256 - 1
        return 0, 2 ** int(self.abi_type.removeprefix("uint")) - 1


LICENSE_ID = UseField(
    "license_id", "licenseId", "uint256", 1, MAX_DB_INT,
    "the licence id must be the number of one of your licences (a whole number from 1)",
    "the licence token id",
)
SEQ = UseField(
    "seq", "seq", "uint32", 0, 2**32 - 1,
    "the use's number within its licence must be a whole number from 0",
    "the use's number within its licence, from 0: its place in the settlements",
)
USE_REF = UseField(
    "use_ref", "useRef", "bytes32", 1, 2**256 - 1,
    "the use reference must be 0x followed by 64 hex digits, the hash of the asset or campaign item (not zero)",
    "32-byte hash of the asset or campaign item, 0x-hex (keccak256 of the label when a label is given)",
)
CATEGORY = UseField(
    "category", "category", "uint8", 0, len(CATEGORIES) - 1,
    f"the usage category must be a number from 0 to {len(CATEGORIES) - 1}",
    "usage category: bit index in the licence's categories",
)
TERRITORY = UseField(
    "territory", "territory", "uint8", 0, len(TERRITORIES) - 1,
    f"the territory must be a number from 0 to {len(TERRITORIES) - 1}",
    "territory: bit index in the licence's territories",
)
USED_AT = UseField(
    "used_at", "usedAt", "uint64", 1, MAX_UINT64,
    "the use time must be a positive number of unix seconds",
    "when the twin was used, unix seconds (as signed)",
)

# What a settlement commits to (`IUseProofVerifier.UseRecord`, the Merkle leaf), in the struct's member order.
RECORD_FIELDS: tuple[UseField, ...] = (LICENSE_ID, SEQ, USE_REF, CATEGORY, TERRITORY, USED_AT)
# What the licence holder signs (EIP-712 `UseReport`, checked by `LicenseToken.settle`): the same members.
REPORT_FIELDS: tuple[UseField, ...] = RECORD_FIELDS
FIELDS_BY_NAME = {f.name: f for f in RECORD_FIELDS}

REPORT_TYPE_NAME = "UseReport"

# A use's status, derived from the settler's and the indexer's tables (the rule: `usage.status`). Held: waiting for
# a cause to go away (escrow short, a bad item on file); rejected: it can never be paid (final).
PENDING, SUBMITTED, SETTLED, HELD, REJECTED = "pending", "submitted", "settled", "held", "rejected"
STATUSES = (PENDING, SUBMITTED, SETTLED, HELD, REJECTED)

LABEL_MAX = 200  # characters of a use's label, after trimming


def eip712_members(fields: Sequence[UseField]) -> list[dict[str, str]]:
    """The struct's members as EIP-712 `types` lists them: [{"name": ..., "type": ...}, ...]."""
    return [{"name": f.abi_name, "type": f.abi_type} for f in fields]


def eip712_type(name: str, fields: Sequence[UseField]) -> str:
    """EIP-712 `encodeType`: "UseReport(uint256 licenseId,bytes32 useRef,...)"."""
    return f"{name}({','.join(f'{f.abi_type} {f.abi_name}' for f in fields)})"


def bytes32_of(value: str | bytes) -> bytes:
    """The 32 bytes of a 0x-hex string (or of bytes); ValueError for anything else."""
    raw = bytes(value) if isinstance(value, (bytes, bytearray)) else bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}")
    return raw


def abi_words(fields: Sequence[UseField], values: Iterable[Any]) -> bytes:
    """`abi.encode` of the values of these (all static) fields: one 32-byte word each.

    Built directly, ~50x cheaper than a generic ABI encoder (the intake encodes one report per request). A value
    outside its ABI type is refused, never wrapped.
    """
    out = bytearray()
    for f, value in zip(fields, values, strict=True):
        if f.is_bytes32:
            out += bytes32_of(value)
            continue
        low, high = f.abi_bounds()
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(f"{f.name} = {value!r} is out of the range of {f.abi_type}")
        out += value.to_bytes(32, "big")
    return bytes(out)


def out_of_range(f: UseField, value: Any) -> bool:
    """Whether `value` breaks the field's rule (wrong type, malformed hex, or outside low..high)."""
    if f.is_bytes32:
        if not isinstance(value, str) or len(value) != 66 or not value.startswith("0x"):
            return True
        try:
            number = int(value[2:], 16)
        except ValueError:
            return True
        return not f.low <= number <= f.high
    return not isinstance(value, int) or isinstance(value, bool) or not f.low <= value <= f.high


def _values(self) -> tuple:
    return tuple(getattr(self, name) for name in self.__dataclass_fields__)


def _message(self) -> dict[str, Any]:
    """The EIP-712 `message`."""
    return {f.abi_name: getattr(self, f.name) for f in REPORT_FIELDS}


def _contract_values(self) -> tuple:
    """The struct's values in member order, `use_ref` as bytes (what a contract call takes)."""
    return tuple(bytes32_of(v) if f.is_bytes32 else v for f, v in zip(RECORD_FIELDS, _values(self)))


def _encoded(self) -> bytes:
    """`abi.encode(record)`: the leaf's preimage before hashing."""
    return abi_words(RECORD_FIELDS, _values(self))


def _dataclass(name: str, fields: Sequence[UseField], doc: str, **methods: Any) -> type:
    # Generated from the declaration, so the struct's members are written once.
    return make_dataclass(
        name,
        [(f.name, str if f.is_bytes32 else int) for f in fields],
        frozen=True,
        namespace={"__doc__": doc, "__module__": __name__, **methods},
    )


UseReport = _dataclass(
    "UseReport", REPORT_FIELDS,
    "What the licence holder signs: `UseReport(license_id, seq, use_ref, category, territory, used_at)`; `use_ref` "
    "is 0x-hex of 32 bytes, `used_at` unix seconds.",
    values=_values, as_message=_message,
)
UseRecord = _dataclass(
    "UseRecord", RECORD_FIELDS,
    "One use as committed to on chain (`IUseProofVerifier.UseRecord`): `UseRecord(license_id, seq, use_ref, "
    "category, territory, used_at)`.",
    values=_contract_values, encoded=_encoded,
)


def record_of(use: Any) -> "UseRecord":
    """The on-chain record of anything that has the record's fields as attributes (a `uses` row, a view)."""
    return UseRecord(*(getattr(use, f.name) for f in RECORD_FIELDS))

