// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {IERC5192} from "./interfaces/IERC5192.sol";
import {ITwinRegistry} from "./interfaces/ITwinRegistry.sol";
import {ITwinRegistryHooks} from "./interfaces/ITwinRegistryHooks.sol";
import {TwinTypes} from "./libraries/TwinTypes.sol";

/// @title Twin registry: one locked ERC-721 per digital twin, minted to the model it depicts.
/// @dev Consent cannot be sold, so twins never move (ERC-5192). The money a twin earns lives in the licence
/// contract; this contract tells it about payee and consent changes through `ITwinRegistryHooks`.
contract TwinRegistry is ERC721, AccessControl, IERC5192, ITwinRegistry {
    using EnumerableSet for EnumerableSet.UintSet;

    bytes32 public constant GUILD_ROLE = keccak256("GUILD_ROLE");

    /// @dev A model, an agency and the creative crew of a shoot fit with room to spare; bounds every payee loop.
    uint256 public constant MAX_PAYEES = 8;
    uint16 public constant DEFAULT_AGENCY_CAP_BPS = 2_000; // New York Fashion Workers Act
    uint32 public constant DEFAULT_NOTICE_PERIOD = 72 hours;
    uint32 public constant MAX_NOTICE_PERIOD = 365 days;

    struct Consent {
        uint64 revocationEffectiveAt; // 0 while consent is granted
        bytes32 documentHash; // hash of the signed consent document
    }

    uint256 private _twinCount;
    address private _licenseContract;
    uint16 private _agencyCap = DEFAULT_AGENCY_CAP_BPS;
    uint32 private _noticePeriod = DEFAULT_NOTICE_PERIOD;

    mapping(uint256 twinId => string) private _uris;
    mapping(uint256 twinId => TwinTypes.Payee[]) private _payees;
    mapping(uint256 twinId => Consent) private _consents;
    mapping(address account => EnumerableSet.UintSet) private _twinsOfPayee;
    mapping(uint8 category => uint48) private _floors;

    constructor(address admin, address guild) ERC721("Digital Twin", "TWIN") {
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
        twinId = ++_twinCount;
        _uris[twinId] = uri;
        _consents[twinId].documentHash = consentHash;
        _mint(msg.sender, twinId);
        emit Locked(twinId);
        emit TwinRegistered(twinId, msg.sender, uri, consentHash);
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
        uint64 effectiveAt = uint64(block.timestamp) + _noticePeriod;
        consent.revocationEffectiveAt = effectiveAt;
        emit ConsentRevoked(twinId, effectiveAt);
        ITwinRegistryHooks(_licenseContract).onConsentChanged(twinId, effectiveAt);
    }

    /// @inheritdoc ITwinRegistry
    function grantConsent(uint256 twinId, bytes32 consentHash) external onlyModel(twinId) {
        _consents[twinId] = Consent({revocationEffectiveAt: 0, documentHash: consentHash});
        emit ConsentGranted(twinId, consentHash);
        ITwinRegistryHooks(_licenseContract).onConsentChanged(twinId, 0);
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

    // ---------------------------------------------------------------- internals

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
            if (payee.role == TwinTypes.PayeeRole.Agency) {
                agencyTotal += payee.shareBps;
                if (agencyTotal > cap) revert TwinRegistryAgencyShareAboveCap(agencyTotal, cap);
            }
            for (uint256 j = 0; j < i; ++j) {
                if (payees[j].account == payee.account) revert TwinRegistryDuplicatePayee(payee.account);
            }
            total += payee.shareBps;
        }
        if (total != TwinTypes.TOTAL_SHARES_BPS) revert TwinRegistrySharesNotTotal(total);

        TwinTypes.Payee[] storage stored = _payees[twinId];
        for (uint256 i = 0; i < stored.length; ++i) {
            // A payee listed once per twin (duplicates are refused), so the twin is always in its set.
            // slither-disable-next-line unused-return
            _twinsOfPayee[stored[i].account].remove(twinId);
        }
        delete _payees[twinId];

        address[] memory accounts = new address[](count);
        uint16[] memory shares = new uint16[](count);
        TwinTypes.PayeeRole[] memory roles = new TwinTypes.PayeeRole[](count);
        for (uint256 i = 0; i < count; ++i) {
            stored.push(payees[i]);
            // slither-disable-next-line unused-return (false only if already present, which duplicates rule out)
            _twinsOfPayee[payees[i].account].add(twinId);
            accounts[i] = payees[i].account;
            shares[i] = payees[i].shareBps;
            roles[i] = payees[i].role;
        }
        emit PayeesSet(twinId, accounts, shares, roles);
    }
}
