// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

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

    /// @notice Twins never change hands: a transfer of `twinId` was attempted.
    error TwinRegistryTwinLocked(uint256 twinId);

    /// @notice No twin has the id `twinId`.
    error TwinRegistryUnknownTwin(uint256 twinId);

    /// @notice `caller` acted on `twinId` but is not its model.
    error TwinRegistryNotModel(uint256 twinId, address caller);

    /// @notice The zero address was given as admin, guild, licence contract or payee account.
    error TwinRegistryZeroAddress();

    /// @notice A twin must have at least one payee: its model.
    error TwinRegistryNoPayees();

    /// @notice `count` payees were given, more than the `max` a twin may have.
    error TwinRegistryTooManyPayees(uint256 count, uint256 max);

    /// @notice The payees' shares add up to `total` basis points instead of 10 000.
    error TwinRegistrySharesNotTotal(uint256 total);

    /// @notice The payee `account` was given a share of zero.
    error TwinRegistryZeroShare(address account);

    /// @notice The first payee, `account`, is not the twin's model with the role Model.
    error TwinRegistryFirstPayeeNotModel(address account);

    /// @notice The payee at `index` (not the first) has the role Model; a twin has one model, listed first.
    error TwinRegistryModelRoleMisplaced(uint256 index);

    /// @notice The payee `account` is listed more than once.
    error TwinRegistryDuplicatePayee(address account);

    /// @notice The payees with the Agency role would together take `agencyShareBps`, above the guild's cap.
    error TwinRegistryAgencyShareAboveCap(uint256 agencyShareBps, uint16 capBps);

    /// @notice The guild tried to set an agency cap of `capBps`, above 10 000 basis points.
    error TwinRegistryCapAboveTotal(uint16 capBps);

    /// @notice `category` is not a usage category index (0 to 7).
    error TwinRegistryUnknownCategory(uint8 category);

    /// @notice Consent for `twinId` is already revoked (pending or in effect); grant it again first.
    error TwinRegistryConsentAlreadyRevoked(uint256 twinId);

    /// @notice The licence contract is already set, to `licenseContract`, and never changes.
    error TwinRegistryLicenseContractAlreadySet(address licenseContract);

    /// @notice No twin can be registered before the admin sets the licence contract that holds its earnings.
    error TwinRegistryLicenseContractNotSet();

    /// @notice The admin tried to set a notice period of `noticePeriod` seconds, longer than `max`.
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

    /// @notice Sets the minimum per-use fee of offers in usage category `category` (guild only). Offers already
    /// published keep their fee.
    function setCategoryFloor(uint8 category, uint48 minPerUseFee) external;

    /// @notice Sets the most, in basis points, that the Agency payees of a twin may take together (guild only).
    function setAgencyCap(uint16 capBps) external;

    /// @notice Sets the seconds between a revocation of consent and its effect on settlement (admin only). Applies
    /// to revocations from now on.
    function setNoticePeriod(uint32 period) external;

    /// @notice Connects the licence contract, once (admin only).
    function setLicenseContract(address licenseContract_) external;

    // ---------------------------------------------------------------- views

    /// @notice The model `twinId` depicts, who owns it and alone acts on it.
    /// @dev Reverts with OpenZeppelin's `ERC721NonexistentToken` when there is no such twin.
    function modelOf(uint256 twinId) external view returns (address);

    /// @notice The payees of `twinId`, the model first, with their shares in basis points and their roles.
    /// @dev Reverts with `ERC721NonexistentToken` when there is no such twin.
    function payeesOf(uint256 twinId) external view returns (TwinTypes.Payee[] memory);

    /// @notice The twins of which `account` is a payee (the model's own included).
    function twinsOfPayee(address account) external view returns (uint256[] memory);

    /// @notice The consent of `twinId`: its state now, when a revocation takes effect (0 while granted), and the
    /// hash of the signed consent document.
    /// @dev Reverts with `ERC721NonexistentToken` when there is no such twin.
    function consentOf(uint256 twinId)
        external
        view
        returns (TwinTypes.ConsentState state, uint64 effectiveAt, bytes32 consentHash);

    /// @notice Whether uses of the twin may still be settled now.
    /// @dev Reverts with `ERC721NonexistentToken` when there is no such twin.
    function consentEffective(uint256 twinId) external view returns (bool);

    /// @notice The guild's minimum per-use fee of usage category `category` (0 when none was set).
    function categoryFloor(uint8 category) external view returns (uint48);

    /// @notice The highest guild floor among the categories of `categories` (a bitmask).
    function floorFor(uint8 categories) external view returns (uint48);

    /// @notice The most, in basis points, that the Agency payees of a twin may take together.
    function agencyCap() external view returns (uint16);

    /// @notice Seconds between a revocation of consent and its effect on settlement.
    function noticePeriod() external view returns (uint32);

    /// @notice The licence contract that holds the twins' money (the zero address until the admin sets it).
    function licenseContract() external view returns (address);

    /// @notice How many twins were ever registered; twin ids run from 1 to this.
    function twinCount() external view returns (uint256);
}
