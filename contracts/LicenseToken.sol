// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IERC5192} from "./interfaces/IERC5192.sol";
import {ILicenseToken} from "./interfaces/ILicenseToken.sol";
import {ITwinRegistry} from "./interfaces/ITwinRegistry.sol";
import {ITwinRegistryHooks} from "./interfaces/ITwinRegistryHooks.sol";
import {LicenseLedger} from "./libraries/LicenseLedger.sol";
import {OfferBook} from "./libraries/OfferBook.sol";
import {TwinTypes} from "./libraries/TwinTypes.sol";

/// @title Licence tokens for digital twins: offers, escrow, per-use settlement bound to the holder's signature, the
/// upfront fee vesting over the term, and the payees' earnings.
/// @dev Settlement is the hot path. Per item it reads the licence's slot, its terms' slot, its owner and its twin's
/// slot, recovers one signature, and writes the licence and twin slots, whatever the number of uses or payees: the
/// twin is credited once and its payees draw their shares when they withdraw (or when the shares change), so the cost
/// of a use is a few hundred gas. Offers, the guild's rules on them and exclusivity live in the linked library
/// `OfferBook`; ends, grace, vesting, refunds, reclaims and handovers in the linked library `LicenseLedger`; both run
/// on this contract's storage (`LicenseLedger.Ledger`).
contract LicenseToken is ERC721, AccessControl, Pausable, EIP712, IERC5192, ILicenseToken, ITwinRegistryHooks {
    using SafeERC20 for IERC20;

    bytes32 public constant RECORDER_ROLE = keccak256("RECORDER_ROLE");
    /// @dev EIP-712 type of the report a licence holder signs for each use (`domain/use_record.py` declares it).
    bytes32 private constant USE_REPORT_TYPEHASH = keccak256(
        "UseReport(uint256 licenseId,uint32 seq,bytes32 useRef,uint8 category,uint8 territory,uint64 usedAt)"
    );
    /// @dev What `_vet` returns for an item that settles (any other value is a `TwinTypes.SkipReason`).
    uint8 private constant SETTLES = type(uint8).max;

    IERC20 private immutable _token;
    ITwinRegistry private immutable _registry;

    LicenseLedger.Ledger private _l;

    constructor(address admin, address registry_, address paymentToken_)
        ERC721("Twin Licence", "TWINL")
        EIP712("Twin Licence", "1")
    {
        if (admin == address(0) || registry_ == address(0) || paymentToken_ == address(0)) {
            revert LicenseTokenZeroAddress();
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _registry = ITwinRegistry(registry_);
        _token = IERC20(paymentToken_);
        _l.gracePeriod = LicenseLedger.DEFAULT_GRACE_PERIOD;
    }

    modifier onlyRegistry() {
        if (msg.sender != address(_registry)) revert LicenseTokenNotRegistry(msg.sender);
        _;
    }

    // ---------------------------------------------------------------- offers

    /// @inheritdoc ILicenseToken
    function publishOffer(uint256 twinId, TwinTypes.OfferTerms calldata terms) external returns (uint256) {
        LicenseLedger.TwinLedger memory twin = _l.twins[twinId];
        return OfferBook.publish(_l.book, _registry, twinId, terms, twin.revocationEffectiveAt, twin.revokedCategories);
    }

    /// @inheritdoc ILicenseToken
    function withdrawOffer(uint256 offerId) external {
        OfferBook.withdraw(_l.book, _registry, offerId);
    }

    // ---------------------------------------------------------------- licences

    /// @inheritdoc ILicenseToken
    function buyLicense(uint256 offerId, uint64 escrow) external whenNotPaused returns (uint256) {
        return _buy(offerId, escrow);
    }

    /// @inheritdoc ILicenseToken
    /// @dev The permit call goes to the payment token fixed at deployment, and `_buy` checks all it relies on after it.
    // slither-disable-next-line reentrancy-no-eth
    function buyLicenseWithPermit(uint256 offerId, uint64 escrow, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        whenNotPaused
        returns (uint256)
    {
        uint256 total = uint256(_l.book.offers[offerId].terms.upfrontFee) + escrow;
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
        uint40 end = LicenseLedger.licenseEnd(_l, licenseId);
        if (block.timestamp >= end) revert LicenseTokenConsentRevoked(state.twinId, end);
        uint256 newEscrow = uint256(state.escrow) + amount;
        if (newEscrow > type(uint64).max) revert LicenseTokenEscrowTooLarge(newEscrow, type(uint64).max);
        _requireFunds(msg.sender, amount);

        state.escrow = uint64(newEscrow);
        _l.totalEscrow += amount;
        emit EscrowToppedUp(licenseId, msg.sender, amount, uint64(newEscrow));
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc ILicenseToken
    /// @dev Not pausable: a pause must never lock a brand's money in (it only lengthens the grace period).
    function reclaimEscrow(uint256 licenseId) external returns (uint64) {
        return LicenseLedger.reclaimEscrow(_l, _token, licenseId, _requireHolder(licenseId));
    }

    /// @inheritdoc ILicenseToken
    /// @dev Not pausable, like `reclaimEscrow`.
    function reclaimUnvested(uint256 licenseId) external returns (uint64) {
        return LicenseLedger.reclaimUnvested(_l, _token, licenseId, _requireHolder(licenseId));
    }

    /// @inheritdoc ILicenseToken
    /// @dev Not pausable, like `reclaimEscrow`.
    function reclaimSellerEscrow(uint256 licenseId) external returns (uint64) {
        _requireLicense(licenseId);
        return LicenseLedger.reclaimSellerEscrow(_l, _token, licenseId, msg.sender);
    }

    /// @inheritdoc ILicenseToken
    function endIdleExclusive(uint256 licenseId) external {
        TwinTypes.LicenseState storage state = _requireLicense(licenseId);
        uint256 twinId = state.twinId;
        if (_registry.modelOf(twinId) != msg.sender) revert LicenseTokenNotModel(twinId, msg.sender);
        LicenseLedger.LicenseHead memory head = _l.heads[licenseId];
        if (!head.exclusive) revert LicenseTokenNotExclusive(licenseId);
        uint40 expiry = state.expiry;
        if (block.timestamp >= expiry) revert LicenseTokenExpired(licenseId, expiry);
        uint40 endableAt = _idleEndableAt(licenseId, head);
        if (block.timestamp < endableAt) revert LicenseTokenNotIdle(licenseId, endableAt);

        state.expiry = uint40(block.timestamp);
        OfferBook.release(_l.book, twinId, head.categories, _l.deals[licenseId].territories, expiry);
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
        _l.totalEscrow -= uint128(batchAmount);
        _l.totalOwed += uint128(batchAmount);
    }

    /// @inheritdoc ILicenseToken
    function useReportDigest(
        uint256 licenseId,
        uint32 seq,
        bytes32 useRef,
        uint8 category,
        uint8 territory,
        uint64 usedAt
    ) external view returns (bytes32) {
        return _reportDigest(licenseId, seq, useRef, category, territory, usedAt);
    }

    // ---------------------------------------------------------------- grace and vesting

    /// @inheritdoc ILicenseToken
    function setGracePeriod(uint32 seconds_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        LicenseLedger.setGracePeriod(_l, seconds_);
    }

    /// @inheritdoc ILicenseToken
    function vest(uint256[] calldata licenseIds) external returns (uint256) {
        return LicenseLedger.vest(_l, licenseIds);
    }

    /// @inheritdoc ILicenseToken
    /// @dev Not pausable, like `withdraw`.
    function withdrawVested(uint256[] calldata licenseIds) external returns (uint256) {
        // slither-disable-next-line unused-return (what vested is in the UpfrontVested events; this returns what is paid)
        LicenseLedger.vest(_l, licenseIds);
        return LicenseLedger.withdraw(_l, _registry, _token, _registry.twinsOfPayee(msg.sender));
    }

    // ---------------------------------------------------------------- earnings

    /// @inheritdoc ILicenseToken
    /// @dev Not pausable: earnings are always the payee's to take.
    function withdraw() external returns (uint256) {
        return LicenseLedger.withdraw(_l, _registry, _token, _registry.twinsOfPayee(msg.sender));
    }

    /// @inheritdoc ILicenseToken
    /// @dev Not pausable. Splitting a twin the caller is not a payee of is harmless: it only moves that twin's
    /// earnings into its own payees' balances, exactly as their own withdrawal would.
    function withdrawFrom(uint256[] calldata twinIds) external returns (uint256) {
        return LicenseLedger.withdraw(_l, _registry, _token, twinIds);
    }

    /// @inheritdoc ILicenseToken
    function claimable(address payee) public view returns (uint256) {
        return LicenseLedger.claimable(_l, _registry, payee, _registry.twinsOfPayee(payee));
    }

    /// @inheritdoc ILicenseToken
    function claimableFrom(address payee, uint256[] calldata twinIds) external view returns (uint256) {
        return LicenseLedger.claimable(_l, _registry, payee, twinIds);
    }

    /// @inheritdoc ILicenseToken
    function totalEarned(address payee) external view returns (uint256) {
        return _l.withdrawn[payee] + claimable(payee);
    }

    // ---------------------------------------------------------------- registry hooks

    /// @inheritdoc ITwinRegistryHooks
    function onPayeesChanging(uint256 twinId) external onlyRegistry {
        LicenseLedger.distribute(_l, _registry, twinId);
    }

    /// @inheritdoc ITwinRegistryHooks
    /// @dev A revocation withdraws every offer of the twin; granting consent again publishes none of them.
    function onConsentChanged(uint256 twinId, uint64 revocationEffectiveAt) external onlyRegistry {
        LicenseLedger.consentChanged(_l, twinId, revocationEffectiveAt);
        if (revocationEffectiveAt != 0) OfferBook.withdrawTwinOffers(_l.book, twinId, type(uint8).max);
    }

    /// @inheritdoc ITwinRegistryHooks
    /// @dev A revocation withdraws the twin's offers that include the category.
    function onCategoryConsentChanged(uint256 twinId, uint8 category, uint64 revocationEffectiveAt)
        external
        onlyRegistry
    {
        LicenseLedger.categoryConsentChanged(_l, twinId, category, revocationEffectiveAt);
        if (revocationEffectiveAt != 0) OfferBook.withdrawTwinOffers(_l.book, twinId, uint8(1) << category);
    }

    // ---------------------------------------------------------------- admin

    /// @notice Stops purchases, top-ups and settlements in an emergency. Withdrawals and reclaims go on; the time
    /// paused does not count in grace periods.
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
        LicenseLedger.notePause(_l);
    }

    /// @notice Lifts a pause: purchases, top-ups and settlements resume.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
        LicenseLedger.noteUnpause(_l);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ILicenseToken
    function offer(uint256 offerId) external view returns (TwinTypes.Offer memory) {
        return OfferBook.offerOf(_l.book, offerId);
    }

    /// @inheritdoc ILicenseToken
    function licenseState(uint256 licenseId) external view returns (TwinTypes.LicenseState memory) {
        return _requireLicense(licenseId);
    }

    /// @inheritdoc ILicenseToken
    function licenseTerms(uint256 licenseId) external view returns (TwinTypes.LicenseTerms memory) {
        _requireLicense(licenseId);
        LicenseLedger.LicenseHead memory head = _l.heads[licenseId];
        LicenseLedger.LicenseDeal memory deal = _l.deals[licenseId];
        return TwinTypes.LicenseTerms({
            offerId: deal.offerId,
            upfrontFee: deal.upfrontFee,
            startedAt: head.startedAt,
            categories: head.categories,
            territories: deal.territories,
            exclusive: head.exclusive,
            transferable: head.transferable,
            idleEndAfter: head.idleEndAfter
        });
    }

    /// @inheritdoc ILicenseToken
    function licenseEnd(uint256 licenseId) external view returns (uint40) {
        _requireLicense(licenseId);
        return LicenseLedger.licenseEnd(_l, licenseId);
    }

    /// @inheritdoc ILicenseToken
    function graceEndsAt(uint256 licenseId) external view returns (uint40) {
        _requireLicense(licenseId);
        return LicenseLedger.graceEnd(_l, LicenseLedger.licenseEnd(_l, licenseId));
    }

    /// @inheritdoc ILicenseToken
    function gracePeriod() external view returns (uint32) {
        return _l.gracePeriod;
    }

    /// @inheritdoc ILicenseToken
    function vesting(uint256 licenseId) external view returns (uint64, uint64, uint64, uint64) {
        _requireLicense(licenseId);
        return LicenseLedger.vesting(_l, licenseId);
    }

    /// @inheritdoc ILicenseToken
    function handover(uint256 licenseId) external view returns (address, uint40, uint64) {
        _requireLicense(licenseId);
        LicenseLedger.Handover memory last = _l.handovers[licenseId];
        return (last.seller, last.at, _l.funds[licenseId].sellerEscrow);
    }

    /// @inheritdoc ILicenseToken
    function idleEndableAt(uint256 licenseId) external view returns (uint40) {
        _requireLicense(licenseId);
        LicenseLedger.LicenseHead memory head = _l.heads[licenseId];
        return head.exclusive ? _idleEndableAt(licenseId, head) : 0;
    }

    /// @inheritdoc ILicenseToken
    function undistributed(uint256 twinId) external view returns (uint256) {
        return _l.twins[twinId].undistributed;
    }

    /// @inheritdoc ILicenseToken
    function totalEscrow() external view returns (uint256) {
        return _l.totalEscrow;
    }

    /// @inheritdoc ILicenseToken
    function totalOwed() external view returns (uint256) {
        return _l.totalOwed;
    }

    /// @inheritdoc ILicenseToken
    function totalUnvested() external view returns (uint256) {
        return _l.totalUnvested;
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
        return _l.book.offerCount;
    }

    /// @inheritdoc ILicenseToken
    function licenseCount() external view returns (uint256) {
        return _l.licenseCount;
    }

    /// @inheritdoc IERC5192
    /// @dev A licence is locked when its terms do not let it change hands.
    function locked(uint256 licenseId) external view returns (bool) {
        _requireOwned(licenseId);
        return !_l.heads[licenseId].transferable;
    }

    /// @notice Approves `to` to move a transferable licence; refused for a locked one (`LicenseTokenNotTransferable`).
    function approve(address to, uint256 licenseId) public override {
        _requireOwned(licenseId);
        if (!_l.heads[licenseId].transferable) revert LicenseTokenNotTransferable(licenseId);
        super.approve(to, licenseId);
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return interfaceId == type(IERC5192).interfaceId || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Every move of a licence passes here: minting always, transfers only when the terms allow them, and then
    /// the escrow held becomes the seller's (`LicenseLedger.handOver`, after ERC-721's authorisation check). The
    /// holder is kept in the licence's head slot, which settlement reads anyway (`_ownerOf`).
    function _update(address to, uint256 licenseId, address auth) internal override returns (address from) {
        LicenseLedger.LicenseHead storage head = _l.heads[licenseId];
        if (head.holder != address(0) && to != address(0) && !head.transferable) {
            revert LicenseTokenNotTransferable(licenseId);
        }
        from = super._update(to, licenseId, auth);
        head.holder = to;
        if (from != address(0) && to != address(0) && from != to) LicenseLedger.handOver(_l, licenseId, from, to);
    }

    /// @dev The holder, from the licence's head slot (`_update` keeps it; ERC-721's own copy is written, never read).
    function _ownerOf(uint256 licenseId) internal view override returns (address) {
        return _l.heads[licenseId].holder;
    }

    function _buy(uint256 offerId, uint64 escrow) private returns (uint256 licenseId) {
        TwinTypes.Offer memory offered = OfferBook.take(_l.book, _registry, offerId);
        LicenseLedger.TwinLedger storage twin = _l.twins[offered.twinId];
        if (twin.revocationEffectiveAt != 0) revert LicenseTokenConsentNotGranted(offered.twinId);
        TwinTypes.OfferTerms memory terms = offered.terms;
        uint8 refused = terms.categories & twin.revokedCategories;
        if (refused != 0) revert LicenseTokenCategoryConsentNotGranted(offered.twinId, refused);
        uint256 total = uint256(terms.upfrontFee) + escrow;
        _requireFunds(msg.sender, total);

        uint40 expiry = uint40(block.timestamp + terms.duration);
        OfferBook.claim(_l.book, offered.twinId, terms, expiry);
        licenseId = ++_l.licenseCount;
        _l.licenses[licenseId] = TwinTypes.LicenseState({
            escrow: escrow,
            usesSettled: 0,
            maxUses: terms.maxUses == 0 ? type(uint32).max : terms.maxUses,
            expiry: expiry,
            perUseFee: terms.perUseFee,
            twinId: offered.twinId
        });
        // The holder is set by `_mint` (`_update`).
        _l.heads[licenseId] = LicenseLedger.LicenseHead({
            holder: address(0),
            startedAt: uint40(block.timestamp),
            categories: terms.categories,
            exclusive: terms.exclusive,
            transferable: terms.transferable,
            idleEndAfter: terms.idleEndAfter
        });
        _l.deals[licenseId] = LicenseLedger.LicenseDeal({
            offerId: uint64(offerId),
            upfrontFee: terms.upfrontFee,
            territories: terms.territories
        });
        // The upfront fee vests to the twin over the term (`vest`); until then it is nobody's earnings.
        _l.totalEscrow += escrow;
        _l.totalUnvested += terms.upfrontFee;
        _mint(msg.sender, licenseId);
        if (!terms.transferable) emit Locked(licenseId);
        emit LicensePurchased(licenseId, offerId, offered.twinId, msg.sender, terms.upfrontFee, escrow, expiry);
        if (total != 0) _token.safeTransferFrom(msg.sender, address(this), total);
    }

    /// @dev Pays one item, or skips it with its reason (`SettleItemSkipped`) changing nothing; returns what it paid.
    /// The hot path reads the licence's state slot and head slot as whole words (`_words`) and writes the state slot
    /// with one arithmetic update: Solidity's struct copies would read and write each packed member again.
    function _settleItem(TwinTypes.SettleItem calldata item) private returns (uint256 amount) {
        (uint256 state, uint256 head) = _words(item.licenseId);
        (uint8 reason, address payer, bool bySeller) = _vet(item, state, head);
        if (reason == SETTLES) {
            amount = uint256(item.count) * uint48(state >> STATE_FEE);
            uint64 escrow = bySeller ? _l.funds[item.licenseId].sellerEscrow : uint64(state);
            if (amount > escrow) reason = uint8(TwinTypes.SkipReason.InsufficientEscrow);
        }
        if (reason != SETTLES) {
            if (!_voidSellers(item, state, head, reason)) {
                emit SettleItemSkipped(item.licenseId, item.firstSeq, item.count, reason);
            }
            return 0;
        }
        _pay(item, state, head, amount, payer, bySeller);
    }

    /// @dev Off the paying path: voids an item of a handed-over licence that only its seller could have paid and her
    /// escrow never will, so that it does not block the buyer's uses after it (settlement is sequential). Its last
    /// report must be validly signed by the seller, and either dated at or after the handover (`NotHolder`: the
    /// handover's second is the buyer's, as a licence's end is past it) or dated before it and unpayable from her
    /// escrow (`InsufficientEscrow`, `GraceOver`). The settled count moves past it, no money moves (`UsesVoided`).
    /// A recorder can thus void only what the seller signed for, and nothing her escrow could pay as that item.
    function _voidSellers(TwinTypes.SettleItem calldata item, uint256 state, uint256 head, uint8 reason)
        private
        returns (bool)
    {
        if (
            (head >> HEAD_TRANSFERABLE) & 0xff == 0
                || (reason != uint8(TwinTypes.SkipReason.NotHolder) && reason != uint8(TwinTypes.SkipReason.GraceOver)
                    && reason != uint8(TwinTypes.SkipReason.InsufficientEscrow))
        ) return false;
        LicenseLedger.Handover memory last = _l.handovers[item.licenseId];
        // NotHolder with the seller's signature means a report dated at or after the handover; the other two reasons
        // void only her own reports from before it (a buyer short of escrow tops up).
        if (last.at == 0 || (reason != uint8(TwinTypes.SkipReason.NotHolder) && item.usedAt >= last.at)) return false;
        // slither-disable-next-line unused-return (a malformed signature recovers no seller: the item stays skipped)
        (address signer,,) = ECDSA.tryRecover(_lastReportDigest(item), item.sigR, item.sigVS);
        if (signer != last.seller) return false;
        // Within maxUses, so the settled count never passes it (nor overflows into the next field).
        if (uint256(uint32(state >> STATE_USES)) + item.count > uint32(state >> STATE_MAX_USES)) return false;
        TwinTypes.LicenseState storage stateRef = _l.licenses[item.licenseId];
        state += uint256(item.count) << STATE_USES;
        assembly ("memory-safe") {
            sstore(stateRef.slot, state)
        }
        emit UsesVoided(item.licenseId, item.firstSeq, item.count, reason);
        return true;
    }

    /// @dev Pays a vetted item: its escrow (the licence's, or the seller's) to its twin's undistributed earnings.
    function _pay(
        TwinTypes.SettleItem calldata item,
        uint256 state,
        uint256 head,
        uint256 amount,
        address payer,
        bool bySeller
    ) private {
        uint256 licenseId = item.licenseId;
        // usesSettled + count <= maxUses and amount <= escrow were checked: neither field overflows into the next.
        state += uint256(item.count) << STATE_USES;
        if (bySeller) {
            _l.funds[licenseId].sellerEscrow -= uint64(amount);
        } else {
            state -= amount;
        }
        TwinTypes.LicenseState storage stateRef = _l.licenses[licenseId];
        assembly ("memory-safe") {
            sstore(stateRef.slot, state)
        }
        uint256 twinId = state >> STATE_TWIN;
        _l.twins[twinId].undistributed += uint96(amount);
        if ((head >> HEAD_EXCLUSIVE) & 0xff != 0) _l.lastSettledAt[licenseId] = uint40(block.timestamp);
        emit UsesSettled(licenseId, twinId, item.firstSeq, item.count, uint64(amount), item.usesRoot, payer);
    }

    /// @dev Bit offsets in the packed words of `TwinTypes.LicenseState` and `LicenseLedger.LicenseHead` (members from
    /// the lowest bits up, as Solidity packs them).
    uint256 private constant STATE_USES = 64; // after escrow (uint64)
    uint256 private constant STATE_MAX_USES = 96;
    uint256 private constant STATE_EXPIRY = 128;
    uint256 private constant STATE_FEE = 168;
    uint256 private constant STATE_TWIN = 216;
    uint256 private constant HEAD_STARTED = 160; // after holder (address)
    uint256 private constant HEAD_CATEGORIES = 200;
    uint256 private constant HEAD_EXCLUSIVE = 208;
    uint256 private constant HEAD_TRANSFERABLE = 216;
    uint256 private constant TWIN_REVOCATION = 96; // after undistributed (uint96)
    uint256 private constant TWIN_REVOKED_CATEGORIES = 160;
    uint256 private constant TWIN_CONSENT_END = 168;
    uint256 private constant TWIN_CATEGORY_END = 208;

    /// @dev The licence's state slot and head slot, each read once.
    function _words(uint256 licenseId) private view returns (uint256 state, uint256 head) {
        TwinTypes.LicenseState storage stateRef = _l.licenses[licenseId];
        LicenseLedger.LicenseHead storage headRef = _l.heads[licenseId];
        assembly ("memory-safe") {
            state := sload(stateRef.slot)
            head := sload(headRef.slot)
        }
    }

    /// @dev Whether an item can be paid, in the order of `TwinTypes.SkipReason` (escrow, the last, is checked by the
    /// caller): `SETTLES` with who pays (the holder at the report's time) and whether from the seller's escrow; or the
    /// reason to skip it.
    function _vet(TwinTypes.SettleItem calldata item, uint256 state, uint256 head)
        private
        view
        returns (uint8, address payer, bool bySeller)
    {
        // Every licence has an expiry: zero means it does not exist.
        if (uint40(state >> STATE_EXPIRY) == 0) return (uint8(TwinTypes.SkipReason.UnknownLicense), payer, false);
        // The sequence check is what makes a use paid exactly once: a replayed or overlapping item starts below
        // the settled count, a skipped one above it.
        if (item.firstSeq != uint32(state >> STATE_USES)) {
            return (uint8(TwinTypes.SkipReason.SequenceMismatch), payer, false);
        }
        if (item.count == 0) return (uint8(TwinTypes.SkipReason.ZeroCount), payer, false);
        uint8 categories = item.categories;
        if (
            categories == 0 || categories & ~uint8(head >> HEAD_CATEGORIES) != 0
                || (categories >> item.category) & 1 == 0
        ) return (uint8(TwinTypes.SkipReason.CategoriesInvalid), payer, false);
        if (item.usesRoot == bytes32(0)) return (uint8(TwinTypes.SkipReason.EmptyUsesRoot), payer, false);
        // slither-disable-next-line unused-return (the third value only details a malformed signature, skipped anyway)
        (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(_lastReportDigest(item), item.sigR, item.sigVS);
        if (error != ECDSA.RecoverError.NoError) return (uint8(TwinTypes.SkipReason.BadSignature), payer, false);
        // The holder at the report's time: the seller for a report before the licence's last handover.
        payer = address(uint160(head));
        uint40 handedOverAt = 0;
        if ((head >> HEAD_TRANSFERABLE) & 0xff != 0) {
            LicenseLedger.Handover memory last = _l.handovers[item.licenseId];
            if (item.usedAt < last.at) (payer, bySeller, handedOverAt) = (last.seller, true, last.at);
        }
        if (signer != payer) return (uint8(TwinTypes.SkipReason.NotHolder), payer, false);
        uint8 reason = _vetTime(item, state, head, handedOverAt);
        if (reason != SETTLES) return (reason, payer, false);
        if (uint256(uint32(state >> STATE_USES)) + item.count > uint32(state >> STATE_MAX_USES)) {
            return (uint8(TwinTypes.SkipReason.MaxUsesExceeded), payer, false);
        }
        return (SETTLES, payer, bySeller);
    }

    /// @dev The item's last report predates the end that applies to it (the licence's, or a revocation's of one of
    /// its categories), and now is within the grace period after that end, and, for a seller-signed item, within the
    /// grace period after the handover (`handedOverAt`, 0 otherwise), when the seller may take her escrow back.
    function _vetTime(TwinTypes.SettleItem calldata item, uint256 state, uint256 head, uint40 handedOverAt)
        private
        view
        returns (uint8)
    {
        uint256 twinId = state >> STATE_TWIN;
        LicenseLedger.TwinLedger storage twinRef = _l.twins[twinId];
        uint256 twin;
        assembly ("memory-safe") {
            twin := sload(twinRef.slot)
        }
        // The usual case in this contract; a licence that may have ended early asks the library (rare).
        bool mayEndEarly = LicenseLedger.mayEndEarly(
            uint40(twin >> TWIN_CONSENT_END),
            uint40(twin >> TWIN_CATEGORY_END),
            uint8(twin >> TWIN_REVOKED_CATEGORIES),
            uint40(head >> HEAD_STARTED),
            uint8(head >> HEAD_CATEGORIES)
        );
        uint40 end = mayEndEarly
            ? LicenseLedger.licenseEnd(_l, item.licenseId)
            : LicenseLedger.quickEnd(uint40(state >> STATE_EXPIRY), uint64(twin >> TWIN_REVOCATION));
        uint8 revoked = item.categories & uint8(twin >> TWIN_REVOKED_CATEGORIES);
        if (revoked != 0) {
            uint40 categoriesEnd = LicenseLedger.categoriesEnd(_l, twinId, revoked);
            if (categoriesEnd < end) end = categoriesEnd;
        }
        if (item.usedAt >= end) return uint8(TwinTypes.SkipReason.SignedAfterEnd);
        // Past the end (rare), the grace period after it, pause excluded, is one library call away.
        if (block.timestamp >= end && block.timestamp >= LicenseLedger.graceEnd(_l, end)) {
            return uint8(TwinTypes.SkipReason.GraceOver);
        }
        if (handedOverAt != 0 && block.timestamp >= LicenseLedger.graceEnd(_l, handedOverAt)) {
            return uint8(TwinTypes.SkipReason.GraceOver);
        }
        return SETTLES;
    }

    /// @dev The digest of the item's last report: its licence, seq firstSeq + count - 1 and the report's fields.
    function _lastReportDigest(TwinTypes.SettleItem calldata item) private view returns (bytes32) {
        // In 256 bits: a sum beyond uint32 is a seq nobody can have signed, and recovers no holder.
        uint256 seq = uint256(item.firstSeq) + item.count - 1;
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    USE_REPORT_TYPEHASH, item.licenseId, seq, item.useRef, item.category, item.territory, item.usedAt
                )
            )
        );
    }

    function _reportDigest(
        uint256 licenseId,
        uint32 seq,
        bytes32 useRef,
        uint8 category,
        uint8 territory,
        uint64 usedAt
    ) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(USE_REPORT_TYPEHASH, licenseId, seq, useRef, category, territory, usedAt))
        );
    }

    /// @dev When the model may end exclusive licence `licenseId` (bought under `terms`): its idle period after its
    /// purchase or its last settled use.
    function _idleEndableAt(uint256 licenseId, LicenseLedger.LicenseHead memory head) private view returns (uint40) {
        uint40 lastSettled = _l.lastSettledAt[licenseId];
        uint40 since = lastSettled > head.startedAt ? lastSettled : head.startedAt;
        return since + head.idleEndAfter;
    }

    function _requireLicense(uint256 licenseId) private view returns (TwinTypes.LicenseState storage state) {
        state = _l.licenses[licenseId];
        if (state.expiry == 0) revert LicenseTokenUnknownLicense(licenseId);
    }

    /// @dev The holder of licence `licenseId`, who must be the caller.
    function _requireHolder(uint256 licenseId) private view returns (address holder) {
        _requireLicense(licenseId);
        holder = _ownerOf(licenseId);
        if (holder != msg.sender) revert LicenseTokenNotHolder(licenseId, msg.sender);
    }

    function _requireFunds(address payer, uint256 amount) private view {
        uint256 allowance = _token.allowance(payer, address(this));
        if (allowance < amount) revert LicenseTokenInsufficientAllowance(amount, allowance);
        uint256 balance = _token.balanceOf(payer);
        if (balance < amount) revert LicenseTokenInsufficientBalance(amount, balance);
    }
}
