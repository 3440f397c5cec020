// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TwinTypes} from "../libraries/TwinTypes.sol";

/// @title Twin registry: one locked ERC-721 per digital twin, owned by the model it depicts.
/// @notice Holds each twin's metadata, payees and consent, the guild's attestations of models and agencies, and the
/// guild's rules (per-category floors, agency cap, non-model cap, exclusivity minimum).
interface ITwinRegistry {
    // ---------------------------------------------------------------- events

    /// @notice A model registered a twin of herself, under the guild's attestation `attestationId` that she is a
    /// model; her consent keeps `noticePeriod`, the notice period in force now.
    event TwinRegistered(
        uint256 indexed twinId,
        address indexed model,
        string uri,
        bytes32 consentHash,
        uint256 attestationId,
        uint32 noticePeriod
    );

    /// @notice The payees of a twin were set (at registration, by the model, or when a payee left: then the model's
    /// share took the leaver's). Earnings before were distributed first. The whole list, the model first.
    event PayeesSet(uint256 indexed twinId, address[] accounts, uint16[] sharesBps, TwinTypes.PayeeRole[] roles);

    /// @notice `account`, a payee of `twinId` other than its model, accepted being one: from now on the twin counts in
    /// its `withdraw()` and `claimable()` (and `twinsOfPayee`).
    event PayeeAccepted(uint256 indexed twinId, address indexed account);

    /// @notice `account` removed itself from the payees of `twinId`; its `shareBps` went to the model. A `PayeesSet`
    /// with the new list follows. Earnings credited to it before stay its own.
    event PayeeLeft(uint256 indexed twinId, address indexed account, uint16 shareBps);

    /// @notice The guild (`guild`, the caller or the signer of an EIP-712 attestation) attested that `subject` is a
    /// model or an agency (`role`), valid until `expiresAt` unless revoked. It replaces any earlier attestation of
    /// `subject`. `label` (who it is, for people) is not stored.
    event Attested(
        uint256 indexed attestationId,
        address indexed subject,
        TwinTypes.PayeeRole role,
        uint40 issuedAt,
        uint40 expiresAt,
        string label,
        address indexed guild
    );

    /// @notice The guild (`guild`) revoked attestation `attestationId` of `subject`.
    event AttestationRevoked(uint256 indexed attestationId, address indexed subject, address indexed guild);

    /// @notice The twin's metadata URI changed.
    event TwinUriSet(uint256 indexed twinId, string uri);

    /// @notice The model (re)granted consent, with the hash of the signed consent document; this consent keeps
    /// `noticePeriod`, the notice period in force now.
    event ConsentGranted(uint256 indexed twinId, bytes32 consentHash, uint32 noticePeriod);

    /// @notice The model revoked consent; settlements stop at `effectiveAt`, purchases at once.
    event ConsentRevoked(uint256 indexed twinId, uint64 effectiveAt);

    /// @notice The model revoked consent for usage category `category` of her twin: that category's uses stop
    /// settling at `effectiveAt` (now + the twin's notice period), offers and purchases including it stop at once.
    event CategoryConsentRevoked(uint256 indexed twinId, uint8 indexed category, uint64 effectiveAt);

    /// @notice The model granted consent for usage category `category` again, cancelling its revocation (pending or
    /// in effect).
    event CategoryConsentGranted(uint256 indexed twinId, uint8 indexed category);

    /// @notice The guild set the minimum per-use fee of a usage category.
    event CategoryFloorSet(uint8 indexed category, uint48 minPerUseFee);

    /// @notice The guild set the maximum share of an agency.
    event AgencyCapSet(uint16 capBps);

    /// @notice The guild set the most that all the payees other than the model may take together.
    event NonModelCapSet(uint16 capBps);

    /// @notice The guild set the smallest upfront fee an exclusive offer may have (checked at publication and
    /// purchase).
    event ExclusivityMinimumSet(uint64 minimumUpfrontFee);

    /// @notice The admin set the notice period between a revocation and its effect.
    event NoticePeriodSet(uint32 noticePeriod);

    /// @notice The admin connected the licence contract that holds the twins' money.
    event LicenseContractSet(address licenseContract);

    // ---------------------------------------------------------------- errors

    /// @notice Twins never change hands: a transfer of `twinId`, or an `approve` of it, was attempted.
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

    /// @notice The agency payees would together take `agencyShareBps`, above the guild's cap. Agency payees are those
    /// listed with the role Agency and every address the guild attests as an agency, whatever role it is listed under.
    error TwinRegistryAgencyShareAboveCap(uint256 agencyShareBps, uint16 capBps);

    /// @notice The payees other than the model would together take `nonModelShareBps`, above the guild's cap.
    error TwinRegistryNonModelShareAboveCap(uint256 nonModelShareBps, uint16 capBps);

    /// @notice The guild tried to set an agency cap of `capBps`, above 10 000 basis points.
    error TwinRegistryCapAboveTotal(uint16 capBps);

    /// @notice `category` is not a usage category index (0 to 7).
    error TwinRegistryUnknownCategory(uint8 category);

    /// @notice Consent for `twinId` is already revoked (pending or in effect); grant it again first.
    error TwinRegistryConsentAlreadyRevoked(uint256 twinId);

    /// @notice Consent for usage category `category` of `twinId` is already revoked (pending or in effect).
    error TwinRegistryCategoryConsentAlreadyRevoked(uint256 twinId, uint8 category);

    /// @notice Consent for usage category `category` of `twinId` is not revoked: there is nothing to grant again.
    error TwinRegistryCategoryConsentNotRevoked(uint256 twinId, uint8 category);

    /// @notice The licence contract is already set, to `licenseContract`, and never changes.
    error TwinRegistryLicenseContractAlreadySet(address licenseContract);

    /// @notice No twin can be registered before the admin sets the licence contract that holds its earnings.
    error TwinRegistryLicenseContractNotSet();

    /// @notice The admin tried to set a notice period of `noticePeriod` seconds, longer than `max`.
    error TwinRegistryNoticePeriodTooLong(uint32 noticePeriod, uint32 max);

    /// @notice `setApprovalForAll` was called: twins are all locked, so no operator may be approved for them.
    error TwinRegistryApprovalForAllRefused(address operator);

    /// @notice `account` holds no attestation of the guild as `role` (none at all, or one for the other role).
    error TwinRegistryNotAttested(address account, TwinTypes.PayeeRole role);

    /// @notice The current attestation of the account, `attestationId`, expired at `expiresAt`.
    error TwinRegistryAttestationExpired(uint256 attestationId, uint40 expiresAt);

    /// @notice The current attestation of the account, `attestationId`, was revoked by the guild.
    error TwinRegistryAttestationRevoked(uint256 attestationId);

    /// @notice No attestation has the id `attestationId`.
    error TwinRegistryUnknownAttestation(uint256 attestationId);

    /// @notice Attestation `attestationId` is already revoked.
    error TwinRegistryAttestationAlreadyRevoked(uint256 attestationId);

    /// @notice The guild attests models and agencies only; `role` (Crew) was given.
    error TwinRegistryAttestationRoleInvalid(TwinTypes.PayeeRole role);

    /// @notice An attestation must expire in the future; `expiresAt` is not after now.
    error TwinRegistryAttestationExpiryInPast(uint40 expiresAt);

    /// @notice A signed attestation of `subject` carries `nonce`, but the subject's next nonce is `expected`: it was
    /// used already, or another attestation or a revocation of the subject came after it was signed.
    error TwinRegistryAttestationBadNonce(address subject, uint256 nonce, uint256 expected);

    /// @notice A signed attestation was signed by `signer`, who does not hold the guild role.
    error TwinRegistryAttestationSignerNotGuild(address signer);

    /// @notice `account` is not a payee of `twinId` other than its model, so it cannot accept or leave.
    error TwinRegistryNotPayee(uint256 twinId, address account);

    /// @notice The model is always her twin's first payee: she neither accepts nor leaves (`twinId`).
    error TwinRegistryModelPayeeFixed(uint256 twinId);

    /// @notice `account` already accepted being a payee of `twinId`.
    error TwinRegistryPayeeAlreadyAccepted(uint256 twinId, address account);

    // ---------------------------------------------------------------- model actions

    /// @notice Registers a twin of the caller, minted (locked) to her, with its payees. The caller must hold a valid
    /// (unexpired, unrevoked) guild attestation as a model; the twin records its id (`twinAttestation`). The twin
    /// keeps the notice period in force now for this consent (`noticePeriodOf`).
    /// @param payees the first must be the caller with role Model; shares sum to 10 000 bps; the agency payees within
    /// `agencyCap`, all but the model within `nonModelCap`.
    function registerTwin(string calldata uri, bytes32 consentHash, TwinTypes.Payee[] calldata payees)
        external
        returns (uint256 twinId);

    /// @notice Replaces the payees of a twin. Earnings so far are distributed under the old shares first.
    function setPayees(uint256 twinId, TwinTypes.Payee[] calldata payees) external;

    /// @notice Changes the metadata URI of a twin.
    function setTwinUri(uint256 twinId, string calldata uri) external;

    /// @notice Starts the revocation of consent: purchases stop now, settlements after the notice period.
    function revokeConsent(uint256 twinId) external;

    /// @notice Grants consent again (or anew), cancelling any revocation. The notice period in force now becomes the
    /// one of this consent.
    function grantConsent(uint256 twinId, bytes32 consentHash) external;

    /// @notice Starts the revocation of consent for one usage category (0 to 7) of the twin: offers and purchases
    /// including it stop now; its uses stop settling after the twin's notice period (`noticePeriodOf`). Other
    /// categories, and the whole-twin consent, are unaffected.
    function revokeCategoryConsent(uint256 twinId, uint8 category) external;

    /// @notice Grants consent for one usage category again, cancelling its revocation, pending or in effect.
    function grantCategoryConsent(uint256 twinId, uint8 category) external;

    // ---------------------------------------------------------------- payees

    /// @notice The caller, a payee of `twinId` other than its model, accepts being one: the twin then counts in its
    /// `withdraw()` / `claimable()`. Until then its share is credited to it all the same, reachable by
    /// `withdrawFrom([twinId])` on the licence contract.
    function acceptPayee(uint256 twinId) external;

    /// @notice The caller, a payee of `twinId` other than its model (accepted or not), leaves: earnings so far are
    /// split first (its part stays its own), then its share goes to the model.
    function leavePayee(uint256 twinId) external;

    // ---------------------------------------------------------------- guild attestations

    /// @notice Attests that `subject` is a model or an agency (`role`: Model or Agency) until `expiresAt` (guild
    /// only). Replaces the subject's current attestation and bumps its nonce. `label` goes to the event only.
    function attest(address subject, TwinTypes.PayeeRole role, uint40 expiresAt, string calldata label)
        external
        returns (uint256 attestationId);

    /// @notice The same as `attest`, submitted by anyone with the EIP-712 signature of a guild-role holder over
    /// `Attestation(address subject,uint8 role,uint40 expiresAt,string label,uint256 nonce)` in the domain
    /// {name: "TwinRegistry", version: "1", chainId, verifyingContract: this registry}. `nonce` must be the subject's
    /// `attestationNonce`: a signature is good once, and not after another attestation or a revocation of the subject.
    function attestWithSig(
        address subject,
        TwinTypes.PayeeRole role,
        uint40 expiresAt,
        string calldata label,
        uint256 nonce,
        bytes calldata signature
    ) external returns (uint256 attestationId);

    /// @notice Revokes attestation `attestationId` (guild only) and bumps its subject's nonce. Twins registered
    /// under it and licences already bought stay as they are; no new twin or offer is accepted under it.
    function revokeAttestation(uint256 attestationId) external;

    // ---------------------------------------------------------------- guild and admin

    /// @notice Sets the minimum per-use fee of offers in usage category `category` (guild only). Offers already
    /// published keep their fee.
    function setCategoryFloor(uint8 category, uint48 minPerUseFee) external;

    /// @notice Sets the most, in basis points, that the agency payees of a twin may take together (guild only).
    function setAgencyCap(uint16 capBps) external;

    /// @notice Sets the most, in basis points, that the payees other than the model may take together (guild only).
    /// Applies to payees set from now on.
    function setNonModelCap(uint16 capBps) external;

    /// @notice Sets the smallest upfront fee of an exclusive offer, checked when one is published and when one is
    /// bought (guild only).
    function setExclusivityMinimum(uint64 minimumUpfrontFee) external;

    /// @notice Sets the seconds between a revocation of consent and its effect on settlement (admin only). Applies
    /// to consent granted from now on (twins registered, or consent granted again); each twin keeps the period of
    /// its consent (`noticePeriodOf`).
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

    /// @notice The twins that count for `account`'s `withdraw()` and `claimable()`: those it is the model of, and
    /// those it is a payee of and accepted. Twins that list it without its acceptance are not here.
    function twinsOfPayee(address account) external view returns (uint256[] memory);

    /// @notice Whether `account` counts `twinId` among its twins: it is the twin's model, or a payee that accepted.
    function isPayeeAccepted(uint256 twinId, address account) external view returns (bool);

    /// @notice The attestation `twinId` was registered under.
    /// @dev Reverts with `ERC721NonexistentToken` when there is no such twin.
    function twinAttestation(uint256 twinId) external view returns (uint256 attestationId);

    /// @notice The notice period of the consent `twinId` has now: the one in force when it was granted.
    /// @dev Reverts with `ERC721NonexistentToken` when there is no such twin.
    function noticePeriodOf(uint256 twinId) external view returns (uint32);

    /// @notice Attestation `attestationId`.
    /// @dev Reverts with `TwinRegistryUnknownAttestation` when there is none.
    function attestation(uint256 attestationId) external view returns (TwinTypes.Attestation memory);

    /// @notice The current (latest) attestation of `subject`, valid or not; id 0 and an empty struct when none.
    function attestationOf(address subject)
        external
        view
        returns (uint256 attestationId, TwinTypes.Attestation memory current);

    /// @notice Whether `account`'s current attestation is for `role`, unexpired and unrevoked.
    function isAttested(address account, TwinTypes.PayeeRole role) external view returns (bool);

    /// @notice The id of `account`'s current attestation if it is for `role`, unexpired and unrevoked; otherwise
    /// reverts with `TwinRegistryNotAttested`, `TwinRegistryAttestationExpired` or `TwinRegistryAttestationRevoked`.
    function requireAttested(address account, TwinTypes.PayeeRole role) external view returns (uint256 attestationId);

    /// @notice The nonce the next signed attestation of `subject` must carry.
    function attestationNonce(address subject) external view returns (uint256);

    /// @notice The EIP-712 digest a guild key signs for `attestWithSig`.
    function attestationDigest(
        address subject,
        TwinTypes.PayeeRole role,
        uint40 expiresAt,
        string calldata label,
        uint256 nonce
    ) external view returns (bytes32);

    /// @notice How many attestations were ever made; ids run from 1 to this.
    function attestationCount() external view returns (uint256);

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

    /// @notice The most, in basis points, that the agency payees of a twin may take together.
    function agencyCap() external view returns (uint16);

    /// @notice The most, in basis points, that the payees other than the model may take together.
    function nonModelCap() external view returns (uint16);

    /// @notice The smallest upfront fee of an exclusive offer.
    function exclusivityMinimum() external view returns (uint64);

    /// @notice Seconds between a revocation of consent and its effect on settlement, for consent granted from now on.
    function noticePeriod() external view returns (uint32);

    /// @notice The consent of usage category `category` of `twinId`: Granted, RevocationPending or Revoked (in effect),
    /// with when its revocation takes or took effect (0 while granted). Independent of the whole-twin `consentOf`.
    /// @dev Reverts with `ERC721NonexistentToken` when there is no such twin.
    function categoryConsentOf(uint256 twinId, uint8 category)
        external
        view
        returns (TwinTypes.ConsentState state, uint64 effectiveAt);

    /// @notice The licence contract that holds the twins' money (the zero address until the admin sets it).
    function licenseContract() external view returns (address);

    /// @notice How many twins were ever registered; twin ids run from 1 to this.
    function twinCount() external view returns (uint256);
}
