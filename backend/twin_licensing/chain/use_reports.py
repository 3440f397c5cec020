"""A brand's use report as EIP-712 typed data: the domain, the digest that identifies a report, signing and
recovering its signer.

Domain: name "Twin Licence", version "1", the chain id and the LicenseToken address, so a report signed for one
deployment is worthless on any other. The digest is computed here with eth_abi (it is the same bytes that
`eth_signTypedData_v4` signs; tests check it against eth_account's own encoder) because the API computes one per
request and eth_account's generic encoder is several times slower.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_keys import keys as eth_keys
from eth_keys.exceptions import BadSignature
from eth_utils import is_address, keccak, to_checksum_address

try:
    import coincurve as _coincurve
except ImportError:  # pragma: no cover
    _coincurve = None

from ..domain.use_record import REPORT_FIELDS, REPORT_TYPE_NAME, UseReport, abi_words, eip712_members, eip712_type
from ..errors import TwinLicensingError
from .hashing import checksum_address, keccak256

DOMAIN_NAME = "Twin Licence"
DOMAIN_VERSION = "1"
DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
# The report's members, type string and type hash: derived from the one declaration of a use's fields.
USE_REPORT_FIELDS = eip712_members(REPORT_FIELDS)
_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
USE_REPORT_TYPE = eip712_type(REPORT_TYPE_NAME, REPORT_FIELDS)
_USE_REPORT_TYPEHASH = keccak(text=USE_REPORT_TYPE)
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class InvalidSignatureError(TwinLicensingError, ValueError):
    """The signature is malformed or recovers no signer."""


@dataclass(frozen=True)
class UseReportDomain:
    chain_id: int
    verifying_contract: str  # the LicenseToken address

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


@lru_cache(maxsize=16)
def domain_separator(domain: UseReportDomain) -> bytes:
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                _DOMAIN_TYPEHASH,
                keccak(text=DOMAIN_NAME),
                keccak(text=DOMAIN_VERSION),
                domain.chain_id,
                to_checksum_address(domain.verifying_contract),
            ],
        )
    )


def struct_hash(report: UseReport) -> bytes:
    # Every member is a static type, so encodeData is the type hash and one 32-byte word per member. A value out of
    # its type's range is refused (ValueError), never wrapped.
    return keccak256(_USE_REPORT_TYPEHASH + abi_words(REPORT_FIELDS, report.values()))


def report_digest(domain: UseReportDomain, report: UseReport) -> str:
    """The EIP-712 digest: what the wallet signs, and the report's identity (the same report has the same digest)."""
    return "0x" + keccak256(b"\x19\x01" + domain_separator(domain) + struct_hash(report)).hex()


def typed_data(domain: UseReportDomain, report: UseReport) -> dict[str, Any]:
    """The JSON a wallet's `eth_signTypedData_v4` takes."""
    return {
        "types": {"EIP712Domain": DOMAIN_FIELDS, REPORT_TYPE_NAME: USE_REPORT_FIELDS},
        "primaryType": REPORT_TYPE_NAME,
        "domain": domain.as_dict(),
        "message": report.as_message(),
    }


def recover_signer(domain: UseReportDomain, report: UseReport, signature: str) -> str:
    """The checksummed address that signed the report; InvalidSignatureError if the signature is unusable."""
    digest = bytes.fromhex(report_digest(domain, report)[2:])
    return recover_digest_signer(digest, signature)


def recover_digest_signer(digest: bytes, signature: str) -> str:
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        raise InvalidSignatureError("the signature is not hex") from None
    if len(raw) != 65:
        raise InvalidSignatureError(f"the signature must be 65 bytes (r, s, v), got {len(raw)}")
    r, s, v = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
    if v in (27, 28):
        v -= 27
    if v not in (0, 1) or not 0 < r < _SECP256K1_N or not 0 < s < _SECP256K1_N:
        raise InvalidSignatureError("the signature's r, s or v is out of range")
    # High-s signatures are the malleable twins of low-s ones; wallets never produce them (EIP-2).
    if s > _SECP256K1_N // 2:
        raise InvalidSignatureError("the signature has a high s value (not canonical, EIP-2)")
    try:
        if _coincurve is not None:
            point = _coincurve.PublicKey.from_signature_and_message(raw[:64] + bytes([v]), digest, hasher=None)
            public = point.format(compressed=False)[1:]
        else:  # pragma: no cover - pure-Python fallback, ~30x slower
            public = eth_keys.Signature(vrs=(v, r, s)).recover_public_key_from_msg_hash(digest).to_bytes()
    except (BadSignature, ValueError, TypeError, Exception):  # coincurve raises a bare Exception on failure
        raise InvalidSignatureError("the signature recovers no public key") from None
    return checksum_address(keccak256(public)[-20:])


def sign_report(private_key: str | bytes, domain: UseReportDomain, report: UseReport) -> str:
    """Signs like a wallet does (tests, benchmark, scripts); 0x-hex of r || s || v with v in {27, 28}."""
    digest = bytes.fromhex(report_digest(domain, report)[2:])
    signed = Account.unsafe_sign_hash(digest, private_key)
    return "0x" + signed.signature.hex().removeprefix("0x")


def checksum(address: str) -> str:
    if not is_address(address):
        raise ValueError(f"not an address: {address!r}")
    return to_checksum_address(address)
