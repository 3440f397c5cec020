// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Shared types of the twin licensing contracts.
library TwinTypes {
    /// @dev Shares are in basis points of every amount credited to a twin; they sum to this.
    uint16 internal constant TOTAL_SHARES_BPS = 10_000;

    /// @dev Usage categories and territories are bitmasks of at most 8 bits each.
    uint8 internal constant CATEGORY_COUNT = 8;
    uint8 internal constant TERRITORY_COUNT = 8;

    /// @notice Who a payee is to the twin. The model is always the first payee and takes rounding remainders.
    enum PayeeRole {
        Model,
        Agency,
        Crew
    }

    /// @notice One payee of a twin and its share of every amount the twin earns.
    struct Payee {
        address account;
        uint16 shareBps;
        PayeeRole role;
    }

    /// @notice Consent of the model to the use of her twin.
    /// Granted: licences may be bought and settled.
    /// RevocationPending: no new licence may be bought; uses still settle until the notice period ends.
    /// Revoked: nothing more settles; brands reclaim their unspent escrow.
    enum ConsentState {
        Granted,
        RevocationPending,
        Revoked
    }

    /// @notice Terms a model publishes for her twin. Amounts are in the payment token's smallest unit.
    /// @dev Field widths are chosen so that an offer fills exactly one storage slot.
    struct OfferTerms {
        uint64 upfrontFee; // paid at purchase; vests to the payees linearly over the licence's term
        uint48 perUseFee; // paid to the payees per settled use, from escrow
        uint32 duration; // seconds from purchase to expiry
        uint32 maxUses; // 0 = unlimited
        uint8 categories; // bitmask of allowed usage categories
        uint8 territories; // bitmask of allowed territories
        bool exclusive; // blocks other licences of the same twin, category and territory until expiry
        bool transferable; // whether the licence token may change hands
        // Exclusive offers only (required there, 0 otherwise): seconds without a settled use after which the model
        // may end an exclusive licence bought under the offer (`endIdleExclusive`).
        uint32 idleEndAfter;
    }

    /// @notice A published offer.
    struct Offer {
        uint40 twinId;
        bool active;
        OfferTerms terms;
    }

    /// @notice The settlement state of a licence: exactly one storage slot, read and written once per settled item.
    struct LicenseState {
        uint64 escrow; // prepaid amount left for uses
        uint32 usesSettled; // = the sequence number the next settlement must start at
        uint32 maxUses; // type(uint32).max when unlimited
        uint40 expiry; // unix seconds; uses settle only before it
        uint48 perUseFee;
        uint40 twinId;
    }

    /// @notice What a licence was bought under: the offer's terms snapshotted at purchase.
    struct LicenseTerms {
        uint64 offerId;
        uint64 upfrontFee;
        uint40 startedAt;
        uint8 categories;
        uint8 territories;
        bool exclusive;
        bool transferable;
        uint32 idleEndAfter; // from the offer: seconds without a settled use before the model may end it (exclusive)
    }

    /// @notice What the guild vouches for: that `subject` is a model or an agency (role Model or Agency), from
    /// `issuedAt` until `expiresAt` unless revoked. One storage slot. Its label is in the `Attested` event only.
    struct Attestation {
        address subject;
        PayeeRole role; // Model or Agency, never Crew
        uint40 issuedAt;
        uint40 expiresAt;
        bool revoked;
    }

    /// @notice One item of a settlement batch: `count` uses of one licence, numbered from `firstSeq`, with the
    /// holder-signed report of its last use (sequence number `firstSeq + count - 1`). The signature over that report is
    /// what lets the contract pay the item: a holder who signed use N acknowledged N + 1 uses in all.
    struct SettleItem {
        uint256 licenseId;
        uint32 firstSeq;
        uint32 count;
        bytes32 usesRoot; // Merkle root of the item's use records; zero is refused (skip EmptyUsesRoot)
        // Bitmask of the usage categories of the item's uses (the union of their leaves' categories): non-empty,
        // within the licence's categories, and containing the last report's category.
        uint8 categories;
        // The last use's report, as the holder signed it (EIP-712 `UseReport`; its licenseId is the item's and its
        // seq is firstSeq + count - 1):
        bytes32 useRef;
        uint8 category;
        uint8 territory;
        uint64 usedAt;
        // The holder's signature over that report in EIP-2098 compact form: r, and s with v's parity in the top bit
        // (v = 28 sets it). A high s is refused.
        bytes32 sigR;
        bytes32 sigVS;
    }

    /// @notice Why `settle` skipped an item (`SettleItemSkipped.reason`): the item changed nothing and the rest of the
    /// batch settled. The order is part of the ABI.
    enum SkipReason {
        UnknownLicense, // 0: no licence has the item's id
        SequenceMismatch, // 1: firstSeq is not the licence's settled count (a replay, an overlap or a gap)
        ZeroCount, // 2: no use in the item
        CategoriesInvalid, // 3: mask empty, outside the licence, or without the last report's category
        EmptyUsesRoot, // 4: usesRoot is zero: the uses could not be proven
        BadSignature, // 5: malformed, high s, or recovering no signer
        NotHolder, // 6: the signer is not who held the licence at the report's time
        SignedAfterEnd, // 7: the last report's usedAt is not before the end that applies (licence end, revocation)
        GraceOver, // 8: now is past that end plus the grace period (pause excluded)
        MaxUsesExceeded, // 9: the item would bring the licence's uses above its maxUses
        InsufficientEscrow // 10: the escrow that pays the item (the holder's, or the seller's) is short of its cost
    }
}
