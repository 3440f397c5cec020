"""Earnings and escrow as the events say they must be: a second computation of what the contract keeps.

Since issue 11 also: the upfront fee held unvested at purchase and credited to the twin as it vests (UpfrontVested)
or paid back after an early end (UpfrontRefunded); the escrow a transfer leaves to the seller (LicenseHandedOver),
spent by the uses the seller signed (UsesSettled.payer) or reclaimed; each licence's end (expiry, an idle end, the
twin's revocations) and the grace after it (GracePeriodSet, Paused/Unpaused); and the items `settle` skipped. The
times these need are block times, which events do not carry: the audit reads them for the blocks that matter
(`Books.blocks_needing_time`) and hands them to `Books.times_known`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..chain.ledger import LedgerEvent
from ..domain.grace import DEFAULT_GRACE_PERIOD, pause_intervals
from ..domain.licence_end import category_ends_from, licence_end
from ..domain.shares import BPS
from .voids import SellerVoid

# `Books.share_of` below deliberately writes the contract's split again instead of calling `domain.shares`: the
# audit is a second, independent computation of what the contract keeps, so that a mistake in the shared rule
# shows up as a difference here instead of hiding in both. (Only the unit, BPS, is shared.)


@dataclass
class LicenseBook:
    license_id: int
    twin_id: int
    per_use_fee: int
    escrow: int = 0
    uses_settled: int = 0
    # (firstSeq, count, amount, usesRoot, tx hash, log index) of each UsesSettled, in chain order
    settlements: list[tuple[int, int, int, str, str, int]] = field(default_factory=list)
    upfront: int = 0
    released: int = 0  # UpfrontVested
    refunded: int = 0  # UpfrontRefunded
    purchase_block: int = 0  # its time is startedAt
    duration: int = 0  # expiry at purchase - startedAt (known once block times are)
    categories: int = 0  # the offer's (OfferPublished)
    max_uses: int = 0  # the offer's, 0 = unlimited
    expiry: int = 0  # LicensePurchased, or ExclusiveLicenseEnded's endedAt
    purchase_expiry: int = 0
    seller: str | None = None  # the last LicenseHandedOver
    handover_at: int = 0
    seller_escrow: int = 0
    skips: list[tuple[int, int, int]] = field(default_factory=list)  # (firstSeq, count, reason) of SettleItemSkipped
    # (firstSeq, count, reason) of UsesVoided: a seller's uses the settled count moved past unpaid (neither paid nor
    # pending)
    voids: list[tuple[int, int, int]] = field(default_factory=list)
    # Each UsesVoided with the seller and handover time the licence had then (a second sale forgets the first
    # seller), for `voids.payable_uses_voided` to judge against the stored uses.
    seller_voids: list[SellerVoid] = field(default_factory=list)

    @property
    def uses_voided(self) -> int:
        return sum(count for _first, count, _reason in self.voids)


@dataclass
class Books:
    licenses: dict[int, LicenseBook] = field(default_factory=dict)
    payees_of: dict[int, list[tuple[str, int]]] = field(default_factory=dict)  # twin -> [(account, bps)]
    # twin -> the payees after the model that accepted being one (kept while they stay listed)
    accepted: dict[int, set[str]] = field(default_factory=dict)
    undistributed: dict[int, int] = field(default_factory=dict)
    distributed: dict[str, int] = field(default_factory=dict)
    withdrawn: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what the events themselves contradict
    # twin -> {category: effective time} of its usage categories revoked now (pending or in effect), and every
    # (twin, category) ever revoked, from CategoryConsentRevoked / CategoryConsentGranted
    category_revocations: dict[int, dict[int, int]] = field(default_factory=dict)
    categories_ever_revoked: set[tuple[int, int]] = field(default_factory=set)
    # The settlements made while their twin had a usage category revoked: (licence, firstSeq, count, block, tx hash,
    # {category: effective time}), for the uses' categories to be checked against the settlement's block time.
    category_checks: list[tuple[int, int, int, int, str, dict[int, int]]] = field(default_factory=list)
    total_unvested: int = 0
    grace_period: int = DEFAULT_GRACE_PERIOD
    # (block, paused) of Paused / Unpaused, and (block, twin, effectiveAt or None for a grant) of the whole twin's
    # consent changes: turned into times once the blocks' times are known.
    pause_blocks: list[tuple[int, bool]] = field(default_factory=list)
    consent_blocks: list[tuple[int, int, int | None]] = field(default_factory=list)
    # (block, twin, category, effectiveAt or None for a grant) of CategoryConsentRevoked / CategoryConsentGranted
    category_blocks: list[tuple[int, int, int, int | None]] = field(default_factory=list)
    block_time: dict[int, int] = field(default_factory=dict)

    def blocks_needing_time(self) -> set[int]:
        """The blocks whose time the events' meaning depends on: purchases (startedAt), pauses, consent changes."""
        return ({b.purchase_block for b in self.licenses.values()} | {blk for blk, _ in self.pause_blocks}
                | {blk for blk, _, _ in self.consent_blocks} | {blk for blk, _, _, _ in self.category_blocks})

    def times_known(self, times: dict[int, int]) -> None:
        self.block_time.update(times)
        for book in self.licenses.values():
            book.duration = book.purchase_expiry - self.started_at(book)

    def started_at(self, book: LicenseBook) -> int:
        return self.block_time[book.purchase_block]

    def pauses(self) -> list[tuple[int, int | None]]:
        return pause_intervals((self.block_time[blk], paused) for blk, paused in self.pause_blocks)

    def consent(self, twin_id: int) -> tuple[int, list[int]]:
        """The twin's current revocation's effective time (0 if none) and the revocations that took effect and were
        granted again since (`LicenseLedger.consentChanged`: a grant before the effective time cancels it)."""
        current, ended = 0, []
        for block, twin, effective_at in self.consent_blocks:
            if twin != twin_id:
                continue
            if effective_at is not None:
                current = effective_at
            else:
                if current and self.block_time[block] >= current:
                    ended.append(current)
                current = 0
        return current, ended

    def end_of(self, book: LicenseBook) -> int:
        current, ended = self.consent(book.twin_id)
        category_ends = category_ends_from(
            (category, effective_at, self.block_time[block])
            for block, twin, category, effective_at in self.category_blocks if twin == book.twin_id
        )
        return licence_end(book.expiry, self.started_at(book), current, ",".join(str(t) for t in ended),
                           categories=book.categories,
                           category_revocations=self.category_revocations.get(book.twin_id, {}),
                           category_ends=category_ends)

    def escrow_total(self) -> int:
        """The contract's totalEscrow: the licences' escrows and the sellers' escrows still held."""
        return sum(b.escrow + b.seller_escrow for b in self.licenses.values())

    def share_of(self, twin_id: int, payee: str) -> int:
        """`LicenseToken._shareOf`: the payee's part of the twin's undistributed earnings, remainder to the model."""
        payees = self.payees_of.get(twin_id, [])
        amount = self.undistributed.get(twin_id, 0)
        if not payees or not amount:
            return 0
        rest, share = amount, 0
        for account, bps in payees[1:]:
            part = amount * bps // BPS
            rest -= part
            if account == payee:
                share = part
        return rest if payees[0][0] == payee else share

    def payees(self) -> set[str]:
        accounts = {a for payees in self.payees_of.values() for a, _ in payees}
        return accounts | set(self.distributed) | set(self.withdrawn)

    def counts(self, twin_id: int, payee: str) -> bool:
        """`TwinRegistry.twinsOfPayee`: the twin counts for its model, and for a payee that accepted it."""
        payees = self.payees_of.get(twin_id, [])
        return bool(payees) and (payees[0][0] == payee or payee in self.accepted.get(twin_id, set()))

    def listed_on(self, payee: str) -> list[int]:
        """Every twin that lists `payee` now, accepted or not."""
        return sorted(t for t, payees in self.payees_of.items() if any(a == payee for a, _ in payees))

    def claimable(self, payee: str) -> int:
        """`LicenseToken.claimable`: her split balance and her share of the twins that count for her."""
        split = self.distributed.get(payee, 0) - self.withdrawn.get(payee, 0)
        return split + sum(self.share_of(t, payee) for t in self.payees_of if self.counts(t, payee))

    def claimable_from(self, payee: str, twin_ids: list[int]) -> int:
        """`LicenseToken.claimableFrom`: her split balance and her share of the given twins, accepted or not."""
        split = self.distributed.get(payee, 0) - self.withdrawn.get(payee, 0)
        return split + sum(self.share_of(t, payee) for t in set(twin_ids))

    def total_earned(self, payee: str) -> int:
        return self.withdrawn.get(payee, 0) + self.claimable(payee)

    def total_owed(self) -> int:
        """Every payee's split balance plus every twin's earnings not split yet: all the contract owes."""
        split = sum(self.distributed.values()) - sum(self.withdrawn.values())
        return split + sum(self.undistributed.values())


def recompute(events: list[LedgerEvent]) -> Books:
    books = Books()
    fee_of_offer: dict[int, int] = {}
    categories_of_offer: dict[int, int] = {}
    max_uses_of_offer: dict[int, int] = {}
    for event in events:
        a = event.args
        name = event.name
        if name == "PayeesSet":
            twin_id = int(a["twinId"])
            books.payees_of[twin_id] = [(str(account), int(bps)) for account, bps in zip(a["accounts"], a["sharesBps"])]
            # A payee that stays listed keeps its acceptance; one dropped (or that left) loses it.
            books.accepted[twin_id] = books.accepted.get(twin_id, set()) & {str(x) for x in a["accounts"][1:]}
        elif name == "PayeeAccepted":
            books.accepted.setdefault(int(a["twinId"]), set()).add(str(a["account"]))
        elif name == "CategoryConsentRevoked":
            twin_id, category = int(a["twinId"]), int(a["category"])
            books.category_revocations.setdefault(twin_id, {})[category] = int(a["effectiveAt"])
            books.categories_ever_revoked.add((twin_id, category))
            books.category_blocks.append((event.block_number, twin_id, category, int(a["effectiveAt"])))
        elif name == "CategoryConsentGranted":
            books.category_revocations.get(int(a["twinId"]), {}).pop(int(a["category"]), None)
            books.category_blocks.append((event.block_number, int(a["twinId"]), int(a["category"]), None))
        elif name == "OfferPublished":
            terms = a["terms"]
            fee_of_offer[int(a["offerId"])] = int(terms[1] if isinstance(terms, (tuple, list)) else terms["perUseFee"])
            categories_of_offer[int(a["offerId"])] = int(
                terms[4] if isinstance(terms, (tuple, list)) else terms["categories"])
            max_uses_of_offer[int(a["offerId"])] = int(
                terms[3] if isinstance(terms, (tuple, list)) else terms["maxUses"])
        elif name == "LicensePurchased":
            twin_id, license_id = int(a["twinId"]), int(a["licenseId"])
            # The upfront fee is held unvested: the twin earns it only as it vests (UpfrontVested).
            books.licenses[license_id] = LicenseBook(
                license_id, twin_id, fee_of_offer.get(int(a["offerId"]), 0), escrow=int(a["escrow"]),
                upfront=int(a["upfrontFee"]), purchase_block=event.block_number, expiry=int(a["expiry"]),
                categories=categories_of_offer.get(int(a["offerId"]), 0),
                max_uses=max_uses_of_offer.get(int(a["offerId"]), 0),
                purchase_expiry=int(a["expiry"]),
            )
            books.total_unvested += int(a["upfrontFee"])
        elif name == "UpfrontVested":
            book = books.licenses[int(a["licenseId"])]
            amount = int(a["amount"])
            book.released += amount
            books.total_unvested -= amount
            books.undistributed[book.twin_id] = books.undistributed.get(book.twin_id, 0) + amount
            if book.released + book.refunded > book.upfront:
                books.problems.append(f"licence {book.license_id}: {book.released} of its upfront fee vested and "
                                      f"{book.refunded} refunded, more than its {book.upfront} ({event.tx_hash})")
        elif name == "UpfrontRefunded":
            book = books.licenses[int(a["licenseId"])]
            book.refunded += int(a["amount"])
            books.total_unvested -= int(a["amount"])
            if book.released + book.refunded > book.upfront:
                books.problems.append(f"licence {book.license_id}: {book.released} of its upfront fee vested and "
                                      f"{book.refunded} refunded, more than its {book.upfront} ({event.tx_hash})")
        elif name == "ExclusiveLicenseEnded":
            books.licenses[int(a["licenseId"])].expiry = int(a["endedAt"])
        elif name == "LicenseHandedOver":
            book = books.licenses[int(a["licenseId"])]
            if int(a["sellerEscrow"]) != book.escrow:
                books.problems.append(f"licence {book.license_id}: handed over with seller escrow {a['sellerEscrow']}, "
                                      f"events leave {book.escrow} ({event.tx_hash})")
            if book.seller_escrow:
                books.problems.append(f"licence {book.license_id}: handed over again while seller {book.seller} "
                                      f"still held {book.seller_escrow} ({event.tx_hash})")
            book.seller, book.handover_at = str(a["seller"]), int(a["at"])
            book.seller_escrow, book.escrow = int(a["sellerEscrow"]), 0
        elif name == "SellerEscrowReclaimed":
            book = books.licenses[int(a["licenseId"])]
            book.seller_escrow -= int(a["amount"])
        elif name == "SettleItemSkipped":
            book = books.licenses.get(int(a["licenseId"]))
            if book is not None:  # UnknownLicense: no licence to note it on
                book.skips.append((int(a["firstSeq"]), int(a["count"]), int(a["reason"])))
        elif name == "UsesVoided":
            book = books.licenses[int(a["licenseId"])]
            first, count = int(a["firstSeq"]), int(a["count"])
            if first != book.uses_settled:
                books.problems.append(f"licence {book.license_id}: UsesVoided from seq {first}, but "
                                      f"{book.uses_settled} were settled before ({event.tx_hash})")
            book.uses_settled = max(book.uses_settled, first + count)
            book.voids.append((first, count, int(a["reason"])))
            book.seller_voids.append(SellerVoid(book.license_id, first, count, int(a["reason"]), book.seller,
                                                book.handover_at, event.tx_hash))
        elif name == "GracePeriodSet":
            books.grace_period = int(a["gracePeriod"])
        elif name in ("Paused", "Unpaused"):
            books.pause_blocks.append((event.block_number, name == "Paused"))
        elif name == "ConsentRevoked":
            books.consent_blocks.append((event.block_number, int(a["twinId"]), int(a["effectiveAt"])))
        elif name == "ConsentGranted":
            books.consent_blocks.append((event.block_number, int(a["twinId"]), None))
        elif name == "EscrowToppedUp":
            book = books.licenses[int(a["licenseId"])]
            book.escrow += int(a["amount"])
            if book.escrow != int(a["escrow"]):
                books.problems.append(f"licence {book.license_id}: EscrowToppedUp says escrow {a['escrow']}, events sum to {book.escrow}")
        elif name == "EscrowReclaimed":
            book = books.licenses[int(a["licenseId"])]
            book.escrow -= int(a["amount"])
        elif name == "UsesSettled":
            book = books.licenses[int(a["licenseId"])]
            first, count, amount = int(a["firstSeq"]), int(a["count"]), int(a["amount"])
            if first != book.uses_settled:
                books.problems.append(
                    f"licence {book.license_id}: UsesSettled from seq {first}, but {book.uses_settled} were settled before "
                    f"({event.tx_hash})"
                )
            if amount != count * book.per_use_fee:
                books.problems.append(
                    f"licence {book.license_id}: {count} uses paid {amount}, not {count} x {book.per_use_fee}"
                )
            book.uses_settled = max(book.uses_settled, first + count)
            payer = str(a["payer"]) if "payer" in a else None
            if payer is not None and book.seller is not None and payer == book.seller and book.seller_escrow:
                book.seller_escrow -= amount  # a use the seller signed before the handover: her escrow pays it
            else:
                book.escrow -= amount
            root = a["usesRoot"]
            root = "0x" + bytes(root).hex() if isinstance(root, (bytes, bytearray)) else str(root)
            book.settlements.append((first, count, amount, root, event.tx_hash, event.log_index))
            if books.category_revocations.get(book.twin_id):
                books.category_checks.append((book.license_id, first, count, event.block_number, event.tx_hash,
                                              dict(books.category_revocations[book.twin_id])))
            books.undistributed[book.twin_id] = books.undistributed.get(book.twin_id, 0) + amount
        elif name == "EarningsDistributed":
            twin_id, payee, amount = int(a["twinId"]), str(a["payee"]), int(a["amount"])
            books.undistributed[twin_id] = books.undistributed.get(twin_id, 0) - amount
            books.distributed[payee] = books.distributed.get(payee, 0) + amount
        elif name == "Withdrawn":
            payee = str(a["payee"])
            books.withdrawn[payee] = books.withdrawn.get(payee, 0) + int(a["amount"])
    return books
