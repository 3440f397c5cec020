"""Signed text messages (EIP-191 `personal_sign`), as a wallet signs a Sign-In with Ethereum message: the digest,
recovering the signer (the API's sign-in), and signing like a wallet does (tests, scripts)."""

from __future__ import annotations

from eth_account import Account

from .hashing import keccak256
from .use_reports import InvalidSignatureError, recover_digest_signer

__all__ = ["InvalidSignatureError", "message_digest", "recover_message_signer", "sign_message"]


def message_digest(text: str) -> bytes:
    """keccak256("\\x19Ethereum Signed Message:\\n" + byte length + the UTF-8 bytes): what `personal_sign` signs."""
    data = text.encode("utf-8")
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)


def recover_message_signer(text: str, signature: str) -> str:
    """The checksummed address whose `personal_sign` of `text` is `signature`; InvalidSignatureError if none."""
    return recover_digest_signer(message_digest(text), signature)


def sign_message(private_key: str | bytes, text: str) -> str:
    """`personal_sign` of `text` with `private_key`: 0x-hex of r || s || v, v in {27, 28}."""
    signed = Account.unsafe_sign_hash(message_digest(text), private_key)
    return "0x" + signed.signature.hex().removeprefix("0x")
