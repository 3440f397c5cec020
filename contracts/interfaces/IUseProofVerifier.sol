// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Proves that one use of a twin was settled, from the `usesRoot` of its `UsesSettled` event.
/// @notice Leaves use OpenZeppelin's standard encoding, so the same proofs verify with the `@openzeppelin/merkle-tree`
/// JavaScript library: leaf = keccak256(bytes.concat(keccak256(abi.encode(licenseId, seq, useRef, category,
/// territory, usedAt)))), pairs hashed in sorted order.
interface IUseProofVerifier {
    /// @notice One reported use of a licence: the record the backend commits to in a settlement's Merkle root.
    struct UseRecord {
        uint256 licenseId;
        uint32 seq; // the use's sequence number within its licence, from 0
        bytes32 useRef; // hash of the asset or campaign item the twin was used in
        uint8 category; // usage category index (bit number in the offer's bitmask)
        uint8 territory; // territory index (bit number in the offer's bitmask)
        uint64 usedAt; // unix seconds, as reported and signed by the licence holder
    }

    /// @notice The Merkle leaf of a use record.
    function leafOf(UseRecord calldata use) external pure returns (bytes32);

    /// @notice Whether `use` is in the tree of `usesRoot` by `proof`.
    function verify(bytes32 usesRoot, bytes32[] calldata proof, UseRecord calldata use) external pure returns (bool);
}
