"""Chain activity for the indexer tests: every event the contracts emit, and bulk settlements.

`Scenario` drives the session's deployment with the seed's development accounts; `claimable_from_index` is the
contract's `claimable(payee)` recomputed from the index alone, which is how a reader of the database (the API, the
audit) knows a payee's earnings. Settle items are signed as `settle` requires: a short item (licence, firstSeq,
count, root[, categories]) gets the holder's signed report of its last use from `Env.signed_item`
(kit/twin_env.py), the one home of that signing in the tests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from types import SimpleNamespace

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from sqlalchemy import Engine, select

from twin_licensing.chain.client import Chain, role_id
from twin_licensing.chain.keys import dev_account
from twin_licensing.db.license_state import PayeeBalance
from twin_licensing.db.registry_state import Twin, TwinPayee
from twin_licensing.seed import data

from kit.guild import accept, ensure_attested
from kit.twin_env import Env, lowest_bit, sign_report

USDC = 10**6
MODEL_ROLE, AGENCY_ROLE, CREW_ROLE = 0, 1, 2
SETTLE_ITEM = "(uint256,uint32,uint32,bytes32,uint8,bytes32,uint8,uint8,uint64,bytes32,bytes32)"
SETTLE_SELECTOR = keccak(text=f"settle({SETTLE_ITEM}[])")[:4]
GRACE = 3_600  # the grace period `everything` sets (the default is a week)
NOTICE = 3_600  # the registry's notice period `everything` sets
TX_GAS_CAP = 2**24  # the node's (EIP-7825) most gas one transaction may ask for


def root(tag: object) -> bytes:
    return keccak(text=f"uses-{tag}")


@dataclass
class Scenario:
    chain: Chain
    model: LocalAccount = field(default_factory=lambda: dev_account(data.MODEL_INDICES[0]))
    agency: LocalAccount = field(default_factory=lambda: dev_account(data.AGENCIES[0].index))
    crew: LocalAccount = field(default_factory=lambda: dev_account(data.CREW[0].index))
    brand: LocalAccount = field(default_factory=lambda: dev_account(data.BRANDS[0].index))
    brand2: LocalAccount = field(default_factory=lambda: dev_account(data.BRANDS[1].index))
    admin: LocalAccount = field(default_factory=lambda: dev_account(data.ADMIN))
    guild: LocalAccount = field(default_factory=lambda: dev_account(data.GUILD))
    recorder: LocalAccount = field(default_factory=lambda: dev_account(data.RECORDER))

    def tx(self, who: LocalAccount, contract: str, function: str, *args, gas: int | None = None):
        # Explicit gas on purpose-picked calls: an estimate taken at one block timestamp can fall a little short
        # at the next (exclusivity cells written for the first time cost more).
        return self.chain.transact(who, contract, function, *args, gas=gas)

    def call(self, contract: str, function: str, *args):
        return self.chain.call(contract, function, *args)

    # ------------------------------------------------------------------ building blocks

    def twin(self, agency_bps: int = 1_500) -> int:
        payees = [(self.model.address, 10_000 - agency_bps, MODEL_ROLE), (self.agency.address, agency_bps, AGENCY_ROLE)]
        ensure_attested(self.chain, self.model)
        self.tx(self.model, "TwinRegistry", "registerTwin", "ipfs://twin-a", b"\x01" * 32, payees, gas=900_000)
        twin_id = self.call("TwinRegistry", "twinCount")
        accept(self.chain, twin_id, self.agency)
        return twin_id

    def offer(self, twin_id: int, *, per_use: int = 2 * USDC, upfront: int = 10 * USDC, duration: int = 86_400,
              max_uses: int = 0, transferable: bool = True) -> int:
        terms = (upfront, per_use, duration, max_uses, 0b1, 0b1, False, transferable, 0)
        self.tx(self.model, "LicenseToken", "publishOffer", twin_id, terms, gas=400_000)
        return self.call("LicenseToken", "offerCount")

    def licence(self, offer_id: int, escrow: int, brand: LocalAccount | None = None) -> int:
        brand = brand or self.brand
        token = self.chain.deployment.license_token
        upfront = self.call("LicenseToken", "offer", offer_id)[2][0]
        self.tx(brand, "PaymentToken", "faucet", brand.address, min(upfront + escrow + 1_000 * USDC, 1_000_000 * USDC))
        self.tx(brand, "PaymentToken", "approve", token, 2**255)
        self.tx(brand, "LicenseToken", "buyLicense", offer_id, escrow, gas=700_000)
        return self.call("LicenseToken", "licenseCount")

    @cached_property
    def env(self) -> Env:
        """The contract tests' facade on the same chain and accounts (for `Env.signed_item`)."""
        people = {name: getattr(self, name) for name in
                  ("model", "agency", "crew", "brand", "brand2", "admin", "guild", "recorder")}
        return Env(self.chain, SimpleNamespace(**people), named_reverts=None)

    def item(self, *short, as_seller: bool = False, **choices) -> tuple:
        """A full signed SettleItem from a short one (`Env.signed_item`: the holder's report of the last use, or with
        `as_seller` the seller's just before the handover)."""
        return self.env.signed_item(*short, as_seller=as_seller, **choices)

    def settle(self, *items: tuple, as_seller: bool = False):
        """`settle(items)`; short items are completed and signed by `item`."""
        full = [it if len(it) == 11 else self.item(*it, as_seller=as_seller) for it in items]
        return self.tx(self.recorder, "LicenseToken", "settle", full, gas=3_000_000)

    def skips(self, result) -> list[tuple[int, int, int, int]]:
        """The batch's SettleItemSkipped as (licenseId, firstSeq, count, reason)."""
        return self.env.skips(result)

    def categories(self, license_id: int) -> int:
        return self.call("LicenseToken", "licenseTerms", license_id)[3]

    def settled(self, license_id: int) -> int:
        return self.call("LicenseToken", "licenseState", license_id)[1]

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.chain.rpc("evm_mine")

    # ------------------------------------------------------------------ every event type

    def everything(self) -> dict[str, int]:
        """Emits each event of both contracts at least once; returns the ids involved.

        The first licence (`license`) is bought, topped up, settled, vested, handed over (uses the seller signed are
        then paid from her escrow, the buyer's from his own), skipped once, ended early by a revocation that took
        effect (so its unvested upfront is refunded), and reclaimed by both after the grace; consent is granted
        again, which does not revive it. A second licence (`live`, `live_settled` uses) is alive at the end."""
        registry_admin = self.admin
        self.tx(self.guild, "TwinRegistry", "setCategoryFloor", 0, 1 * USDC)
        self.tx(self.guild, "TwinRegistry", "setAgencyCap", 1_800)
        self.tx(registry_admin, "TwinRegistry", "setNoticePeriod", NOTICE)
        self.tx(registry_admin, "LicenseToken", "setGracePeriod", GRACE)
        twin_id = self.twin(agency_bps=1_500)
        self.tx(self.model, "TwinRegistry", "setTwinUri", twin_id, "ipfs://twin-a-v2")
        offer_id = self.offer(twin_id)
        spare_offer = self.offer(twin_id, per_use=3 * USDC)
        self.tx(self.model, "LicenseToken", "withdrawOffer", spare_offer)
        license_id = self.licence(offer_id, 100 * USDC)
        self.tx(self.brand, "LicenseToken", "topUpEscrow", license_id, 20 * USDC)
        self.settle((license_id, 0, 3, root(1)), (license_id, 3, 2, root(2)))
        self.tx(self.model, "LicenseToken", "vest", [license_id], gas=300_000)  # part of the upfront fee to the twin
        # The sale: the brand's escrow left (110) becomes her seller's escrow; the buyer starts with none.
        self.tx(self.brand, "LicenseToken", "transferFrom", self.brand.address, self.brand2.address, license_id)
        self.settle((license_id, 5, 4, root(3)), as_seller=True)  # signed by the brand before: her escrow pays
        self.fund(self.brand2, 10 * USDC)
        self.tx(self.brand2, "LicenseToken", "topUpEscrow", license_id, 10 * USDC)
        self.settle((license_id, 9, 1, root(4)))  # signed by the new holder: his escrow pays
        self.tx(self.agency, "LicenseToken", "withdraw", gas=500_000)  # splits, then pays the agency
        payees = [(self.model.address, 9_000, MODEL_ROLE), (self.crew.address, 1_000, CREW_ROLE)]
        self.tx(self.model, "TwinRegistry", "setPayees", twin_id, payees, gas=900_000)  # splits under the old shares
        accept(self.chain, twin_id, self.crew)  # the twin now counts in the crew's withdraw()
        # One item out of sequence and one of a licence that does not exist are skipped; the third settles.
        self.settle((license_id, 99, 1, root("gap")), (10**9, 0, 1, root("nobody")), (license_id, 10, 2, root(5)))
        # Explicit gas: an unpause estimated in the pause's second writes the pause clock's entry of that second,
        # and mined a second later it adds one, which costs more than the estimate.
        self.tx(registry_admin, "LicenseToken", "pause", gas=200_000)
        self.tx(registry_admin, "LicenseToken", "unpause", gas=200_000)
        # The whole twin's consent revoked: its offers are withdrawn at once, the licence ends at the effective time.
        self.tx(self.model, "TwinRegistry", "revokeConsent", twin_id, gas=400_000)
        self.chain.rpc("evm_increaseTime", [NOTICE + 1])
        self.mine()
        self.tx(self.brand2, "LicenseToken", "reclaimUnvested", license_id, gas=400_000)  # vests to the end, refunds
        self.chain.rpc("evm_increaseTime", [GRACE + 1])
        self.mine()
        self.tx(self.brand2, "LicenseToken", "reclaimEscrow", license_id, gas=300_000)
        self.tx(self.brand, "LicenseToken", "reclaimSellerEscrow", license_id, gas=300_000)
        self.tx(self.model, "TwinRegistry", "grantConsent", twin_id, b"\x02" * 32, gas=300_000)
        # Per usage category: social revoked and granted again, AI-generated campaigns (7) left revoked.
        self.tx(self.model, "TwinRegistry", "revokeCategoryConsent", twin_id, 1, gas=400_000)
        self.tx(self.model, "TwinRegistry", "grantCategoryConsent", twin_id, 1, gas=300_000)
        self.tx(self.model, "TwinRegistry", "revokeCategoryConsent", twin_id, 7, gas=400_000)
        recorder_role = role_id("RECORDER_ROLE")
        self.tx(registry_admin, "LicenseToken", "grantRole", recorder_role, self.brand2.address)
        self.tx(registry_admin, "LicenseToken", "revokeRole", recorder_role, self.brand2.address)
        self.tx(self.crew, "LicenseToken", "withdraw", gas=500_000)
        # Consent is back, the old licence stays ended: a new offer, bought, whose uses stay undistributed.
        live_offer = self.offer(twin_id)
        live = self.licence(live_offer, 10 * USDC, self.brand2)
        self.settle((live, 0, 2, root(6)))
        return {"twin": twin_id, "offer": offer_id, "spare_offer": spare_offer, "license": license_id,
                "live_offer": live_offer, "live": live, "live_settled": 2}

    def fund(self, who: LocalAccount, amount: int) -> None:
        self.tx(who, "PaymentToken", "faucet", who.address, amount)
        self.tx(who, "PaymentToken", "approve", self.chain.deployment.license_token, 2**255)

    # ------------------------------------------------------------------ many events, fast

    def bulk_settlements(self, events: int, licenses: int = 4, per_tx: int = 200) -> list[int]:
        """About `events` UsesSettled events: `per_tx` one-use items per transaction over a few licences.

        Transactions are encoded with eth_abi and signed directly (web3's encoder would take longer than the
        node), sent without waiting, and only the last receipt is awaited.
        """
        twin_id = self.twin()
        per_use = max(1, self.call("TwinRegistry", "floorFor", 0b1))  # the guild's floor, if a test set one
        offer_id = self.offer(twin_id, per_use=per_use, upfront=0, duration=10 * 365 * 86_400)
        ids = [self.licence(offer_id, 10**12 // licenses) for _ in range(licenses)]
        seq = {i: self.settled(i) for i in ids}
        masks = {i: self.categories(i) for i in ids}
        territory = lowest_bit(self.call("LicenseToken", "licenseTerms", ids[0])[4])
        used_at = self.chain.w3.eth.get_block("latest")["timestamp"]  # every report signed now: before the end
        w3 = self.chain.w3
        token = self.chain.deployment.license_token
        chain_id = self.chain.chain_id
        gas = None  # estimated on the first batch (all batches are alike), with a margin
        nonce = w3.eth.get_transaction_count(self.recorder.address, "pending")
        last = None
        sent = 0
        while sent < events:
            items = []
            for n in range(min(per_tx, events - sent)):
                license_id = ids[n % len(ids)]
                ref = os.urandom(32)
                category = lowest_bit(masks[license_id])
                r, vs = sign_report(self.brand, chain_id, token, license_id, seq[license_id], ref, category, territory,
                                    used_at)
                items.append((license_id, seq[license_id], 1, os.urandom(32), masks[license_id], ref, category,
                              territory, used_at, r, vs))
                seq[license_id] += 1
            data_ = SETTLE_SELECTOR + encode([f"{SETTLE_ITEM}[]"], [items])
            if gas is None:
                gas = w3.eth.estimate_gas({"from": self.recorder.address, "to": token, "data": data_}) * 5 // 4
                assert gas <= TX_GAS_CAP, f"{per_tx} signed items need {gas} gas, above a transaction's cap"
            tx = {"to": token, "data": data_, "gas": gas, "nonce": nonce, "chainId": chain_id,
                  "maxFeePerGas": 100 * 10**9, "maxPriorityFeePerGas": 1, "value": 0}
            last = w3.eth.send_raw_transaction(self.recorder.sign_transaction(tx).raw_transaction)
            nonce += 1
            sent += len(items)
        if last is not None:
            receipt = w3.eth.wait_for_transaction_receipt(last, timeout=300, poll_latency=0.05)
            assert receipt["status"] == 1
        self.chain.resync_nonces()
        return ids


def claimable_from_index(engine: Engine, chain_id: int, payee: str) -> tuple[int, int]:
    """(claimable, totalEarned) of `payee` computed from the index the way the contract computes them."""
    with engine.connect() as conn:
        balance = conn.execute(select(PayeeBalance).where(
            PayeeBalance.chain_id == chain_id, PayeeBalance.payee == payee)).mappings().first()
        claimable = (balance["distributed"] - balance["withdrawn"]) if balance else 0
        withdrawn = balance["withdrawn"] if balance else 0
        # The twins that count in her claimable(): her own, and those she accepted being a payee of.
        twin_ids = conn.execute(select(TwinPayee.twin_id).where(
            TwinPayee.chain_id == chain_id, TwinPayee.account == payee, TwinPayee.accepted.is_(True))).scalars().all()
        for twin_id in twin_ids:
            pending = conn.execute(select(Twin.undistributed).where(
                Twin.chain_id == chain_id, Twin.twin_id == twin_id)).scalar_one()
            payees = conn.execute(select(TwinPayee).where(
                TwinPayee.chain_id == chain_id, TwinPayee.twin_id == twin_id).order_by(TwinPayee.position)
            ).mappings().all()
            rest = pending
            share = 0
            for row in payees[1:]:
                part = pending * row["share_bps"] // 10_000
                rest -= part
                if row["account"] == payee:
                    share = part
            claimable += rest if payees[0]["account"] == payee else share
    return claimable, withdrawn + claimable
