"""A seeded random run of more than 2 000 transactions by many accounts, against a Python model of the contracts.

Issue 11: every settle item carries the holder's EIP-712 signature over its last use; the run settles items signed
in time, late, after the end, by a former holder or the seller of a handed-over licence, by strangers, with broken
signatures or empty roots: each is predicted paid, skipped with its exact reason (a skipped item changes nothing),
or voided (UsesVoided: a handed-over licence's seller-signed uses her escrow never will pay; the count moves on). Upfront fees vest (vest, withdrawVested) and are refunded after early ends (reclaimUnvested); transfers
hand over escrow to the seller (reclaimSellerEscrow); pauses run across expiries and graces; reclaims wait for the
grace. After EVERY step: token balance == totalEscrow + totalUnvested + totalOwed, and every licence touched has
vested (released) + refunded <= upfront, its vesting view equal to the model's.

Six models register twins with agencies and crew as payees, publish and withdraw offers, revoke and re-grant
consent, for the whole twin and for single usage categories; five brands buy licences (approve and permit), top up, transfer and reclaim; the recorder settles
batches, valid and deliberately invalid (each item with its uses' category mask, sometimes empty, outside the
licence or meeting a category whose revocation took effect); payees accept their listings, leave them, withdraw (all, or from chosen
twins); models end idle exclusive licences; the guild attests and revokes models and agencies (by call and by
EIP-712 signature), changes floors between publication and purchase, the agency and non-model caps and the
exclusivity minimum; the admin changes the notice period and pauses. Before each transaction the model predicts its
outcome: success, or the exact custom error and its arguments. After each step it checks against the chain:

- token.balanceOf(LicenseToken) == totalEscrow() + totalUnvested() + totalOwed()
  == sum of every licence's escrow and seller escrow + unvested upfront fees + sum over payees of claimableFrom(payee, every twin listing it) (the model's,
  checked item by item for everything the step touched, and read from the chain for every licence and payee every
  SWEEP steps); claimable() counts only the twins a payee accepted (or owns);
- withdrawn + claimableFrom over all payees == upfront fees vested + settled amounts.

The seed is fixed, and the run sets every block's timestamp from a fixed start (START), so it is the same on every
machine: the wall clock never enters it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from eth_abi import decode
from web3 import Web3

from kit.guild import attestation_domain, sign_attestation
from kit.rpc import Functions, NodeRpc
from kit.twin_env import AGENCY, CREW, MODEL, lowest_bit, sign_report
from twin_licensing.domain import skip_reasons as skip
from twin_licensing.domain.grace import DEFAULT_GRACE_PERIOD, MAX_GRACE_PERIOD, grace_ends_at
from twin_licensing.domain.vesting import refundable, vested

SEED = 42  # a seed whose run covers every success, refusal and skip reason asserted below (issue 11 added operations)
TRANSACTIONS = 2_000
SWEEP = 100  # steps between full reads of every licence and payee
GAS_LIMIT = 2_000_000
# The run's first block time, whatever the wall clock: with every later block at a time the run chooses, two runs
# build the same chain on any machine, however loaded (2033-05-18, ahead of the session's clock, far from 2106).
START = 2_000_000_000

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
FAUCET_LIMIT = 1_000_000 * 10**6
HOUR, DAY = 3600, 86_400


# ---------------------------------------------------------------------------------------------- the model


@dataclass
class Twin:
    model: str
    payees: list[tuple[str, int, int]]  # (account, bps, role)
    revoked_at: int = 0  # revocationEffectiveAt; 0 while granted
    pool: int = 0  # undistributed
    notice: int = 72 * 3600  # the notice period of its consent
    categories_revoked: dict[int, int] = field(default_factory=dict)  # category -> revocation's effective time


@dataclass
class Attestation:
    subject: str
    role: int
    issued_at: int
    expires_at: int
    revoked: bool = False


@dataclass
class Offer:
    twin: int
    active: bool
    terms: tuple  # OfferTerms: upfront, perUse, duration, maxUses, categories, territories, exclusive, transferable,
    # idleEndAfter


@dataclass
class Licence:
    twin: int
    holder: str
    escrow: int
    used: int
    max_uses: int
    expiry: int
    fee: int
    transferable: bool
    exclusive: bool = False
    idle: int = 0  # idleEndAfter
    started: int = 0
    last_settled: int = 0  # exclusive licences only
    categories: int = 0
    territories: int = 0
    # issue 11
    upfront: int = 0  # unvested at purchase, vests over `duration` from `started`
    duration: int = 0
    released: int = 0  # vested and credited to the twin
    refunded: int = 0  # paid back to the holder by reclaimUnvested
    revoked_end: int = 0  # a revocation of its twin's consent that took effect ended it for good (0: none)
    # Per category: a revocation of it that took effect after the purchase and was granted again since (the first).
    category_ended: dict[int, int] = field(default_factory=dict)
    seller: str | None = None  # the last handover: who sold it, when, and her escrow left
    handed_at: int = 0
    seller_escrow: int = 0


ZERO_ADDRESS = "0x" + "00" * 20
ROLE_NAMES = ("model", "agency", "crew")


class Refused(Exception):
    """The model's prediction that a call reverts with `name(*args)`."""

    def __init__(self, name: str, *args: Any) -> None:
        super().__init__(name, *args)
        self.name = name
        self.error_args = args


@dataclass
class Model:
    token: dict[str, int] = field(default_factory=dict)
    allowance: dict[str, int] = field(default_factory=dict)  # to the licence contract
    nonces: dict[str, int] = field(default_factory=dict)  # permit nonces
    twins: dict[int, Twin] = field(default_factory=dict)
    offers: dict[int, Offer] = field(default_factory=dict)
    licences: dict[int, Licence] = field(default_factory=dict)
    split: dict[str, int] = field(default_factory=dict)  # distributed, not withdrawn (_balances)
    withdrawn: dict[str, int] = field(default_factory=dict)
    twins_of: dict[str, list[int]] = field(default_factory=dict)  # the twins a payee counts: own or accepted
    exclusive_until: dict[tuple[int, int, int], int] = field(default_factory=dict)
    licensed_until: dict[tuple[int, int, int], int] = field(default_factory=dict)
    floors: dict[int, int] = field(default_factory=dict)
    agency_cap: int = 2_000
    non_model_cap: int = 5_000
    exclusivity_minimum: int = 1_000 * 10**6
    notice: int = 72 * HOUR
    attestations: dict[int, Attestation] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)  # subject -> its current attestation
    attestation_nonces: dict[str, int] = field(default_factory=dict)
    paused: bool = False
    pauses: list[tuple[int, int | None]] = field(default_factory=list)  # (paused at, unpaused at or None)
    grace: int = DEFAULT_GRACE_PERIOD
    credited: int = 0  # vested upfront fees + settled amounts, ever
    paid_out: int = 0  # withdrawn, ever
    ever_payees: set[str] = field(default_factory=set)

    # -------------------------------------------------------------- derived views

    @staticmethod
    def shares(payees: list[tuple[str, int, int]], amount: int) -> dict[str, int]:
        out = {}
        rest = amount
        for account, bps, _ in payees[1:]:
            out[account] = amount * bps // 10_000
            rest -= out[account]
        out[payees[0][0]] = rest
        return out

    def claimable(self, payee: str) -> int:
        return self.claimable_from(payee, self.twins_of.get(payee, []))

    def claimable_from(self, payee: str, twin_ids) -> int:
        amount = self.split.get(payee, 0)
        for twin_id in set(twin_ids):
            twin = self.twins.get(twin_id)
            if twin and twin.pool:
                amount += self.shares(twin.payees, twin.pool).get(payee, 0)
        return amount

    def listing(self, payee: str) -> list[int]:
        """Every twin that lists `payee`, accepted or not."""
        return [i for i, t in self.twins.items() if any(p[0] == payee for p in t.payees)]

    def is_attested(self, account: str, role: int, now: int) -> bool:
        x = self.attestations.get(self.current.get(account, 0))
        return x is not None and x.role == role and not x.revoked and now < x.expires_at

    def require_attested(self, account: str, role: int, now: int) -> int:
        attestation_id = self.current.get(account, 0)
        x = self.attestations.get(attestation_id)
        if x is None or x.role != role:
            raise Refused("TwinRegistryNotAttested", account, role)
        if x.revoked:
            raise Refused("TwinRegistryAttestationRevoked", attestation_id)
        if now >= x.expires_at:
            raise Refused("TwinRegistryAttestationExpired", attestation_id, x.expires_at)
        return attestation_id

    def total_escrow(self) -> int:
        return sum(lic.escrow + lic.seller_escrow for lic in self.licences.values())

    def total_unvested(self) -> int:
        return sum(lic.upfront - lic.released - lic.refunded for lic in self.licences.values())

    def licence_end(self, lic: Licence) -> int:
        """`licenseEnd`: the earliest of its expiry, a revocation that took effect while it lived (for good), its
        twin's current revocation (pending included: every licence of the twin was bought before that one), and,
        once every one of its categories is revoked (now, or by a past revocation that took effect while it lived),
        the last of those categories' ends."""
        twin = self.twins[lic.twin]
        ends = [lic.expiry]
        if lic.revoked_end:
            ends.append(lic.revoked_end)
        if twin.revoked_at:
            ends.append(twin.revoked_at)
        categories = [lic.category_ended.get(c) or twin.categories_revoked.get(c)
                      for c in range(8) if lic.categories >> c & 1]
        if categories and all(categories):
            ends.append(max(categories))
        return min(ends)

    def grace_ends(self, end: int, now: int) -> int:
        """`graceEndsAt` after `end`: the backend's rule (`domain.grace`), which the contract must match."""
        return grace_ends_at(end, self.grace, self.pauses, now)

    def vesting(self, lic: Licence, now: int) -> tuple[int, int, int, int]:
        """`vesting(licenseId)` at `now`: (upfront, vested, released, refundable)."""
        end = self.licence_end(lic)
        return (lic.upfront, vested(lic.upfront, lic.started, lic.duration, end, now), lic.released,
                refundable(lic.upfront, lic.started, lic.duration, end, now, refunded=lic.refunded > 0))

    def vest(self, lic: Licence, now: int) -> int:
        """Credits what vested and was not released to the twin; the amount."""
        amount = self.vesting(lic, now)[1] - lic.released
        if amount:
            lic.released += amount
            self.twins[lic.twin].pool += amount
            self.credited += amount
        return amount

    def total_owed(self) -> int:
        return sum(self.split.values()) + sum(t.pool for t in self.twins.values())

    def revoked_mask(self, twin_id: int) -> int:
        """Categories of the twin revoked, pending or in effect: offers and purchases including them are refused."""
        return sum(1 << c for c in self.twins[twin_id].categories_revoked)

    def category_in_effect(self, twin_id: int, categories: int, now: int) -> tuple[int, int] | None:
        """The first category of `categories` whose revocation took effect by `now`, with its time (the contract's
        order: lowest bit first)."""
        revoked = self.twins[twin_id].categories_revoked
        for c in range(8):
            if categories >> c & 1 and c in revoked and now >= revoked[c]:
                return c, revoked[c]
        return None

    # -------------------------------------------------------------- effects shared by several calls

    def distribute(self, twin_id: int) -> None:
        twin = self.twins[twin_id]
        if twin.pool:
            for account, amount in self.shares(twin.payees, twin.pool).items():
                self.split[account] = self.split.get(account, 0) + amount
            twin.pool = 0

    def pay_out(self, payee: str, amount: int) -> None:
        """A withdrawal: the payee's whole split balance, `amount`, leaves the contract for her wallet."""
        self.split[payee] = 0
        self.withdrawn[payee] = self.withdrawn.get(payee, 0) + amount
        self.paid_out += amount
        self.token[payee] = self.token.get(payee, 0) + amount

    def pay(self, payer: str, amount: int) -> None:
        """transferFrom(payer, licence contract, amount) after `_requireFunds`."""
        self.token[payer] -= amount
        if self.allowance.get(payer, 0) != 2**256 - 1:
            self.allowance[payer] -= amount

    def require_funds(self, payer: str, amount: int) -> None:
        allowance = self.allowance.get(payer, 0)
        if allowance < amount:
            raise Refused("LicenseTokenInsufficientAllowance", amount, allowance)
        balance = self.token.get(payer, 0)
        if balance < amount:
            raise Refused("LicenseTokenInsufficientBalance", amount, balance)

    def check_payees(self, model: str, payees: list[tuple[str, int, int]], now: int) -> None:
        if not payees:
            raise Refused("TwinRegistryNoPayees")
        if len(payees) > 8:
            raise Refused("TwinRegistryTooManyPayees", len(payees), 8)
        if payees[0][0] != model or payees[0][2] != MODEL:
            raise Refused("TwinRegistryFirstPayeeNotModel", payees[0][0])
        total = agency_total = 0
        for i, (account, bps, role) in enumerate(payees):
            if int(account, 16) == 0:
                raise Refused("TwinRegistryZeroAddress")
            if bps == 0:
                raise Refused("TwinRegistryZeroShare", account)
            if i > 0 and role == MODEL:
                raise Refused("TwinRegistryModelRoleMisplaced", i)
            if i > 0 and (role == AGENCY or self.is_attested(account, AGENCY, now)):
                agency_total += bps  # the cap bounds the agencies together, attested ones under any role
                if agency_total > self.agency_cap:
                    raise Refused("TwinRegistryAgencyShareAboveCap", agency_total, self.agency_cap)
            if any(p[0] == account for p in payees[:i]):
                raise Refused("TwinRegistryDuplicatePayee", account)
            total += bps
        if total != 10_000:
            raise Refused("TwinRegistrySharesNotTotal", total)
        if total - payees[0][1] > self.non_model_cap:
            raise Refused("TwinRegistryNonModelShareAboveCap", total - payees[0][1], self.non_model_cap)

    def write_payees(self, twin_id: int, payees: list[tuple[str, int, int]]) -> None:
        """A payee that stays listed keeps its acceptance, one dropped loses it; the model counts her twin."""
        twin = self.twins[twin_id]
        staying = {p[0] for p in payees[1:]}
        for account, _, _ in twin.payees[1:]:
            if account not in staying and twin_id in self.twins_of.get(account, []):
                self.twins_of[account].remove(twin_id)
        twin.payees = list(payees)
        counted = self.twins_of.setdefault(payees[0][0], [])
        if twin_id not in counted:
            counted.append(twin_id)
        for account, _, _ in payees:
            self.ever_payees.add(account)

    def payee_index(self, twin_id: int, account: str) -> int:
        twin = self.twins.get(twin_id)
        if twin is None:
            raise Refused("ERC721NonexistentToken", twin_id)
        if twin.payees[0][0] == account:
            raise Refused("TwinRegistryModelPayeeFixed", twin_id)
        for i, p in enumerate(twin.payees[1:], start=1):
            if p[0] == account:
                return i
        raise Refused("TwinRegistryNotPayee", twin_id, account)

    def model_of(self, twin_id: int, caller: str) -> Twin:
        twin = self.twins.get(twin_id)
        if twin is None:
            raise Refused("TwinRegistryUnknownTwin", twin_id)
        if twin.model != caller:
            raise Refused("TwinRegistryNotModel", twin_id, caller)
        return twin

    def claim_exclusivity(self, twin_id: int, terms: tuple, expiry: int, now: int) -> list:
        """The cells a purchase writes, or Refused on a collision (same order of checks as the contract)."""
        until = min(expiry, UINT32_MAX)
        exclusive = terms[6]
        writes = []
        for category in range(8):
            if not terms[4] >> category & 1:
                continue
            for territory in range(8):
                if not terms[5] >> territory & 1:
                    continue
                cell = (twin_id, category, territory)
                held = self.exclusive_until.get(cell, 0)
                if held > now:
                    raise Refused("LicenseTokenExclusivityConflict", twin_id, category, territory, held)
                licensed = self.licensed_until.get(cell, 0)
                if exclusive and licensed > now:
                    raise Refused("LicenseTokenExclusivityConflict", twin_id, category, territory, licensed)
                writes.append((cell, exclusive, max(licensed, until), until))
        return writes

    def release(self, lic: Licence) -> None:
        """Frees the cells of an exclusive licence ended early: those still holding its end."""
        until = min(lic.expiry, UINT32_MAX)
        for category in range(8):
            for territory in range(8):
                if lic.categories >> category & 1 and lic.territories >> territory & 1:
                    cell = (lic.twin, category, territory)
                    for cells in (self.exclusive_until, self.licensed_until):
                        if cells.get(cell, 0) == until:
                            cells[cell] = 0


# ---------------------------------------------------------------------------------------------- the run


class Run:
    def __init__(self, env, chain, accounts, rpc_url: str) -> None:
        self.env = env
        self.chain = chain
        # Thousands of requests: straight to the node, with each function's selector and types worked out once.
        self.node = NodeRpc(rpc_url)
        self.lic = Functions(env.license)
        self.reg = Functions(env.registry)
        self.tok = Functions(env.token)
        self.lic_address = self.lic.address
        self.rng = random.Random(SEED)
        self.m = Model()
        self.a = accounts
        assert env.now() < START, f"the session's clock ({env.now()}) is past the run's start {START}"
        self.now = START
        self.transactions = 0
        self.refusals: dict[str, int] = {}
        self.successes: dict[str, int] = {}
        self.steps = 0
        self.touched_licences: set[int] = set()
        self.touched_accounts: set[str] = set()
        self.skipped: dict[str, int] = {}  # SettleItemSkipped reasons seen, by name
        self.signed_attestations = 0
        self.withdrawn_seen = 0  # category revocations tried while some category was withdrawn
        self.grace_changes = 0
        self.revoked_seen = 0  # publications tried while some twin's consent was revoked
        self.items_paid = 0
        self.chain_id = env.w3.eth.chain_id
        self.keys = {acct.address: acct for acct in accounts.everyone}
        # The attestations already on chain (the contract tests' fixture attests two of the models).
        for attestation_id in range(1, env.call("TwinRegistry", "attestationCount") + 1):
            self.m.attestations[attestation_id] = Attestation(*env.call("TwinRegistry", "attestation", attestation_id))
        for acct in accounts.everyone:
            current = env.call("TwinRegistry", "attestationOf", acct.address)[0]
            if current:
                self.m.current[acct.address] = current
            self.m.attestation_nonces[acct.address] = env.call("TwinRegistry", "attestationNonce", acct.address)
        self.domain = attestation_domain(chain)

    # -------------------------------------------------------------- sending

    def send(self, who: str, call: Any, predict, label: str) -> str | None:
        """Predicts the call at the next block's time, sends it, and compares the outcome with the prediction.

        `predict(now)` raises Refused, or returns a function applying the call's effects to the model. Returns the
        transaction's hash when it succeeded.
        """
        self.now += self.rng.choice((1, 1, 1, 2, 13))
        try:
            effects = predict(self.now)
            expected = None
        except Refused as refused:
            effects, expected = None, refused
        self.node.result("evm_setNextBlockTimestamp", [self.now])
        tx = {"from": who, "to": call.address, "data": call.data, "gas": hex(GAS_LIMIT)}
        response = self.node.request("eth_sendTransaction", [tx])
        self.transactions += 1
        self.touched_accounts.add(who)
        if "error" in response:
            error = response["error"]
            data = error.get("data")
            revert = self.chain.decoder.decode(data.get("data") if isinstance(data, dict) else data or "0x")
            assert revert is not None, f"step {self.steps} {label}: undecodable failure {error}"
            assert expected is not None, f"step {self.steps} {label}: model expected success, chain said {revert}"
            assert (revert.name, tuple(revert.args)) == (expected.name, expected.error_args), (
                f"step {self.steps} {label}: chain {revert}, model {expected.name}{expected.error_args}"
            )
            self.refusals[expected.name] = self.refusals.get(expected.name, 0) + 1
            return None
        assert expected is None, (
            f"step {self.steps} {label}: model expected {expected.name}{expected.error_args}, chain succeeded"
        )
        self.successes[label] = self.successes.get(label, 0) + 1
        effects()
        return response["result"]

    def logs(self, tx_hash: str, event: str, types: list[str]) -> list[tuple]:
        """The licence contract's `event` logs of a transaction: (first indexed topic as int, *decoded data)."""
        topic = "0x" + Web3.keccak(text=event).hex().removeprefix("0x")
        receipt = self.node.result("eth_getTransactionReceipt", [tx_hash])
        return [
            (int(log["topics"][1], 16), *decode(types, bytes.fromhex(log["data"][2:])))
            for log in receipt["logs"]
            if log["address"].lower() == self.lic_address.lower() and log["topics"][0] == topic
        ]

    # -------------------------------------------------------------- choices

    def pick(self, seq):
        return self.rng.choice(list(seq)) if seq else None

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # -------------------------------------------------------------- operations

    def op_faucet(self) -> None:
        who = self.pick(self.a.brands)
        amount = FAUCET_LIMIT + 1 if self.chance(0.03) else self.rng.choice((10**6, 25 * 10**6, 500 * 10**6))

        def predict(now):
            if amount > FAUCET_LIMIT:
                raise Refused("TestStablecoinFaucetLimit", amount, FAUCET_LIMIT)

            def effects():
                self.m.token[who] = self.m.token.get(who, 0) + amount

            return effects

        self.send(who, self.tok.faucet(who, amount), predict, "faucet")

    def op_approve(self, who: str | None = None, amount: int | None = None) -> None:
        who = who or self.pick(self.a.brands)
        if amount is None:
            amount = self.rng.choice((0, 10**6, 50 * 10**6, 2**256 - 1))

        def predict(now):
            def effects():
                self.m.allowance[who] = amount

            return effects

        self.send(who, self.tok.approve(self.lic_address, amount), predict, "approve")

    def random_payees(self, model: str) -> list[tuple[str, int, int]]:
        payees = []
        rest = 10_000
        if self.chance(0.7):
            cap = self.m.agency_cap
            share = self.rng.choice((500, 1_000, 1_500, 2_000, cap, cap + 1 if self.chance(0.2) else cap))
            share = max(1, min(share, 9_000))
            payees.append((self.pick(self.a.agencies), share, AGENCY))
            rest -= share
        crew = self.rng.sample(self.a.crew, self.rng.choice((0, 0, 1, 2, 3)))
        for member in crew:
            share = self.rng.choice((100, 333, 500, 1_000))
            payees.append((member, share, CREW))
            rest -= share
        result = [(model, rest, MODEL)] + payees
        # Now and then, break it on purpose.
        fault = self.rng.random()
        if fault < 0.04 and len(result) > 1:
            result[1] = (result[1][0], result[1][1] + 1, result[1][2])  # sum 10 001
        elif fault < 0.07 and len(result) > 1:
            result.append(result[1])  # duplicate
        elif fault < 0.09:
            result = result[1:] + result[:1]  # model not first
        elif fault < 0.11 and len(result) > 1:
            result[1] = (result[1][0], 0, result[1][2])  # zero share
        elif fault < 0.12:
            result = result + [(self.pick(self.a.crew), 1, CREW)] * 8  # too many
        return result

    def op_register(self) -> None:
        model = self.pick(self.a.models)
        payees = self.random_payees(model)
        uri = f"ipfs://twin-{self.steps}"

        def predict(now):
            self.m.require_attested(model, MODEL, now)
            self.m.check_payees(model, payees, now)

            def effects():
                twin_id = len(self.m.twins) + 1
                self.m.twins[twin_id] = Twin(model=model, payees=[], notice=self.m.notice)
                self.m.write_payees(twin_id, payees)

            return effects

        call = self.reg.registerTwin(uri, b"\x11" * 32, payees)
        self.send(model, call, predict, "register")

    def op_set_payees(self) -> None:
        twin_id = self.pick(self.m.twins) or 1
        twin = self.m.twins.get(twin_id)
        caller = twin.model if twin and self.chance(0.9) else self.pick(self.a.models)
        payees = self.random_payees(caller)

        def predict(now):
            self.m.model_of(twin_id, caller)
            self.m.check_payees(caller, payees, now)

            def effects():
                self.m.distribute(twin_id)
                self.m.write_payees(twin_id, payees)
                for account, _, _ in payees:
                    self.touched_accounts.add(account)

            return effects

        if twin:
            self.touched_accounts.update(p[0] for p in twin.payees)
        self.send(caller, self.reg.setPayees(twin_id, payees), predict, "setPayees")

    def random_terms(self) -> tuple:
        bits = lambda: sum(1 << b for b in self.rng.sample(range(8), self.rng.choice((1, 1, 1, 2, 3))))  # noqa: E731
        exclusive = self.chance(0.2)
        if exclusive:  # mostly at or above the minimums the guild sets (0, 1 or 1 000 tUSDC), now and then below
            upfront = self.rng.choice((0, 10**6, 10**6, 2 * 10**6, 1_000 * 10**6))
            if self.m.exclusivity_minimum and self.chance(0.1):
                upfront = self.m.exclusivity_minimum - 1  # just below the guild's minimum
            idle = self.rng.choice((HOUR, DAY, DAY, 3 * DAY)) if self.chance(0.95) else 0
        else:
            upfront = self.rng.choice((0, 0, 1, 999, 10**6, 3_333_333))
            idle = 0 if self.chance(0.97) else DAY
        return (
            upfront,
            self.rng.choice((1, 7, 13, 50_000, 123_457)) if self.chance(0.97) else 0,  # per use
            self.rng.choice((HOUR, DAY, 7 * DAY, 30 * DAY, 30 * DAY, 90 * DAY)),
            self.rng.choice((0, 0, 1, 5, 50)),
            bits() if self.chance(0.98) else 0,
            bits(),
            exclusive,
            self.chance(0.4) and not exclusive,
            idle,
        )

    def floor_of(self, categories: int) -> int:
        return max([self.m.floors.get(c, 0) for c in range(8) if categories >> c & 1], default=0)

    def op_publish(self) -> None:
        twin_id = self.pick(self.m.twins) or 1
        revoked = [i for i, t in self.m.twins.items() if t.revoked_at]
        if revoked:
            self.revoked_seen += 1
            if self.revoked_seen % 3 == 1 or self.chance(0.2):  # the first and every third at least:
                twin_id = self.pick(revoked)  # a model trying to publish again before granting consent again
        withdrawn = [i for i, t in self.m.twins.items() if t.categories_revoked and not t.revoked_at]
        include = None
        if withdrawn and self.chance(0.15):
            twin_id = self.pick(withdrawn)  # an offer including a category she withdrew
            include = self.pick(self.m.twins[twin_id].categories_revoked)
        twin = self.m.twins.get(twin_id)
        caller = twin.model if twin and self.chance(0.93) else self.pick(self.a.models + self.a.agencies)
        terms = self.random_terms()
        if include is not None:
            terms = (*terms[:4], terms[4] | 1 << include, *terms[5:])

        def predict(now):
            if twin is None:
                raise Refused("ERC721NonexistentToken", twin_id)
            if twin.model != caller:
                raise Refused("LicenseTokenNotModel", twin_id, caller)
            self.m.require_attested(caller, MODEL, now)
            if twin.revoked_at != 0:
                raise Refused("LicenseTokenConsentNotGranted", twin_id)
            if terms[4] & self.m.revoked_mask(twin_id):
                raise Refused("LicenseTokenCategoryConsentNotGranted", twin_id, terms[4] & self.m.revoked_mask(twin_id))
            for index, reason in ((4, "no usage category"), (5, "no territory"), (2, "zero duration"), (1, "zero per-use fee")):
                if terms[index] == 0:
                    raise Refused("LicenseTokenInvalidTerms", reason)
            if terms[6] and terms[8] == 0:
                raise Refused("LicenseTokenInvalidTerms", "exclusive without idle period")
            if not terms[6] and terms[8] != 0:
                raise Refused("LicenseTokenInvalidTerms", "idle period without exclusivity")
            floor = self.floor_of(terms[4])
            if terms[1] < floor:
                raise Refused("LicenseTokenFeeBelowFloor", terms[1], floor)
            if terms[6] and terms[0] < self.m.exclusivity_minimum:
                raise Refused("LicenseTokenExclusiveUpfrontTooLow", terms[0], self.m.exclusivity_minimum)

            def effects():
                self.m.offers[len(self.m.offers) + 1] = Offer(twin=twin_id, active=True, terms=terms)

            return effects

        self.send(caller, self.lic.publishOffer(twin_id, terms), predict, "publish")

    def op_withdraw_offer(self) -> None:
        offer_id = self.pick(self.m.offers) or 1
        if self.chance(0.05):
            offer_id = len(self.m.offers) + 7
        offer = self.m.offers.get(offer_id)
        owner = self.m.twins[offer.twin].model if offer else self.pick(self.a.models)
        caller = owner if self.chance(0.9) else self.pick(self.a.models)

        def predict(now):
            if offer is None:
                raise Refused("LicenseTokenUnknownOffer", offer_id)
            if self.m.twins[offer.twin].model != caller:
                raise Refused("LicenseTokenNotModel", offer.twin, caller)
            if not offer.active:
                raise Refused("LicenseTokenOfferInactive", offer_id)

            def effects():
                offer.active = False

            return effects

        self.send(caller, self.lic.withdrawOffer(offer_id), predict, "withdrawOffer")

    def predict_buy(self, brand: str, offer_id: int, escrow: int, now: int, permit_total: int | None = None):
        """`_buy`'s checks and effects; `permit_total` is the allowance a valid permit sets first."""
        m = self.m
        if m.paused:
            raise Refused("EnforcedPause")
        offer = m.offers.get(offer_id)
        saved_allowance = m.allowance.get(brand, 0)
        if permit_total is not None:
            m.allowance[brand] = permit_total  # rolled back below if the purchase reverts
        try:
            if offer is None:
                raise Refused("LicenseTokenUnknownOffer", offer_id)
            if not offer.active:
                raise Refused("LicenseTokenOfferInactive", offer_id)
            floor = self.floor_of(offer.terms[4])  # today's floors, whatever they were at publication
            if offer.terms[1] < floor:
                raise Refused("LicenseTokenOfferBelowFloor", offer_id, offer.terms[1], floor)
            if offer.terms[6] and offer.terms[0] < m.exclusivity_minimum:
                raise Refused("LicenseTokenExclusiveUpfrontTooLow", offer.terms[0], m.exclusivity_minimum)
            if m.twins[offer.twin].revoked_at != 0:
                raise Refused("LicenseTokenConsentNotGranted", offer.twin)
            if offer.terms[4] & m.revoked_mask(offer.twin):
                raise Refused("LicenseTokenCategoryConsentNotGranted", offer.twin,
                              offer.terms[4] & m.revoked_mask(offer.twin))
            total = offer.terms[0] + escrow
            m.require_funds(brand, total)
            expiry = now + offer.terms[2]
            writes = m.claim_exclusivity(offer.twin, offer.terms, expiry, now)
        finally:
            permit_allowance = m.allowance.get(brand, 0)
            m.allowance[brand] = saved_allowance

        def effects():
            terms = offer.terms
            if permit_total is not None:
                m.allowance[brand] = permit_allowance
                m.nonces[brand] = m.nonces.get(brand, 0) + 1
            for cell, exclusive, licensed, until in writes:
                if exclusive:
                    m.exclusive_until[cell] = until
                m.licensed_until[cell] = licensed
            licence_id = len(m.licences) + 1
            m.licences[licence_id] = Licence(
                twin=offer.twin,
                holder=brand,
                escrow=escrow,
                used=0,
                max_uses=terms[3] or UINT32_MAX,
                expiry=expiry,
                fee=terms[1],
                transferable=terms[7],
                exclusive=terms[6],
                idle=terms[8],
                started=now,
                categories=terms[4],
                territories=terms[5],
                upfront=terms[0],  # held unvested (issue 11), not credited
                duration=terms[2],
            )
            if total:
                m.pay(brand, total)
            self.touched_licences.add(licence_id)
            self.touched_accounts.update(p[0] for p in m.twins[offer.twin].payees)

        return effects

    def choose_purchase(self) -> tuple[str, int, int]:
        brand = self.pick(self.a.brands)
        active = [i for i, o in self.m.offers.items() if o.active]
        offer_id = self.pick(active) if active and self.chance(0.95) else (self.pick(self.m.offers) or 1)
        offer = self.m.offers.get(offer_id)
        fee = offer.terms[1] if offer else 1
        escrow = fee * self.rng.choice((0, 1, 5, 20, 60, 200)) + self.rng.choice((0, 0, 5))
        return brand, offer_id, escrow

    def ensure_funds(self, brand: str, total: int, approve: bool) -> None:
        """Most brands pay their way: faucet and approve first (as transactions of their own)."""
        if self.m.token.get(brand, 0) < total and self.chance(0.9):
            self.send(brand, self.tok.faucet(brand, FAUCET_LIMIT // 1000), lambda now: self._mint(brand, FAUCET_LIMIT // 1000), "faucet")
        if approve and self.m.allowance.get(brand, 0) < total and self.chance(0.9):
            self.op_approve(brand, self.rng.choice((total, total * 3, 2**256 - 1)))

    def _mint(self, who: str, amount: int):
        def effects():
            self.m.token[who] = self.m.token.get(who, 0) + amount

        return effects

    def op_buy(self) -> None:
        brand, offer_id, escrow = self.choose_purchase()
        offer = self.m.offers.get(offer_id)
        total = (offer.terms[0] if offer else 0) + escrow
        self.ensure_funds(brand, total, approve=True)
        self.send(
            brand,
            self.lic.buyLicense(offer_id, escrow),
            lambda now: self.predict_buy(brand, offer_id, escrow, now),
            "buy",
        )

    def op_buy_with_permit(self) -> None:
        brand, offer_id, escrow = self.choose_purchase()
        offer = self.m.offers.get(offer_id)
        total = (offer.terms[0] if offer else 0) + escrow
        self.ensure_funds(brand, total, approve=False)
        deadline = self.now + self.rng.choice((3600, 3600, 3600, -10))
        signed_value = total if self.chance(0.93) else max(total - 1, 0)
        nonce = self.m.nonces.get(brand, 0)
        v, r, s = self.env.permit(self.keys[brand], signed_value, deadline, self.lic_address, nonce=nonce)

        def predict(now):
            valid = deadline >= now and signed_value == total
            return self.predict_buy(brand, offer_id, escrow, now, permit_total=total if valid else None)

        call = self.lic.buyLicenseWithPermit(offer_id, escrow, deadline, v, r, s)
        self.send(brand, call, predict, "buyWithPermit")

    def op_top_up(self) -> None:
        licence_id = self.pick(self.m.licences) or 1
        if self.chance(0.03):
            licence_id = len(self.m.licences) + 3
        payer = self.pick(self.a.brands)
        lic = self.m.licences.get(licence_id)
        amount = (lic.fee if lic else 1) * self.rng.choice((1, 5, 20)) if self.chance(0.95) else 0
        self.ensure_funds(payer, amount, approve=True)

        def predict(now):
            m = self.m
            if m.paused:
                raise Refused("EnforcedPause")
            if lic is None:
                raise Refused("LicenseTokenUnknownLicense", licence_id)
            if amount == 0:
                raise Refused("LicenseTokenZeroAmount")
            if now >= lic.expiry:
                raise Refused("LicenseTokenExpired", licence_id, lic.expiry)
            end = m.licence_end(lic)  # a revocation that took effect, even one granted again since
            if now >= end:
                raise Refused("LicenseTokenConsentRevoked", lic.twin, end)
            if lic.escrow + amount > UINT64_MAX:
                raise Refused("LicenseTokenEscrowTooLarge", lic.escrow + amount, UINT64_MAX)
            m.require_funds(payer, amount)

            def effects():
                lic.escrow += amount
                m.pay(payer, amount)
                self.touched_licences.add(licence_id)

            return effects

        self.send(payer, self.lic.topUpEscrow(licence_id, amount), predict, "topUp")

    def op_settle(self) -> None:
        m = self.m
        items, signers = [], []
        planned: dict[int, int] = {}  # licence -> next sequence number within this batch
        candidates = [
            i
            for i, lic in m.licences.items()
            if self.now < m.grace_ends(m.licence_end(lic), self.now)  # signed in time, still payable
            and (lic.escrow >= lic.fee or lic.seller_escrow >= lic.fee)
            and lic.used < lic.max_uses
        ]
        if not candidates and self.chance(0.8):
            return self.op_buy()  # nothing to settle: business goes on
        for _ in range(self.rng.choice((1, 1, 2, 3, 4))):
            licence_id = self.pick(candidates) if candidates and self.chance(0.93) else self.pick(m.licences) or 1
            lic = m.licences.get(licence_id)
            seq = planned.get(licence_id, lic.used if lic else 0)
            already = seq - (lic.used if lic else 0)  # planned earlier in this batch
            affordable = (max(lic.escrow, lic.seller_escrow) // lic.fee - already) if lic else 1
            allowed = (lic.max_uses - lic.used - already) if lic else 1
            count = self.rng.randint(1, max(1, min(affordable, allowed, 30)))
            fault = self.rng.random()
            if fault < 0.03:
                seq = max(seq - 1, 0) if seq else seq + 1  # replay (or gap when nothing settled yet)
            elif fault < 0.05:
                seq += 2  # gap
            elif fault < 0.06:
                count = 0
            elif fault < 0.07:
                licence_id, lic = len(m.licences) + 5, None  # unknown
            elif fault < 0.09:
                count += 1_000  # more than the escrow (or the max uses) allows
            elif fault < 0.14 and lic and lic.max_uses < UINT32_MAX:
                # One use past the licence's maximum (at least one use: earlier items may have planned past it).
                count = max(lic.max_uses - lic.used - already + 1, 1)
            item, signer = self.signed_item(licence_id, lic, seq, count)
            items.append(item)
            signers.append(signer)
            planned[licence_id] = seq + count
        if self.chance(0.01):
            items, signers = [], []
        caller = self.a.recorder if self.chance(0.98) else self.pick(self.a.brands + [self.a.admin])
        outcome: list = []  # the model's (licence, firstSeq, count, reason or None) for each item

        def predict(now):
            if caller != self.a.recorder:
                raise Refused("AccessControlUnauthorizedAccount", caller, self.env_role("RECORDER_ROLE"))
            if m.paused:
                raise Refused("EnforcedPause")
            if not items:
                raise Refused("LicenseTokenEmptyBatch")
            work = {i: replace(lic) for i, lic in m.licences.items() if i in {it[0] for it in items}}
            pools: dict[int, int] = {}
            for item, signer in zip(items, signers):
                reason, paid = self.predict_item(work, item, signer, now)
                if reason is not None and self.voids(work, item, signer, reason):
                    paid = "voided"  # UsesVoided instead of SettleItemSkipped: the count moves on, no money
                outcome.append((item[0], item[1], item[2], reason, paid))
                if reason is None:
                    pools[work[item[0]].twin] = pools.get(work[item[0]].twin, 0) + paid[0]

            def effects():
                for licence_id, lic in work.items():
                    m.licences[licence_id] = lic
                    self.touched_licences.add(licence_id)
                    self.touched_accounts.add(lic.holder)
                for twin_id, amount in pools.items():
                    m.twins[twin_id].pool += amount
                    m.credited += amount
                    self.touched_accounts.update(p[0] for p in m.twins[twin_id].payees)

            return effects

        tx_hash = self.send(caller, self.lic.settle(items), predict, "settle")
        if tx_hash is None:
            return
        # The chain skipped exactly the items the model did, for the same reasons, and paid the others from the
        # escrow the model said.
        skipped = self.logs(tx_hash, "SettleItemSkipped(uint256,uint32,uint32,uint8)", ["uint32", "uint32", "uint8"])
        paid = self.logs(tx_hash, "UsesSettled(uint256,uint256,uint32,uint32,uint64,bytes32,address)",
                         ["uint32", "uint32", "uint64", "bytes32", "address"])
        voided = self.logs(tx_hash, "UsesVoided(uint256,uint32,uint32,uint8)", ["uint32", "uint32", "uint8"])
        where = f"step {self.steps} settle"
        assert skipped == [(i, q, c, r) for i, q, c, r, p in outcome if r is not None and p != "voided"], (
            where, skipped, outcome)
        assert voided == [(i, q, c, r) for i, q, c, r, p in outcome if p == "voided"], (where, voided, outcome)
        assert [(i, q, c, amount, Web3.to_checksum_address(payer)) for i, q, c, amount, _, payer in paid] == [
            (i, q, c, *p) for i, q, c, r, p in outcome if r is None], (where, paid, outcome)
        for _, _, _, reason, p in outcome:
            name = "paid" if reason is None else ("voided " if p == "voided" else "") + skip.NAMES[reason]
            self.skipped[name] = self.skipped.get(name, 0) + 1

    def holder_at(self, lic: Licence, used_at: int) -> tuple[str, bool]:
        """Who held the licence when a use at `used_at` was signed, and whether that is the seller of its handover
        (whose escrow pays it)."""
        if lic.seller is not None and used_at < lic.handed_at:
            return lic.seller, True
        return lic.holder, False

    def signed_item(self, licence_id: int, lic: Licence | None, seq: int, count: int) -> tuple[tuple, str | None]:
        """A settle item of `count` uses from `seq`, with a signed report of its last use: mostly what the settler
        sends (the holder's signature, just now), sometimes from before the end or after it, by the seller of a
        handover, by someone else, or broken. With it, whom the contract recovers: the signer, "forged" for a
        signature over another report (another address), None for a signature that recovers nobody."""
        m = self.m
        mask = self.item_mask(lic)
        category = lowest_bit(mask)
        territory = lowest_bit(lic.territories) if lic else 0
        used_at = self.now  # before the next block's time
        signer = self.pick(self.a.brands)
        if lic is not None:
            end = m.licence_end(lic)
            when = self.rng.random()
            if when < 0.15 and end <= self.now:
                used_at = end - self.rng.choice((1, 60, HOUR))  # signed in time, settled late
            elif when < 0.2 and end <= self.now:
                used_at = end + self.rng.choice((0, 1))  # signed at or after the end
            elif when < 0.35 and lic.seller is not None:
                used_at = lic.handed_at - self.rng.choice((1, 30))  # the seller's use before the handover
            used_at = max(used_at, 1)
            signer = self.holder_at(lic, used_at)[0]
        report_license, report_seq = licence_id, max(seq + count - 1, 0)
        uses_root = self.rng.randbytes(32)
        fault = self.rng.random()
        if fault < 0.02:
            category = (category + 1) % 8  # not the mask's lowest bit: usually outside the mask
        elif fault < 0.04:
            uses_root = bytes(32)
        elif fault < 0.06:
            signer = self.pick([b for b in self.a.brands if b != signer])  # a stranger, or a former holder
        elif fault < 0.07:
            report_license = licence_id + 1  # replayed from another licence
        elif fault < 0.08:
            report_seq += 1  # claims one use more than it carries: the holder signed another number
        ref = self.rng.randbytes(32)
        sig_r, sig_vs = sign_report(self.keys[signer], self.chain_id, self.lic_address, report_license, report_seq,
                                    ref, category, territory, used_at)
        broken = self.chance(0.02)
        if broken:
            sig_r = bytes(32)  # recovers nobody
        honest = report_license == licence_id and report_seq == max(seq + count - 1, 0)
        item = (licence_id, seq, count, uses_root, mask, ref, category, territory, used_at, sig_r, sig_vs)
        return item, None if broken else (signer if honest else "forged")

    def predict_item(self, work: dict[int, Licence], item: tuple, signer: str | None, now: int):
        """The contract's checks of one item, in its order: (skip reason, None), or (None, (amount, payer)) with
        its effects applied to the working copy `work`."""
        m = self.m
        licence_id, seq, count, uses_root, mask, _, category, _, used_at, _, _ = item
        lic = work.get(licence_id)
        if lic is None:
            return skip.UNKNOWN_LICENSE, None
        if seq != lic.used:
            return skip.SEQUENCE_MISMATCH, None
        if count == 0:
            return skip.ZERO_COUNT, None
        if mask == 0 or mask & ~lic.categories or not mask >> category & 1:
            return skip.CATEGORIES_INVALID, None
        if uses_root == bytes(32):
            return skip.EMPTY_USES_ROOT, None
        if signer is None:
            return skip.BAD_SIGNATURE, None
        holder, from_seller = self.holder_at(lic, used_at)
        if signer != holder:
            return skip.NOT_HOLDER, None
        end = m.licence_end(lic)
        revoked = m.twins[lic.twin].categories_revoked
        for c in range(8):
            if mask >> c & 1 and c in revoked:
                end = min(end, revoked[c])
        if used_at >= end:
            return skip.SIGNED_AFTER_END, None
        if now >= m.grace_ends(end, now):
            return skip.GRACE_OVER, None
        if from_seller and now >= m.grace_ends(lic.handed_at, now):
            return skip.GRACE_OVER, None  # the seller may have taken her escrow back by now
        if lic.used + count > lic.max_uses:
            return skip.MAX_USES_EXCEEDED, None
        amount = count * lic.fee
        if amount > (lic.seller_escrow if from_seller else lic.escrow):
            return skip.INSUFFICIENT_ESCROW, None
        if from_seller:
            lic.seller_escrow -= amount
        else:
            lic.escrow -= amount
        lic.used += count
        if lic.exclusive:
            lic.last_settled = now  # restarts its idle clock
        return None, (amount, holder)

    @staticmethod
    def voids(work: dict[int, Licence], item: tuple, signer: str | None, reason: int) -> bool:
        """`_voidSellers`: whether a skipped item of a handed-over licence is voided instead (and then voids it in
        `work`): its last report validly signed by the seller, dated at or after the handover (NotHolder) or before
        it and unpayable from her escrow (InsufficientEscrow, GraceOver), within maxUses."""
        licence_id, _, count, _, _, _, _, _, used_at, _, _ = item
        lic = work.get(licence_id)
        if lic is None or not lic.transferable or reason not in skip.VOIDABLE or lic.seller is None:
            return False
        if reason != skip.NOT_HOLDER and used_at >= lic.handed_at:
            return False
        if signer != lic.seller or lic.used + count > lic.max_uses:
            return False
        lic.used += count
        return True

    def item_mask(self, lic: Licence | None) -> int:
        """An item's category mask: mostly a non-empty subset of the licence's categories whose revocation (if any)
        has not taken effect, as the settler sends; sometimes empty, outside the licence, or any subset."""
        if lic is None:
            return self.rng.randint(1, 255)
        fault = self.rng.random()
        if fault < 0.02:
            return 0
        if fault < 0.04:
            return self.rng.randint(1, 255)  # usually outside the licence
        bits = [c for c in range(8) if lic.categories >> c & 1]
        if fault > 0.1:  # the settler holds the uses of a category whose revocation took effect
            settleable = [c for c in bits if self.m.category_in_effect(lic.twin, 1 << c, self.now + 1) is None]
            bits = settleable or bits
        chosen = self.rng.sample(bits, self.rng.randint(1, len(bits))) if bits else []
        return sum(1 << c for c in chosen)

    def op_revoke_category(self) -> None:
        twin_id = self.pick(self.m.twins) or 1
        category = self.rng.randrange(8) if self.chance(0.97) else 8
        withdrawn = [(i, c) for i, t in self.m.twins.items() for c in t.categories_revoked]
        if withdrawn:
            self.withdrawn_seen += 1
            if self.withdrawn_seen % 3 == 1 or self.chance(0.2):  # the first and every third: withdrawn already
                twin_id, category = self.pick(withdrawn)
        twin = self.m.twins.get(twin_id)
        caller = twin.model if twin and self.chance(0.95) else self.pick(self.a.models)

        def predict(now):
            t = self.m.model_of(twin_id, caller)
            if category >= 8:
                raise Refused("TwinRegistryUnknownCategory", category)
            if category in t.categories_revoked:
                raise Refused("TwinRegistryCategoryConsentAlreadyRevoked", twin_id, category)

            def effects():
                t.categories_revoked[category] = now + t.notice  # the twin's own notice period
                self.withdraw_offers(twin_id, 1 << category)

            return effects

        self.send(caller, self.reg.revokeCategoryConsent(twin_id, category), predict, "revokeCategory")

    def op_grant_category(self) -> None:
        revoked = [(i, c) for i, t in self.m.twins.items() for c in t.categories_revoked]
        if revoked and self.chance(0.9):
            twin_id, category = self.pick(revoked)
        else:
            twin_id, category = self.pick(self.m.twins) or 1, self.rng.randrange(8)
        twin = self.m.twins.get(twin_id)
        caller = twin.model if twin and self.chance(0.95) else self.pick(self.a.models)

        def predict(now):
            t = self.m.model_of(twin_id, caller)
            if category not in t.categories_revoked:
                raise Refused("TwinRegistryCategoryConsentNotRevoked", twin_id, category)

            def effects():
                effective = t.categories_revoked.pop(category)
                if now >= effective:  # it took effect: the licences with that category lost it for good
                    for lic in self.m.licences.values():
                        if lic.twin == twin_id and lic.categories >> category & 1:
                            lic.category_ended.setdefault(category, effective)

            return effects

        self.send(caller, self.reg.grantCategoryConsent(twin_id, category), predict, "grantCategory")

    def withdraw_offers(self, twin_id: int, categories: int) -> None:
        """A revocation withdraws the twin's offers including any of `categories` (issue 11)."""
        for offer in self.m.offers.values():
            if offer.twin == twin_id and offer.terms[4] & categories:
                offer.active = False

    @staticmethod
    def env_role(name: str) -> bytes:
        return bytes(Web3.keccak(text=name))

    def op_revoke(self) -> None:
        twin_id = self.pick(self.m.twins) or 1
        twin = self.m.twins.get(twin_id)
        caller = twin.model if twin and self.chance(0.95) else self.pick(self.a.models)

        def predict(now):
            t = self.m.model_of(twin_id, caller)
            if t.revoked_at != 0:
                raise Refused("TwinRegistryConsentAlreadyRevoked", twin_id)

            def effects():
                t.revoked_at = now + t.notice  # the notice period of the twin's consent, not today's
                self.withdraw_offers(twin_id, 0xFF)

            return effects

        self.send(caller, self.reg.revokeConsent(twin_id), predict, "revoke")

    def op_grant(self) -> None:
        revoked = [i for i, t in self.m.twins.items() if t.revoked_at]
        twin_id = self.pick(revoked) if revoked and self.chance(0.9) else self.pick(self.m.twins) or 1
        twin = self.m.twins.get(twin_id)
        caller = twin.model if twin and self.chance(0.95) else self.pick(self.a.models)

        def predict(now):
            t = self.m.model_of(twin_id, caller)

            def effects():
                if t.revoked_at and now >= t.revoked_at:
                    # The revocation took effect: it ended the twin's licences for good, granting revives none.
                    for lic in self.m.licences.values():
                        if lic.twin == twin_id and not lic.revoked_end:
                            lic.revoked_end = t.revoked_at
                t.revoked_at = 0
                t.notice = self.m.notice

            return effects

        self.send(caller, self.reg.grantConsent(twin_id, self.rng.randbytes(32)), predict, "grant")

    def op_withdraw(self) -> None:
        payees = sorted(self.m.ever_payees) or self.a.models
        who = self.pick(payees) if self.chance(0.95) else self.pick(self.a.brands)

        def predict(now):
            m = self.m
            amount = m.claimable(who)
            if amount == 0:
                raise Refused("LicenseTokenNothingToWithdraw", who)

            def effects():
                for twin_id in m.twins_of.get(who, []):
                    m.distribute(twin_id)
                m.pay_out(who, amount)

            return effects

        self.send(who, self.lic.withdraw(), predict, "withdraw")

    def op_reclaim(self) -> None:
        m = self.m
        ready = [
            i for i, lic in m.licences.items()
            if lic.escrow and self.now >= m.grace_ends(m.licence_end(lic), self.now)
        ]
        licence_id = self.pick(ready) if ready and self.chance(0.7) else self.pick(m.licences) or 1
        lic = m.licences.get(licence_id)
        caller = lic.holder if lic and self.chance(0.92) else self.pick(self.a.brands)

        def predict(now):
            if lic is None:
                raise Refused("LicenseTokenUnknownLicense", licence_id)
            if lic.holder != caller:
                raise Refused("LicenseTokenNotHolder", licence_id, caller)
            end = m.licence_end(lic)
            if now < end:
                raise Refused("LicenseTokenStillActive", licence_id, end)
            grace_ends = m.grace_ends(end, now)
            if now < grace_ends:
                raise Refused("LicenseTokenInGrace", licence_id, grace_ends)
            if lic.escrow == 0:
                raise Refused("LicenseTokenNothingToReclaim", licence_id)

            def effects():
                m.token[caller] = m.token.get(caller, 0) + lic.escrow
                lic.escrow = 0
                self.touched_licences.add(licence_id)

            return effects

        self.send(caller, self.lic.reclaimEscrow(licence_id), predict, "reclaim")

    def op_transfer(self) -> None:
        m = self.m
        if not m.licences:
            return self.op_faucet()
        transferable = [i for i, lic in m.licences.items() if lic.transferable]
        licence_id = self.pick(transferable) if transferable and self.chance(0.8) else self.pick(m.licences)
        lic = m.licences[licence_id]
        to = self.pick([b for b in self.a.brands if b != lic.holder])

        def predict(now):
            if not lic.transferable:
                raise Refused("LicenseTokenNotTransferable", licence_id)
            if lic.seller_escrow:
                raise Refused("LicenseTokenHandoverOpen", licence_id, lic.seller, m.grace_ends(lic.handed_at, now))

            def effects():
                # The escrow held now becomes the seller's: it pays only what she signed before now (issue 11).
                lic.seller, lic.handed_at, lic.seller_escrow = lic.holder, now, lic.escrow
                lic.escrow = 0
                lic.holder = to
                self.touched_licences.add(licence_id)

            return effects

        call = self.lic.transferFrom(lic.holder, to, licence_id)
        self.send(lic.holder, call, predict, "transfer")

    def op_reclaim_seller(self) -> None:
        m = self.m
        sold = [i for i, lic in m.licences.items() if lic.seller is not None]
        licence_id = self.pick(sold) if sold and self.chance(0.9) else self.pick(m.licences) or 1
        lic = m.licences.get(licence_id)
        caller = lic.seller if lic and lic.seller and self.chance(0.9) else self.pick(self.a.brands)

        def predict(now):
            if lic is None:
                raise Refused("LicenseTokenUnknownLicense", licence_id)
            if lic.seller != caller:
                raise Refused("LicenseTokenNotSeller", licence_id, caller)
            grace_ends = m.grace_ends(lic.handed_at, now)
            if now < grace_ends:
                raise Refused("LicenseTokenInGrace", licence_id, grace_ends)
            if lic.seller_escrow == 0:
                raise Refused("LicenseTokenNothingToReclaim", licence_id)

            def effects():
                m.token[caller] = m.token.get(caller, 0) + lic.seller_escrow
                lic.seller_escrow = 0
                self.touched_licences.add(licence_id)

            return effects

        self.send(caller, self.lic.reclaimSellerEscrow(licence_id), predict, "reclaimSeller")

    def vest_ids(self) -> list[int]:
        """Licence ids to vest: mostly some with something to vest, now and then one twice or an unknown one."""
        m = self.m
        vestable = [i for i, lic in m.licences.items() if m.vesting(lic, self.now)[1] > lic.released]
        ids = self.rng.sample(vestable, min(len(vestable), self.rng.choice((1, 1, 2, 4)))) if vestable else []
        if not ids or self.chance(0.2):
            ids.append(self.pick(m.licences) or 1)
        if self.chance(0.1):
            ids.append(ids[0])  # twice: the second finds nothing new
        if self.chance(0.04):
            ids.insert(self.rng.randrange(len(ids) + 1), len(m.licences) + 2)  # unknown
        return ids

    def predict_vest(self, ids: list[int], now: int):
        """`vest(ids)`: Refused for the first unknown id, else the effects (applied to the model when called)."""
        m = self.m
        for licence_id in ids:
            if licence_id not in m.licences:
                raise Refused("LicenseTokenUnknownLicense", licence_id)

        def effects():
            for licence_id in ids:
                lic = m.licences[licence_id]
                if m.vest(lic, now):
                    self.touched_accounts.update(p[0] for p in m.twins[lic.twin].payees)
                self.touched_licences.add(licence_id)

        return effects

    def op_vest(self) -> None:
        ids = self.vest_ids()
        caller = self.pick(self.a.brands + self.a.models)  # anyone
        self.send(caller, self.lic.vest(ids), lambda now: self.predict_vest(ids, now), "vest")

    def op_withdraw_vested(self) -> None:
        m = self.m
        payees = sorted(m.ever_payees) or self.a.models
        who = self.pick(payees)
        mine = [i for i, lic in m.licences.items() if i and any(p[0] == who for p in m.twins[lic.twin].payees)]
        ids = self.rng.sample(mine, min(len(mine), 3)) if mine and self.chance(0.85) else self.vest_ids()

        def predict(now):
            vest = self.predict_vest(ids, now)
            # What withdraw() would pay after the vesting: worked out on a copy of the model.
            saved = {i: replace(m.licences[i]) for i in ids}
            pools = {t: tw.pool for t, tw in m.twins.items()}
            credited = m.credited
            vest()
            amount = m.claimable(who)
            for i, lic in saved.items():
                m.licences[i] = lic
            for t, pool in pools.items():
                m.twins[t].pool = pool
            m.credited = credited
            if amount == 0:
                raise Refused("LicenseTokenNothingToWithdraw", who)

            def effects():
                vest()
                for twin_id in m.twins_of.get(who, []):
                    m.distribute(twin_id)
                m.pay_out(who, amount)

            return effects

        self.send(who, self.lic.withdrawVested(ids), predict, "withdrawVested")

    def op_reclaim_unvested(self) -> None:
        m = self.m
        early = [i for i, lic in m.licences.items() if m.vesting(lic, self.now)[3]]
        licence_id = self.pick(early) if early and self.chance(0.7) else self.pick(m.licences) or 1
        lic = m.licences.get(licence_id)
        caller = lic.holder if lic and self.chance(0.9) else self.pick(self.a.brands)

        def predict(now):
            if lic is None:
                raise Refused("LicenseTokenUnknownLicense", licence_id)
            if lic.holder != caller:
                raise Refused("LicenseTokenNotHolder", licence_id, caller)
            end = m.licence_end(lic)
            if now < end:
                raise Refused("LicenseTokenNotEnded", licence_id, end)
            amount = m.vesting(lic, now)[3]
            if amount == 0:
                raise Refused("LicenseTokenNothingToRefund", licence_id)

            def effects():
                m.vest(lic, now)  # what vested up to the end goes to the twin first
                lic.refunded = amount
                m.token[caller] = m.token.get(caller, 0) + amount
                self.touched_licences.add(licence_id)
                self.touched_accounts.update(p[0] for p in m.twins[lic.twin].payees)

            return effects

        self.send(caller, self.lic.reclaimUnvested(licence_id), predict, "reclaimUnvested")

    # -------------------------------------------------------------- issue 10: guild, payees, idle exclusivity

    def op_attest(self, subject: str | None = None, role: int | None = None, days: int | None = None) -> None:
        m = self.m
        kind = self.rng.random()
        if subject is None:
            if kind < 0.5:
                subject, role = self.pick(self.a.models), MODEL
            elif kind < 0.8:
                subject, role = self.pick(self.a.agencies), AGENCY
            else:  # crew the guild knows as an agency: the agency cap binds it under the role Crew too
                subject, role = self.pick(self.a.crew[:2]), AGENCY
            if self.chance(0.04):
                role = CREW
        expires_at = self.now + (days * DAY if days else self.rng.choice((HOUR, DAY, 10 * DAY, 60 * DAY)))
        if self.chance(0.04):
            expires_at = self.now  # not after the next block's time
        guild_role = self.env_role("GUILD_ROLE")
        label = f"{ROLE_NAMES[role]} {subject[:8]}"
        if days is None and self.chance(0.4):  # by signature, submitted by a brand
            expected = m.attestation_nonces.get(subject, 0)
            self.signed_attestations += 1
            bad = self.signed_attestations % 4 == 0  # every fourth: a replayed or a future nonce, refused
            nonce = expected + self.rng.choice((-1, 1)) if bad else expected
            nonce = expected + 1 if nonce < 0 else nonce
            signer = self.a.guild if self.chance(0.92) else self.pick(self.a.brands)
            signature = sign_attestation(self.domain, self.keys[signer], subject, role, expires_at, label, nonce)
            caller, call, name = self.pick(self.a.brands), self.reg.attestWithSig(
                subject, role, expires_at, label, nonce, signature), "attestWithSig"
        else:
            nonce, signer = None, None
            caller = self.a.guild if self.chance(0.95) else self.a.admin
            call, name = self.reg.attest(subject, role, expires_at, label), "attest"

        def predict(now):
            if nonce is not None:
                expected = m.attestation_nonces.get(subject, 0)
                if nonce != expected:
                    raise Refused("TwinRegistryAttestationBadNonce", subject, nonce, expected)
                if signer != self.a.guild:
                    raise Refused("TwinRegistryAttestationSignerNotGuild", signer)
            elif caller != self.a.guild:
                raise Refused("AccessControlUnauthorizedAccount", caller, guild_role)
            if role == CREW:
                raise Refused("TwinRegistryAttestationRoleInvalid", CREW)
            if expires_at <= now:
                raise Refused("TwinRegistryAttestationExpiryInPast", expires_at)

            def effects():
                attestation_id = len(m.attestations) + 1
                m.attestations[attestation_id] = Attestation(subject, role, now, expires_at)
                m.current[subject] = attestation_id
                m.attestation_nonces[subject] = m.attestation_nonces.get(subject, 0) + 1

            return effects

        self.send(caller, call, predict, name)

    def op_revoke_attestation(self) -> None:
        m = self.m
        live = [i for i, x in m.attestations.items() if not x.revoked]
        attestation_id = self.pick(live) if live and self.chance(0.85) else (self.pick(m.attestations) or 1)
        if self.chance(0.04):
            attestation_id = len(m.attestations) + 9
        caller = self.a.guild if self.chance(0.95) else self.a.admin

        def predict(now):
            if caller != self.a.guild:
                raise Refused("AccessControlUnauthorizedAccount", caller, self.env_role("GUILD_ROLE"))
            x = m.attestations.get(attestation_id)
            if x is None:
                raise Refused("TwinRegistryUnknownAttestation", attestation_id)
            if x.revoked:
                raise Refused("TwinRegistryAttestationAlreadyRevoked", attestation_id)

            def effects():
                x.revoked = True
                m.attestation_nonces[x.subject] = m.attestation_nonces.get(x.subject, 0) + 1

            return effects

        self.send(caller, self.reg.revokeAttestation(attestation_id), predict, "revokeAttestation")

    def pick_listing(self, accepted: bool) -> tuple[int, str]:
        """A (twin, payee) pair, mostly one whose acceptance is `accepted`; now and then anyone on any twin."""
        m = self.m
        pairs = [
            (t, p[0]) for t, twin in m.twins.items() for p in twin.payees[1:] if (t in m.twins_of.get(p[0], [])) == accepted
        ]
        if pairs and self.chance(0.9):
            return self.pick(pairs)
        twin_id = self.pick(m.twins) or 1
        return twin_id, self.pick(self.a.models + self.a.agencies + self.a.crew)

    def op_accept(self) -> None:
        m = self.m
        twin_id, who = self.pick_listing(accepted=self.chance(0.08))  # now and then a listing accepted already

        def predict(now):
            m.payee_index(twin_id, who)
            if twin_id in m.twins_of.get(who, []):
                raise Refused("TwinRegistryPayeeAlreadyAccepted", twin_id, who)

            def effects():
                m.twins_of.setdefault(who, []).append(twin_id)
                self.touched_accounts.add(who)

            return effects

        self.send(who, self.reg.acceptPayee(twin_id), predict, "accept")

    def op_leave(self) -> None:
        m = self.m
        twin_id, who = self.pick_listing(accepted=self.chance(0.6))

        def predict(now):
            index = m.payee_index(twin_id, who)

            def effects():
                twin = m.twins[twin_id]
                m.distribute(twin_id)  # earnings so far under the old shares, the leaver's part included
                share = twin.payees[index][1]
                model, model_bps, role = twin.payees[0]
                twin.payees[0] = (model, model_bps + share, role)
                twin.payees[index] = twin.payees[-1]
                twin.payees.pop()
                if twin_id in m.twins_of.get(who, []):
                    m.twins_of[who].remove(twin_id)
                self.touched_accounts.update([who, model])

            return effects

        if twin_id in m.twins:
            self.touched_accounts.update(p[0] for p in m.twins[twin_id].payees)
        self.send(who, self.reg.leavePayee(twin_id), predict, "leave")

    def op_withdraw_from(self) -> None:
        m = self.m
        payees = sorted(m.ever_payees) or self.a.models
        who = self.pick(payees)
        listing = m.listing(who)
        twin_ids = self.rng.sample(listing, min(len(listing), self.rng.choice((1, 2, 5))))
        if self.chance(0.3):
            twin_ids.append(self.pick(m.twins) or 1)  # someone else's twin: splitting it is harmless
        if self.chance(0.1):
            twin_ids.append(len(m.twins) + 4)  # no such twin: nothing to split

        def predict(now):
            amount = m.claimable_from(who, twin_ids)
            if amount == 0:
                raise Refused("LicenseTokenNothingToWithdraw", who)

            def effects():
                for twin_id in twin_ids:
                    if twin_id in m.twins:
                        self.touched_accounts.update(p[0] for p in m.twins[twin_id].payees)
                        m.distribute(twin_id)
                m.pay_out(who, amount)

            return effects

        self.send(who, self.lic.withdrawFrom(twin_ids), predict, "withdrawFrom")

    def op_end_idle(self) -> None:
        m = self.m
        exclusive = [i for i, lic in m.licences.items() if lic.exclusive and lic.expiry > self.now]
        idle = [i for i in exclusive if max(m.licences[i].last_settled, m.licences[i].started) + m.licences[i].idle
                <= self.now]
        endable = {i: max(m.licences[i].last_settled, m.licences[i].started) + m.licences[i].idle for i in exclusive}
        waiting = [i for i in exclusive if endable[i] + 60 < m.licences[i].expiry]
        if not idle and waiting and self.chance(0.8):
            # The model waits out the idle period of one (time passes, no transaction), then ends it.
            chosen = self.pick(waiting)
            self.now = max(self.now, endable[chosen] - self.rng.choice((0, 120, 120)))  # or not quite: NotIdle
            idle = [chosen]
        if idle and self.chance(0.5):
            exclusive = idle  # one its model may end: ending is what a model does with an idle exclusive licence
        licence_id = self.pick(exclusive) if exclusive and self.chance(0.85) else (self.pick(m.licences) or 1)
        lic = m.licences.get(licence_id)
        owner = m.twins[lic.twin].model if lic else self.pick(self.a.models)
        caller = owner if self.chance(0.9) else self.pick(self.a.brands + self.a.models)

        def predict(now):
            if lic is None:
                raise Refused("LicenseTokenUnknownLicense", licence_id)
            if caller != owner:
                raise Refused("LicenseTokenNotModel", lic.twin, caller)
            if not lic.exclusive:
                raise Refused("LicenseTokenNotExclusive", licence_id)
            if now >= lic.expiry:
                raise Refused("LicenseTokenExpired", licence_id, lic.expiry)
            endable = max(lic.last_settled, lic.started) + lic.idle
            if now < endable:
                raise Refused("LicenseTokenNotIdle", licence_id, endable)

            def effects():
                m.release(lic)
                lic.expiry = now
                self.touched_licences.add(licence_id)

            return effects

        self.send(caller, self.lic.endIdleExclusive(licence_id), predict, "endIdle")

    def op_governance(self) -> None:
        m = self.m
        choice = self.rng.random()
        if choice < 0.3:
            category, fee = self.rng.randrange(9), self.rng.choice((0, 1, 7, 13, 60_000))
            caller = self.a.guild if self.chance(0.9) else self.a.admin

            def predict(now):
                if caller != self.a.guild:
                    raise Refused("AccessControlUnauthorizedAccount", caller, self.env_role("GUILD_ROLE"))
                if category >= 8:
                    raise Refused("TwinRegistryUnknownCategory", category)
                return lambda: m.floors.__setitem__(category, fee)

            self.send(caller, self.reg.setCategoryFloor(category, fee), predict, "setFloor")
        elif choice < 0.37:
            cap = self.rng.choice((1_500, 2_000, 2_500))

            def predict(now):
                return lambda: setattr(m, "agency_cap", cap)

            self.send(self.a.guild, self.reg.setAgencyCap(cap), predict, "setAgencyCap")
        elif choice < 0.43:
            cap = self.rng.choice((3_000, 5_000, 6_000))

            def predict(now):
                return lambda: setattr(m, "non_model_cap", cap)

            self.send(self.a.guild, self.reg.setNonModelCap(cap), predict, "setNonModelCap")
        elif choice < 0.5:
            minimum = self.rng.choice((0, 10**6, 10**6, 1_000 * 10**6))

            def predict(now):
                return lambda: setattr(m, "exclusivity_minimum", minimum)

            self.send(self.a.guild, self.reg.setExclusivityMinimum(minimum), predict, "setExclusivityMinimum")
        elif choice < 0.62:
            notice = self.rng.choice((0, HOUR, 72 * HOUR))

            def predict(now):
                return lambda: setattr(m, "notice", notice)

            self.send(self.a.admin, self.reg.setNoticePeriod(notice), predict, "setNotice")
        else:
            pausing = not m.paused if self.chance(0.9) else m.paused
            caller = self.a.admin if self.chance(0.9) else self.a.guild

            def predict(now):
                if caller != self.a.admin:
                    raise Refused("AccessControlUnauthorizedAccount", caller, b"\x00" * 32)
                if pausing and m.paused:
                    raise Refused("EnforcedPause")
                if not pausing and not m.paused:
                    raise Refused("ExpectedPause")
                return lambda: self.set_paused(pausing, now)

            fn = self.lic.pause() if pausing else self.lic.unpause()
            self.send(caller, fn, predict, "pause" if pausing else "unpause")

    def set_paused(self, paused: bool, now: int) -> None:
        """The pause and the intervals it ran (paused time does not count as grace)."""
        m = self.m
        m.paused = paused
        if paused:
            m.pauses.append((now, None))
        else:
            m.pauses[-1] = (m.pauses[-1][0], now)

    def unpause(self) -> None:
        self.send(self.a.admin, self.lic.unpause(), lambda now: lambda: self.set_paused(False, now), "unpause")

    def op_set_grace(self) -> None:
        grace = self.rng.choice((HOUR, DAY, DEFAULT_GRACE_PERIOD, DEFAULT_GRACE_PERIOD, MAX_GRACE_PERIOD + 1))
        caller = self.a.admin if self.chance(0.9) else self.a.recorder
        self.grace_changes += 1
        if self.grace_changes % 3 == 1:  # the first and every third: the admin asks longer than allowed, refused
            grace, caller = MAX_GRACE_PERIOD + 1, self.a.admin

        def predict(now):
            if caller != self.a.admin:
                raise Refused("AccessControlUnauthorizedAccount", caller, b"\x00" * 32)
            if grace > MAX_GRACE_PERIOD:
                raise Refused("LicenseTokenGracePeriodTooLong", grace, MAX_GRACE_PERIOD)
            return lambda: setattr(self.m, "grace", grace)

        self.send(caller, self.lic.setGracePeriod(grace), predict, "setGrace")

    def op_advance(self) -> None:
        """Time passes (no transaction): the next block is mined that much later."""
        self.now += self.rng.choice((60, HOUR, 6 * HOUR, DAY, DAY, 3 * DAY, 7 * DAY))

    # -------------------------------------------------------------- checks

    def check(self) -> None:
        m = self.m
        licences = sorted(self.touched_licences)
        accounts = sorted(self.touched_accounts)
        payees = [x for x in accounts if x in m.ever_payees]
        lic, tok = self.lic, self.tok
        calls = [tok.balanceOf(self.lic_address), lic.totalEscrow(), lic.totalOwed(), lic.licenseCount(),
                 lic.totalUnvested()]
        calls += [lic.licenseState(i) for i in licences] + [lic.ownerOf(i) for i in licences]
        calls += [lic.vesting(i) for i in licences] + [lic.handover(i) for i in licences]
        calls += [lic.claimable(x) for x in payees] + [lic.totalEarned(x) for x in payees]
        calls += [lic.claimableFrom(x, m.listing(x)) for x in payees]
        calls += [tok.balanceOf(x) for x in accounts]
        values = self.node.read(calls)
        held, escrow, owed, count, unvested = values[:5]
        rest = values[5:]
        k = len(licences)
        states, owners, vestings, handovers = rest[:k], rest[k : 2 * k], rest[2 * k : 3 * k], rest[3 * k : 4 * k]
        rest = rest[4 * k :]
        block_time = int(self.node.result("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        n = len(payees)
        claimables, earned, reachable, balances = rest[:n], rest[n : 2 * n], rest[2 * n : 3 * n], rest[3 * n :]

        where = f"after step {self.steps} ({self.transactions} transactions)"
        everything = sum(m.claimable_from(x, m.listing(x)) for x in m.ever_payees)  # accepted or not
        assert held == escrow + unvested + owed, where  # issue 11's invariant, on chain values alone
        assert escrow == m.total_escrow(), where
        assert unvested == m.total_unvested(), where
        assert owed == m.total_owed() == everything, where
        assert held == m.total_escrow() + m.total_unvested() + everything, where
        assert m.paid_out + owed == m.credited, where
        assert count == len(m.licences), where
        for i, state, owner in zip(licences, states, owners):
            x = m.licences[i]
            assert state == (x.escrow, x.used, x.max_uses, x.expiry, x.fee, x.twin), f"licence {i} {where}"
            assert owner == x.holder, f"licence {i} {where}"
        for i, vesting, handover in zip(licences, vestings, handovers):
            x = m.licences[i]
            assert x.released + x.refunded <= x.upfront, f"licence {i} {where}"
            assert vesting[2] + x.refunded <= vesting[0], f"licence {i} {where}"  # vested (released) + refunded
            assert vesting == m.vesting(x, block_time), f"vesting of licence {i} {where}"
            assert handover == (x.seller or ZERO_ADDRESS, x.handed_at, x.seller_escrow), f"handover {i} {where}"
        for x, c, e, r in zip(payees, claimables, earned, reachable):
            assert c == m.claimable(x), f"claimable of {x} {where}"
            assert e == m.withdrawn.get(x, 0) + c, f"totalEarned of {x} {where}"
            assert r == m.claimable_from(x, m.listing(x)), f"claimableFrom of {x} {where}"
        for x, b in zip(accounts, balances):
            assert b == m.token.get(x, 0), f"token balance of {x} {where}"
        self.touched_licences.clear()
        self.touched_accounts.clear()

    def sweep(self) -> None:
        """Reads every licence and every payee from the chain and checks the sums on chain values alone."""
        m = self.m
        payees = sorted(m.ever_payees)
        lic = self.lic
        values = self.node.read(
            [self.tok.balanceOf(self.lic_address), lic.totalUnvested()]
            + [lic.handover(i) for i in m.licences]
            + [lic.licenseState(i) for i in m.licences]
            + [lic.claimable(x) for x in payees]
            + [lic.totalEarned(x) for x in payees]
            + [lic.claimableFrom(x, m.listing(x)) for x in payees],
        )
        held, unvested, rest = values[0], values[1], values[2:]
        handovers, rest = rest[: len(m.licences)], rest[len(m.licences) :]
        states, rest = rest[: len(m.licences)], rest[len(m.licences) :]
        n = len(payees)
        claimables, earned, reachable = rest[:n], rest[n : 2 * n], rest[2 * n :]
        where = f"sweep after step {self.steps}"
        # Every payee's earnings, from the twins it accepted or not: with the escrow (the holders' and the sellers')
        # and the unvested upfront fees, all the contract holds.
        assert held == sum(s[0] for s in states) + sum(h[2] for h in handovers) + unvested + sum(reachable), where
        withdrawn = [e - c for e, c in zip(earned, claimables)]  # totalEarned = withdrawn + claimable
        assert sum(withdrawn) + sum(reachable) == m.credited, where  # = vested upfront fees + settled amounts
        assert [s[:2] for s in states] == [(x.escrow, x.used) for x in m.licences.values()], where
        assert claimables == [m.claimable(x) for x in payees], where

    # -------------------------------------------------------------- driver

    OPERATIONS = (
        ("op_faucet", 3),
        ("op_approve", 2),
        ("op_register", 2),
        ("op_set_payees", 2),
        ("op_publish", 12),  # revocations withdraw offers (issue 11): models publish again
        ("op_withdraw_offer", 1.5),
        ("op_buy", 12),
        ("op_buy_with_permit", 6),
        ("op_top_up", 6),
        ("op_settle", 26),
        ("op_advance", 7),
        ("op_revoke", 1),
        ("op_grant", 1.5),
        ("op_revoke_category", 0.7),
        ("op_grant_category", 1.5),  # mostly a revoked one: withdrawn categories do not pile up and stop business
        ("op_withdraw", 6),
        ("op_reclaim", 5),
        ("op_transfer", 4),
        ("op_reclaim_seller", 2),
        ("op_vest", 3),
        ("op_withdraw_vested", 4),
        ("op_reclaim_unvested", 2.5),
        ("op_set_grace", 0.4),
        ("op_governance", 2),
        ("op_attest", 2),
        ("op_revoke_attestation", 0.7),
        ("op_accept", 3),
        ("op_leave", 1),
        ("op_withdraw_from", 2),
        ("op_end_idle", 3),
    )

    def run(self, transactions: int) -> None:
        names = [n for n, _ in self.OPERATIONS]
        weights = [w for _, w in self.OPERATIONS]
        # A cast to start from: the guild attests every model for a month, each registers a twin and publishes an offer.
        for model in self.a.models:
            self.op_attest(model, MODEL, 30)
            self.rng_register(model)
        # Exclusive licences within a brand's means from the start (the guild changes it again during the run).
        self.send(self.a.guild, self.reg.setExclusivityMinimum(10**6),
                  lambda now: lambda: setattr(self.m, "exclusivity_minimum", 10**6), "setExclusivityMinimum")
        while self.transactions < transactions:
            self.steps += 1
            if self.m.paused and self.chance(0.2):
                self.unpause()  # an emergency pause does not last long
            else:
                getattr(self, self.rng.choices(names, weights)[0])()
            self.check()
            if self.steps % SWEEP == 0:
                self.sweep()
        self.sweep()

    def rng_register(self, model: str) -> None:
        saved = self.a.models
        self.a.models = [model]
        try:
            self.op_register()
            if self.m.twins and self.m.twins[len(self.m.twins)].model == model:
                twin_id = len(self.m.twins)
                terms = self.random_terms()
                terms = (terms[0], max(terms[1], 1), terms[2], terms[3], terms[4] or 1, terms[5], False, terms[7], 0)
                self.m_publish(model, twin_id, terms)
        finally:
            self.a.models = saved

    def m_publish(self, model: str, twin_id: int, terms: tuple) -> None:
        def predict(now):
            return lambda: self.m.offers.__setitem__(len(self.m.offers) + 1, Offer(twin_id, True, terms))

        self.send(model, self.lic.publishOffer(twin_id, terms), predict, "publish")


@pytest.fixture
def cast(admin, guild, recorder, models, agencies, crew, brands):
    class Cast:
        pass

    c = Cast()
    c.admin, c.guild, c.recorder = admin.address, guild.address, recorder.address
    c.models = [m.address for m in models[:6]]
    c.agencies = [x.address for x in agencies]
    c.crew = [x.address for x in crew]
    c.brands = [b.address for b in brands]
    c.everyone = [admin, guild, recorder, *models[:6], *agencies, *crew, *brands]
    return c


def test_random_operations_keep_the_books_balanced(env, chain, cast, local_node):
    run = Run(env, chain, cast, local_node.url)
    try:
        run.run(TRANSACTIONS)
    finally:
        run.node.close()
    print(f"\n{run.transactions} transactions in {run.steps} steps; successes {run.successes}; refusals {run.refusals}; "
          f"settle items {run.skipped}")
    assert run.transactions >= TRANSACTIONS
    # The run exercised what it is meant to: purchases, settlements, withdrawals, reclaims, and refusals of each kind.
    for label in ("buy", "buyWithPermit", "settle", "withdraw", "reclaim", "topUp", "transfer", "setPayees", "revoke", "grant",
                  "attest", "attestWithSig", "revokeAttestation", "accept", "leave", "withdrawFrom", "endIdle",
                  "setFloor", "setExclusivityMinimum", "revokeCategory", "grantCategory",
                  "vest", "withdrawVested", "reclaimUnvested", "reclaimSeller", "pause", "unpause", "setGrace"):
        assert run.successes.get(label, 0) > 0, (label, run.successes)
    assert sum(lic.exclusive for lic in run.m.licences.values()) > 0, "exclusive purchases"
    # Every skip reason happened, and items were paid from sellers' escrows too.
    for name in ("paid", *skip.NAMES):
        assert run.skipped.get(name, 0) > 0, (name, run.skipped)
    assert any(lic.seller is not None for lic in run.m.licences.values()), "handovers"
    assert any(name.startswith("voided ") for name in run.skipped), ("a seller's unpayable uses voided", run.skipped)
    assert any(lic.refunded for lic in run.m.licences.values()), "refunds"
    for error in (
        "LicenseTokenExclusivityConflict",
        "LicenseTokenConsentNotGranted",
        "LicenseTokenNothingToWithdraw",
        "LicenseTokenStillActive",
        "LicenseTokenOfferBelowFloor",
        "LicenseTokenOfferInactive",
        "LicenseTokenExclusiveUpfrontTooLow",
        "LicenseTokenNotIdle",
        "TwinRegistryAttestationExpired",
        "TwinRegistryAttestationBadNonce",
        "TwinRegistryPayeeAlreadyAccepted",
        "TwinRegistryCategoryConsentAlreadyRevoked",
        "TwinRegistryCategoryConsentNotRevoked",
        "LicenseTokenCategoryConsentNotGranted",
        "LicenseTokenInGrace",
        "LicenseTokenNotEnded",
        "LicenseTokenNothingToRefund",
        "LicenseTokenNotSeller",
        "LicenseTokenHandoverOpen",
        "LicenseTokenGracePeriodTooLong",
        "LicenseTokenUnknownLicense",
    ):
        assert run.refusals.get(error, 0) > 0, (error, run.refusals)
