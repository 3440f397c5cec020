"""Several transactions of one account in flight at once, each on its own nonce, watched once per block.

Why: on a network that mines every few seconds, waiting for each transaction before sending the next costs a block
per batch, and one stuck transaction would hold everything behind it until a timer fires. Here the caller launches
a transaction and goes on; `check()`, called once per new head, looks at every transaction in flight in one JSON-RPC
batch and decides, lowest nonce first:

- **mined**: one of the nonce's versions has a receipt -> `Landed` (mined, or reverted);
- **lost**: the nonce is used (the account's mined count is past it) by a transaction that is none of ours -> `Landed`
  with outcome `lost`; the caller re-plans its work from the chain;
- **in the pool** (the node returns it from eth_getTransactionByHash): replaced at the same nonce with
  `fees.bumped` fees when the fee market says it will not be mined (`fees.replacement_reason`: its max fee is
  below the base fee of the latest or next block, or, first in line, its tip is below what the last blocks paid)
  - not after a fixed time;
- **dropped** (the node no longer knows any of its versions and its nonce is not mined): broadcast again, the same
  signed bytes, or re-signed at the same nonce when its max fee is now below the base fee. Found at the first head
  after the drop, so it is mined within a block or two.

A nonce below the highest in flight that nobody holds (a hole: the account's next transaction cannot be mined
before it) is filled first, with a zero-value transfer to the account itself.

Nothing is broadcast before the caller has recorded it: `launch` takes a transaction the caller signed through
`sign_new` and recorded; every replacement or re-signing is handed to `record(key, signed)` before it is sent. After
a crash the caller rebuilds the set with `restore(key, versions)` from its records (every signed version of each
nonce, as recorded); the next `check()` finds each one mined, in the pool or dropped, as above.

Not thread-safe: one caller (the settler's loop) drives it.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Protocol, Sequence

from eth_account.signers.local import LocalAccount
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3

from ..errors import RpcConnectionError
from .client import Chain, transport_of
from .fees import (
    bumped,
    fee_caps,
    is_already_known,
    is_nonce_too_low,
    is_replacement_underpriced,
    next_base_fee,
    replacement_reason,
)
from .logs import RpcError

log = logging.getLogger("twin_licensing.tx_pipeline")

# Outcomes of `Landed`.
MINED, REVERTED, LOST = "mined", "reverted", "lost"

# Gas of a plain transfer: what a filler of a nonce hole costs.
_TRANSFER_GAS = 21_000


@dataclass(frozen=True)
class SignedTx:
    """One signed version of a transaction (`settlement.SignedSettle` is this class; `of` also takes a stored row)."""

    tx_hash: str
    nonce: int
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    raw: bytes

    @classmethod
    def of(cls, signed: Any) -> "SignedTx":
        return signed if isinstance(signed, SignedTx) else cls(
            tx_hash=signed.tx_hash, nonce=int(signed.nonce), gas=int(signed.gas),
            max_fee_per_gas=int(signed.max_fee_per_gas),
            max_priority_fee_per_gas=int(signed.max_priority_fee_per_gas), raw=bytes(signed.raw))


class SignFn(Protocol):
    """Signs the caller's transaction at `nonce` with these fees (e.g. `SettlementClient.sign` with its items)."""

    def __call__(self, nonce: int, max_fee_per_gas: int, max_priority_fee_per_gas: int) -> Any: ...


@dataclass(frozen=True)
class Market:
    """The fee market at one head."""

    block_number: int
    base_fee: int  # of the latest block
    next_base_fee: int  # of the block being built (the node's word when it gives one, else the EIP-1559 rule)
    paid_tip: int  # median tip the last non-empty blocks paid (0 when they were empty)
    suggested_tip: int  # the node's suggestion (eth_maxPriorityFeePerGas, cached)

    def caps(self) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas) a new or replacing transaction offers."""
        return fee_caps(max(self.base_fee, self.next_base_fee), max(self.suggested_tip, self.paid_tip))


@dataclass
class Flight:
    """A nonce of ours in flight: every version signed for it (oldest first) and the one the node holds."""

    key: Hashable  # the caller's (a submission id); None for a filler of a nonce hole
    nonce: int
    versions: list[SignedTx]
    live: SignedTx | None = None  # the newest version the node accepted or was seen holding
    sent_at: int = -1  # head number when `live` was last broadcast (-1: unknown, e.g. restored after a crash)
    resends: int = 0
    replacements: int = 0

    @property
    def hashes(self) -> list[str]:
        return [v.tx_hash for v in self.versions]

    @property
    def current(self) -> SignedTx:
        return self.live or self.versions[-1]


@dataclass(frozen=True)
class Landed:
    """A flight's end: `outcome` is MINED or REVERTED (with the receipt's fields) or LOST (nonce used by another)."""

    key: Hashable
    nonce: int
    outcome: str
    tx_hash: str | None = None
    block_number: int | None = None
    block_hash: str | None = None
    gas_used: int | None = None
    detail: str = ""
    logs: tuple[dict[str, Any], ...] = ()  # the receipt's logs, as the node sent them (JSON-RPC objects)


@dataclass
class _View:
    """What one `check()` read from the node."""

    mined_nonce: int
    pending_nonce: int
    market: Market
    receipts: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    known: dict[str, bool] = field(default_factory=dict)


class TxPipeline:
    """The transactions in flight of one account (the settler's recorder)."""

    def __init__(
        self,
        chain: Chain,
        account: LocalAccount,
        *,
        record: Callable[[Hashable, SignedTx], None] | None = None,
        max_in_flight: int = 8,
        fee_blocks: int = 4,
        tip_percentile: int = 50,
    ) -> None:
        self.chain = chain
        self.w3: Web3 = chain.w3
        self.rpc = transport_of(chain.w3)
        self.account = account
        self.address = account.address
        self.record = record or (lambda key, signed: None)
        self.max_in_flight = max_in_flight
        self.fee_blocks = fee_blocks
        self.tip_percentile = tip_percentile
        self._chain_id = chain.chain_id
        self._flights: dict[int, Flight] = {}
        self._fee_history = True  # until the node says it has no eth_feeHistory
        self._head = -1  # the latest block number seen (by `market` or `check`)
        self._landed: list[Landed] = []  # ends found and not yet returned by `check`

    def __repr__(self) -> str:  # the account object holds the key: show the address only
        return f"TxPipeline({self.address}, {len(self._flights)} in flight)"

    # ------------------------------------------------------------------ the set

    def __len__(self) -> int:
        return sum(1 for f in self._flights.values() if f.key is not None)

    @property
    def flights(self) -> list[Flight]:
        """The caller's flights, lowest nonce first (fillers of nonce holes are the pipeline's own)."""
        return [self._flights[n] for n in sorted(self._flights) if self._flights[n].key is not None]

    def has_room(self) -> bool:
        return len(self._flights) < self.max_in_flight

    # ------------------------------------------------------------------ launching

    def next_nonce(self) -> int:
        """The account's next free nonce: past what is mined, what the node holds and what we have in flight."""
        mined, pending = (int(v, 16) for v in self.rpc.batch([
            ("eth_getTransactionCount", [self.address, "latest"]),
            ("eth_getTransactionCount", [self.address, "pending"]),
        ]))
        return max(mined, pending, max(self._flights, default=-1) + 1)

    def sign_new(self, sign: SignFn, *, fees: tuple[int, int] | None = None) -> SignedTx:
        """Signs the caller's next transaction at the next free nonce with the market's fees (or `fees`, as
        (maxFeePerGas, tip)). Record it, then `launch` it; a nonce signed but never launched is handed out again."""
        nonce = self.next_nonce()
        max_fee, tip = fees if fees is not None else self.market().caps()
        signed = SignedTx.of(sign(nonce, max_fee, tip))
        if signed.nonce != nonce:
            raise ValueError(f"signer used nonce {signed.nonce}, not {nonce}")
        return signed

    def launch(self, key: Hashable, signed: SignedTx) -> None:
        """Puts a recorded transaction in flight and broadcasts it. A refusal by the node is not raised: the flight
        stays, and the next `check()` finds it mined (Hardhat's automine reports a revert on sending), dropped
        (sent again) or its nonce used by another."""
        if key is None:
            raise ValueError("a flight needs the caller's key")
        signed = SignedTx.of(signed)
        if signed.nonce in self._flights:
            raise ValueError(f"nonce {signed.nonce} is already in flight")
        flight = Flight(key=key, nonce=signed.nonce, versions=[signed])
        self._flights[signed.nonce] = flight
        if self._broadcast(signed):
            flight.live = signed
            flight.sent_at = self._head  # the head its fees were read at: close enough to count blocks waited

    def restore(self, key: Hashable, versions: Sequence[Any]) -> None:
        """A flight recorded before a crash (every signed version of its nonce, oldest first); nothing is sent now."""
        signed = [SignedTx.of(v) for v in versions]
        if not signed:
            return
        nonce = signed[0].nonce
        existing = self._flights.get(nonce)
        if existing is not None and existing.key != key:
            raise ValueError(f"nonce {nonce} is already in flight for {existing.key!r}")
        self._flights[nonce] = Flight(key=key, nonce=nonce, versions=signed)

    def forget(self, key: Hashable) -> None:
        """Stops watching the caller's flight (its nonce stays ours until mined: a later hole is filled)."""
        for nonce in [n for n, f in self._flights.items() if f.key == key]:
            del self._flights[nonce]

    # ------------------------------------------------------------------ once per head

    def check(self) -> list[Landed]:
        """Resolves what was mined, resends what was dropped, replaces what the market will not mine, fills
        nonce holes; returns the caller's flights that ended (lowest nonce first)."""
        if self._flights:
            view = self._read()
            top = max(self._flights)
            for nonce in range(min(min(self._flights), view.mined_nonce), top + 1):
                flight = self._flights.get(nonce)
                if flight is None:
                    if nonce >= view.mined_nonce and nonce >= view.pending_nonce:
                        self._fill(nonce, view)  # a hole nobody holds: the later ones cannot be mined before it
                    continue
                end = self._check_one(flight, view)
                if end is not None:
                    del self._flights[nonce]
                    if flight.key is not None:
                        self._landed.append(end)
        # Kept until returned: an error later in the loop (a record that failed) must not lose an end found before.
        landed, self._landed = self._landed, []
        return landed

    def _check_one(self, flight: Flight, view: _View) -> Landed | None:
        receipts = [(h, view.receipts.get(h)) for h in reversed(flight.hashes)]
        for tx_hash, receipt in receipts:
            if receipt is not None:
                return Landed(
                    key=flight.key, nonce=flight.nonce,
                    outcome=MINED if int(receipt.get("status") or "0x0", 16) == 1 else REVERTED,
                    tx_hash=receipt.get("transactionHash", tx_hash), block_number=int(receipt["blockNumber"], 16),
                    block_hash=receipt["blockHash"], gas_used=int(receipt["gasUsed"], 16),
                    logs=tuple(receipt.get("logs") or ()))
        if flight.nonce < view.mined_nonce:
            return Landed(key=flight.key, nonce=flight.nonce, outcome=LOST,
                          detail=f"nonce {flight.nonce} was used by a transaction that is none of ours")
        known = [v for v in flight.versions if view.known.get(v.tx_hash)]
        if not known:
            self._resend(flight, view)
            return None
        if flight.live is None or flight.live.tx_hash != known[-1].tx_hash:
            flight.live = known[-1]  # after a restore, or a replacement the node took after all
        live = flight.live
        reason = replacement_reason(
            max_fee=live.max_fee_per_gas, tip=live.max_priority_fee_per_gas, base_fee=view.market.base_fee,
            next_base_fee=view.market.next_base_fee, paid_tip=view.market.paid_tip,
            first_in_line=flight.nonce == view.mined_nonce,
            waited_blocks=view.market.block_number - flight.sent_at if flight.sent_at >= 0 else 1)
        if reason is not None:
            self._replace(flight, view, reason)
        return None

    def _resend(self, flight: Flight, view: _View) -> None:
        """The node knows none of the nonce's versions and the nonce is not mined: dropped, or never sent."""
        current = flight.current
        if current.max_fee_per_gas < max(view.market.base_fee, view.market.next_base_fee):
            signed = self._resign(flight, view.market)
            what = f"re-signed as {signed.tx_hash} (fee {signed.max_fee_per_gas})"
        else:
            signed, what = current, "sent again"
        flight.resends += 1
        if flight.key is not None:
            log.warning("transaction %s (nonce %d) is not in the node's pool and not mined: %s",
                        current.tx_hash, flight.nonce, what)
        if self._broadcast(signed):
            flight.live = signed
            flight.sent_at = view.market.block_number

    def _replace(self, flight: Flight, view: _View, reason: str) -> None:
        signed = self._resign(flight, view.market)
        flight.replacements += 1
        log.warning("transaction %s (nonce %d) will not be mined: %s; replaced by %s (max fee %d, tip %d)",
                    flight.current.tx_hash, flight.nonce, reason, signed.tx_hash, signed.max_fee_per_gas,
                    signed.max_priority_fee_per_gas)
        if self._broadcast(signed):
            flight.live = signed
            flight.sent_at = view.market.block_number

    def _resign(self, flight: Flight, market: Market) -> SignedTx:
        """The nonce's transaction with fees the market takes and the node accepts as a replacement: above every
        version signed so far (one of them may still sit in some node's pool)."""
        previous = (max(v.max_fee_per_gas for v in flight.versions),
                    max(v.max_priority_fee_per_gas for v in flight.versions))
        max_fee, tip = bumped(previous, market.caps())
        signed = self._sign_as(flight.current, max_fee, tip)
        if signed.tx_hash not in flight.hashes:
            if flight.key is not None:
                self.record(flight.key, signed)  # on record before it can exist anywhere else
            flight.versions.append(signed)
        return signed

    def _sign_as(self, model: SignedTx, max_fee: int, tip: int) -> SignedTx:
        """`model` (one of our signed transactions) signed again with other fees: same nonce, recipient, data, gas."""
        fields = TypedTransaction.from_bytes(HexBytes(model.raw)).as_dict()
        for signature_part in ("v", "r", "s"):
            fields.pop(signature_part, None)
        fields.update(maxFeePerGas=max_fee, maxPriorityFeePerGas=tip)
        fields["to"] = Web3.to_checksum_address(fields["to"])
        return self._signed(self.account.sign_transaction(fields), model.nonce, int(fields["gas"]), max_fee, tip)

    def _fill(self, nonce: int, view: _View) -> None:
        """A zero-value transfer to ourselves at `nonce`, so that the nonces after it can be mined."""
        max_fee, tip = view.market.caps()
        tx = {"to": self.address, "value": 0, "data": b"", "nonce": nonce, "gas": _TRANSFER_GAS,
              "maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip, "chainId": self._chain_id, "type": 2}
        signed = self._signed(self.account.sign_transaction(tx), nonce, _TRANSFER_GAS, max_fee, tip)
        log.warning("nonce %d of %s is held by no transaction; filled by %s so that the later ones can be mined",
                    nonce, self.address, signed.tx_hash)
        flight = Flight(key=None, nonce=nonce, versions=[signed])
        self._flights[nonce] = flight
        if self._broadcast(signed):
            flight.live = signed
            flight.sent_at = view.market.block_number

    @staticmethod
    def _signed(signed: Any, nonce: int, gas: int, max_fee: int, tip: int) -> SignedTx:
        return SignedTx(tx_hash=Web3.to_hex(signed.hash), nonce=nonce, gas=gas, max_fee_per_gas=max_fee,
                        max_priority_fee_per_gas=tip, raw=bytes(signed.raw_transaction))

    def _broadcast(self, signed: SignedTx) -> bool:
        """Sends; True when the node holds it now. Refusals are logged, never raised: the next check decides."""
        try:
            self.rpc.call("eth_sendRawTransaction", [Web3.to_hex(signed.raw)])
            return True
        except RpcError as exc:
            if is_already_known(exc):
                return True
            if is_nonce_too_low(exc):
                return False  # one of the nonce's versions was mined meanwhile: its receipt tells which
            if is_replacement_underpriced(exc):
                log.warning("the node keeps another transaction at nonce %d: %s", signed.nonce, exc.message)
                return False
            # Hardhat's automine mines a reverting transaction and answers with the revert: the receipt tells.
            log.warning("the node refused %s (nonce %d): %s", signed.tx_hash, signed.nonce, exc.message[:300])
            return False
        except RpcConnectionError as exc:
            log.warning("broadcasting %s failed: %s", signed.tx_hash, exc)
            return False

    # ------------------------------------------------------------------ reading the node

    def market(self) -> Market:
        """The fee market now (one request)."""
        try:
            return self._market(self.rpc.batch(self._market_calls()))
        except RpcError as exc:
            if not self._no_fee_history(exc):
                raise
            return self._market(self.rpc.batch(self._market_calls()))

    def _market_calls(self) -> list[tuple[str, list[Any]]]:
        calls: list[tuple[str, list[Any]]] = [("eth_getBlockByNumber", ["latest", False])]
        if self._fee_history:
            calls.append(("eth_feeHistory", [hex(self.fee_blocks), "latest", [self.tip_percentile]]))
        return calls

    def _no_fee_history(self, exc: RpcError) -> bool:
        """Whether `exc` says the node has no eth_feeHistory (then the next base fee comes from the header)."""
        if not self._fee_history or exc.method != "eth_feeHistory":
            return False
        log.warning("the node has no eth_feeHistory (%s): the next base fee comes from the header", exc.message)
        self._fee_history = False
        return True

    def _market(self, replies: Sequence[Any]) -> Market:
        block = replies[0]
        history = replies[1] if len(replies) > 1 else None
        number = int(block["number"], 16)
        base = int(block.get("baseFeePerGas") or "0x0", 16)
        following = next_base_fee(base, int(block["gasUsed"], 16), int(block["gasLimit"], 16))
        paid = 0
        if isinstance(history, dict):
            bases = history.get("baseFeePerGas") or []
            if bases:
                following = int(bases[-1], 16)  # the node's own word, which knows overrides the header does not
            rewards = [int(r[0], 16) for r, used in zip(history.get("reward") or [], history.get("gasUsedRatio") or [])
                       if r and used]
            paid = statistics.median_low(rewards) if rewards else 0
        self._head = max(self._head, number)
        return Market(block_number=number, base_fee=base, next_base_fee=following, paid_tip=paid,
                      suggested_tip=self.chain.fees.caps()[1])

    def _read(self) -> _View:
        """Everything `check()` needs, in one batch: the account's nonces, the market, and per version its receipt
        and whether the node still knows it."""
        hashes = [h for f in self._flights.values() for h in f.hashes]
        calls: list[tuple[str, list[Any]]] = [
            ("eth_getTransactionCount", [self.address, "latest"]),
            ("eth_getTransactionCount", [self.address, "pending"]),
            *self._market_calls(),
            *[("eth_getTransactionReceipt", [h]) for h in hashes],
            *[("eth_getTransactionByHash", [h]) for h in hashes],
        ]
        try:
            replies = self.rpc.batch(calls)
        except RpcError as exc:
            if not self._no_fee_history(exc):
                raise
            return self._read()
        head = 2 + len(self._market_calls())
        n = len(hashes)
        receipts = replies[head: head + n]
        found = replies[head + n: head + 2 * n]
        return _View(
            mined_nonce=int(replies[0], 16),
            pending_nonce=int(replies[1], 16),
            market=self._market(replies[2:head]),
            receipts={h: (r if isinstance(r, dict) and r.get("blockNumber") else None) for h, r in zip(hashes, receipts)},
            known={h: isinstance(t, dict) for h, t in zip(hashes, found)},
        )

