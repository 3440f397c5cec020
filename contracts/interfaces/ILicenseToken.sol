// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TwinTypes} from "../libraries/TwinTypes.sol";

/// @title Licence tokens for digital twins, their escrow, per-use settlement and the payees' earnings.
/// @notice Holds all the stablecoin of the system. Invariant: its token balance equals
/// `totalEscrow() + totalUnvested() + totalOwed()` at every step (sellers' escrows are part of `totalEscrow`).
interface ILicenseToken {
    // ---------------------------------------------------------------- events

    /// @notice A model published an offer for her twin.
    event OfferPublished(uint256 indexed offerId, uint256 indexed twinId, TwinTypes.OfferTerms terms);

    /// @notice A model withdrew an offer; licences already bought under it are unaffected.
    event OfferWithdrawn(uint256 indexed offerId, uint256 indexed twinId);

    /// @notice A brand bought a licence; `upfrontFee` is held unvested (it vests to the twin's payees over the
    /// licence's term, `UpfrontVested`) and `escrow` is held for uses.
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
    /// `usesRoot` is the Merkle root of their use records, so each use can be proven against the chain. `payer` is
    /// whose escrow paid: the holder's (the licence escrow), or the seller's of a handed-over licence for uses the
    /// seller signed before the handover.
    event UsesSettled(
        uint256 indexed licenseId,
        uint256 indexed twinId,
        uint32 firstSeq,
        uint32 count,
        uint64 amount,
        bytes32 usesRoot,
        address payer
    );

    /// @notice `settle` skipped an item of licence `licenseId` (uses `firstSeq` .. `firstSeq + count - 1`): nothing of
    /// it changed, and the rest of the batch settled. `reason` is a `TwinTypes.SkipReason`.
    event SettleItemSkipped(uint256 indexed licenseId, uint32 firstSeq, uint32 count, uint8 reason);

    /// @notice `settle` voided an item of handed-over licence `licenseId` (uses `firstSeq` .. `firstSeq + count - 1`):
    /// its last report is the seller's, and her escrow can never pay it (`reason`, a `TwinTypes.SkipReason`: signed at
    /// or after the handover `NotHolder`, her escrow short `InsufficientEscrow`, her grace over `GraceOver`). The
    /// settled count moves past it and no money moves, so the buyer's later uses settle.
    event UsesVoided(uint256 indexed licenseId, uint32 firstSeq, uint32 count, uint8 reason);

    /// @notice The admin set the grace period: uses signed before a licence's end settle until that end plus
    /// `gracePeriod` seconds (time paused not counted).
    event GracePeriodSet(uint32 gracePeriod);

    /// @notice `amount` of licence `licenseId`'s upfront fee vested and was credited to twin `twinId`'s earnings.
    event UpfrontVested(uint256 indexed licenseId, uint256 indexed twinId, uint64 amount);

    /// @notice The unvested part of licence `licenseId`'s upfront fee, `amount`, was refunded to its holder `to`: the
    /// licence ended before its term (a revocation of consent took effect, or the model ended it idle).
    event UpfrontRefunded(uint256 indexed licenseId, address indexed to, uint64 amount);

    /// @notice Transferable licence `licenseId` changed hands at `at`: the escrow it held, `sellerEscrow`, stays the
    /// seller's and pays only uses the seller signed before `at`; the buyer starts with no escrow.
    event LicenseHandedOver(
        uint256 indexed licenseId, address indexed seller, address indexed buyer, uint64 sellerEscrow, uint40 at
    );

    /// @notice The seller of handed-over licence `licenseId` took back `amount`, what was left of her escrow once
    /// the grace period after the handover was over.
    event SellerEscrowReclaimed(uint256 indexed licenseId, address indexed seller, uint64 amount);

    /// @notice The twin's offers that include any of `categories` were withdrawn by a revocation of consent
    /// (`categories` = 0xFF for the whole twin, else the revoked category's bit). Granting consent again publishes
    /// nothing: they stay withdrawn.
    event TwinOffersWithdrawn(uint256 indexed twinId, uint8 categories);

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

    /// @notice The escrow of `licenseId` can be reclaimed only after its end (`expiry` here: its `licenseEnd`), and
    /// then once the grace period after it is over.
    error LicenseTokenStillActive(uint256 licenseId, uint40 expiry);

    /// @notice Licence `licenseId` (or its handover, for the seller's escrow) is within its grace period, which ends
    /// at `graceEndsAt` (later if the contract is paused meanwhile): uses signed in time may still be settled.
    error LicenseTokenInGrace(uint256 licenseId, uint40 graceEndsAt);

    /// @notice The admin asked for a grace period of `requested` seconds, above the `max` allowed.
    error LicenseTokenGracePeriodTooLong(uint32 requested, uint32 max);

    /// @notice Licence `licenseId` has not ended yet (it ends at `endsAt`): nothing of its upfront fee is refundable.
    error LicenseTokenNotEnded(uint256 licenseId, uint40 endsAt);

    /// @notice Licence `licenseId` has no unvested upfront fee to refund: it ran its full term, or it was refunded.
    error LicenseTokenNothingToRefund(uint256 licenseId);

    /// @notice `caller` is not the seller of handed-over licence `licenseId` (or it has no handover).
    error LicenseTokenNotSeller(uint256 licenseId, address caller);

    /// @notice Licence `licenseId` cannot change hands again while its previous `seller` still has escrow on it;
    /// she can reclaim it from `graceEndsAt`.
    error LicenseTokenHandoverOpen(uint256 licenseId, address seller, uint40 graceEndsAt);

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

    /// @notice Returns the unspent escrow to the holder once the licence ended (`licenseEnd`) and the grace period
    /// after it is over (`graceEndsAt`). Not pausable.
    function reclaimEscrow(uint256 licenseId) external returns (uint64 amount);

    /// @notice Refunds the holder the unvested part of the upfront fee of licence `licenseId`, which ended before its
    /// term (a revocation of consent took effect, or the model ended it idle) and whose end has passed; the part vested
    /// up to the end goes to the twin first (`UpfrontVested`). Holder only.
    function reclaimUnvested(uint256 licenseId) external returns (uint64 amount);

    /// @notice The seller of handed-over licence `licenseId` takes back what is left of her escrow, once the grace
    /// period after the handover is over (pause excluded). Not pausable.
    function reclaimSellerEscrow(uint256 licenseId) external returns (uint64 amount);

    /// @notice The twin's model ends exclusive licence `licenseId` that has settled no use for the idle period its
    /// offer stated (counted from its purchase or its last settled use): it expires now, its exclusivity is released,
    /// and its holder may reclaim the escrow left.
    function endIdleExclusive(uint256 licenseId) external;

    // ---------------------------------------------------------------- settlement (recorder)

    /// @notice Pays settled uses from escrow to the twins' payees. Reverts only for a caller without the recorder
    /// role, while paused, or for an empty batch: an item that cannot settle is skipped (`SettleItemSkipped` with its
    /// `TwinTypes.SkipReason`) and the others settle. An item settles when it starts at the licence's settled count,
    /// names the categories of its uses (non-empty, within the licence, including the last report's), has a non-zero
    /// uses root, and carries the signature of whoever held the licence at its last report's time (the seller for a
    /// report before an open handover) over that report; the report predates the end that applies (licence end, or
    /// a revoked category's effective time) and now is within the grace period after it; the uses stay within
    /// `maxUses` and the paying escrow covers them.
    function settle(TwinTypes.SettleItem[] calldata items) external;

    /// @notice The EIP-712 digest of a use report (domain "Twin Licence", version "1", this chain, this contract):
    /// what the holder signs and `settle` recovers the signer from.
    function useReportDigest(
        uint256 licenseId,
        uint32 seq,
        bytes32 useRef,
        uint8 category,
        uint8 territory,
        uint64 usedAt
    ) external view returns (bytes32);

    // ---------------------------------------------------------------- grace (admin)

    /// @notice Sets the grace period (seconds, at most 90 days); emits `GracePeriodSet`. DEFAULT_ADMIN_ROLE only.
    function setGracePeriod(uint32 seconds_) external;

    /// @notice The grace period: how long after a licence's end (time paused not counted) uses signed before it
    /// still settle. Default 7 days.
    function gracePeriod() external view returns (uint32);

    // ---------------------------------------------------------------- upfront vesting

    /// @notice Anyone: credits each licence's vested but unreleased upfront fee to its twin's undistributed earnings
    /// (`UpfrontVested`); an id with nothing new to vest is a no-op. Reverts `LicenseTokenUnknownLicense` for an
    /// unknown id. Returns the total vested.
    function vest(uint256[] calldata licenseIds) external returns (uint256 amount);

    /// @notice `vest(licenseIds)` then `withdraw()`: what a model's withdrawal calls. Returns what was paid.
    function withdrawVested(uint256[] calldata licenseIds) external returns (uint256 amount);

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

    /// @notice When licence `licenseId` ends: the earliest of its expiry (set to the time the model ended it, when
    /// ended idle) and the effective time of a revocation of its twin's consent alive at its purchase (pending ones
    /// included). A revocation that took effect ends it for good, even if consent is granted again.
    /// @dev Reverts with `LicenseTokenUnknownLicense` when there is no such licence.
    function licenseEnd(uint256 licenseId) external view returns (uint40);

    /// @notice Until when uses of licence `licenseId` signed before its end may settle, and from when its escrow can
    /// be reclaimed: end + grace period + the time paused since the end (so far).
    /// @dev Reverts with `LicenseTokenUnknownLicense` when there is no such licence.
    function graceEndsAt(uint256 licenseId) external view returns (uint40);

    /// @notice The upfront fee of licence `licenseId`: the amount, what vested so far (up to its end), what was
    /// credited to the twin already, and what its holder could have refunded (unvested after an early end; 0 otherwise
    /// or once refunded).
    /// @dev Reverts with `LicenseTokenUnknownLicense` when there is no such licence.
    function vesting(uint256 licenseId)
        external
        view
        returns (uint64 upfront, uint64 vested, uint64 released, uint64 refundable);

    /// @notice The last handover of licence `licenseId`: its seller, when it changed hands, and the seller's escrow
    /// left (zero once reclaimed or spent; seller and time stay). All zero when it never changed hands.
    /// @dev Reverts with `LicenseTokenUnknownLicense` when there is no such licence.
    function handover(uint256 licenseId) external view returns (address seller, uint40 at, uint64 sellerEscrow);

    /// @notice All upfront fees held and not yet vested to the twins (nor refunded).
    function totalUnvested() external view returns (uint256);

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
