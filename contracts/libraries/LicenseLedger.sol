// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

import {ILicenseToken} from "../interfaces/ILicenseToken.sol";
import {ITwinRegistry} from "../interfaces/ITwinRegistry.sol";
import {OfferBook} from "./OfferBook.sol";
import {TwinTypes} from "./TwinTypes.sol";

/// @title The licence contract's storage, and the money it holds outside settlement: when a licence ends, the grace
/// period after it (time paused not counted), the upfront fee vesting over the term and its refund after an early end,
/// escrow reclaims, the seller's escrow of a handed-over licence, and the payees' earnings and withdrawals.
/// @dev A linked library (external functions, deployed once, called by DELEGATECALL), like `OfferBook`: its code runs
/// on the licence contract's storage (`Ledger`) and emits the licence contract's events, while its bytecode stays out
/// of the licence contract's size limit. Settlement, the hot path, stays in the licence contract and calls in here
/// only on rare paths (past the end of a licence, a seller-signed item, a licence that may have ended early). The rule
/// of a licence's end is `licenseEnd`, with `quickEnd` for the usual case that `mayEndEarly` tells apart.
library LicenseLedger {
    using Checkpoints for Checkpoints.Trace208;
    using SafeERC20 for IERC20;

    /// @dev The grace period a deployment starts with, and the longest the admin may set.
    uint32 internal constant DEFAULT_GRACE_PERIOD = 7 days;
    uint32 internal constant MAX_GRACE_PERIOD = 90 days;

    /// @dev One slot per twin, read and written once per settled item.
    struct TwinLedger {
        uint96 undistributed; // earned, not yet split among the payees
        uint64 revocationEffectiveAt; // mirror of the registry's consent: 0 while granted
        uint8 revokedCategories; // mirror: bit i set while consent for category i is revoked (pending or in effect)
        // The latest revocation of the twin's consent that took effect and was granted again since (0: none). A licence
        // bought before it ended at the first such revocation after its purchase (`consentEnds`), for good.
        uint40 lastConsentEnd;
        // Likewise for the revocations of single categories (`categoryEnds`): a licence all of whose categories were
        // revoked ended when the last of them took effect, for good.
        uint40 lastCategoryEnd;
    }

    /// @dev What settlement reads of a licence besides its state: one slot, with the licence's holder.
    struct LicenseHead {
        address holder; // the ERC-721 owner: LicenseToken's `_ownerOf` reads it here, so settlement reads one slot
        uint40 startedAt;
        uint8 categories;
        bool exclusive;
        bool transferable;
        uint32 idleEndAfter; // from the offer: seconds without a settled use before the model may end it (exclusive)
    }

    /// @dev The rest of a licence's terms (`TwinTypes.LicenseTerms` is `LicenseHead` and this).
    struct LicenseDeal {
        uint64 offerId;
        uint64 upfrontFee;
        uint8 territories;
    }

    /// @dev The last change of hands of a transferable licence.
    struct Handover {
        address seller;
        uint40 at;
    }

    /// @dev A licence's money outside its settlement slot, read only off the hot path (and for seller-signed items).
    struct Funds {
        uint64 upfrontReleased; // upfront fee vested and credited to the twin
        uint64 upfrontRefunded; // unvested upfront fee paid back to the holder after an early end
        uint64 sellerEscrow; // escrow held at the last handover: pays the seller's uses signed before it
    }

    /// @dev One pause of the contract: when it started and when it ended (0 while it lasts).
    struct PausePeriod {
        uint48 start;
        uint48 end;
    }

    /// @dev Everything the licence contract keeps, in one struct so that this library runs on it.
    struct Ledger {
        OfferBook.Book book;
        uint256 licenseCount;
        uint128 totalEscrow; // licence escrows and sellers' escrows
        uint128 totalOwed; // earnings credited to twins, split or not, not yet withdrawn
        uint128 totalUnvested; // upfront fees not yet vested to the twins nor refunded
        uint32 gracePeriod;
        mapping(uint256 licenseId => TwinTypes.LicenseState) licenses;
        mapping(uint256 licenseId => LicenseHead) heads;
        mapping(uint256 licenseId => LicenseDeal) deals;
        mapping(uint256 twinId => TwinLedger) twins;
        mapping(address payee => uint256) balances; // split, not yet withdrawn
        mapping(address payee => uint256) withdrawn;
        // Exclusive licences only: when a use of it was last settled (0 before the first), for `endIdleExclusive`.
        mapping(uint256 licenseId => uint40) lastSettledAt;
        // Per twin, eight uint32 times, one per usage category (bits 32*i..): when the revocation of category i takes
        // effect, mirrored from the registry; read by settlement only when an item's categories meet `revokedCategories`.
        mapping(uint256 twinId => uint256) categoryRevokedAt;
        mapping(uint256 licenseId => Handover) handovers;
        mapping(uint256 licenseId => Funds) funds;
        // Per twin, the effective times of its revocations that took effect and were granted again since (key = value).
        mapping(uint256 twinId => Checkpoints.Trace208) consentEnds;
        // Likewise per twin and category.
        mapping(uint256 twinId => mapping(uint256 category => Checkpoints.Trace208)) categoryEnds;
        // Every pause, in order (`graceEnd` finds the first that matters by binary search). A pause and its end each
        // write one fixed slot, whatever the time, so gas estimates hold.
        PausePeriod[] pauses;
    }

    // ---------------------------------------------------------------- end and grace

    /// @notice Whether a licence (bought at `startedAt`, with `categories`) of a twin may end before its expiry
    /// otherwise than by the twin's current revocation, which `quickEnd` covers: a past revocation that took effect
    /// after its purchase, or revocations of all its categories. Settlement asks `licenseEnd` only then.
    function mayEndEarly(
        uint40 lastConsentEnd,
        uint40 lastCategoryEnd,
        uint8 revokedCategories,
        uint40 startedAt,
        uint8 categories
    ) internal pure returns (bool) {
        return lastConsentEnd > startedAt || lastCategoryEnd > startedAt || revokedCategories & categories == categories;
    }

    /// @notice The end of a licence expiring at `expiry` when `mayEndEarly` is false: its expiry, or the effective
    /// time of its twin's current revocation (pending or in effect: no licence is bought while one is) if earlier.
    function quickEnd(uint40 expiry, uint64 revokedAt) internal pure returns (uint40) {
        return revokedAt != 0 && revokedAt < expiry ? uint40(revokedAt) : expiry;
    }

    /// @notice When licence `licenseId` (which exists) ends: the earliest of its expiry, its twin's current
    /// revocation, the first past revocation of the twin that took effect after its purchase, and the time the last
    /// of its categories ended when all of them were revoked (each by a current revocation or a past one that took
    /// effect after the purchase).
    function licenseEnd(Ledger storage l, uint256 licenseId) public view returns (uint40 end) {
        uint256 twinId = l.licenses[licenseId].twinId;
        TwinLedger memory twin = l.twins[twinId];
        LicenseHead memory head = l.heads[licenseId];
        end = quickEnd(l.licenses[licenseId].expiry, twin.revocationEffectiveAt);
        if (!mayEndEarly(twin.lastConsentEnd, twin.lastCategoryEnd, twin.revokedCategories, head.startedAt, head.categories))
        {
            return end;
        }
        // lowerLookup(t + 1): the first revocation that took effect after the purchase at t (0 if none).
        uint256 key = uint256(head.startedAt) + 1;
        if (twin.lastConsentEnd > head.startedAt) {
            uint256 past = l.consentEnds[twinId].lowerLookup(uint48(key));
            if (past != 0 && past < end) end = uint40(past);
        }
        uint256 times = l.categoryRevokedAt[twinId];
        uint256 lastCategory = 0;
        for (uint256 category = 0; category < TwinTypes.CATEGORY_COUNT; ++category) {
            if ((head.categories >> category) & 1 == 0) continue;
            uint256 ended = twin.lastCategoryEnd > head.startedAt ? l.categoryEnds[twinId][category].lowerLookup(uint48(key)) : 0;
            if (ended == 0 && (twin.revokedCategories >> category) & 1 == 1) ended = (times >> (category * 32)) & type(uint32).max;
            if (ended == 0) return end; // a category still licensed: the licence goes on
            if (ended > lastCategory) lastCategory = ended;
        }
        if (lastCategory < end) end = uint40(lastCategory);
    }

    /// @notice The end of the grace period after `from`: `from` + the grace period, with the clock stopped while the
    /// contract is paused. A pause that starts once the grace is over changes nothing; one that lasts moves the end
    /// with the clock (the grace left when it began resumes at the unpause).
    function graceEnd(Ledger storage l, uint40 from) public view returns (uint40) {
        uint256 end = uint256(from) + l.gracePeriod;
        uint256 count = l.pauses.length;
        // The first pause that started after `from`, or the one before it if it was still on at `from`.
        uint256 low = 0;
        uint256 high = count;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if (l.pauses[mid].start > from) high = mid;
            else low = mid + 1;
        }
        if (high != 0 && (l.pauses[high - 1].end == 0 || l.pauses[high - 1].end > from)) --high;
        for (uint256 i = high; i < count; ++i) {
            PausePeriod memory pause = l.pauses[i];
            uint256 start = pause.start > from ? pause.start : from;
            if (start >= end) break; // the grace was over before this pause
            if (pause.end == 0) {
                // Still paused: the grace left at its start resumes at the unpause, so far not before now.
                return uint40(block.timestamp > start ? end + (block.timestamp - start) : end);
            }
            end += pause.end - start;
        }
        return uint40(end);
    }

    /// @notice The earliest effective time of the revocations of the categories in `categories` (each revoked,
    /// pending or in effect) of `twinId`: the end that applies to uses in those categories.
    function categoriesEnd(Ledger storage l, uint256 twinId, uint8 categories) external view returns (uint40 end) {
        uint256 times = l.categoryRevokedAt[twinId];
        end = type(uint40).max;
        for (uint256 category = 0; category < TwinTypes.CATEGORY_COUNT; ++category) {
            if ((categories >> category) & 1 == 0) continue;
            uint40 effectiveAt = uint40((times >> (category * 32)) & type(uint32).max);
            if (effectiveAt < end) end = effectiveAt;
        }
    }

    /// @notice Records a pause starting now.
    function notePause(Ledger storage l) external {
        l.pauses.push(PausePeriod({start: uint48(block.timestamp), end: 0}));
    }

    /// @notice Records the end of the pause now.
    function noteUnpause(Ledger storage l) external {
        l.pauses[l.pauses.length - 1].end = uint48(block.timestamp);
    }

    /// @notice Sets the grace period, at most `MAX_GRACE_PERIOD`.
    function setGracePeriod(Ledger storage l, uint32 seconds_) external {
        if (seconds_ > MAX_GRACE_PERIOD) revert ILicenseToken.LicenseTokenGracePeriodTooLong(seconds_, MAX_GRACE_PERIOD);
        l.gracePeriod = seconds_;
        emit ILicenseToken.GracePeriodSet(seconds_);
    }

    // ---------------------------------------------------------------- consent mirrors

    /// @notice Mirrors a change of the twin's consent. A revocation granted again after it took effect is kept in
    /// `consentEnds`: the licences alive then ended for good.
    function consentChanged(Ledger storage l, uint256 twinId, uint64 revocationEffectiveAt) external {
        TwinLedger storage twin = l.twins[twinId];
        uint64 previous = twin.revocationEffectiveAt;
        if (revocationEffectiveAt == 0 && previous != 0 && block.timestamp >= previous) {
            // slither-disable-next-line unused-return (push returns the previous and new values, known here)
            l.consentEnds[twinId].push(uint48(previous), previous);
            twin.lastConsentEnd = uint40(previous);
        }
        twin.revocationEffectiveAt = revocationEffectiveAt;
    }

    /// @notice Mirrors a change of the consent for one usage category.
    function categoryConsentChanged(Ledger storage l, uint256 twinId, uint8 category, uint64 revocationEffectiveAt)
        external
    {
        TwinLedger storage twin = l.twins[twinId];
        uint8 bit = uint8(1) << category;
        uint256 shift = uint256(category) * 32;
        uint256 previous = (l.categoryRevokedAt[twinId] >> shift) & type(uint32).max;
        if (revocationEffectiveAt == 0 && twin.revokedCategories & bit != 0 && block.timestamp >= previous) {
            // slither-disable-next-line unused-return (push returns the previous and new values, known here)
            l.categoryEnds[twinId][category].push(uint48(previous), uint208(previous));
            twin.lastCategoryEnd = uint40(previous);
        }
        twin.revokedCategories = revocationEffectiveAt == 0 ? twin.revokedCategories & ~bit : twin.revokedCategories | bit;
        // A uint32 time ends in 2106; a later one is kept as the largest, as exclusivity cells are.
        uint256 at = revocationEffectiveAt > type(uint32).max ? type(uint32).max : revocationEffectiveAt;
        l.categoryRevokedAt[twinId] = (l.categoryRevokedAt[twinId] & ~(uint256(type(uint32).max) << shift)) | (at << shift);
    }

    // ---------------------------------------------------------------- escrow reclaims

    /// @notice Pays the holder the escrow left on licence `licenseId` once it ended and its grace period is over.
    function reclaimEscrow(Ledger storage l, IERC20 token, uint256 licenseId, address holder)
        external
        returns (uint64 amount)
    {
        uint40 end = licenseEnd(l, licenseId);
        if (block.timestamp < end) revert ILicenseToken.LicenseTokenStillActive(licenseId, end);
        uint40 graceEndsAt = graceEnd(l, end);
        if (block.timestamp < graceEndsAt) revert ILicenseToken.LicenseTokenInGrace(licenseId, graceEndsAt);
        TwinTypes.LicenseState storage state = l.licenses[licenseId];
        amount = state.escrow;
        if (amount == 0) revert ILicenseToken.LicenseTokenNothingToReclaim(licenseId);

        state.escrow = 0;
        l.totalEscrow -= amount;
        emit ILicenseToken.EscrowReclaimed(licenseId, holder, amount);
        token.safeTransfer(holder, amount);
    }

    /// @notice A transfer of licence `licenseId` from `seller` to `buyer` now: the escrow it holds becomes the
    /// seller's, for the uses she signed before now; the buyer starts with none. Refused while the previous seller
    /// still has escrow on it.
    function handOver(Ledger storage l, uint256 licenseId, address seller, address buyer) external {
        Handover storage last = l.handovers[licenseId];
        Funds storage funds = l.funds[licenseId];
        if (funds.sellerEscrow != 0) {
            revert ILicenseToken.LicenseTokenHandoverOpen(licenseId, last.seller, graceEnd(l, last.at));
        }
        TwinTypes.LicenseState storage state = l.licenses[licenseId];
        uint64 escrow = state.escrow;
        state.escrow = 0;
        funds.sellerEscrow = escrow;
        last.seller = seller;
        last.at = uint40(block.timestamp);
        emit ILicenseToken.LicenseHandedOver(licenseId, seller, buyer, escrow, uint40(block.timestamp));
    }

    /// @notice Pays the seller of handed-over licence `licenseId` her escrow left, once the grace period after the
    /// handover is over.
    function reclaimSellerEscrow(Ledger storage l, IERC20 token, uint256 licenseId, address caller)
        external
        returns (uint64 amount)
    {
        Handover memory last = l.handovers[licenseId];
        if (last.at == 0 || last.seller != caller) revert ILicenseToken.LicenseTokenNotSeller(licenseId, caller);
        uint40 graceEndsAt = graceEnd(l, last.at);
        if (block.timestamp < graceEndsAt) revert ILicenseToken.LicenseTokenInGrace(licenseId, graceEndsAt);
        Funds storage funds = l.funds[licenseId];
        amount = funds.sellerEscrow;
        if (amount == 0) revert ILicenseToken.LicenseTokenNothingToReclaim(licenseId);

        funds.sellerEscrow = 0;
        l.totalEscrow -= amount;
        emit ILicenseToken.SellerEscrowReclaimed(licenseId, caller, amount);
        token.safeTransfer(caller, amount);
    }

    // ---------------------------------------------------------------- upfront vesting

    /// @dev What licence `licenseId`'s upfront fee is and had vested at `at`: linearly from its purchase over its
    /// term (its offer's duration), stopping at its end. Also its end and the end of its term.
    function _vested(Ledger storage l, uint256 licenseId, uint256 at)
        private
        view
        returns (uint64 upfront, uint64 vested, uint40 end, uint40 termEnd)
    {
        LicenseDeal memory deal = l.deals[licenseId];
        uint256 startedAt = l.heads[licenseId].startedAt;
        uint256 duration = l.book.offers[deal.offerId].terms.duration;
        upfront = deal.upfrontFee;
        termEnd = uint40(startedAt + duration);
        end = licenseEnd(l, licenseId);
        uint256 until = at < end ? at : end;
        if (until > termEnd) until = termEnd;
        if (until > startedAt) vested = uint64((uint256(upfront) * (until - startedAt)) / duration);
    }

    /// @notice Credits each licence's vested, unreleased upfront fee to its twin's earnings. Reverts for an unknown id.
    function vest(Ledger storage l, uint256[] calldata licenseIds) external returns (uint256 amount) {
        for (uint256 i = 0; i < licenseIds.length; ++i) {
            uint256 licenseId = licenseIds[i];
            if (l.licenses[licenseId].expiry == 0) revert ILicenseToken.LicenseTokenUnknownLicense(licenseId);
            (, uint64 vested,,) = _vested(l, licenseId, block.timestamp);
            amount += _release(l, licenseId, vested);
        }
        if (amount != 0) {
            l.totalUnvested -= uint128(amount);
            l.totalOwed += uint128(amount);
        }
    }

    /// @dev Credits the twin with what of `vested` was not released yet; returns it. Totals are the caller's to move.
    function _release(Ledger storage l, uint256 licenseId, uint64 vested) private returns (uint64 amount) {
        Funds storage funds = l.funds[licenseId];
        uint64 released = funds.upfrontReleased;
        if (vested <= released) return 0;
        amount = vested - released;
        funds.upfrontReleased = vested;
        uint256 twinId = l.licenses[licenseId].twinId;
        l.twins[twinId].undistributed += amount;
        emit ILicenseToken.UpfrontVested(licenseId, twinId, amount);
    }

    /// @notice After an early end (before the term) that has passed: vests the part up to the end to the twin and pays
    /// the rest of the upfront fee back to `holder`.
    function reclaimUnvested(Ledger storage l, IERC20 token, uint256 licenseId, address holder)
        external
        returns (uint64 refund)
    {
        (uint64 upfront, uint64 vested, uint40 end, uint40 termEnd) = _vested(l, licenseId, block.timestamp);
        if (block.timestamp < end) revert ILicenseToken.LicenseTokenNotEnded(licenseId, end);
        refund = upfront - vested;
        if (end >= termEnd || refund == 0 || l.funds[licenseId].upfrontRefunded != 0) {
            revert ILicenseToken.LicenseTokenNothingToRefund(licenseId);
        }
        uint64 credited = _release(l, licenseId, vested);
        l.funds[licenseId].upfrontRefunded = refund;
        l.totalUnvested -= uint128(credited) + refund;
        l.totalOwed += credited;
        emit ILicenseToken.UpfrontRefunded(licenseId, holder, refund);
        token.safeTransfer(holder, refund);
    }

    /// @notice The upfront fee of licence `licenseId`: amount, vested so far, credited to the twin, and refundable
    /// now (the unvested part once an early end has passed, until refunded).
    function vesting(Ledger storage l, uint256 licenseId)
        external
        view
        returns (uint64 upfront, uint64 vested, uint64 released, uint64 refundable)
    {
        uint40 end;
        uint40 termEnd;
        (upfront, vested, end, termEnd) = _vested(l, licenseId, block.timestamp);
        Funds memory funds = l.funds[licenseId];
        released = funds.upfrontReleased;
        if (end < termEnd && block.timestamp >= end && funds.upfrontRefunded == 0) refundable = upfront - vested;
    }

    // ---------------------------------------------------------------- earnings

    /// @notice Splits the earnings of `twinIds` among their payees, then pays the caller her whole split balance.
    function withdraw(Ledger storage l, ITwinRegistry registry, IERC20 token, uint256[] memory twinIds)
        external
        returns (uint256 amount)
    {
        for (uint256 i = 0; i < twinIds.length; ++i) {
            distribute(l, registry, twinIds[i]);
        }
        amount = l.balances[msg.sender];
        // slither-disable-next-line incorrect-equality (an empty balance, not a balance to match exactly)
        if (amount == 0) revert ILicenseToken.LicenseTokenNothingToWithdraw(msg.sender);

        l.balances[msg.sender] = 0;
        l.withdrawn[msg.sender] += amount;
        l.totalOwed -= uint128(amount);
        emit ILicenseToken.Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @notice What `payee` would be paid after splitting `twinIds` (each counted once): her split balance plus her
    /// part of their undistributed earnings.
    function claimable(Ledger storage l, ITwinRegistry registry, address payee, uint256[] memory twinIds)
        external
        view
        returns (uint256 amount)
    {
        amount = l.balances[payee];
        for (uint256 i = 0; i < twinIds.length; ++i) {
            bool seen = false;
            for (uint256 j = 0; j < i && !seen; ++j) {
                seen = twinIds[j] == twinIds[i];
            }
            if (seen) continue;
            uint256 pending = l.twins[twinIds[i]].undistributed;
            if (pending != 0) amount += _shareOf(registry.payeesOf(twinIds[i]), pending, payee);
        }
    }

    /// @notice Splits a twin's undistributed earnings among its current payees and credits their balances.
    function distribute(Ledger storage l, ITwinRegistry registry, uint256 twinId) public {
        uint256 amount = l.twins[twinId].undistributed;
        // slither-disable-next-line incorrect-equality (nothing to split, not a balance to match exactly)
        if (amount == 0) return;
        l.twins[twinId].undistributed = 0;
        TwinTypes.Payee[] memory payees = registry.payeesOf(twinId);
        uint256[] memory parts = _split(payees, amount);
        // The model is credited last, as she always was: the order of the `EarningsDistributed` events is unchanged.
        for (uint256 i = 1; i < payees.length; ++i) {
            _credit(l, twinId, payees[i].account, parts[i]);
        }
        _credit(l, twinId, payees[0].account, parts[0]);
    }

    function _credit(Ledger storage l, uint256 twinId, address payee, uint256 amount) private {
        // slither-disable-next-line incorrect-equality (a zero share needs no credit or event)
        if (amount == 0) return;
        l.balances[payee] += amount;
        emit ILicenseToken.EarningsDistributed(twinId, payee, amount);
    }

    /// @dev What `distribute` would give `payee` out of `amount`: the same split, read instead of credited.
    function _shareOf(TwinTypes.Payee[] memory payees, uint256 amount, address payee) private pure returns (uint256) {
        uint256[] memory parts = _split(payees, amount);
        for (uint256 i = 0; i < payees.length; ++i) {
            // A payee is listed once per twin (the registry refuses duplicates), so the first match is the only one.
            if (payees[i].account == payee) return parts[i];
        }
        return 0;
    }

    /// @dev The one definition of how a twin's earnings are split, used both to credit them (`distribute`) and to
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
}
