// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {IUseProofVerifier} from "./interfaces/IUseProofVerifier.sol";

/// @title Stateless verifier of settled uses. Anyone can call it with a root read from a `UsesSettled` event.
contract UseProofVerifier is IUseProofVerifier {
    /// @inheritdoc IUseProofVerifier
    function leafOf(UseRecord calldata use) public pure returns (bytes32) {
        // Double hashing keeps a leaf from ever equalling an inner node (second preimage resistance).
        return keccak256(
            bytes.concat(
                keccak256(abi.encode(use.licenseId, use.seq, use.useRef, use.category, use.territory, use.usedAt))
            )
        );
    }

    /// @inheritdoc IUseProofVerifier
    function verify(bytes32 usesRoot, bytes32[] calldata proof, UseRecord calldata use) external pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, usesRoot, leafOf(use));
    }
}
