// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IERC5192} from "./interfaces/IERC5192.sol";
import {ITwinRegistry} from "./interfaces/ITwinRegistry.sol";
import {ITwinRegistryHooks} from "./interfaces/ITwinRegistryHooks.sol";
import {TwinTypes} from "./libraries/TwinTypes.sol";

/// @title Twin registry: one locked ERC-721 per digital twin, minted to the model it depicts.
/// @dev Consent cannot be sold, so twins never move (ERC-5192). The money a twin earns lives in the licence
/// contract; this contract tells it about payee and consent changes through `ITwinRegistryHooks`. Only an address
/// the guild attests as a model registers a twin; attestations are made by a guild call or an EIP-712 signature.
contract TwinRegistry is ERC721, AccessControl, EIP712, IERC5192, ITwinRegistry {
    using EnumerableSet for EnumerableSet.UintSet;

    bytes32 public constant GUILD_ROLE = keccak256("GUILD_ROLE");

    /// @dev A model, an agency and the creative crew of a shoot fit with room to spare; bounds every payee loop.
    uint256 public constant MAX_PAYEES = 8;
    uint16 public constant DEFAULT_AGENCY_CAP_BPS = 2_000; // New York Fashion Workers Act
    uint32 public constant DEFAULT_NOTICE_PERIOD = 72 hours;
    uint32 public constant MAX_NOTICE_PERIOD = 365 days;
    uint16 public constant DEFAULT_NON_MODEL_CAP_BPS = 5_000; // the model keeps at least half
    uint64 public constant DEFAULT_EXCLUSIVITY_MINIMUM = 1_000 * 10 ** 6; // 1 000 tokens of 6 decimals
    bytes32 public constant ATTESTATION_TYPEHASH =
        keccak256("Attestation(address subject,uint8 role,uint40 expiresAt,string label,uint256 nonce)");

    struct Consent {
        uint64 revocationEffectiveAt; // 0 while consent is granted
        uint32 noticePeriod; // the notice period in force when this consent was granted
        bytes32 documentHash; // hash of the signed consent document
    }

    uint256 private _twinCount;
    address private _licenseContract;
    uint16 private _agencyCap = DEFAULT_AGENCY_CAP_BPS;
    uint32 private _noticePeriod = DEFAULT_NOTICE_PERIOD;
    uint16 private _nonModelCap = DEFAULT_NON_MODEL_CAP_BPS;
    uint64 private _exclusivityMinimum = DEFAULT_EXCLUSIVITY_MINIMUM;
    uint256 private _attestationCount;

    mapping(uint256 twinId => string) private _uris;
    mapping(uint256 twinId => TwinTypes.Payee[]) private _payees;
    mapping(uint256 twinId => Consent) private _consents;
    mapping(address account => EnumerableSet.UintSet) private _twinsOfPayee;
    mapping(uint8 category => uint48) private _floors;
    mapping(uint256 twinId => uint256) private _twinAttestations;
    mapping(uint256 attestationId => TwinTypes.Attestation) private _attestations;
    mapping(address subject => uint256) private _currentAttestations;
    mapping(address subject => uint256) private _attestationNonces;
    // When the revocation of consent for one usage category of a twin takes effect: 0 while granted.
    mapping(uint256 twinId => mapping(uint8 category => uint64)) private _categoryRevocations;

    constructor(address admin, address guild) ERC721("Digital Twin", "TWIN") EIP712("TwinRegistry", "1") {
        if (admin == address(0) || guild == address(0)) revert TwinRegistryZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GUILD_ROLE, guild);
    }

    modifier onlyModel(uint256 twinId) {
        address model = _ownerOf(twinId);
        if (model == address(0)) revert TwinRegistryUnknownTwin(twinId);
        if (model != msg.sender) revert TwinRegistryNotModel(twinId, msg.sender);
        _;
    }

    // ---------------------------------------------------------------- model actions

    /// @inheritdoc ITwinRegistry
    function registerTwin(string calldata uri, bytes32 consentHash, TwinTypes.Payee[] calldata payees)
        external
        returns (uint256 twinId)
    {
        if (_licenseContract == address(0)) revert TwinRegistryLicenseContractNotSet();
        uint256 attestationId = requireAttested(msg.sender, TwinTypes.PayeeRole.Model);
        twinId = ++_twinCount;
        _uris[twinId] = uri;
        _consents[twinId] = Consent({revocationEffectiveAt: 0, noticePeriod: _noticePeriod, documentHash: consentHash});
        _twinAttestations[twinId] = attestationId;
        _mint(msg.sender, twinId);
        emit Locked(twinId);
        emit TwinRegistered(twinId, msg.sender, uri, consentHash, attestationId, _noticePeriod);
        _writePayees(twinId, msg.sender, payees);
    }

    /// @inheritdoc ITwinRegistry
    function setPayees(uint256 twinId, TwinTypes.Payee[] calldata payees) external onlyModel(twinId) {
        // Earnings so far belong to the old payees: split them before the shares change.
        ITwinRegistryHooks(_licenseContract).onPayeesChanging(twinId);
        _writePayees(twinId, msg.sender, payees);
    }

    /// @inheritdoc ITwinRegistry
    function setTwinUri(uint256 twinId, string calldata uri) external onlyModel(twinId) {
        _uris[twinId] = uri;
        emit TwinUriSet(twinId, uri);
    }

    /// @inheritdoc ITwinRegistry
    function revokeConsent(uint256 twinId) external onlyModel(twinId) {
        Consent storage consent = _consents[twinId];
        if (consent.revocationEffectiveAt != 0) revert TwinRegistryConsentAlreadyRevoked(twinId);
        uint64 effectiveAt = uint64(block.timestamp) + consent.noticePeriod;
        consent.revocationEffectiveAt = effectiveAt;
        emit ConsentRevoked(twinId, effectiveAt);
        ITwinRegistryHooks(_licenseContract).onConsentChanged(twinId, effectiveAt);
    }

    /// @inheritdoc ITwinRegistry
    function grantConsent(uint256 twinId, bytes32 consentHash) external onlyModel(twinId) {
        _consents[twinId] = Consent({revocationEffectiveAt: 0, noticePeriod: _noticePeriod, documentHash: consentHash});
        emit ConsentGranted(twinId, consentHash, _noticePeriod);
        ITwinRegistryHooks(_licenseContract).onConsentChanged(twinId, 0);
    }

    /// @inheritdoc ITwinRegistry
    function revokeCategoryConsent(uint256 twinId, uint8 category) external onlyModel(twinId) {
        if (category >= TwinTypes.CATEGORY_COUNT) revert TwinRegistryUnknownCategory(category);
        if (_categoryRevocations[twinId][category] != 0) revert TwinRegistryCategoryConsentAlreadyRevoked(twinId, category);
        uint64 effectiveAt = uint64(block.timestamp) + _consents[twinId].noticePeriod;
        _categoryRevocations[twinId][category] = effectiveAt;
        emit CategoryConsentRevoked(twinId, category, effectiveAt);
        ITwinRegistryHooks(_licenseContract).onCategoryConsentChanged(twinId, category, effectiveAt);
    }

    /// @inheritdoc ITwinRegistry
    function grantCategoryConsent(uint256 twinId, uint8 category) external onlyModel(twinId) {
        if (category >= TwinTypes.CATEGORY_COUNT) revert TwinRegistryUnknownCategory(category);
        if (_categoryRevocations[twinId][category] == 0) revert TwinRegistryCategoryConsentNotRevoked(twinId, category);
        delete _categoryRevocations[twinId][category];
        emit CategoryConsentGranted(twinId, category);
        ITwinRegistryHooks(_licenseContract).onCategoryConsentChanged(twinId, category, 0);
    }

    // ---------------------------------------------------------------- payees

    /// @inheritdoc ITwinRegistry
    function acceptPayee(uint256 twinId) external {
        _payeeIndex(twinId, msg.sender);
        // add is false when the twin is already in the caller's set, i.e. it accepted before
        if (!_twinsOfPayee[msg.sender].add(twinId)) revert TwinRegistryPayeeAlreadyAccepted(twinId, msg.sender);
        emit PayeeAccepted(twinId, msg.sender);
    }

    /// @inheritdoc ITwinRegistry
    function leavePayee(uint256 twinId) external {
        uint256 index = _payeeIndex(twinId, msg.sender);
        // Earnings so far belong to the payees as they were, the leaver included: split them first.
        ITwinRegistryHooks(_licenseContract).onPayeesChanging(twinId);
        TwinTypes.Payee[] storage stored = _payees[twinId];
        uint16 share = stored[index].shareBps;
        stored[0].shareBps += share;
        stored[index] = stored[stored.length - 1];
        stored.pop();
        // slither-disable-next-line unused-return (false when it never accepted: nothing to remove then)
        _twinsOfPayee[msg.sender].remove(twinId);
        emit PayeeLeft(twinId, msg.sender, share);
        _emitPayees(twinId);
    }

    // ---------------------------------------------------------------- guild attestations

    /// @inheritdoc ITwinRegistry
    function attest(address subject, TwinTypes.PayeeRole role, uint40 expiresAt, string calldata label)
        external
        onlyRole(GUILD_ROLE)
        returns (uint256)
    {
        return _attest(subject, role, expiresAt, label, msg.sender);
    }

    /// @inheritdoc ITwinRegistry
    function attestWithSig(
        address subject,
        TwinTypes.PayeeRole role,
        uint40 expiresAt,
        string calldata label,
        uint256 nonce,
        bytes calldata signature
    ) external returns (uint256) {
        uint256 expected = _attestationNonces[subject];
        if (nonce != expected) revert TwinRegistryAttestationBadNonce(subject, nonce, expected);
        // ECDSA.recover refuses malleable (high-s) and malformed signatures with its own named errors.
        address signer = ECDSA.recover(attestationDigest(subject, role, expiresAt, label, nonce), signature);
        if (!hasRole(GUILD_ROLE, signer)) revert TwinRegistryAttestationSignerNotGuild(signer);
        return _attest(subject, role, expiresAt, label, signer);
    }

    /// @inheritdoc ITwinRegistry
    function revokeAttestation(uint256 attestationId) external onlyRole(GUILD_ROLE) {
        TwinTypes.Attestation storage stored = _attestations[attestationId];
        address subject = stored.subject;
        if (subject == address(0)) revert TwinRegistryUnknownAttestation(attestationId);
        if (stored.revoked) revert TwinRegistryAttestationAlreadyRevoked(attestationId);
        stored.revoked = true;
        // A signature made before the revocation must not bring the subject back.
        ++_attestationNonces[subject];
        emit AttestationRevoked(attestationId, subject, msg.sender);
    }

    // ---------------------------------------------------------------- guild and admin

    /// @inheritdoc ITwinRegistry
    function setCategoryFloor(uint8 category, uint48 minPerUseFee) external onlyRole(GUILD_ROLE) {
        if (category >= TwinTypes.CATEGORY_COUNT) revert TwinRegistryUnknownCategory(category);
        _floors[category] = minPerUseFee;
        emit CategoryFloorSet(category, minPerUseFee);
    }

    /// @inheritdoc ITwinRegistry
    /// @dev Applies to payees set from now on; twins registered before keep their agreed shares.
    function setAgencyCap(uint16 capBps) external onlyRole(GUILD_ROLE) {
        if (capBps > TwinTypes.TOTAL_SHARES_BPS) revert TwinRegistryCapAboveTotal(capBps);
        _agencyCap = capBps;
        emit AgencyCapSet(capBps);
    }

    /// @inheritdoc ITwinRegistry
    /// @dev Applies to payees set from now on, as the agency cap does.
    function setNonModelCap(uint16 capBps) external onlyRole(GUILD_ROLE) {
        if (capBps > TwinTypes.TOTAL_SHARES_BPS) revert TwinRegistryCapAboveTotal(capBps);
        _nonModelCap = capBps;
        emit NonModelCapSet(capBps);
    }

    /// @inheritdoc ITwinRegistry
    function setExclusivityMinimum(uint64 minimumUpfrontFee) external onlyRole(GUILD_ROLE) {
        _exclusivityMinimum = minimumUpfrontFee;
        emit ExclusivityMinimumSet(minimumUpfrontFee);
    }

    /// @inheritdoc ITwinRegistry
    function setNoticePeriod(uint32 noticePeriod_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (noticePeriod_ > MAX_NOTICE_PERIOD) revert TwinRegistryNoticePeriodTooLong(noticePeriod_, MAX_NOTICE_PERIOD);
        _noticePeriod = noticePeriod_;
        emit NoticePeriodSet(noticePeriod_);
    }

    /// @inheritdoc ITwinRegistry
    /// @dev Set once: the licence contract holds escrow and earnings that must never be orphaned.
    function setLicenseContract(address licenseContract_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (licenseContract_ == address(0)) revert TwinRegistryZeroAddress();
        if (_licenseContract != address(0)) revert TwinRegistryLicenseContractAlreadySet(_licenseContract);
        _licenseContract = licenseContract_;
        emit LicenseContractSet(licenseContract_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ITwinRegistry
    function modelOf(uint256 twinId) external view returns (address) {
        return _requireOwned(twinId);
    }

    /// @inheritdoc ITwinRegistry
    function payeesOf(uint256 twinId) external view returns (TwinTypes.Payee[] memory) {
        _requireOwned(twinId);
        return _payees[twinId];
    }

    /// @inheritdoc ITwinRegistry
    function twinsOfPayee(address account) external view returns (uint256[] memory) {
        return _twinsOfPayee[account].values();
    }

    /// @inheritdoc ITwinRegistry
    function isPayeeAccepted(uint256 twinId, address account) external view returns (bool) {
        return _twinsOfPayee[account].contains(twinId);
    }

    /// @inheritdoc ITwinRegistry
    function twinAttestation(uint256 twinId) external view returns (uint256) {
        _requireOwned(twinId);
        return _twinAttestations[twinId];
    }

    /// @inheritdoc ITwinRegistry
    function noticePeriodOf(uint256 twinId) external view returns (uint32) {
        _requireOwned(twinId);
        return _consents[twinId].noticePeriod;
    }

    /// @inheritdoc ITwinRegistry
    function attestation(uint256 attestationId) external view returns (TwinTypes.Attestation memory) {
        TwinTypes.Attestation memory stored = _attestations[attestationId];
        if (stored.subject == address(0)) revert TwinRegistryUnknownAttestation(attestationId);
        return stored;
    }

    /// @inheritdoc ITwinRegistry
    function attestationOf(address subject)
        external
        view
        returns (uint256 attestationId, TwinTypes.Attestation memory current)
    {
        attestationId = _currentAttestations[subject];
        current = _attestations[attestationId];
    }

    /// @inheritdoc ITwinRegistry
    function isAttested(address account, TwinTypes.PayeeRole role) public view returns (bool) {
        uint256 attestationId = _currentAttestations[account];
        if (attestationId == 0) return false;
        TwinTypes.Attestation storage stored = _attestations[attestationId];
        return stored.role == role && !stored.revoked && block.timestamp < stored.expiresAt;
    }

    /// @inheritdoc ITwinRegistry
    function requireAttested(address account, TwinTypes.PayeeRole role) public view returns (uint256 attestationId) {
        attestationId = _currentAttestations[account];
        TwinTypes.Attestation storage stored = _attestations[attestationId];
        if (attestationId == 0 || stored.role != role) revert TwinRegistryNotAttested(account, role);
        if (stored.revoked) revert TwinRegistryAttestationRevoked(attestationId);
        if (block.timestamp >= stored.expiresAt) revert TwinRegistryAttestationExpired(attestationId, stored.expiresAt);
    }

    /// @inheritdoc ITwinRegistry
    function attestationNonce(address subject) external view returns (uint256) {
        return _attestationNonces[subject];
    }

    /// @inheritdoc ITwinRegistry
    function attestationDigest(
        address subject,
        TwinTypes.PayeeRole role,
        uint40 expiresAt,
        string calldata label,
        uint256 nonce
    ) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(ATTESTATION_TYPEHASH, subject, uint8(role), expiresAt, keccak256(bytes(label)), nonce))
        );
    }

    /// @inheritdoc ITwinRegistry
    function attestationCount() external view returns (uint256) {
        return _attestationCount;
    }

    /// @inheritdoc ITwinRegistry
    function consentOf(uint256 twinId)
        external
        view
        returns (TwinTypes.ConsentState state, uint64 effectiveAt, bytes32 consentHash)
    {
        _requireOwned(twinId);
        Consent storage consent = _consents[twinId];
        effectiveAt = consent.revocationEffectiveAt;
        consentHash = consent.documentHash;
        if (effectiveAt == 0) state = TwinTypes.ConsentState.Granted;
        else if (block.timestamp < effectiveAt) state = TwinTypes.ConsentState.RevocationPending;
        else state = TwinTypes.ConsentState.Revoked;
    }

    /// @inheritdoc ITwinRegistry
    function categoryConsentOf(uint256 twinId, uint8 category)
        external
        view
        returns (TwinTypes.ConsentState state, uint64 effectiveAt)
    {
        _requireOwned(twinId);
        effectiveAt = _categoryRevocations[twinId][category];
        if (effectiveAt == 0) state = TwinTypes.ConsentState.Granted;
        else if (block.timestamp < effectiveAt) state = TwinTypes.ConsentState.RevocationPending;
        else state = TwinTypes.ConsentState.Revoked;
    }

    /// @inheritdoc ITwinRegistry
    function consentEffective(uint256 twinId) external view returns (bool) {
        _requireOwned(twinId);
        uint64 effectiveAt = _consents[twinId].revocationEffectiveAt;
        return effectiveAt == 0 || block.timestamp < effectiveAt;
    }

    /// @inheritdoc ITwinRegistry
    function categoryFloor(uint8 category) external view returns (uint48) {
        return _floors[category];
    }

    /// @inheritdoc ITwinRegistry
    function floorFor(uint8 categories) external view returns (uint48 floor) {
        for (uint8 category = 0; category < TwinTypes.CATEGORY_COUNT; ++category) {
            if (categories & (1 << category) != 0 && _floors[category] > floor) floor = _floors[category];
        }
    }

    /// @inheritdoc ITwinRegistry
    function agencyCap() external view returns (uint16) {
        return _agencyCap;
    }

    /// @inheritdoc ITwinRegistry
    function nonModelCap() external view returns (uint16) {
        return _nonModelCap;
    }

    /// @inheritdoc ITwinRegistry
    function exclusivityMinimum() external view returns (uint64) {
        return _exclusivityMinimum;
    }

    /// @inheritdoc ITwinRegistry
    function noticePeriod() external view returns (uint32) {
        return _noticePeriod;
    }

    /// @inheritdoc ITwinRegistry
    function licenseContract() external view returns (address) {
        return _licenseContract;
    }

    /// @inheritdoc ITwinRegistry
    function twinCount() external view returns (uint256) {
        return _twinCount;
    }

    /// @inheritdoc IERC5192
    function locked(uint256 twinId) external view returns (bool) {
        _requireOwned(twinId);
        return true;
    }

    function tokenURI(uint256 twinId) public view override returns (string memory) {
        _requireOwned(twinId);
        return _uris[twinId];
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return interfaceId == type(IERC5192).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @notice Refused: a twin is locked to its model, so no one may be approved to move it.
    function approve(address, uint256 twinId) public pure override {
        revert TwinRegistryTwinLocked(twinId);
    }

    /// @notice Refused: every twin is locked, so no operator may be approved for them.
    function setApprovalForAll(address operator, bool) public pure override {
        revert TwinRegistryApprovalForAllRefused(operator);
    }

    // ---------------------------------------------------------------- internals

    function _attest(address subject, TwinTypes.PayeeRole role, uint40 expiresAt, string calldata label, address guild)
        private
        returns (uint256 attestationId)
    {
        if (subject == address(0)) revert TwinRegistryZeroAddress();
        if (role == TwinTypes.PayeeRole.Crew) revert TwinRegistryAttestationRoleInvalid(role);
        if (expiresAt <= block.timestamp) revert TwinRegistryAttestationExpiryInPast(expiresAt);
        attestationId = ++_attestationCount;
        _attestations[attestationId] = TwinTypes.Attestation({
            subject: subject,
            role: role,
            issuedAt: uint40(block.timestamp),
            expiresAt: expiresAt,
            revoked: false
        });
        _currentAttestations[subject] = attestationId;
        ++_attestationNonces[subject];
        emit Attested(attestationId, subject, role, uint40(block.timestamp), expiresAt, label, guild);
    }

    /// @dev Where `account` is among the payees of `twinId`, which it must be, and not as its model.
    function _payeeIndex(uint256 twinId, address account) private view returns (uint256) {
        _requireOwned(twinId);
        TwinTypes.Payee[] storage stored = _payees[twinId];
        if (stored[0].account == account) revert TwinRegistryModelPayeeFixed(twinId);
        for (uint256 i = 1; i < stored.length; ++i) {
            if (stored[i].account == account) return i;
        }
        revert TwinRegistryNotPayee(twinId, account);
    }

    /// @dev The one place a twin can move: only minting passes, every transfer reverts.
    function _update(address to, uint256 twinId, address auth) internal override returns (address) {
        address from = _ownerOf(twinId);
        if (from != address(0)) revert TwinRegistryTwinLocked(twinId);
        return super._update(to, twinId, auth);
    }

    function _writePayees(uint256 twinId, address model, TwinTypes.Payee[] calldata payees) private {
        uint256 count = payees.length;
        if (count == 0) revert TwinRegistryNoPayees();
        if (count > MAX_PAYEES) revert TwinRegistryTooManyPayees(count, MAX_PAYEES);
        if (payees[0].account != model || payees[0].role != TwinTypes.PayeeRole.Model) {
            revert TwinRegistryFirstPayeeNotModel(payees[0].account);
        }
        uint16 cap = _agencyCap;
        uint256 total = 0;
        uint256 agencyTotal = 0; // the cap bounds what agencies take together, not each entry
        for (uint256 i = 0; i < count; ++i) {
            TwinTypes.Payee calldata payee = payees[i];
            if (payee.account == address(0)) revert TwinRegistryZeroAddress();
            if (payee.shareBps == 0) revert TwinRegistryZeroShare(payee.account);
            if (i > 0 && payee.role == TwinTypes.PayeeRole.Model) revert TwinRegistryModelRoleMisplaced(i);
            // An agency is bound by the cap whatever role it is listed under: the guild's word, not the label.
            if (
                i > 0
                    && (payee.role == TwinTypes.PayeeRole.Agency || isAttested(payee.account, TwinTypes.PayeeRole.Agency))
            ) {
                agencyTotal += payee.shareBps;
                if (agencyTotal > cap) revert TwinRegistryAgencyShareAboveCap(agencyTotal, cap);
            }
            for (uint256 j = 0; j < i; ++j) {
                if (payees[j].account == payee.account) revert TwinRegistryDuplicatePayee(payee.account);
            }
            total += payee.shareBps;
        }
        if (total != TwinTypes.TOTAL_SHARES_BPS) revert TwinRegistrySharesNotTotal(total);
        uint256 nonModel = total - payees[0].shareBps;
        if (nonModel > _nonModelCap) revert TwinRegistryNonModelShareAboveCap(nonModel, _nonModelCap);

        TwinTypes.Payee[] storage stored = _payees[twinId];
        for (uint256 i = 1; i < stored.length; ++i) {
            // A payee that stays listed keeps its acceptance; one that is dropped loses it (false if it never had it).
            address old = stored[i].account;
            if (!_listed(payees, old)) {
                // slither-disable-next-line unused-return
                _twinsOfPayee[old].remove(twinId);
            }
        }
        delete _payees[twinId];
        for (uint256 i = 0; i < count; ++i) {
            stored.push(payees[i]);
        }
        // The model counts her own twin without accepting (false when she already did: set before).
        // slither-disable-next-line unused-return
        _twinsOfPayee[model].add(twinId);
        _emitPayees(twinId);
    }

    function _listed(TwinTypes.Payee[] calldata payees, address account) private pure returns (bool) {
        for (uint256 i = 1; i < payees.length; ++i) {
            if (payees[i].account == account) return true;
        }
        return false;
    }

    /// @dev `PayeesSet` with the twin's whole list as stored, so that events alone always say who the payees are.
    function _emitPayees(uint256 twinId) private {
        TwinTypes.Payee[] storage stored = _payees[twinId];
        uint256 count = stored.length;
        address[] memory accounts = new address[](count);
        uint16[] memory shares = new uint16[](count);
        TwinTypes.PayeeRole[] memory roles = new TwinTypes.PayeeRole[](count);
        for (uint256 i = 0; i < count; ++i) {
            accounts[i] = stored[i].account;
            shares[i] = stored[i].shareBps;
            roles[i] = stored[i].role;
        }
        emit PayeesSet(twinId, accounts, shares, roles);
    }
}
