"""OpenZeppelin's standard Merkle tree over use records, the tree whose root a `UsesSettled` event carries.

Same construction as `@openzeppelin/merkle-tree`'s `StandardMerkleTree.of(values, types)` (leaves sorted by hash,
tree stored as an array, pairs hashed in sorted order), so its roots and proofs verify with that library, with
OpenZeppelin's `MerkleProof` and with `UseProofVerifier`. The leaf encoding is `IUseProofVerifier`'s:
keccak256(keccak256(abi.encode(UseRecord))), the record's members as `domain.use_record.RECORD_FIELDS` declares
them (licence id, seq, use ref, category, territory, used at).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from ..domain.use_record import RECORD_FIELDS, UseRecord, bytes32_of
from .hashing import keccak256 as keccak

# The leaf's ABI types, as `StandardMerkleTree.of(values, LEAF_TYPES)` takes them: derived from the declaration.
LEAF_TYPES = tuple(f.abi_type for f in RECORD_FIELDS)

# 0x-hex -> 32 bytes; kept under this name for the chain layer's callers.
hex_to_bytes32 = bytes32_of


def to_hex(value: bytes) -> str:
    return "0x" + value.hex()


def leaf_hash(record: UseRecord) -> bytes:
    # Double hashing keeps a 64-byte leaf preimage from ever being taken for an inner node.
    return keccak(keccak(record.encoded()))


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
