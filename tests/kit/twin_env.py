"""Helpers of the contract tests: constants, struct builders and `Env`.

Everything goes through `Env`, a thin facade over the session's chain (tests/conftest.py): send a transaction as
a named account, read a view, assert that a call is refused with a named custom error *and* its arguments and
that nothing changed, move the chain's clock.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Iterator

from eth_account.signers.local import LocalAccount
from eth_utils import function_abi_to_4byte_selector
from eth_utils.abi import collapse_if_tuple
from web3 import Web3

from kit.guild import accept as accept_listing
from kit.guild import ensure_attested
from twin_licensing.chain.keys import DEV_ACCOUNT_COUNT, dev_account
from twin_licensing.chain.settlement import compact_signature
from twin_licensing.chain.use_reports import UseReportDomain, report_digest
from twin_licensing.chain.use_reports import sign_report as sign_typed_report
from twin_licensing.domain.use_record import UseReport

# ---------------------------------------------------------------------------------------------- constants

MODEL, AGENCY, CREW = 0, 1, 2  # TwinTypes.PayeeRole
GRANTED, PENDING, REVOKED = 0, 1, 2  # TwinTypes.ConsentState

ECOMMERCE, SOCIAL, PRINT, VIDEO, OUT_OF_HOME = (1 << i for i in range(5))  # usage categories (bits)
EU, US, ASIA = (1 << i for i in range(3))  # territories (bits)

DAY = 24 * 3600
NOTICE = 72 * 3600
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_ROOT = b"\x00" * 32
GAS = 3_000_000  # a fixed gas limit for transactions that must run at a time set by `next_block_at`

GUILD_ROLE = Web3.keccak(text="GUILD_ROLE")
RECORDER_ROLE = Web3.keccak(text="RECORDER_ROLE")
ADMIN_ROLE = b"\x00" * 32

USDC = 10**6  # one token in micro-units
EXCLUSIVITY_MINIMUM = 1_000 * USDC  # TwinRegistry.DEFAULT_EXCLUSIVITY_MINIMUM: the smallest upfront of an exclusive offer
IDLE = 7 * DAY  # the idle period the exclusive offers of the tests state


def hx(value: bytes) -> str:
    """bytes as events decode them: lowercase 0x-hex."""
    return "0x" + bytes(value).hex()


def root(tag: str | int) -> bytes:
    """A recognisable 32-byte Merkle root for a settlement item."""
    return Web3.keccak(text=f"uses-{tag}")


@dataclass(frozen=True)
class Terms:
    """TwinTypes.OfferTerms, with the defaults of a plain non-exclusive 30-day offer."""

    upfront_fee: int = 1 * USDC
    per_use_fee: int = 50_000
    duration: int = 30 * DAY
    max_uses: int = 0
    categories: int = ECOMMERCE | SOCIAL
    territories: int = EU | US
    exclusive: bool = False
    transferable: bool = False
    idle_end_after: int = 0  # required on exclusive offers, zero on others

    def tuple(self) -> tuple:
        return (
            self.upfront_fee,
            self.per_use_fee,
            self.duration,
            self.max_uses,
            self.categories,
            self.territories,
            self.exclusive,
            self.transferable,
            self.idle_end_after,
        )


def payee(account: LocalAccount | str, share_bps: int, role: int) -> tuple[str, int, int]:
    address = account if isinstance(account, str) else account.address
    return (address, share_bps, role)


def item(license_id: int, first_seq: int, count: int, uses_root: bytes | None = None,
         categories: int | None = None) -> tuple:
    """The head of a TwinTypes.SettleItem (4 or 5 fields). `Env.settle` completes it: without `categories` it gets
    all of its licence's categories, and it carries the holder's signed report of its last use (`Env.signed_item`)."""
    head = (license_id, first_seq, count, uses_root if uses_root is not None else root(f"{license_id}-{first_seq}"))
    return head if categories is None else (*head, categories)


def use_ref(tag: str | int) -> bytes:
    """A recognisable 32-byte use reference for a signed report."""
    return Web3.keccak(text=f"use-{tag}")


def lowest_bit(mask: int) -> int:
    """The index of the lowest set bit of a category or territory mask (0 for an empty mask)."""
    return (mask & -mask).bit_length() - 1 if mask else 0


def sign_report(
    key: LocalAccount | bytes | str,
    chain_id: int,
    contract: str,
    license_id: int,
    seq: int,
    use_ref: bytes,
    category: int,
    territory: int,
    used_at: int,
) -> tuple[bytes, bytes]:
    """A `UseReport` signed as a brand's wallet signs it, with the backend's digest (`chain.use_reports`), for the
    domain of `chain_id` and `contract` (the LicenseToken address): the EIP-2098 compact (r, vs) `settle` takes."""
    private_key = key.key if isinstance(key, LocalAccount) else key
    report = UseReport(license_id, seq, hx(use_ref), category, territory, used_at)
    r, vs = compact_signature(sign_typed_report(private_key, UseReportDomain(chain_id, contract), report))
    return bytes.fromhex(r[2:]), bytes.fromhex(vs[2:])


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def high_s_signature(digest: bytes) -> tuple[tuple[bytes, bytes], tuple[bytes, bytes], str]:
    """A compact signature over `digest` with a high s, its canonical low-s twin, and the address both recover.

    The high s of a real key's signature almost never fits the 255 bits compact form leaves it (n - s is above
    2^255 unless s lies in a 2^-128 window), so a brand's key cannot produce one. Instead this picks the signature
    first (s just below 2^255, above n/2) and recovers its signer: a key nobody knows, to which a test hands the
    licence. The low-s twin (n - s, v's parity flipped) recovers the same address from the same digest, so it
    settles while the high-s one must be refused."""
    from eth_keys import keys as eth_keys

    for i in range(1, 1000):
        r = int.from_bytes(Web3.keccak(text=f"high-s r {i}"), "big") % SECP256K1_N
        s = (1 << 255) - i
        try:
            public = eth_keys.Signature(vrs=(0, r, s)).recover_public_key_from_msg_hash(digest)
        except Exception:  # r is not the x of a curve point: try another
            continue
        low = SECP256K1_N - s
        assert s > SECP256K1_N // 2 and low < 1 << 255
        high_sig = (r.to_bytes(32, "big"), s.to_bytes(32, "big"))  # v = 27: top bit clear
        low_sig = (r.to_bytes(32, "big"), (low | (1 << 255)).to_bytes(32, "big"))  # v = 28: top bit set
        return high_sig, low_sig, public.to_checksum_address()
    raise AssertionError("no curve point among the r candidates")


_DEV_ACCOUNTS: dict[str, LocalAccount] = {}


def dev_account_of(address: str) -> LocalAccount | None:
    """The development account (the node's funded ones) with this address, or None."""
    if not _DEV_ACCOUNTS:
        _DEV_ACCOUNTS.update({acct.address: acct for acct in map(dev_account, range(DEV_ACCOUNT_COUNT))})
    return _DEV_ACCOUNTS.get(Web3.to_checksum_address(address))


# ---------------------------------------------------------------------------------------------- the facade


@dataclass
class Env:
    chain: Any  # twin_licensing.chain.client.Chain, bound to the session's deployment
    accounts: SimpleNamespace
    named_reverts: Any  # tests/conftest.py's `reverts` fixture

    # -------------------------------------------------------------- handles

    @property
    def w3(self) -> Web3:
        return self.chain.w3

    @property
    def registry(self):
        return self.chain.contract("TwinRegistry")

    @property
    def license(self):
        return self.chain.contract("LicenseToken")

    @property
    def token(self):
        return self.chain.contract("PaymentToken")

    def address(self, contract: str) -> str:
        return self.chain.contract(contract).address

    # -------------------------------------------------------------- transactions and views

    def tx(self, who: LocalAccount, contract: str, function: str, *args: Any, gas: int | None = None):
        """Sends a transaction; with `gas` given it is not estimated first, so it runs in the next mined block
        (whose time `next_block_at` may fix) and a revert is mined, then decoded. A short `settle` item (4 or 5
        fields, `item`) is completed by `signed_item`: its licence's categories as its mask, and the holder's signed
        report of its last use."""
        if (contract, function) == ("LicenseToken", "settle"):
            args = ([self.complete_item(it) for it in args[0]], *args[1:])
        return self.chain.transact(who, contract, function, *args, gas=gas)

    def call(self, contract: str, function: str, *args: Any) -> Any:
        """A view's result, lists and structs alike as (nested) tuples."""
        return _tuples(self.chain.call(contract, function, *args))

    def events(self, result, contract: str, event: str) -> list[dict[str, Any]]:
        return self.chain.events(result, contract, event)

    def event(self, result, contract: str, event: str) -> dict[str, Any]:
        found = self.events(result, contract, event)
        assert len(found) == 1, f"expected one {event}, got {found}"
        return found[0]

    @contextlib.contextmanager
    def reverts(self, name: str, *args: Any) -> Iterator[None]:
        """Asserts the block reverts with custom error `name` and exactly `args` (all of them, when given)."""
        expected = _norm(args)
        with self.named_reverts(name, *expected) as caught:
            yield
        if args:
            assert tuple(caught.error.args) == expected, f"reverted with {caught.error}, expected {name}{expected}"

    def refused(
        self, who: LocalAccount, contract: str, function: str, *args: Any, error: str, error_args=(), gas=None
    ) -> None:
        """`who` calling `contract.function(*args)` reverts with `error(*error_args)` and changes nothing."""
        before = self.digest()
        with self.reverts(error, *error_args):
            self.tx(who, contract, function, *args, gas=gas)
        assert self.digest() == before, "state changed although the call was refused"

    # -------------------------------------------------------------- state digest

    def digest(self) -> dict[str, Any]:
        """Everything a refused call could have changed: balances, totals, counts, licences, twins, earnings, the
        guild's parameters and attestations, and which twins each person counts as an accepted payee."""
        people = [a.address for a in vars(self.accounts).values() if isinstance(a, LocalAccount)]
        lic, reg, tok = self.license, self.registry, self.token
        totals = [
            lic.functions.totalEscrow(),
            lic.functions.totalOwed(),
            lic.functions.totalUnvested(),
            lic.functions.gracePeriod(),
            lic.functions.paused(),
            tok.functions.totalSupply(),
            reg.functions.agencyCap(),
            reg.functions.nonModelCap(),
            reg.functions.exclusivityMinimum(),
            reg.functions.noticePeriod(),
        ]
        counts = [
            lic.functions.offerCount(),
            lic.functions.licenseCount(),
            reg.functions.twinCount(),
            reg.functions.attestationCount(),
        ]
        head = read_many(
            self.w3,
            [tok.functions.balanceOf(x) for x in [*people, lic.address]]
            + [f for x in people for f in (lic.functions.claimable(x), reg.functions.twinsOfPayee(x))]
            + [f for x in people for f in (reg.functions.attestationOf(x), reg.functions.attestationNonce(x))]
            + totals
            + counts,
        )
        offers, licenses, twins, attestations = head[-4:]
        objects = read_many(
            self.w3,
            [
                f
                for i in range(1, licenses + 1)
                for f in (
                    lic.functions.licenseState(i),
                    lic.functions.licenseTerms(i),
                    lic.functions.ownerOf(i),
                    lic.functions.handover(i),
                    lic.functions.licenseEnd(i),
                )
            ]
            + [
                f
                for i in range(1, twins + 1)
                for f in (
                    reg.functions.payeesOf(i),
                    reg.functions.consentOf(i),
                    reg.functions.noticePeriodOf(i),
                    lic.functions.undistributed(i),
                )
            ]
            + [lic.functions.offer(i) for i in range(1, offers + 1)]
            + [reg.functions.attestation(i) for i in range(1, attestations + 1)],
        )
        # consentOf's state depends on the clock, which a refused call does move: compare its stored fields only.
        objects = [o[1:] if isinstance(o, tuple) and len(o) == 3 and isinstance(o[2], bytes) else o for o in objects]
        # Likewise per usage category: when each revocation takes effect (0 while granted), not the clock's state.
        categories = [
            state_and_time[1]
            for state_and_time in read_many(
                self.w3, [reg.functions.categoryConsentOf(i, c) for i in range(1, twins + 1) for c in range(8)]
            )
        ]
        # What vested moves with the clock; what was released (credited) and the upfront itself do not.
        released = [
            (upfront, released)
            for upfront, _, released, _ in read_many(self.w3, [lic.functions.vesting(i) for i in range(1, licenses + 1)])
        ]
        return {"head": head, "objects": objects, "categories": categories, "released": released}

    # -------------------------------------------------------------- clock

    def now(self) -> int:
        return self.w3.eth.get_block("latest")["timestamp"]

    def advance(self, seconds: int) -> None:
        """Moves the clock forward and mines a block, so that views and the next transaction see the new time."""
        self.chain.rpc("evm_increaseTime", [seconds])
        self.chain.rpc("evm_mine", [])

    def next_block_at(self, timestamp: int) -> None:
        """The next mined block gets exactly this timestamp. Send the transaction with `gas=` so that it is not
        estimated first (an estimate runs at the node's current time, not at this one)."""
        self.chain.rpc("evm_setNextBlockTimestamp", [timestamp])

    def block_time(self, result) -> int:
        return self.w3.eth.get_block(result.block_number)["timestamp"]

    # -------------------------------------------------------------- money

    def balance(self, who: LocalAccount | str) -> int:
        address = who if isinstance(who, str) else who.address
        return self.call("PaymentToken", "balanceOf", address)

    def claimable(self, who: LocalAccount | str) -> int:
        return self.call("LicenseToken", "claimable", who if isinstance(who, str) else who.address)

    def fund(self, who: LocalAccount, amount: int, *, approve: int | None = None) -> None:
        """Faucet `amount` to `who` and approve the licence contract for `approve` (default: the amount)."""
        if amount:
            self.tx(who, "PaymentToken", "faucet", who.address, amount)
        allowance = amount if approve is None else approve
        self.tx(who, "PaymentToken", "approve", self.address("LicenseToken"), allowance)

    def permit(
        self,
        owner: LocalAccount,
        value: int,
        deadline: int,
        spender: str | None = None,
        *,
        signer: LocalAccount | None = None,
        nonce: int | None = None,
    ) -> tuple[int, bytes, bytes]:
        """An EIP-2612 permit for the test stablecoin, signed with eth_account's typed-data signing.

        `signer` defaults to the owner (another key makes an invalid permit); `nonce` to the owner's current one.
        """
        spender = spender or self.address("LicenseToken")
        if nonce is None:
            nonce = self.call("PaymentToken", "nonces", owner.address)
        signed = (signer or owner).sign_typed_data(
            domain_data={
                "name": self.call("PaymentToken", "name"),
                "version": "1",
                "chainId": self.w3.eth.chain_id,
                "verifyingContract": self.address("PaymentToken"),
            },
            message_types={
                "Permit": [
                    {"name": "owner", "type": "address"},
                    {"name": "spender", "type": "address"},
                    {"name": "value", "type": "uint256"},
                    {"name": "nonce", "type": "uint256"},
                    {"name": "deadline", "type": "uint256"},
                ]
            },
            message_data={
                "owner": owner.address,
                "spender": spender,
                "value": value,
                "nonce": nonce,
                "deadline": deadline,
            },
        )
        return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")

    # -------------------------------------------------------------- domain steps

    def register(
        self, model: LocalAccount, payees: list[tuple] | None = None, uri: str = "ipfs://twin", *, accept: bool = True
    ) -> int:
        """Registers a twin of `model` (whom the guild attests first if needed); with `accept`, every listed payee
        that is one of the test accounts accepts its listing."""
        payees = payees if payees is not None else [payee(model, 10_000, MODEL)]
        ensure_attested(self.chain, model)
        self.tx(model, "TwinRegistry", "registerTwin", uri, Web3.keccak(text=f"consent {uri}"), payees)
        twin_id = self.call("TwinRegistry", "twinCount")
        if accept:
            known = {a.address: a for a in vars(self.accounts).values() if isinstance(a, LocalAccount)}
            accept_listing(self.chain, twin_id, *(known[p[0]] for p in payees[1:] if p[0] in known))
        return twin_id

    def publish(self, model: LocalAccount, twin_id: int, terms: Terms | None = None) -> int:
        self.tx(model, "LicenseToken", "publishOffer", twin_id, (terms or Terms()).tuple())
        return self.call("LicenseToken", "offerCount")

    def buy(self, brand: LocalAccount, offer_id: int, escrow: int, *, fund: bool = True) -> int:
        if fund:
            upfront = self.call("LicenseToken", "offer", offer_id)[2][0]
            self.fund(brand, upfront + escrow)
        self.tx(brand, "LicenseToken", "buyLicense", offer_id, escrow)
        return self.call("LicenseToken", "licenseCount")

    def settle(self, *items: tuple, gas: int | None = None, as_seller: bool = False):
        """Settles items as the recorder. Short items (4 or 5 fields) are completed by `signed_item`, signed by the
        holder, or with `as_seller` by the seller of the licence's handover (a report just before it)."""
        full = [self.complete_item(it, as_seller=as_seller) for it in items]
        return self.tx(self.accounts.recorder, "LicenseToken", "settle", full, gas=gas)

    # -------------------------------------------------------------- signed settle items

    def complete_item(self, short: tuple, *, as_seller: bool = False) -> tuple:
        """A full TwinTypes.SettleItem from a short one (`item`: 4 or 5 fields); a full one (11) is kept as it is."""
        if len(short) == 11:
            return tuple(short)
        assert len(short) in (4, 5), f"a settle item has 4, 5 or 11 fields, not {len(short)}: {short}"
        return self.signed_item(*short, as_seller=as_seller)

    def signed_item(
        self,
        license_id: int,
        first_seq: int,
        count: int,
        uses_root: bytes | None = None,
        categories: int | None = None,
        *,
        signer: LocalAccount | None = None,
        as_seller: bool = False,
        used_at: int | None = None,
        ref: bytes | None = None,
        category: int | None = None,
        territory: int | None = None,
        report_license: int | None = None,
        report_seq: int | None = None,
        chain_id: int | None = None,
        contract: str | None = None,
        signature: tuple[bytes, bytes] | None = None,
    ) -> tuple:
        """A full TwinTypes.SettleItem whose last report (seq `first_seq + count - 1`) is signed.

        Defaults make an item the contract pays: categories = the licence's, category = the mask's lowest bit,
        territory = the licence's lowest, used_at = the latest block's time (or just before the handover with
        `as_seller`), signed by the holder (`as_seller`: the handover's seller) for this chain and contract. Every
        part can be chosen instead, for attacker tests: another `signer`, a report signed for another licence
        (`report_license`), seq (`report_seq`), chain id or contract, or a ready `signature` (r, vs)."""
        uses_root = uses_root if uses_root is not None else root(f"{license_id}-{first_seq}")
        categories = self.licence_categories(license_id) if categories is None else categories
        category = lowest_bit(categories) if category is None else category
        exists = 0 < license_id <= self.call("LicenseToken", "licenseCount")
        if territory is None:
            territory = lowest_bit(self.call("LicenseToken", "licenseTerms", license_id)[4]) if exists else 0
        seller_at = self.call("LicenseToken", "handover", license_id)[:2] if as_seller else None
        if used_at is None:
            used_at = seller_at[1] - 1 if seller_at else self.now()
        ref = ref if ref is not None else use_ref(f"{license_id}-{first_seq + count - 1}")
        if signature is None:
            if signer is None:
                signer = self.holder_account(license_id, seller_at[0] if seller_at else None)
            signature = sign_report(
                signer,
                self.w3.eth.chain_id if chain_id is None else chain_id,
                contract or self.address("LicenseToken"),
                license_id if report_license is None else report_license,
                max(first_seq + count - 1, 0) if report_seq is None else report_seq,
                ref,
                category,
                territory,
                used_at,
            )
        return (license_id, first_seq, count, uses_root, categories, ref, category, territory, used_at, *signature)

    def holder_account(self, license_id: int, address: str | None = None) -> LocalAccount:
        """The local account holding licence `license_id` (or with `address`); the recorder's for a licence that
        does not exist (the contract skips such an item before it looks at the signature)."""
        if address is None:
            if not 0 < license_id <= self.call("LicenseToken", "licenseCount"):
                return self.accounts.recorder
            address = self.call("LicenseToken", "ownerOf", license_id)
        known = {a.address: a for a in vars(self.accounts).values() if isinstance(a, LocalAccount)}
        account = known.get(Web3.to_checksum_address(address)) or dev_account_of(address)
        assert account is not None, f"no local key for {address}, the holder of licence {license_id}"
        return account

    def report_digest(
        self, license_id: int, seq: int, ref: bytes, category: int, territory: int, used_at: int,
        *, chain_id: int | None = None, contract: str | None = None,
    ) -> bytes:
        """The backend's EIP-712 digest of a use report (`chain.use_reports`), by default for this deployment."""
        domain = UseReportDomain(
            self.w3.eth.chain_id if chain_id is None else chain_id, contract or self.address("LicenseToken")
        )
        report = UseReport(license_id, seq, hx(ref), category, territory, used_at)
        return bytes.fromhex(report_digest(domain, report)[2:])

    def skips(self, result) -> list[tuple[int, int, int, int]]:
        """The batch's `SettleItemSkipped` events as (licenseId, firstSeq, count, reason)."""
        return [
            (e["licenseId"], e["firstSeq"], e["count"], e["reason"])
            for e in self.events(result, "LicenseToken", "SettleItemSkipped")
        ]

    def licence_categories(self, license_id: int) -> int:
        """The licence's categories (1, a mask the contract refuses as outside, for a licence that does not exist)."""
        if not 0 < license_id <= self.call("LicenseToken", "licenseCount"):
            return 1
        return self.call("LicenseToken", "licenseTerms", license_id)[3]

    def state(self, license_id: int) -> SimpleNamespace:
        s = self.call("LicenseToken", "licenseState", license_id)
        return SimpleNamespace(
            escrow=s[0], uses_settled=s[1], max_uses=s[2], expiry=s[3], per_use_fee=s[4], twin_id=s[5]
        )

    def terms(self, license_id: int) -> SimpleNamespace:
        t = self.call("LicenseToken", "licenseTerms", license_id)
        return SimpleNamespace(
            offer_id=t[0],
            upfront_fee=t[1],
            started_at=t[2],
            categories=t[3],
            territories=t[4],
            exclusive=t[5],
            transferable=t[6],
            idle_end_after=t[7],
        )

    def conserved(self) -> None:
        """The contract's token balance equals all escrow (sellers' included) plus unvested upfront fees plus all owed
        earnings."""
        held = self.balance(self.address("LicenseToken"))
        parts = [self.call("LicenseToken", name) for name in ("totalEscrow", "totalUnvested", "totalOwed")]
        assert held == sum(parts), f"balance {held} != escrow + unvested + owed {parts}"


def encode_call(w3: Web3, call: Any) -> str:
    """The calldata of a prepared contract function call (`contract.functions.f(*args)`), 0x-hex."""
    types = [collapse_if_tuple(i) for i in call.abi["inputs"]]
    return "0x" + (function_abi_to_4byte_selector(call.abi) + w3.codec.encode(types, list(call.args))).hex()


def read_many(w3: Web3, calls: list[Any], block: str = "latest") -> list[Any]:
    """Many view calls in one JSON-RPC batch, decoded with their ABIs; a reverting call gives its error data.

    Faster than web3's batch_requests by skipping its per-call middleware: the contract tests read a lot.
    """
    if not calls:
        return []
    requests = [("eth_call", [{"to": call.address, "data": encode_call(w3, call)}, block]) for call in calls]
    responses = w3.provider.make_batch_request(requests)
    if isinstance(responses, dict):  # the whole batch failed
        raise AssertionError(f"batch call failed: {responses}")
    results = []
    for call, response in zip(calls, sorted(responses, key=lambda r: r["id"])):
        if "error" in response:
            results.append(("reverted", str(response["error"].get("data"))))
            continue
        types = [collapse_if_tuple(o) for o in call.abi["outputs"]]
        values = w3.codec.decode(types, bytes.fromhex(response["result"][2:]))
        results.append(_checksummed(_tuples(values[0] if len(values) == 1 else values)))
    return results


def _tuples(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(v) for v in value)
    return value


def _checksummed(value: Any) -> Any:
    """eth_abi decodes addresses in lowercase; web3 and the chain package give them checksummed."""
    if isinstance(value, tuple):
        return tuple(_checksummed(v) for v in value)
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return Web3.to_checksum_address(value)
    return value


def _norm(args: tuple) -> tuple:
    """Expected error arguments in the decoder's shapes: checksummed addresses, bytes for bytes32."""
    out = []
    for value in args:
        if isinstance(value, str) and Web3.is_address(value):
            out.append(Web3.to_checksum_address(value))
        elif isinstance(value, LocalAccount):
            out.append(value.address)
        else:
            out.append(bytes(value) if isinstance(value, bytes) else value)
    return tuple(out)
