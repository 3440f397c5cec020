// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TwinTypes} from "../libraries/TwinTypes.sol";

/// @title Twin registry: one locked ERC-721 per digital twin, owned by the model it depicts.
/// @notice Holds each twin's metadata, payees and consent, and the guild's rules (per-category floors, agency cap).
interface ITwinRegistry {
    // ---------------------------------------------------------------- events

    /// @notice A model registered a twin of herself.
    event TwinRegistered(uint256 indexed twinId, address indexed model, string uri, bytes32 consentHash);

    /// @notice The payees of a twin were set (at registration or later). Earnings before were distributed first.
    event PayeesSet(uint256 indexed twinId, address[] accounts, uint16[] sharesBps, TwinTypes.PayeeRole[] roles);

    /// @notice The twin's metadata URI changed.
    event TwinUriSet(uint256 indexed twinId, string uri);

    /// @notice The model (re)granted consent, with the hash of the signed consent document.
    event ConsentGranted(uint256 indexed twinId, bytes32 consentHash);

    /// @notice The model revoked consent; settlements stop at `effectiveAt`, purchases at once.
    event ConsentRevoked(uint256 indexed twinId, uint64 effectiveAt);

    /// @notice The guild set the minimum per-use fee of a usage category.
    event CategoryFloorSet(uint8 indexed category, uint48 minPerUseFee);

    /// @notice The guild set the maximum share of an agency.
    event AgencyCapSet(uint16 capBps);

    /// @notice The admin set the notice period between a revocation and its effect.
    event NoticePeriodSet(uint32 noticePeriod);

    /// @notice The admin connected the licence contract that holds the twins' money.
    event LicenseContractSet(address licenseContract);

    // ---------------------------------------------------------------- errors

    error TwinRegistryTwinLocked(uint256 twinId);
    error TwinRegistryUnknownTwin(uint256 twinId);
    error TwinRegistryNotModel(uint256 twinId, address caller);
    error TwinRegistryZeroAddress();
    error TwinRegistryNoPayees();
    error TwinRegistryTooManyPayees(uint256 count, uint256 max);
    error TwinRegistrySharesNotTotal(uint256 total);
    error TwinRegistryZeroShare(address account);
    error TwinRegistryFirstPayeeNotModel(address account);
    error TwinRegistryModelRoleMisplaced(uint256 index);
    error TwinRegistryDuplicatePayee(address account);
    /// @notice The payees with the Agency role would together take `agencyShareBps`, above the guild's cap.
    error TwinRegistryAgencyShareAboveCap(uint256 agencyShareBps, uint16 capBps);
    error TwinRegistryCapAboveTotal(uint16 capBps);
    error TwinRegistryUnknownCategory(uint8 category);
    error TwinRegistryConsentAlreadyRevoked(uint256 twinId);
    error TwinRegistryLicenseContractAlreadySet(address licenseContract);
    error TwinRegistryLicenseContractNotSet();
    error TwinRegistryNoticePeriodTooLong(uint32 noticePeriod, uint32 max);

    // ---------------------------------------------------------------- model actions

    /// @notice Registers a twin of the caller, minted (locked) to her, with its payees.
    /// @param payees the first must be the caller with role Model; shares sum to 10 000 bps.
    function registerTwin(string calldata uri, bytes32 consentHash, TwinTypes.Payee[] calldata payees)
        external
        returns (uint256 twinId);

    /// @notice Replaces the payees of a twin. Earnings so far are distributed under the old shares first.
    function setPayees(uint256 twinId, TwinTypes.Payee[] calldata payees) external;

    /// @notice Changes the metadata URI of a twin.
    function setTwinUri(uint256 twinId, string calldata uri) external;

    /// @notice Starts the revocation of consent: purchases stop now, settlements after the notice period.
    function revokeConsent(uint256 twinId) external;

    /// @notice Grants consent again (or anew), cancelling any revocation.
    function grantConsent(uint256 twinId, bytes32 consentHash) external;

    // ---------------------------------------------------------------- guild and admin

    function setCategoryFloor(uint8 category, uint48 minPerUseFee) external;

    function setAgencyCap(uint16 capBps) external;

    function setNoticePeriod(uint32 period) external;

    function setLicenseContract(address licenseContract_) external;

    // ---------------------------------------------------------------- views

    function modelOf(uint256 twinId) external view returns (address);

    function payeesOf(uint256 twinId) external view returns (TwinTypes.Payee[] memory);

    /// @notice The twins of which `account` is a payee (the model's own included).
    function twinsOfPayee(address account) external view returns (uint256[] memory);

    function consentOf(uint256 twinId)
        external
        view
        returns (TwinTypes.ConsentState state, uint64 effectiveAt, bytes32 consentHash);

    /// @notice Whether uses of the twin may still be settled now.
    function consentEffective(uint256 twinId) external view returns (bool);

    function categoryFloor(uint8 category) external view returns (uint48);

    /// @notice The highest guild floor among the categories of `categories` (a bitmask).
    function floorFor(uint8 categories) external view returns (uint48);

    function agencyCap() external view returns (uint16);

    function noticePeriod() external view returns (uint32);

    function licenseContract() external view returns (address);

    function twinCount() external view returns (uint256);
}
