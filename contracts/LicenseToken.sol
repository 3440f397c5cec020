// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ILicenseToken} from "./interfaces/ILicenseToken.sol";
import {ITwinRegistry} from "./interfaces/ITwinRegistry.sol";
import {ITwinRegistryHooks} from "./interfaces/ITwinRegistryHooks.sol";
import {TwinTypes} from "./libraries/TwinTypes.sol";

/// @title Licence tokens for digital twins: offers, escrow, per-use settlement and the payees' earnings.
/// @dev Settlement is the hot path. Per item it reads and writes one licence slot and one twin slot, whatever the
/// number of uses or payees: the twin is credited once and its payees draw their shares when they withdraw
/// (or when the shares change), so the cost of a use is a few hundred gas.
contract LicenseToken is ERC721, AccessControl, Pausable, ILicenseToken, ITwinRegistryHooks {
    using SafeERC20 for IERC20;

    bytes32 public constant RECORDER_ROLE = keccak256("RECORDER_ROLE");

    /// @dev One slot per twin, read and written once per settled item.
    struct TwinLedger {
        uint128 undistributed; // earned, not yet split among the payees
        uint64 revocationEffectiveAt; // mirror of the registry's consent: 0 while granted
    }

    IERC20 private immutable _token;
    ITwinRegistry private immutable _registry;

    uint256 private _offerCount;
    uint256 private _licenseCount;
    uint128 private _totalEscrow;
    uint128 private _totalOwed;

    mapping(uint256 offerId => TwinTypes.Offer) private _offers;
    mapping(uint256 licenseId => TwinTypes.LicenseState) private _licenses;
    mapping(uint256 licenseId => TwinTypes.LicenseTerms) private _terms;
    mapping(uint256 twinId => TwinLedger) private _twins;
    mapping(address payee => uint256) private _balances; // split, not yet withdrawn
    mapping(address payee => uint256) private _withdrawn;
    // Per twin and usage category, one slot holds eight uint32 timestamps, one per territory (`_territoryUntil`
    // reads one, `_withTerritoryUntil` writes one): until when an exclusive licence, respectively any licence, of
    // that twin covers that category in that territory. So one slot read per category tells whether a purchase
    // collides with an exclusive licence, or an exclusive one with any licence.
    mapping(uint256 twinId => mapping(uint8 category => uint256)) private _exclusiveUntil;
    mapping(uint256 twinId => mapping(uint8 category => uint256)) private _licensedUntil;

    constructor(address admin, address registry_, address paymentToken_) ERC721("Twin Licence", "TWINL") {
        if (admin == address(0) || registry_ == address(0) || paymentToken_ == address(0)) {
            revert LicenseTokenZeroAddress();
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _registry = ITwinRegistry(registry_);
        _token = IERC20(paymentToken_);
    }

    modifier onlyRegistry() {
        if (msg.sender != address(_registry)) revert LicenseTokenNotRegistry(msg.sender);
        _;
    }

    // ---------------------------------------------------------------- offers

    /// @inheritdoc ILicenseToken
    function publishOffer(uint256 twinId, TwinTypes.OfferTerms calldata terms) external returns (uint256 offerId) {
        address model = _registry.modelOf(twinId);
        if (model != msg.sender) revert LicenseTokenNotModel(twinId, msg.sender);
        if (_twins[twinId].revocationEffectiveAt != 0) revert LicenseTokenConsentNotGranted(twinId);
        if (terms.categories == 0) revert LicenseTokenInvalidTerms("no usage category");
        if (terms.territories == 0) revert LicenseTokenInvalidTerms("no territory");
        if (terms.duration == 0) revert LicenseTokenInvalidTerms("zero duration");
        if (terms.perUseFee == 0) revert LicenseTokenInvalidTerms("zero per-use fee");
        uint48 floor = _registry.floorFor(terms.categories);
        if (terms.perUseFee < floor) revert LicenseTokenFeeBelowFloor(terms.perUseFee, floor);

        offerId = ++_offerCount;
        _offers[offerId] = TwinTypes.Offer({twinId: SafeCast.toUint40(twinId), active: true, terms: terms});
        emit OfferPublished(offerId, twinId, terms);
    }

    /// @inheritdoc ILicenseToken
    function withdrawOffer(uint256 offerId) external {
        TwinTypes.Offer storage stored = _offers[offerId];
        uint256 twinId = stored.twinId;
        if (twinId == 0) revert LicenseTokenUnknownOffer(offerId);
        if (_registry.modelOf(twinId) != msg.sender) revert LicenseTokenNotModel(twinId, msg.sender);
        if (!stored.active) revert LicenseTokenOfferInactive(offerId);
        stored.active = false;
        emit OfferWithdrawn(offerId, twinId);
    }

    // ---------------------------------------------------------------- licences

    /// @inheritdoc ILicenseToken
    function buyLicense(uint256 offerId, uint64 escrow) external whenNotPaused returns (uint256) {
        return _buy(offerId, escrow);
    }

    /// @inheritdoc ILicenseToken
    function buyLicenseWithPermit(uint256 offerId, uint64 escrow, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        whenNotPaused
        returns (uint256)
    {
        uint256 total = uint256(_offers[offerId].terms.upfrontFee) + escrow;
        // A permit seen in the mempool can be submitted by anyone first; then the allowance is already there,
        // so a failed permit is not an error by itself. The allowance check in `_buy` says what is missing.
        try IERC20Permit(address(_token)).permit(msg.sender, address(this), total, deadline, v, r, s) {} catch {}
        return _buy(offerId, escrow);
    }

    /// @inheritdoc ILicenseToken
    function topUpEscrow(uint256 licenseId, uint64 amount) external whenNotPaused {
        TwinTypes.LicenseState storage state = _requireLicense(licenseId);
        if (amount == 0) revert LicenseTokenZeroAmount();
        if (block.timestamp >= state.expiry) revert LicenseTokenExpired(licenseId, state.expiry);
        uint64 revokedAt = _twins[state.twinId].revocationEffectiveAt;
        if (revokedAt != 0 && block.timestamp >= revokedAt) revert LicenseTokenConsentRevoked(state.twinId, revokedAt);
        uint256 newEscrow = uint256(state.escrow) + amount;
        if (newEscrow > type(uint64).max) revert LicenseTokenEscrowTooLarge(newEscrow, type(uint64).max);
        _requireFunds(msg.sender, amount);

        state.escrow = uint64(newEscrow);
        _totalEscrow += amount;
        emit EscrowToppedUp(licenseId, msg.sender, amount, uint64(newEscrow));
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc ILicenseToken
    /// @dev Not pausable: a pause must never lock a brand's money in.
    function reclaimEscrow(uint256 licenseId) external returns (uint64 amount) {
        TwinTypes.LicenseState storage state = _requireLicense(licenseId);
        address holder = _ownerOf(licenseId);
        if (holder != msg.sender) revert LicenseTokenNotHolder(licenseId, msg.sender);
        uint64 revokedAt = _twins[state.twinId].revocationEffectiveAt;
        bool revoked = revokedAt != 0 && block.timestamp >= revokedAt;
        if (block.timestamp < state.expiry && !revoked) revert LicenseTokenStillActive(licenseId, state.expiry);
        amount = state.escrow;
        if (amount == 0) revert LicenseTokenNothingToReclaim(licenseId);

        state.escrow = 0;
        _totalEscrow -= amount;
        emit EscrowReclaimed(licenseId, holder, amount);
        _token.safeTransfer(holder, amount);
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc ILicenseToken
    function settle(TwinTypes.SettleItem[] calldata items) external onlyRole(RECORDER_ROLE) whenNotPaused {
        uint256 count = items.length;
        if (count == 0) revert LicenseTokenEmptyBatch();
        uint256 batchAmount = 0;
        for (uint256 i = 0; i < count; ++i) {
            batchAmount += _settleItem(items[i]);
        }
        // Totals move once per batch: escrow becomes owed earnings, the token balance does not change.
        _totalEscrow -= uint128(batchAmount);
        _totalOwed += uint128(batchAmount);
    }

    // ---------------------------------------------------------------- earnings

    /// @inheritdoc ILicenseToken
    /// @dev Not pausable: earnings are always the payee's to take.
    function withdraw() external returns (uint256 amount) {
        uint256[] memory twinIds = _registry.twinsOfPayee(msg.sender);
        for (uint256 i = 0; i < twinIds.length; ++i) {
            _distribute(twinIds[i]);
        }
        return _payOut();
    }

    /// @inheritdoc ILicenseToken
    /// @dev Not pausable. Splitting a twin the caller is not a payee of is harmless: it only moves that twin's
    /// earnings into its own payees' balances, exactly as their own withdrawal would.
    function withdrawFrom(uint256[] calldata twinIds) external returns (uint256 amount) {
        for (uint256 i = 0; i < twinIds.length; ++i) {
            _distribute(twinIds[i]);
        }
        return _payOut();
    }

    function _payOut() private returns (uint256 amount) {
        amount = _balances[msg.sender];
        // slither-disable-next-line incorrect-equality (an empty balance, not a balance to match exactly)
        if (amount == 0) revert LicenseTokenNothingToWithdraw(msg.sender);

        _balances[msg.sender] = 0;
        _withdrawn[msg.sender] += amount;
        _totalOwed -= uint128(amount);
        emit Withdrawn(msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ILicenseToken
    function claimable(address payee) public view returns (uint256 amount) {
        amount = _balances[payee];
        uint256[] memory twinIds = _registry.twinsOfPayee(payee);
        for (uint256 i = 0; i < twinIds.length; ++i) {
            uint256 pending = _twins[twinIds[i]].undistributed;
            if (pending != 0) amount += _shareOf(_registry.payeesOf(twinIds[i]), pending, payee);
        }
    }

    /// @inheritdoc ILicenseToken
    function totalEarned(address payee) external view returns (uint256) {
        return _withdrawn[payee] + claimable(payee);
    }

    // ---------------------------------------------------------------- registry hooks

    /// @inheritdoc ITwinRegistryHooks
    function onPayeesChanging(uint256 twinId) external onlyRegistry {
        _distribute(twinId);
    }

    /// @inheritdoc ITwinRegistryHooks
    function onConsentChanged(uint256 twinId, uint64 revocationEffectiveAt) external onlyRegistry {
        _twins[twinId].revocationEffectiveAt = revocationEffectiveAt;
    }

    // ---------------------------------------------------------------- admin

    /// @notice Stops purchases, top-ups and settlements in an emergency. Withdrawals and reclaims go on.
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @notice Lifts a pause: purchases, top-ups and settlements resume.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ILicenseToken
    function offer(uint256 offerId) external view returns (TwinTypes.Offer memory) {
        TwinTypes.Offer memory stored = _offers[offerId];
        if (stored.twinId == 0) revert LicenseTokenUnknownOffer(offerId);
        return stored;
    }

    /// @inheritdoc ILicenseToken
    function licenseState(uint256 licenseId) external view returns (TwinTypes.LicenseState memory) {
        return _requireLicense(licenseId);
    }

    /// @inheritdoc ILicenseToken
    function licenseTerms(uint256 licenseId) external view returns (TwinTypes.LicenseTerms memory) {
        _requireLicense(licenseId);
        return _terms[licenseId];
    }

    /// @inheritdoc ILicenseToken
    function undistributed(uint256 twinId) external view returns (uint256) {
        return _twins[twinId].undistributed;
    }

    /// @inheritdoc ILicenseToken
    function totalEscrow() external view returns (uint256) {
        return _totalEscrow;
    }

    /// @inheritdoc ILicenseToken
    function totalOwed() external view returns (uint256) {
        return _totalOwed;
    }

    /// @inheritdoc ILicenseToken
    function paymentToken() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc ILicenseToken
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc ILicenseToken
    function offerCount() external view returns (uint256) {
        return _offerCount;
    }

    /// @inheritdoc ILicenseToken
    function licenseCount() external view returns (uint256) {
        return _licenseCount;
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Every move of a licence passes here: minting always, transfers only when the terms allow them.
    function _update(address to, uint256 licenseId, address auth) internal override returns (address) {
        address from = _ownerOf(licenseId);
        if (from != address(0) && to != address(0) && !_terms[licenseId].transferable) {
            revert LicenseTokenNotTransferable(licenseId);
        }
        return super._update(to, licenseId, auth);
    }

    function _buy(uint256 offerId, uint64 escrow) private returns (uint256 licenseId) {
        TwinTypes.Offer memory offered = _offers[offerId];
        if (offered.twinId == 0) revert LicenseTokenUnknownOffer(offerId);
        if (!offered.active) revert LicenseTokenOfferInactive(offerId);
        TwinLedger storage twin = _twins[offered.twinId];
        if (twin.revocationEffectiveAt != 0) revert LicenseTokenConsentNotGranted(offered.twinId);
        TwinTypes.OfferTerms memory terms = offered.terms;
        uint256 total = uint256(terms.upfrontFee) + escrow;
        _requireFunds(msg.sender, total);

        uint40 expiry = uint40(block.timestamp + terms.duration);
        _claimExclusivity(offered.twinId, terms, expiry);
        licenseId = ++_licenseCount;
        _licenses[licenseId] = TwinTypes.LicenseState({
            escrow: escrow,
            usesSettled: 0,
            maxUses: terms.maxUses == 0 ? type(uint32).max : terms.maxUses,
            expiry: expiry,
            perUseFee: terms.perUseFee,
            twinId: offered.twinId
        });
        _terms[licenseId] = TwinTypes.LicenseTerms({
            offerId: uint64(offerId),
            upfrontFee: terms.upfrontFee,
            startedAt: uint40(block.timestamp),
            categories: terms.categories,
            territories: terms.territories,
            exclusive: terms.exclusive,
            transferable: terms.transferable
        });
        twin.undistributed += terms.upfrontFee;
        _totalEscrow += escrow;
        _totalOwed += terms.upfrontFee;
        _mint(msg.sender, licenseId);
        emit LicensePurchased(licenseId, offerId, offered.twinId, msg.sender, terms.upfrontFee, escrow, expiry);
        if (total != 0) _token.safeTransferFrom(msg.sender, address(this), total);
    }

    function _settleItem(TwinTypes.SettleItem calldata item) private returns (uint256 amount) {
        uint256 licenseId = item.licenseId;
        TwinTypes.LicenseState memory state = _licenses[licenseId];
        // slither-disable-next-line incorrect-equality (every licence has an expiry: zero means it does not exist)
        if (state.expiry == 0) revert LicenseTokenUnknownLicense(licenseId);
        // The sequence check is what makes a use paid exactly once: a replayed or overlapping item starts below
        // the settled count, a skipped one above it, and both revert.
        if (item.firstSeq != state.usesSettled) {
            revert LicenseTokenSequenceMismatch(licenseId, state.usesSettled, item.firstSeq);
        }
        if (item.count == 0) revert LicenseTokenZeroCount(licenseId);
        if (block.timestamp >= state.expiry) revert LicenseTokenExpired(licenseId, state.expiry);
        uint64 usesAfter = uint64(state.usesSettled) + item.count;
        if (usesAfter > state.maxUses) revert LicenseTokenMaxUsesExceeded(licenseId, state.maxUses, usesAfter);
        amount = uint256(item.count) * state.perUseFee;
        if (amount > state.escrow) revert LicenseTokenInsufficientEscrow(licenseId, amount, state.escrow);
        TwinLedger storage twin = _twins[state.twinId];
        TwinLedger memory ledger = twin;
        if (ledger.revocationEffectiveAt != 0 && block.timestamp >= ledger.revocationEffectiveAt) {
            revert LicenseTokenConsentRevoked(state.twinId, ledger.revocationEffectiveAt);
        }

        state.escrow -= uint64(amount);
        state.usesSettled = uint32(usesAfter);
        _licenses[licenseId] = state;
        ledger.undistributed += uint128(amount);
        twin.undistributed = ledger.undistributed;
        emit UsesSettled(licenseId, state.twinId, item.firstSeq, item.count, uint64(amount), item.usesRoot);
    }

    /// @dev Splits a twin's undistributed earnings among its current payees and credits their balances.
    function _distribute(uint256 twinId) private {
        uint256 amount = _twins[twinId].undistributed;
        // slither-disable-next-line incorrect-equality (nothing to split, not a balance to match exactly)
        if (amount == 0) return;
        _twins[twinId].undistributed = 0;
        TwinTypes.Payee[] memory payees = _registry.payeesOf(twinId);
        uint256[] memory parts = _split(payees, amount);
        // The model is credited last, as she always was: the order of the `EarningsDistributed` events is unchanged.
        for (uint256 i = 1; i < payees.length; ++i) {
            _credit(twinId, payees[i].account, parts[i]);
        }
        _credit(twinId, payees[0].account, parts[0]);
    }

    function _credit(uint256 twinId, address payee, uint256 amount) private {
        // slither-disable-next-line incorrect-equality (a zero share needs no credit or event)
        if (amount == 0) return;
        _balances[payee] += amount;
        emit EarningsDistributed(twinId, payee, amount);
    }

    /// @dev What `_distribute` would give `payee` out of `amount`: the same split, read instead of credited.
    function _shareOf(TwinTypes.Payee[] memory payees, uint256 amount, address payee) private pure returns (uint256) {
        uint256[] memory parts = _split(payees, amount);
        for (uint256 i = 0; i < payees.length; ++i) {
            // A payee is listed once per twin (the registry refuses duplicates), so the first match is the only one.
            if (payees[i].account == payee) return parts[i];
        }
        return 0;
    }

    /// @dev The one definition of how a twin's earnings are split, used both to credit them (`_distribute`) and to
    /// report them before they are (`_shareOf`). Every payee after the first gets `amount * shareBps / 10 000`
    /// rounded down; the model, always first, gets the rest, so the parts add up to `amount` exactly and the rounding
    /// remainders are hers.
    function _split(TwinTypes.Payee[] memory payees, uint256 amount) private pure returns (uint256[] memory parts) {
        parts = new uint256[](payees.length);
        uint256 rest = amount;
        for (uint256 i = 1; i < payees.length; ++i) {
            uint256 part = (amount * payees[i].shareBps) / TwinTypes.TOTAL_SHARES_BPS;
            parts[i] = part;
            rest -= part;
        }
        parts[0] = rest;
    }

    /// @dev Rejects a purchase that collides with an exclusive licence (or, when exclusive, with any licence) of
    /// the same twin, category and territory, and records this one until `expiry`. One slot read and write per
    /// category, whatever the number of territories.
    function _claimExclusivity(uint256 twinId, TwinTypes.OfferTerms memory terms, uint40 expiry) private {
        // A cell holds a uint32 timestamp, which ends in 2106: a later expiry is recorded as that, and frees its cells
        // then rather than at the real expiry.
        uint256 until = expiry > type(uint32).max ? type(uint32).max : expiry;
        for (uint8 category = 0; category < TwinTypes.CATEGORY_COUNT; ++category) {
            if (terms.categories & (1 << category) == 0) continue;
            uint256 exclusiveSlot = _exclusiveUntil[twinId][category];
            uint256 licensedSlot = _licensedUntil[twinId][category];
            for (uint8 territory = 0; territory < TwinTypes.TERRITORY_COUNT; ++territory) {
                if (terms.territories & (1 << territory) == 0) continue;
                uint256 exclusiveEnd = _territoryUntil(exclusiveSlot, territory);
                if (exclusiveEnd > block.timestamp) {
                    revert LicenseTokenExclusivityConflict(twinId, category, territory, uint40(exclusiveEnd));
                }
                uint256 licensedEnd = _territoryUntil(licensedSlot, territory);
                if (terms.exclusive) {
                    if (licensedEnd > block.timestamp) {
                        revert LicenseTokenExclusivityConflict(twinId, category, territory, uint40(licensedEnd));
                    }
                    exclusiveSlot = _withTerritoryUntil(exclusiveSlot, territory, until);
                }
                // Keep the latest end: a shorter licence bought later must not shorten what an exclusive one waits for.
                if (until > licensedEnd) licensedSlot = _withTerritoryUntil(licensedSlot, territory, until);
            }
            if (terms.exclusive) _exclusiveUntil[twinId][category] = exclusiveSlot;
            _licensedUntil[twinId][category] = licensedSlot;
        }
    }

    /// @dev Until when the packed per-twin, per-category slot `slot` says `territory` is taken: its 32 bits from
    /// bit `32 * territory`. Zero, or any time not after now, means free.
    function _territoryUntil(uint256 slot, uint8 territory) private pure returns (uint256) {
        return (slot >> (uint256(territory) * 32)) & type(uint32).max;
    }

    /// @dev `slot` with the timestamp of `territory` replaced by `until` (at most uint32), the others unchanged.
    function _withTerritoryUntil(uint256 slot, uint8 territory, uint256 until) private pure returns (uint256) {
        uint256 shift = uint256(territory) * 32;
        return (slot & ~(uint256(type(uint32).max) << shift)) | (until << shift);
    }

    function _requireLicense(uint256 licenseId) private view returns (TwinTypes.LicenseState storage state) {
        state = _licenses[licenseId];
        if (state.expiry == 0) revert LicenseTokenUnknownLicense(licenseId);
    }

    function _requireFunds(address payer, uint256 amount) private view {
        uint256 allowance = _token.allowance(payer, address(this));
        if (allowance < amount) revert LicenseTokenInsufficientAllowance(amount, allowance);
        uint256 balance = _token.balanceOf(payer);
        if (balance < amount) revert LicenseTokenInsufficientBalance(amount, balance);
    }
}
