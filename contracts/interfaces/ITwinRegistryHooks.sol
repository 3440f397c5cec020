// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title What the twin registry tells the licence contract, which holds the twins' money.
interface ITwinRegistryHooks {
    /// @notice Called before the payees of `twinId` change, so that earnings so far are split under the old shares.
    function onPayeesChanging(uint256 twinId) external;

    /// @notice Called when consent changes. `revocationEffectiveAt` is 0 when consent is granted.
    function onConsentChanged(uint256 twinId, uint64 revocationEffectiveAt) external;

    /// @notice Called when consent for one usage category changes. `revocationEffectiveAt` is 0 when it is granted.
    function onCategoryConsentChanged(uint256 twinId, uint8 category, uint64 revocationEffectiveAt) external;
}
