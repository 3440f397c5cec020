// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IERC5192} from "./interfaces/IERC5192.sol";
import {ILicenseToken} from "./interfaces/ILicenseToken.sol";
import {ITwinRegistry} from "./interfaces/ITwinRegistry.sol";
import {ITwinRegistryHooks} from "./interfaces/ITwinRegistryHooks.sol";
import {OfferBook} from "./libraries/OfferBook.sol";
import {TwinTypes} from "./libraries/TwinTypes.sol";

/// @title Licence tokens for digital twins: offers, escrow, per-use settlement and the payees' earnings.
/// @dev Settlement is the hot path. Per item it reads and writes one licence slot and one twin slot, whatever the
/// number of uses or payees: the twin is credited once and its payees draw their shares when they withdraw
/// (or when the shares change), so the cost of a use is a few hundred gas. Offers, the guild's rules on them and
/// exclusivity live in the linked library `OfferBook`, which runs on this contract's storage.
contract LicenseToken is ERC721, AccessControl, Pausable, IERC5192, ILicenseToken, ITwinRegistryHooks {
    using SafeERC20 for IERC20;

    bytes32 public constant RECORDER_ROLE = keccak256("RECORDER_ROLE");

    /// @dev One slot per twin, read and written once per settled item.
    struct TwinLedger {
        uint128 undistributed; // earned, not yet split among the payees
        uint64 revocationEffectiveAt; // mirror of the registry's consent: 0 while granted
        uint8 revokedCategories; // mirror: bit i set while consent for category i is revoked (pending or in effect)
    }

    IERC20 private immutable _token;
    ITwinRegistry private immutable _registry;

    OfferBook.Book private _book;
    uint256 private _licenseCount;
    uint128 private _totalEscrow;
    uint128 private _totalOwed;

    mapping(uint256 licenseId => TwinTypes.LicenseState) private _licenses;
    mapping(uint256 licenseId => TwinTypes.LicenseTerms) private _terms;
    mapping(uint256 twinId => TwinLedger) private _twins;
    mapping(address payee => uint256) private _balances; // split, not yet withdrawn
    mapping(address payee => uint256) private _withdrawn;
    // Exclusive licences only: when a use of it was last settled (0 before the first), for `endIdleExclusive`.
    mapping(uint256 licenseId => uint40) private _lastSettledAt;
    // Per twin, eight uint32 times, one per usage category (bits 32*i..): when the revocation of category i takes
    // effect, mirrored from the registry; read by settlement only when an item's categories meet `revokedCategories`.
    mapping(uint256 twinId => uint256) private _categoryRevokedAt;

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
    function publishOffer(uint256 twinId, TwinTypes.OfferTerms calldata terms) external returns (uint256) {
        TwinLedger memory twin = _twins[twinId];
        return OfferBook.publish(_book, _registry, twinId, terms, twin.revocationEffectiveAt, twin.revokedCategories);
    }

    /// @inheritdoc ILicenseToken
    function withdrawOffer(uint256 offerId) external {
        OfferBook.withdraw(_book, _registry, offerId);
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
        uint256 total = uint256(_book.offers[offerId].terms.upfrontFee) + escrow;
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

    /// @inheritdoc ILicenseToken
    function endIdleExclusive(uint256 licenseId) external {
        TwinTypes.LicenseState storage state = _requireLicense(licenseId);
        uint256 twinId = state.twinId;
        if (_registry.modelOf(twinId) != msg.sender) revert LicenseTokenNotModel(twinId, msg.sender);
        TwinTypes.LicenseTerms memory terms = _terms[licenseId];
        if (!terms.exclusive) revert LicenseTokenNotExclusive(licenseId);
        uint40 expiry = state.expiry;
        if (block.timestamp >= expiry) revert LicenseTokenExpired(licenseId, expiry);
        uint40 endableAt = _idleEndableAt(licenseId, terms);
        if (block.timestamp < endableAt) revert LicenseTokenNotIdle(licenseId, endableAt);

        state.expiry = uint40(block.timestamp);
        OfferBook.release(_book, twinId, terms.categories, terms.territories, expiry);
        emit ExclusiveLicenseEnded(licenseId, twinId, uint40(block.timestamp));
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
            amount += _pendingShare(twinIds[i], payee);
        }
    }

    /// @inheritdoc ILicenseToken
    function claimableFrom(address payee, uint256[] calldata twinIds) external view returns (uint256 amount) {
        amount = _balances[payee];
        for (uint256 i = 0; i < twinIds.length; ++i) {
            bool seen = false;
            for (uint256 j = 0; j < i && !seen; ++j) {
                seen = twinIds[j] == twinIds[i];
            }
            if (!seen) amount += _pendingShare(twinIds[i], payee);
        }
    }

    function _pendingShare(uint256 twinId, address payee) private view returns (uint256) {
        uint256 pending = _twins[twinId].undistributed;
        // slither-disable-next-line incorrect-equality (nothing pending, not a balance to match exactly)
        if (pending == 0) return 0;
        return _shareOf(_registry.payeesOf(twinId), pending, payee);
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

    /// @inheritdoc ITwinRegistryHooks
    function onCategoryConsentChanged(uint256 twinId, uint8 category, uint64 revocationEffectiveAt)
        external
        onlyRegistry
    {
        TwinLedger storage twin = _twins[twinId];
        uint8 bit = uint8(1) << category;
        twin.revokedCategories = revocationEffectiveAt == 0 ? twin.revokedCategories & ~bit : twin.revokedCategories | bit;
        // A uint32 time ends in 2106; a later one is kept as the largest, as exclusivity cells are.
        uint256 at = revocationEffectiveAt > type(uint32).max ? type(uint32).max : revocationEffectiveAt;
        uint256 shift = uint256(category) * 32;
        _categoryRevokedAt[twinId] = (_categoryRevokedAt[twinId] & ~(uint256(type(uint32).max) << shift)) | (at << shift);
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
        TwinTypes.Offer memory stored = _book.offers[offerId];
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
    function idleEndableAt(uint256 licenseId) external view returns (uint40) {
        _requireLicense(licenseId);
        TwinTypes.LicenseTerms memory terms = _terms[licenseId];
        return terms.exclusive ? _idleEndableAt(licenseId, terms) : 0;
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
        return _book.offerCount;
    }

    /// @inheritdoc ILicenseToken
    function licenseCount() external view returns (uint256) {
        return _licenseCount;
    }

    /// @inheritdoc IERC5192
    /// @dev A licence is locked when its terms do not let it change hands.
    function locked(uint256 licenseId) external view returns (bool) {
        _requireOwned(licenseId);
        return !_terms[licenseId].transferable;
    }

    /// @notice Approves `to` to move a transferable licence; refused for a locked one (`LicenseTokenNotTransferable`).
    function approve(address to, uint256 licenseId) public override {
        _requireOwned(licenseId);
        if (!_terms[licenseId].transferable) revert LicenseTokenNotTransferable(licenseId);
        super.approve(to, licenseId);
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return interfaceId == type(IERC5192).interfaceId || super.supportsInterface(interfaceId);
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
        TwinTypes.Offer memory offered = OfferBook.take(_book, _registry, offerId);
        TwinLedger storage twin = _twins[offered.twinId];
        if (twin.revocationEffectiveAt != 0) revert LicenseTokenConsentNotGranted(offered.twinId);
        TwinTypes.OfferTerms memory terms = offered.terms;
        uint8 refused = terms.categories & twin.revokedCategories;
        if (refused != 0) revert LicenseTokenCategoryConsentNotGranted(offered.twinId, refused);
        uint256 total = uint256(terms.upfrontFee) + escrow;
        _requireFunds(msg.sender, total);

        uint40 expiry = uint40(block.timestamp + terms.duration);
        OfferBook.claim(_book, offered.twinId, terms, expiry);
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
            transferable: terms.transferable,
            idleEndAfter: terms.idleEndAfter
        });
        twin.undistributed += terms.upfrontFee;
        _totalEscrow += escrow;
        _totalOwed += terms.upfrontFee;
        _mint(msg.sender, licenseId);
        if (!terms.transferable) emit Locked(licenseId);
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
        bool exclusive = _checkItemCategories(licenseId, item.categories);
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
        if (item.categories & ledger.revokedCategories != 0) {
            _requireCategoriesInForce(state.twinId, item.categories & ledger.revokedCategories);
        }

        state.escrow -= uint64(amount);
        state.usesSettled = uint32(usesAfter);
        _licenses[licenseId] = state;
        ledger.undistributed += uint128(amount);
        twin.undistributed = ledger.undistributed;
        if (exclusive) _lastSettledAt[licenseId] = uint40(block.timestamp);
        emit UsesSettled(licenseId, state.twinId, item.firstSeq, item.count, uint64(amount), item.usesRoot);
    }

    /// @dev Refuses an item whose category mask is empty or not within licence `licenseId`'s categories; returns
    /// whether the licence is exclusive (read from the same slot of its terms).
    function _checkItemCategories(uint256 licenseId, uint8 categories) private view returns (bool exclusive) {
        TwinTypes.LicenseTerms storage terms = _terms[licenseId];
        uint8 licensed = terms.categories;
        // slither-disable-next-line incorrect-equality (an empty mask, not a value to match exactly)
        if (categories == 0 || categories & ~licensed != 0) {
            revert LicenseTokenItemCategoriesInvalid(licenseId, categories, licensed);
        }
        return terms.exclusive;
    }

    /// @dev Reverts when the revocation of one of `categories` (each revoked, pending or in effect) has taken effect.
    function _requireCategoriesInForce(uint256 twinId, uint8 categories) private view {
        uint256 times = _categoryRevokedAt[twinId];
        for (uint8 category = 0; category < TwinTypes.CATEGORY_COUNT; ++category) {
            if (categories & (uint8(1) << category) == 0) continue;
            uint64 effectiveAt = uint64((times >> (uint256(category) * 32)) & type(uint32).max);
            if (block.timestamp >= effectiveAt) revert LicenseTokenCategoryConsentRevoked(twinId, category, effectiveAt);
        }
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

    /// @dev When the model may end exclusive licence `licenseId` (bought under `terms`): its idle period after its
    /// purchase or its last settled use.
    function _idleEndableAt(uint256 licenseId, TwinTypes.LicenseTerms memory terms) private view returns (uint40) {
        uint40 lastSettled = _lastSettledAt[licenseId];
        uint40 since = lastSettled > terms.startedAt ? lastSettled : terms.startedAt;
        return since + terms.idleEndAfter;
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
