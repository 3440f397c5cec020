// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ERC-5192: Minimal Soulbound NFTs
/// @notice A token that reports itself `locked` cannot be transferred.
interface IERC5192 {
    /// @notice Emitted when the locking status of a token is set to locked.
    event Locked(uint256 tokenId);

    /// @notice Emitted when the locking status of a token is set to unlocked.
    event Unlocked(uint256 tokenId);

    /// @notice Whether `tokenId` is locked (non-transferable).
    function locked(uint256 tokenId) external view returns (bool);
}
