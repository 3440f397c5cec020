// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TwinTypes} from "../libraries/TwinTypes.sol";

/// @title Licence tokens for digital twins, their escrow, per-use settlement and the payees' earnings.
/// @notice Holds all the stablecoin of the system. Invariant: its token balance equals
/// `totalEscrow() + totalOwed()` at every step.
interface ILicenseToken {
    // ---------------------------------------------------------------- events

    /// @notice A model published an offer for her twin.
    event OfferPublished(uint256 indexed offerId, uint256 indexed twinId, TwinTypes.OfferTerms terms);

    /// @notice A model withdrew an offer; licences already bought under it are unaffected.
    event OfferWithdrawn(uint256 indexed offerId, uint256 indexed twinId);

    /// @notice A brand bought a licence; `upfrontFee` went to the twin's payees and `escrow` is held for uses.
    event LicensePurchased(
        uint256 indexed licenseId,
        uint256 indexed offerId,
        uint256 indexed twinId,
        address buyer,
        uint64 upfrontFee,
        uint64 escrow,
        uint40 expiry
    );

    /// @notice Escrow was added to a licence.
    event EscrowToppedUp(uint256 indexed licenseId, address indexed from, uint64 amount, uint64 escrow);

    /// @notice The holder took back the unspent escrow of an expired or revoked licence.
    event EscrowReclaimed(uint256 indexed licenseId, address indexed to, uint64 amount);

    /// @notice `count` uses of a licence, numbered `firstSeq` .. `firstSeq + count - 1`, were paid from escrow.
    /// `usesRoot` is the Merkle root of their use records, so each use can be proven against the chain.
    event UsesSettled(
        uint256 indexed licenseId,
        uint256 indexed twinId,
        uint32 firstSeq,
        uint32 count,
        uint64 amount,
        bytes32 usesRoot
    );

    /// @notice A twin's earnings not yet split were split among its payees (before a payee change or a withdrawal).
    event EarningsDistributed(uint256 indexed twinId, address indexed payee, uint256 amount);

    /// @notice A payee withdrew her claimable earnings.
    event Withdrawn(address indexed payee, uint256 amount);

    /// @notice The model ended exclusive licence `licenseId`, idle for the period its offer stated: it expired at
    /// `endedAt` (now), its exclusivity is released, and its holder may reclaim the escrow left.
    event ExclusiveLicenseEnded(uint256 indexed licenseId, uint256 indexed twinId, uint40 endedAt);

    // ---------------------------------------------------------------- errors

    /// @notice The constructor was given the zero address as admin, registry or payment token.
    error LicenseTokenZeroAddress();

    /// @notice A registry hook was called by `caller`, which is not the twin registry.
    error LicenseTokenNotRegistry(address caller);

    /// @notice `caller` tried to publish or withdraw an offer of `twinId` but is not the twin's model.
    error LicenseTokenNotModel(uint256 twinId, address caller);

    /// @notice No offer has the id `offerId`.
    error LicenseTokenUnknownOffer(uint256 offerId);

    /// @notice The offer `offerId` was withdrawn: nothing can be bought under it, and it cannot be withdrawn again.
    error LicenseTokenOfferInactive(uint256 offerId);

    /// @notice The offer's terms are unusable; `reason` names the field ("no usage category", "no territory",
    /// "zero duration", "zero per-use fee", "exclusive without idle period", "idle period without exclusivity").
    error LicenseTokenInvalidTerms(string reason);

    /// @notice The offer's `perUseFee` is below `floor`, the highest guild floor among its categories.
    error LicenseTokenFeeBelowFloor(uint48 perUseFee, uint48 floor);

    /// @notice Offer `offerId` cannot be bought: its `perUseFee` is below `floor`, the highest guild floor of its
    /// categories today (the guild raised a floor after it was published).
    error LicenseTokenOfferBelowFloor(uint256 offerId, uint48 perUseFee, uint48 floor);

    /// @notice An exclusive offer's `upfrontFee` is below the guild's exclusivity `minimum` (at publication, or at
    /// purchase when the guild raised the minimum since).
    error LicenseTokenExclusiveUpfrontTooLow(uint64 upfrontFee, uint64 minimum);

    /// @notice Licence `licenseId` is not exclusive: only an exclusive licence can be ended for being idle.
    error LicenseTokenNotExclusive(uint256 licenseId);

    /// @notice Licence `licenseId` settled a use less than its offer's idle period ago (or was bought less than that
    /// ago): the model may end it from `endableAt`.
    error LicenseTokenNotIdle(uint256 licenseId, uint40 endableAt);

    /// @notice The model of `twinId` has revoked consent (pending or in effect): no offer or purchase until she
    /// grants it again.
    error LicenseTokenConsentNotGranted(uint256 twinId);

    /// @notice The revocation of consent for `twinId` took effect at `effectiveAt`: no more top-ups or settlements.
    error LicenseTokenConsentRevoked(uint256 twinId, uint64 effectiveAt);

    /// @notice The model of `twinId` has revoked consent (pending or in effect) for the usage categories in the
    /// bitmask `categories`, which the offer includes: no offer or purchase including them until she grants them again.
    error LicenseTokenCategoryConsentNotGranted(uint256 twinId, uint8 categories);

    /// @notice A settlement item's uses include usage category `category` of `twinId`, whose revocation of consent
    /// took effect at `effectiveAt`.
    error LicenseTokenCategoryConsentRevoked(uint256 twinId, uint8 category, uint64 effectiveAt);

    /// @notice A settlement item of `licenseId` carries the category bitmask `categories`, which is empty or not within
    /// the licence's `licensed` categories.
    error LicenseTokenItemCategoriesInvalid(uint256 licenseId, uint8 categories, uint8 licensed);

    /// @notice The purchase overlaps a licence of `twinId` in `category` and `territory` that runs until `until`:
    /// an exclusive one, or, when the purchase is itself exclusive, any one.
    error LicenseTokenExclusivityConflict(uint256 twinId, uint8 category, uint8 territory, uint40 until);

    /// @notice The caller allowed this contract to take only `allowance` of the `needed` payment tokens.
    error LicenseTokenInsufficientAllowance(uint256 needed, uint256 allowance);

    /// @notice The caller holds only `balance` of the `needed` payment tokens.
    error LicenseTokenInsufficientBalance(uint256 needed, uint256 balance);

    /// @notice A top-up would bring the licence's escrow to `escrow`, above the `max` one licence can hold.
    error LicenseTokenEscrowTooLarge(uint256 escrow, uint256 max);

    /// @notice No licence has the id `licenseId`.
    error LicenseTokenUnknownLicense(uint256 licenseId);

    /// @notice The licence `licenseId` was bought under terms that do not allow it to change hands (ERC-5192
    /// locked): a transfer, or an `approve` of it, was attempted.
    error LicenseTokenNotTransferable(uint256 licenseId);

    /// @notice `caller` tried to reclaim the escrow of `licenseId` but does not hold the licence.
    error LicenseTokenNotHolder(uint256 licenseId, address caller);

    /// @notice The licence `licenseId` expired at `expiry`: no more top-ups or settlements.
    error LicenseTokenExpired(uint256 licenseId, uint40 expiry);

    /// @notice The escrow of `licenseId` can be reclaimed only after `expiry` or once a revocation took effect.
    error LicenseTokenStillActive(uint256 licenseId, uint40 expiry);

    /// @notice A top-up of zero.
    error LicenseTokenZeroAmount();

    /// @notice A settlement without any item.
    error LicenseTokenEmptyBatch();

    /// @notice A settlement item of `licenseId` with zero uses.
    error LicenseTokenZeroCount(uint256 licenseId);

    /// @notice A settlement item of `licenseId` starts at `firstSeq`, but the next unsettled use is `expected`:
    /// the item replays settled uses or skips some.
    error LicenseTokenSequenceMismatch(uint256 licenseId, uint32 expected, uint32 firstSeq);

    /// @notice A settlement item would bring the uses of `licenseId` to `requested`, above its `maxUses`.
    error LicenseTokenMaxUsesExceeded(uint256 licenseId, uint32 maxUses, uint64 requested);

    /// @notice A settlement item of `licenseId` costs `needed`, more than the `escrow` left.
    error LicenseTokenInsufficientEscrow(uint256 licenseId, uint256 needed, uint64 escrow);

    /// @notice `payee` has nothing to withdraw (after splitting the twins asked for).
    error LicenseTokenNothingToWithdraw(address payee);

    /// @notice The licence `licenseId` has no escrow left to reclaim.
    error LicenseTokenNothingToReclaim(uint256 licenseId);

    // ---------------------------------------------------------------- offers (the twin's model)

    /// @notice Publishes terms for the caller's twin. The caller needs a valid guild attestation as a model (the
    /// registry's errors say what is wrong with it). The per-use fee must meet the guild floor of every category; an
    /// exclusive offer needs an upfront fee of at least the guild's exclusivity minimum and an idle period.
    function publishOffer(uint256 twinId, TwinTypes.OfferTerms calldata terms) external returns (uint256 offerId);

    /// @notice Withdraws an offer so that no further licence is bought under it.
    function withdrawOffer(uint256 offerId) external;

    // ---------------------------------------------------------------- licences (brands)

    /// @notice Buys a licence under `offerId`, paying its upfront fee and `escrow` for future uses (approve first).
    /// Refused when the offer's per-use fee is below today's floor of one of its categories, or, for an exclusive
    /// offer, its upfront fee below today's exclusivity minimum. A non-transferable licence is minted locked
    /// (ERC-5192 `Locked`).
    function buyLicense(uint256 offerId, uint64 escrow) external returns (uint256 licenseId);

    /// @notice Same as `buyLicense`, authorising the payment with an EIP-2612 permit signed by the caller.
    function buyLicenseWithPermit(uint256 offerId, uint64 escrow, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        returns (uint256 licenseId);

    /// @notice Adds escrow to a licence; anyone may pay it.
    function topUpEscrow(uint256 licenseId, uint64 amount) external;

    /// @notice Returns the unspent escrow to the holder once the licence expired or its consent was revoked.
    function reclaimEscrow(uint256 licenseId) external returns (uint64 amount);

    /// @notice The twin's model ends exclusive licence `licenseId` that has settled no use for the idle period its
    /// offer stated (counted from its purchase or its last settled use): it expires now, its exclusivity is released,
    /// and its holder may reclaim the escrow left.
    function endIdleExclusive(uint256 licenseId) external;

    // ---------------------------------------------------------------- settlement (recorder)

    /// @notice Pays settled uses from escrow to the twins' payees. Reverts as a whole if any item is invalid. Each
    /// item names the usage categories of its uses (`categories`): non-empty, within the licence's categories, and
    /// none whose revocation of consent has taken effect.
    function settle(TwinTypes.SettleItem[] calldata items) external;

    // ---------------------------------------------------------------- earnings (payees)

    /// @notice Pays the caller everything she may claim from the twins she counts (`twinsOfPayee`: her own and
    /// those she accepted), and her balance already split from any twin.
    function withdraw() external returns (uint256 amount);

    /// @notice Splits the earnings of the given twins only, then pays the caller her whole split balance.
    /// @dev Bounds the work of a withdrawal for a payee named on very many twins (`withdraw` visits them all).
    function withdrawFrom(uint256[] calldata twinIds) external returns (uint256 amount);

    /// @notice What `withdraw()` would pay `payee` now: her split balance plus her part of the undistributed earnings
    /// of the twins she counts (`twinsOfPayee`). Parts of twins she has not accepted are not included (see
    /// `claimableFrom`).
    function claimable(address payee) external view returns (uint256);

    /// @notice What `withdrawFrom(twinIds)` would pay `payee` now: her split balance plus her part of the
    /// undistributed earnings of `twinIds` (each counted once), accepted or not.
    function claimableFrom(address payee, uint256[] calldata twinIds) external view returns (uint256);

    /// @notice Everything `payee` has earned: withdrawn plus claimable.
    function totalEarned(address payee) external view returns (uint256);

    // ---------------------------------------------------------------- views

    /// @notice The offer `offerId`: its twin, whether it is still active, and its terms.
    /// @dev Reverts with `LicenseTokenUnknownOffer` when there is no such offer.
    function offer(uint256 offerId) external view returns (TwinTypes.Offer memory);

    /// @notice The settlement state of licence `licenseId`: escrow left, uses settled, use limit, expiry, per-use fee
    /// and twin.
    /// @dev Reverts with `LicenseTokenUnknownLicense` when there is no such licence.
    function licenseState(uint256 licenseId) external view returns (TwinTypes.LicenseState memory);

    /// @notice The terms licence `licenseId` was bought under, snapshotted from its offer at purchase.
    /// @dev Reverts with `LicenseTokenUnknownLicense` when there is no such licence.
    function licenseTerms(uint256 licenseId) external view returns (TwinTypes.LicenseTerms memory);

    /// @notice When the model may end exclusive licence `licenseId` for being idle: its offer's idle period after its
    /// purchase or its last settled use, whichever is later. 0 when the licence is not exclusive.
    /// @dev Reverts with `LicenseTokenUnknownLicense` when there is no such licence.
    function idleEndableAt(uint256 licenseId) external view returns (uint40);

    /// @notice Earnings of a twin not yet split among its payees.
    function undistributed(uint256 twinId) external view returns (uint256);

    /// @notice All escrow held for licences.
    function totalEscrow() external view returns (uint256);

    /// @notice All earnings owed to payees (claimable, whether split yet or not).
    function totalOwed() external view returns (uint256);

    /// @notice The stablecoin every fee, escrow and earning is paid in.
    function paymentToken() external view returns (address);

    /// @notice The twin registry this contract takes twins, payees, consent and guild floors from.
    function registry() external view returns (address);

    /// @notice How many offers were ever published; offer ids run from 1 to this.
    function offerCount() external view returns (uint256);

    /// @notice How many licences were ever bought; licence ids run from 1 to this.
    function licenseCount() external view returns (uint256);
}
