// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ILicenseToken} from "../interfaces/ILicenseToken.sol";
import {ITwinRegistry} from "../interfaces/ITwinRegistry.sol";
import {TwinTypes} from "./TwinTypes.sol";

/// @title The offers of the licence contract and the guild's rules on them: terms, floors, the exclusivity minimum,
/// and the exclusivity each purchase claims.
/// @dev A linked library (external functions, deployed once, called by DELEGATECALL): its code runs on the licence
/// contract's storage and emits the licence contract's events, so offers keep their address and ABI, while its
/// bytecode stays out of the licence contract's size limit. Only the licence contract calls it with its own storage.
library OfferBook {
    /// @dev The licence contract's offer storage.
    struct Book {
        uint256 offerCount;
        mapping(uint256 offerId => TwinTypes.Offer) offers;
        // Per twin and usage category, one slot holds eight uint32 timestamps, one per territory (`_cellOf`
        // reads one, `_withCell` writes one): until when an exclusive licence, respectively any licence, of
        // that twin covers that category in that territory. So one slot read per category tells whether a purchase
        // collides with an exclusive licence, or an exclusive one with any licence.
        mapping(uint256 twinId => mapping(uint8 category => uint256)) exclusiveUntil;
        mapping(uint256 twinId => mapping(uint8 category => uint256)) licensedUntil;
        // Per twin, eight uint32 offer ids, one per usage category (bits 32*i..): a revocation of consent withdraws the
        // twin's offers published so far that include the category (a whole-twin one: every category) by recording the
        // offer count in its cell. One slot, whatever the number of offers; granting consent again leaves it.
        mapping(uint256 twinId => uint256) withdrawnThrough;
    }

    /// @notice Publishes `terms` for `twinId` on behalf of the caller, who must be its model with a valid guild
    /// attestation, while consent is granted (`revocationEffectiveAt` 0) and none of its categories is revoked
    /// (`revokedCategories`, pending or in effect).
    function publish(
        Book storage book,
        ITwinRegistry registry,
        uint256 twinId,
        TwinTypes.OfferTerms calldata terms,
        uint64 revocationEffectiveAt,
        uint8 revokedCategories
    ) external returns (uint256 offerId) {
        address model = registry.modelOf(twinId);
        if (model != msg.sender) revert ILicenseToken.LicenseTokenNotModel(twinId, msg.sender);
        // Reverts with the registry's named error when the model's attestation is missing, expired or revoked.
        // slither-disable-next-line unused-return (called for its refusal; the id is not needed)
        registry.requireAttested(model, TwinTypes.PayeeRole.Model);
        if (revocationEffectiveAt != 0) revert ILicenseToken.LicenseTokenConsentNotGranted(twinId);
        uint8 refused = terms.categories & revokedCategories;
        if (refused != 0) revert ILicenseToken.LicenseTokenCategoryConsentNotGranted(twinId, refused);
        if (terms.categories == 0) revert ILicenseToken.LicenseTokenInvalidTerms("no usage category");
        if (terms.territories == 0) revert ILicenseToken.LicenseTokenInvalidTerms("no territory");
        if (terms.duration == 0) revert ILicenseToken.LicenseTokenInvalidTerms("zero duration");
        if (terms.perUseFee == 0) revert ILicenseToken.LicenseTokenInvalidTerms("zero per-use fee");
        if (terms.exclusive && terms.idleEndAfter == 0) {
            revert ILicenseToken.LicenseTokenInvalidTerms("exclusive without idle period");
        }
        if (!terms.exclusive && terms.idleEndAfter != 0) {
            revert ILicenseToken.LicenseTokenInvalidTerms("idle period without exclusivity");
        }
        uint48 floor = registry.floorFor(terms.categories);
        if (terms.perUseFee < floor) revert ILicenseToken.LicenseTokenFeeBelowFloor(terms.perUseFee, floor);
        _requireExclusivityMinimum(registry, terms);

        offerId = ++book.offerCount;
        // Offer ids are compared with the uint32 cells of `withdrawnThrough`: SafeCast refuses one beyond them.
        book.offers[SafeCast.toUint32(offerId)] = TwinTypes.Offer({twinId: SafeCast.toUint40(twinId), active: true, terms: terms});
        emit ILicenseToken.OfferPublished(offerId, twinId, terms);
    }

    /// @notice Withdraws offer `offerId` on behalf of the caller, who must be its twin's model.
    function withdraw(Book storage book, ITwinRegistry registry, uint256 offerId) external {
        TwinTypes.Offer storage stored = book.offers[offerId];
        uint256 twinId = stored.twinId;
        if (twinId == 0) revert ILicenseToken.LicenseTokenUnknownOffer(offerId);
        if (registry.modelOf(twinId) != msg.sender) revert ILicenseToken.LicenseTokenNotModel(twinId, msg.sender);
        if (!_isActive(book, offerId, stored.active, twinId, stored.terms.categories)) {
            revert ILicenseToken.LicenseTokenOfferInactive(offerId);
        }
        stored.active = false;
        emit ILicenseToken.OfferWithdrawn(offerId, twinId);
    }

    /// @notice The offer `offerId` if it can be bought today: it exists, is active, its per-use fee meets today's
    /// floors and, when exclusive, its upfront fee today's exclusivity minimum.
    function take(Book storage book, ITwinRegistry registry, uint256 offerId)
        external
        view
        returns (TwinTypes.Offer memory offered)
    {
        offered = book.offers[offerId];
        if (offered.twinId == 0) revert ILicenseToken.LicenseTokenUnknownOffer(offerId);
        if (!_isActive(book, offerId, offered.active, offered.twinId, offered.terms.categories)) {
            revert ILicenseToken.LicenseTokenOfferInactive(offerId);
        }
        uint48 floor = registry.floorFor(offered.terms.categories);
        if (offered.terms.perUseFee < floor) {
            revert ILicenseToken.LicenseTokenOfferBelowFloor(offerId, offered.terms.perUseFee, floor);
        }
        _requireExclusivityMinimum(registry, offered.terms);
    }

    /// @notice The offer `offerId`, `active` false once withdrawn by its model or by a revocation of consent.
    function offerOf(Book storage book, uint256 offerId) external view returns (TwinTypes.Offer memory offered) {
        offered = book.offers[offerId];
        if (offered.twinId == 0) revert ILicenseToken.LicenseTokenUnknownOffer(offerId);
        offered.active = _isActive(book, offerId, offered.active, offered.twinId, offered.terms.categories);
    }

    /// @notice Withdraws every offer of `twinId` published so far that includes one of `categories` (0xFF: all), for
    /// a revocation of consent; later offers are unaffected.
    function withdrawTwinOffers(Book storage book, uint256 twinId, uint8 categories) external {
        uint256 cells = book.withdrawnThrough[twinId];
        uint256 through = book.offerCount;
        for (uint8 category = 0; category < TwinTypes.CATEGORY_COUNT; ++category) {
            if (categories & (1 << category) != 0) cells = _withCell(cells, category, through);
        }
        book.withdrawnThrough[twinId] = cells;
        emit ILicenseToken.TwinOffersWithdrawn(twinId, categories);
    }

    /// @dev Whether offer `offerId` (of `twinId`, with `categories`, its own flag `active`) can still be bought: its
    /// model did not withdraw it and no revocation since its publication covers one of its categories.
    function _isActive(Book storage book, uint256 offerId, bool active, uint256 twinId, uint8 categories)
        private
        view
        returns (bool)
    {
        if (!active) return false;
        uint256 cells = book.withdrawnThrough[twinId];
        for (uint8 category = 0; category < TwinTypes.CATEGORY_COUNT; ++category) {
            if (categories & (1 << category) != 0 && offerId <= _cellOf(cells, category)) return false;
        }
        return true;
    }

    /// @notice Rejects a purchase that collides with an exclusive licence (or, when exclusive, with any licence) of
    /// the same twin, category and territory, and records this one until `expiry`. One slot read and write per
    /// category, whatever the number of territories.
    function claim(Book storage book, uint256 twinId, TwinTypes.OfferTerms memory terms, uint40 expiry) external {
        // A cell holds a uint32 timestamp, which ends in 2106: a later expiry is recorded as that, and frees its cells
        // then rather than at the real expiry.
        uint256 until = _cell(expiry);
        for (uint8 category = 0; category < TwinTypes.CATEGORY_COUNT; ++category) {
            if (terms.categories & (1 << category) == 0) continue;
            uint256 exclusiveSlot = book.exclusiveUntil[twinId][category];
            uint256 licensedSlot = book.licensedUntil[twinId][category];
            for (uint8 territory = 0; territory < TwinTypes.TERRITORY_COUNT; ++territory) {
                if (terms.territories & (1 << territory) == 0) continue;
                uint256 exclusiveEnd = _cellOf(exclusiveSlot, territory);
                if (exclusiveEnd > block.timestamp) {
                    revert ILicenseToken.LicenseTokenExclusivityConflict(
                        twinId, category, territory, uint40(exclusiveEnd)
                    );
                }
                uint256 licensedEnd = _cellOf(licensedSlot, territory);
                if (terms.exclusive) {
                    if (licensedEnd > block.timestamp) {
                        revert ILicenseToken.LicenseTokenExclusivityConflict(
                            twinId, category, territory, uint40(licensedEnd)
                        );
                    }
                    exclusiveSlot = _withCell(exclusiveSlot, territory, until);
                }
                // Keep the latest end: a shorter licence bought later must not shorten what an exclusive one waits for.
                if (until > licensedEnd) licensedSlot = _withCell(licensedSlot, territory, until);
            }
            if (terms.exclusive) book.exclusiveUntil[twinId][category] = exclusiveSlot;
            book.licensedUntil[twinId][category] = licensedSlot;
        }
    }

    /// @notice Frees the cells an exclusive licence ending early (it was to run until `expiry`) holds: no other
    /// licence can share them (an exclusive purchase needs them free, and nothing is bought on them after), so each
    /// of its cells still holding its end becomes free now.
    function release(Book storage book, uint256 twinId, uint8 categories, uint8 territories, uint40 expiry) external {
        uint256 until = _cell(expiry);
        for (uint8 category = 0; category < TwinTypes.CATEGORY_COUNT; ++category) {
            if (categories & (1 << category) == 0) continue;
            uint256 exclusiveSlot = book.exclusiveUntil[twinId][category];
            uint256 licensedSlot = book.licensedUntil[twinId][category];
            for (uint8 territory = 0; territory < TwinTypes.TERRITORY_COUNT; ++territory) {
                if (territories & (1 << territory) == 0) continue;
                if (_cellOf(exclusiveSlot, territory) == until) {
                    exclusiveSlot = _withCell(exclusiveSlot, territory, 0);
                }
                if (_cellOf(licensedSlot, territory) == until) {
                    licensedSlot = _withCell(licensedSlot, territory, 0);
                }
            }
            book.exclusiveUntil[twinId][category] = exclusiveSlot;
            book.licensedUntil[twinId][category] = licensedSlot;
        }
    }

    function _requireExclusivityMinimum(ITwinRegistry registry, TwinTypes.OfferTerms memory terms) private view {
        if (!terms.exclusive) return;
        uint64 minimum = registry.exclusivityMinimum();
        if (terms.upfrontFee < minimum) revert ILicenseToken.LicenseTokenExclusiveUpfrontTooLow(terms.upfrontFee, minimum);
    }

    function _cell(uint40 expiry) private pure returns (uint256) {
        return expiry > type(uint32).max ? type(uint32).max : expiry;
    }

    /// @dev Cell `index` (0..7) of a slot packing eight uint32 values from bit `32 * index`: a territory's "until when"
    /// in the exclusivity slots (zero, or any time not after now, means free), a category's offer id in
    /// `withdrawnThrough`.
    function _cellOf(uint256 slot, uint8 index) private pure returns (uint256) {
        return (slot >> (uint256(index) * 32)) & type(uint32).max;
    }

    /// @dev `slot` with cell `index` replaced by `value` (at most uint32), the others unchanged.
    function _withCell(uint256 slot, uint8 index, uint256 value) private pure returns (uint256) {
        uint256 shift = uint256(index) * 32;
        return (slot & ~(uint256(type(uint32).max) << shift)) | (value << shift);
    }
}
