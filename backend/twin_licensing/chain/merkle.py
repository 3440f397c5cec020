"""OpenZeppelin's standard Merkle tree over use records, the tree whose root a `UsesSettled` event carries.

Same construction as `@openzeppelin/merkle-tree`'s `StandardMerkleTree.of(values, types)` (leaves sorted by hash,
tree stored as an array, pairs hashed in sorted order), so its roots and proofs verify with that library, with
OpenZeppelin's `MerkleProof` and with `UseProofVerifier`. The leaf encoding is `IUseProofVerifier`'s:
keccak256(keccak256(abi.encode(uint256 licenseId, uint32 seq, bytes32 useRef, uint8 category, uint8 territory,
uint64 usedAt))).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from eth_abi import encode as abi_encode

from .hashing import keccak256 as keccak

LEAF_TYPES = ("uint256", "uint32", "bytes32", "uint8", "uint8", "uint64")


@dataclass(frozen=True)
class UseRecord:
    """One use as committed to on chain (`IUseProofVerifier.UseRecord`). `use_ref` is 0x-hex of 32 bytes."""

    license_id: int
    seq: int
    use_ref: str
    category: int
    territory: int
    used_at: int

    def values(self) -> tuple[int, int, bytes, int, int, int]:
        return (self.license_id, self.seq, hex_to_bytes32(self.use_ref), self.category, self.territory, self.used_at)


def hex_to_bytes32(value: str | bytes) -> bytes:
    raw = bytes(value) if isinstance(value, (bytes, bytearray)) else bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}")
    return raw


def to_hex(value: bytes) -> str:
    return "0x" + value.hex()


def leaf_hash(record: UseRecord) -> bytes:
    # Double hashing keeps a 64-byte leaf preimage from ever being taken for an inner node.
    return keccak(keccak(abi_encode(LEAF_TYPES, record.values())))


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b if a < b else b + a)


@dataclass(frozen=True)
class MerkleProof:
    leaf: str
    proof: tuple[str, ...]
    root: str


class UseTree:
    """The tree of one settlement item. Build it from the item's records in any order: the root is the same."""

    def __init__(self, records: Iterable[UseRecord]) -> None:
        self.records: tuple[UseRecord, ...] = tuple(records)
        if not self.records:
            raise ValueError("a Merkle tree needs at least one use record")
        hashed = sorted((leaf_hash(r), i) for i, r in enumerate(self.records))
        n = len(hashed)
        tree: list[bytes] = [b""] * (2 * n - 1)
        # Leaves fill the end of the array in reverse, inner nodes are built from the back: OZ's layout.
        self._position: dict[int, int] = {}
        for k, (digest, record_index) in enumerate(hashed):
            position = len(tree) - 1 - k
            tree[position] = digest
            self._position[record_index] = position
        for i in range(len(tree) - 1 - n, -1, -1):
            tree[i] = hash_pair(tree[2 * i + 1], tree[2 * i + 2])
        self._tree = tree

    @property
    def root(self) -> str:
        return to_hex(self._tree[0])

    def proof_at(self, record_index: int) -> MerkleProof:
        """The proof of `self.records[record_index]`."""
        i = self._position[record_index]
        leaf = self._tree[i]
        path: list[str] = []
        while i > 0:
            sibling = i + 1 if i % 2 == 1 else i - 1
            path.append(to_hex(self._tree[sibling]))
            i = (i - 1) // 2
        return MerkleProof(leaf=to_hex(leaf), proof=tuple(path), root=self.root)

    def proof(self, record: UseRecord) -> MerkleProof:
        return self.proof_at(self.records.index(record))


def root_of(records: Sequence[UseRecord]) -> str:
    return UseTree(records).root


def verify(root: str, proof: Sequence[str], record: UseRecord) -> bool:
    """What `MerkleProof.verify(proof, root, leaf)` answers on chain."""
    node = leaf_hash(record)
    for sibling in proof:
        node = hash_pair(node, hex_to_bytes32(sibling))
    return node == hex_to_bytes32(root)
