"""keccak256 for the hot paths (use intake, Merkle trees): the C `sha3` module when installed, ~10x faster per call
than eth-hash's default pycryptodome backend, whose per-call set-up dominates for short inputs."""

from __future__ import annotations

try:  # safe-pysha3
    from sha3 import keccak_256 as _keccak_256

    def keccak256(data: bytes) -> bytes:
        return _keccak_256(data).digest()

except ImportError:  # pragma: no cover - same result, slower
    from eth_utils import keccak as _eth_keccak

    def keccak256(data: bytes) -> bytes:
        return _eth_keccak(data)


def checksum_address(raw: bytes) -> str:
    """EIP-55 checksummed form of a 20-byte address."""
    hex_address = raw.hex()
    digest = keccak256(hex_address.encode()).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(hex_address))
