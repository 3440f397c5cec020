"""What each contract event means for the index: the entities it names, the state it changes, the rows it adds.

Handlers are pure functions of (state, event): they never query the database, so the same code indexes new blocks
and replays history after a reorganisation. Money is checked as it moves: an escrow or a twin's undistributed
earnings going negative, or a settlement not starting at the licence's settled count, means the index missed an
event; the batch is refused (`IndexInconsistency`) rather than a wrong amount stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

from ..chain.events import ROLE_NAMES, DecodedEvent
from ..domain import category_consent, skip_reasons
from ..domain.licence_end import dump_consent_ends, parse_consent_ends
from ..domain.vocabulary import PAYEE_ROLES
from ..errors import TwinLicensingError
from .state import Row, Scope, State

_json_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode  # built once, not per call
try:
    from orjson import dumps as _orjson_dumps
except ImportError:  # pragma: no cover - orjson is a dependency; the standard encoder gives the same text
    _orjson_dumps = None


def _to_json(args: dict) -> str:
    """Compact JSON of decoded arguments (orjson: ~5x faster; integers beyond 64 bits need the standard one)."""
    if _orjson_dumps is not None:
        try:
            return _orjson_dumps(args).decode()
        except TypeError:
            pass
    return _json_encode(args)


ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
# Events whose entity is contract-wide (replayed in full after a reorganisation: there are few).
GLOBAL_EVENTS = ("CategoryFloorSet", "AgencyCapSet", "NonModelCapSet", "ExclusivityMinimumSet", "NoticePeriodSet",
                 "LicenseContractSet", "GracePeriodSet", "Paused", "Unpaused", "RoleGranted", "RoleRevoked",
                 "Attested", "AttestationRevoked")


class IndexInconsistency(TwinLicensingError, RuntimeError):
    """The events do not add up (an event was missed or indexed twice): nothing of the batch is stored."""


@dataclass
class Rows:
    """Append-only rows the handlers add (chain_events rows are built apart: `event_values`)."""

    settlements: list[Row] = field(default_factory=list)
    earnings: list[Row] = field(default_factory=list)
    consents: list[Row] = field(default_factory=list)
    skips: list[Row] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- entity keys


def entity_columns(ev: DecodedEvent) -> tuple[int | None, int | None, int | None, str | None]:
    """(twin_id, license_id, offer_id, account) an event is about, for the event row's lookup columns."""
    a = ev.args
    twin_id, license_id, offer_id = a.get("twinId"), a.get("licenseId"), a.get("offerId")
    account = a.get("payee") or a.get("buyer") or a.get("account") or a.get("subject")
    if "tokenId" in a:  # ERC-721 Transfer/Approval and ERC-5192 Locked: the token is a twin or a licence
        if ev.contract == "TwinRegistry":
            twin_id = a["tokenId"]
        else:
            license_id = a["tokenId"]
        account = a.get("to", account)
    elif ev.name in ("EscrowToppedUp", "EscrowReclaimed", "UpfrontRefunded"):
        account = a.get("from") or a.get("to")
    elif ev.name == "SellerEscrowReclaimed":
        account = a["seller"]
    return twin_id, license_id, offer_id, account


def add_to_scope(scope: Scope, ev: DecodedEvent) -> None:
    """Adds the keys of every entity the event's handler may change."""
    name, a = ev.name, ev.args
    if name == "UsesSettled":
        scope.licenses.add(a["licenseId"])
        scope.twins.add(a["twinId"])
    elif name == "EarningsDistributed":
        scope.twins.add(a["twinId"])
        scope.payees.add(a["payee"])
    elif name == "Withdrawn":
        scope.payees.add(a["payee"])
    elif name == "LicensePurchased":
        scope.licenses.add(a["licenseId"])
        scope.offers.add(a["offerId"])
        scope.twins.add(a["twinId"])
    elif name in ("EscrowToppedUp", "EscrowReclaimed", "ExclusiveLicenseEnded", "UpfrontRefunded",
                  "LicenseHandedOver", "SellerEscrowReclaimed"):
        scope.licenses.add(a["licenseId"])
    elif name == "UpfrontVested":
        scope.licenses.add(a["licenseId"])
        scope.twins.add(a["twinId"])
    elif name == "SettleItemSkipped":
        if a["reason"] != skip_reasons.UNKNOWN_LICENSE:  # no licence row to note it on (nor to create)
            scope.licenses.add(a["licenseId"])
    elif name == "UsesVoided":
        scope.licenses.add(a["licenseId"])
    elif name == "TwinOffersWithdrawn":
        scope.twins.add(a["twinId"])
        scope.withdrawals.add(a["twinId"])
    elif name in ("OfferPublished", "OfferWithdrawn"):
        scope.offers.add(a["offerId"])
    elif name == "Transfer":
        (scope.twins if ev.contract == "TwinRegistry" else scope.licenses).add(a["tokenId"])
    elif name in ("Locked", "Unlocked"):
        if ev.contract != "TwinRegistry":  # twins are all locked: only a licence's lock is state
            scope.licenses.add(a["tokenId"])
    elif name in ("TwinRegistered", "PayeesSet", "TwinUriSet", "ConsentGranted", "ConsentRevoked", "PayeeAccepted",
                  "PayeeLeft", "CategoryConsentRevoked", "CategoryConsentGranted"):
        scope.twins.add(a["twinId"])
    elif name in ("Attested", "AttestationRevoked"):
        scope.attestations.add(a["attestationId"])
    elif name == "CategoryFloorSet":
        scope.floors.add(a["category"])
    elif name in _PARAM_OF:
        scope.params.add(_PARAM_OF[name])
    elif name in ("RoleGranted", "RoleRevoked"):
        scope.roles.add((ev.contract, a["role"], a["account"]))


# ---------------------------------------------------------------------------------------------- handlers


# The columns of chain_events in table order; `final` (last) is added by the writer, which knows the final block.
EVENT_COLUMNS = ("chain_id", "tx_hash", "log_index", "block_number", "block_hash", "block_time", "tx_index",
                 "contract", "name", "twin_id", "license_id", "offer_id", "account", "args")


def event_values(chain_id: int, ev: DecodedEvent, block_time: int) -> tuple:
    """The event's chain_events row without `final`, as a tuple in EVENT_COLUMNS order (built in the fetcher's
    thread, which has time while the writer's is inside SQLite)."""
    twin_id, license_id, offer_id, account = entity_columns(ev)
    return (chain_id, ev.tx_hash, ev.log_index, ev.block_number, ev.block_hash, block_time, ev.tx_index,
            ev.contract, ev.name, twin_id, license_id, offer_id, account, _to_json(ev.args))


def _inconsistent(ev: DecodedEvent, why: str) -> IndexInconsistency:
    return IndexInconsistency(f"{ev.name} at block {ev.block_number} (tx {ev.tx_hash}, log {ev.log_index}): {why}")


def _uses_settled(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    amount, count, first = a["amount"], a["count"], a["firstSeq"]
    payer = a.get("payer", "")
    lic = st.license(a["licenseId"])
    if lic is not None:
        if lic["uses_settled"] != first:
            raise _inconsistent(ev, f"licence has {lic['uses_settled']} uses settled, the event starts at {first}")
        if _paid_by_seller(lic, payer):
            if lic["seller_escrow"] < amount:
                raise _inconsistent(ev, f"seller escrow {lic['seller_escrow']} is less than the amount {amount}")
            lic["seller_escrow"] -= amount
            lic["seller_escrow_spent"] += amount
        else:
            if lic["escrow"] < amount:
                raise _inconsistent(ev, f"escrow {lic['escrow']} is less than the amount {amount}")
            lic["escrow"] -= amount
            lic["escrow_spent"] += amount
        lic["uses_settled"] = first + count
        lic["last_settled_at"] = t
        lic["updated_block"] = ev.block_number
    twin = st.twin(a["twinId"])
    if twin is not None:
        twin["earned"] += amount
        twin["undistributed"] += amount
        twin["uses_settled"] += count
        twin["updated_block"] = ev.block_number
    if rows is not None:
        rows.settlements.append({
            "chain_id": st.chain_id, "tx_hash": ev.tx_hash, "log_index": ev.log_index,
            "license_id": a["licenseId"], "twin_id": a["twinId"], "first_seq": first, "count": count,
            "amount": amount, "uses_root": a["usesRoot"], "holder": lic["holder"] if lic is not None else "",
            "payer": payer, "block_number": ev.block_number, "block_time": t,
        })


def _paid_by_seller(lic: Row, payer: str) -> bool:
    """Whether a settlement was paid from the last seller's escrow rather than the licence's: its payer is that
    seller (for a report signed before the handover). A seller is never the holder (a transfer to oneself hands
    nothing over; a transfer back makes the other the seller), so the payer tells the two escrows apart."""
    return bool(payer) and payer == lic["seller"]


def _earnings_distributed(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    amount = a["amount"]
    twin = st.twin(a["twinId"])
    if twin is not None:
        if twin["undistributed"] < amount:
            raise _inconsistent(ev, f"twin has {twin['undistributed']} undistributed, {amount} were split")
        twin["distributed"] += amount
        twin["undistributed"] -= amount
        twin["updated_block"] = ev.block_number
    balance = st.balance(a["payee"])
    if balance is not None:
        balance["distributed"] += amount
        balance["updated_block"] = ev.block_number
    if rows is not None:
        rows.earnings.append({
            "chain_id": st.chain_id, "tx_hash": ev.tx_hash, "log_index": ev.log_index, "payee": a["payee"],
            "kind": "distributed", "twin_id": a["twinId"], "amount": amount, "block_number": ev.block_number,
            "block_time": t,
        })


def _withdrawn(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    balance = st.balance(a["payee"])
    if balance is not None:
        if balance["distributed"] - balance["withdrawn"] < a["amount"]:
            raise _inconsistent(ev, f"payee withdrew {a['amount']}, more than split to her")
        balance["withdrawn"] += a["amount"]
        balance["updated_block"] = ev.block_number
    if rows is not None:
        rows.earnings.append({
            "chain_id": st.chain_id, "tx_hash": ev.tx_hash, "log_index": ev.log_index, "payee": a["payee"],
            "kind": "withdrawn", "twin_id": None, "amount": a["amount"], "block_number": ev.block_number,
            "block_time": t,
        })


def _license_purchased(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    lic = st.license(a["licenseId"])
    if lic is not None:
        terms = st.offer_terms(a["offerId"])
        if terms is None:
            raise _inconsistent(ev, f"offer {a['offerId']} is not indexed")
        lic.update(
            offer_id=a["offerId"], twin_id=a["twinId"], buyer=a["buyer"], holder=lic["holder"] or a["buyer"],
            upfront_fee=a["upfrontFee"], per_use_fee=terms["per_use_fee"], max_uses=terms["max_uses"],
            categories=terms["categories"], territories=terms["territories"], exclusive=terms["exclusive"],
            transferable=terms["transferable"], idle_end_after=terms["idle_end_after"], started_at=t,
            duration=terms["duration"], expiry=a["expiry"], purchased_block=ev.block_number, purchased_tx=ev.tx_hash,
            updated_block=ev.block_number,
        )
        lic["escrow"] += a["escrow"]
        lic["escrow_deposited"] += a["escrow"]
    offer = st.offer(a["offerId"])
    if offer is not None:
        offer["licenses_sold"] += 1
    twin = st.twin(a["twinId"])
    if twin is not None:
        # The upfront fee is held unvested: the twin earns it as it vests (UpfrontVested), not at purchase.
        twin["upfront_sold"] += a["upfrontFee"]
        twin["licenses_sold"] += 1
        twin["updated_block"] = ev.block_number


def _upfront_vested(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    amount = a["amount"]
    lic = st.license(a["licenseId"])
    if lic is not None:
        if lic["upfront_released"] + lic["upfront_refunded"] + amount > lic["upfront_fee"]:
            raise _inconsistent(ev, f"vests {amount} of an upfront fee of {lic['upfront_fee']}, of which "
                                    f"{lic['upfront_released']} vested and {lic['upfront_refunded']} was refunded")
        lic["upfront_released"] += amount
        lic["updated_block"] = ev.block_number
    twin = st.twin(a["twinId"])
    if twin is not None:
        twin["earned"] += amount
        twin["undistributed"] += amount
        twin["upfront_released"] += amount
        twin["updated_block"] = ev.block_number


def _upfront_refunded(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    """The unvested rest went back to the holder: nothing the twin earned changes (it never earned it)."""
    a = ev.args
    lic = st.license(a["licenseId"])
    if lic is not None:
        if lic["upfront_released"] + lic["upfront_refunded"] + a["amount"] > lic["upfront_fee"]:
            raise _inconsistent(ev, f"refunds {a['amount']} of an upfront fee of {lic['upfront_fee']}, of which "
                                    f"{lic['upfront_released']} vested and {lic['upfront_refunded']} was refunded")
        lic["upfront_refunded"] += a["amount"]
        lic["updated_block"] = ev.block_number


def _license_handed_over(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    """A transfer: the escrow held becomes the seller's (it pays only the uses she signed before `at`)."""
    a = ev.args
    lic = st.license(a["licenseId"])
    if lic is not None:
        if lic["escrow"] != a["sellerEscrow"]:
            raise _inconsistent(ev, f"hands over {a['sellerEscrow']} as the seller's escrow, "
                                    f"the escrow is {lic['escrow']}")
        if lic["seller_escrow"]:
            raise _inconsistent(ev, f"the previous seller still has {lic['seller_escrow']} of escrow on the licence")
        lic.update(escrow=0, escrow_handed_over=lic["escrow_handed_over"] + a["sellerEscrow"], seller=a["seller"],
                   handover_at=a["at"], handover_escrow=a["sellerEscrow"], seller_escrow=a["sellerEscrow"],
                   updated_block=ev.block_number)


def _seller_escrow_reclaimed(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    lic = st.license(a["licenseId"])
    if lic is not None:
        if lic["seller"] != a["seller"] or lic["seller_escrow"] != a["amount"]:
            raise _inconsistent(ev, f"{a['seller']} reclaimed {a['amount']}, the seller's escrow is "
                                    f"{lic['seller_escrow']} of {lic['seller']}")
        lic["seller_escrow"] = 0
        lic["seller_escrow_reclaimed"] += a["amount"]
        lic["updated_block"] = ev.block_number


def _settle_item_skipped(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    if a["reason"] != skip_reasons.UNKNOWN_LICENSE:
        lic = st.license(a["licenseId"])
        if lic is not None:
            lic.update(last_skip_reason=a["reason"], last_skip_first_seq=a["firstSeq"], last_skip_count=a["count"],
                       last_skip_block=ev.block_number, updated_block=ev.block_number)
    if rows is not None:
        rows.skips.append({
            "chain_id": st.chain_id, "tx_hash": ev.tx_hash, "log_index": ev.log_index, "license_id": a["licenseId"],
            "first_seq": a["firstSeq"], "count": a["count"], "reason": a["reason"], "block_number": ev.block_number,
            "block_time": t, "voided": False,
        })


def _uses_voided(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    """A handed-over licence's seller-signed item her escrow never will pay: the settled count moves past it like a
    settlement, and no money moves (neither escrow, nor the twin's earnings or settled uses). Kept with the skips,
    flagged, so that its uses read as rejected for good."""
    a = ev.args
    first, count = a["firstSeq"], a["count"]
    lic = st.license(a["licenseId"])
    if lic is not None:
        if lic["uses_settled"] != first:
            raise _inconsistent(ev, f"licence has {lic['uses_settled']} uses settled, the void starts at {first}")
        lic["uses_settled"] = first + count
        lic["updated_block"] = ev.block_number
    if rows is not None:
        rows.skips.append({
            "chain_id": st.chain_id, "tx_hash": ev.tx_hash, "log_index": ev.log_index, "license_id": a["licenseId"],
            "first_seq": first, "count": count, "reason": a["reason"], "block_number": ev.block_number,
            "block_time": t, "voided": True,
        })


def _escrow_topped_up(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    lic = st.license(a["licenseId"])
    if lic is not None:
        if lic["escrow"] + a["amount"] != a["escrow"]:
            raise _inconsistent(ev, f"escrow {lic['escrow']} + {a['amount']} is not the event's {a['escrow']}")
        lic["escrow"] = a["escrow"]
        lic["escrow_deposited"] += a["amount"]
        lic["updated_block"] = ev.block_number


def _escrow_reclaimed(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    lic = st.license(a["licenseId"])
    if lic is not None:
        if lic["escrow"] != a["amount"]:
            raise _inconsistent(ev, f"reclaimed {a['amount']} but the escrow is {lic['escrow']}")
        lic["escrow"] = 0
        lic["escrow_reclaimed"] += a["amount"]
        lic["updated_block"] = ev.block_number


def _transfer(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    if ev.contract == "TwinRegistry":  # minted once to the model, never moves (ERC-5192)
        twin = st.twin(a["tokenId"])
        if twin is not None:
            twin["model"] = a["to"]
            twin["updated_block"] = ev.block_number
        return
    lic = st.license(a["tokenId"])
    if lic is not None:
        lic["holder"] = "" if a["to"] == ZERO_ADDRESS else a["to"]
        lic["updated_block"] = ev.block_number


def _offer_published(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    offer = st.offer(a["offerId"])
    if offer is not None:
        terms = a["terms"]
        offer.update(
            twin_id=a["twinId"], upfront_fee=terms["upfrontFee"], per_use_fee=terms["perUseFee"],
            duration=terms["duration"], max_uses=terms["maxUses"], categories=terms["categories"],
            territories=terms["territories"], exclusive=terms["exclusive"], transferable=terms["transferable"],
            idle_end_after=terms["idleEndAfter"], active=True, published_block=ev.block_number, published_time=t,
        )


def _lock_changed(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    """ERC-5192 on a licence (a non-transferable one is minted locked); the registry's twins are all locked."""
    if ev.contract == "TwinRegistry":
        return
    lic = st.license(ev.args["tokenId"])
    if lic is not None:
        lic["locked"] = ev.name == "Locked"
        lic["updated_block"] = ev.block_number


def _exclusive_license_ended(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    """The model ended an idle exclusive licence: it expired then (settling and top-ups stop, escrow reclaimable)."""
    lic = st.license(ev.args["licenseId"])
    if lic is not None:
        lic.update(expiry=ev.args["endedAt"], ended_at=ev.args["endedAt"], updated_block=ev.block_number)


def _offer_withdrawn(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    offer = st.offer(ev.args["offerId"])
    if offer is not None:
        offer.update(active=False, withdrawn_block=ev.block_number, withdrawn_by="model")


def _twin_offers_withdrawn(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    """A revocation withdrew every active offer of the twin that includes a category of the mask (all, for 0xFF)."""
    mask = ev.args["categories"]
    for offer in st.active_offers_of(ev.args["twinId"]):
        if offer["categories"] & mask:
            offer.update(active=False, withdrawn_block=ev.block_number, withdrawn_by="consent")


def _twin_registered(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    twin = st.twin(a["twinId"])
    if twin is not None:
        twin.update(model=a["model"], uri=a["uri"], consent_hash=a["consentHash"], revocation_effective_at=0,
                    attestation_id=a["attestationId"], notice_period=a["noticePeriod"],
                    registered_block=ev.block_number, registered_time=t, registered_tx=ev.tx_hash,
                    updated_block=ev.block_number)
    _consent_row(st, ev, t, rows, "registered", a["consentHash"], None)


def _payees_set(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    twin_id = a["twinId"]
    # A payee that stays listed keeps its acceptance; one dropped loses it; the model (first) always counts.
    accepted = {row["account"] for row in st.current_payees(twin_id) or [] if row["accepted"]}
    st.set_payees(twin_id, [
        {"chain_id": st.chain_id, "twin_id": twin_id, "position": n, "account": account, "share_bps": share,
         "role": _role_name(role), "since_block": ev.block_number, "accepted": n == 0 or account in accepted}
        for n, (account, share, role) in enumerate(zip(a["accounts"], a["sharesBps"], a["roles"]))
    ])
    twin = st.twin(twin_id)
    if twin is not None:
        twin["updated_block"] = ev.block_number


def _role_name(role: int) -> str:
    return PAYEE_ROLES[role] if role < len(PAYEE_ROLES) else str(role)


def _payee_accepted(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    st.accept_payee(ev.args["twinId"], ev.args["account"])
    twin = st.twin(ev.args["twinId"])
    if twin is not None:
        twin["updated_block"] = ev.block_number


def _payee_left(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    """The leaver's share went to the model: the `PayeesSet` that follows in the same transaction says so."""
    twin = st.twin(ev.args["twinId"])
    if twin is not None:
        twin["updated_block"] = ev.block_number


def _attested(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    row = st.attestation(a["attestationId"])
    if row is not None:
        row.update(subject=a["subject"], role=_role_name(a["role"]), issued_at=a["issuedAt"], expires_at=a["expiresAt"],
                   label=a["label"], guild=a["guild"], revoked=False, revoked_at=None, block_number=ev.block_number,
                   tx_hash=ev.tx_hash)


def _attestation_revoked(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    row = st.attestation(ev.args["attestationId"])
    if row is not None:
        row.update(revoked=True, revoked_at=t)


def _twin_uri_set(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    twin = st.twin(ev.args["twinId"])
    if twin is not None:
        twin["uri"] = ev.args["uri"]
        twin["updated_block"] = ev.block_number


def _consent_granted(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    twin = st.twin(a["twinId"])
    if twin is not None:
        revoked = twin["revocation_effective_at"]
        if revoked and t >= revoked:
            # The revocation took effect before this grant: the licences alive then stay ended.
            twin["consent_ends"] = dump_consent_ends([*parse_consent_ends(twin["consent_ends"]), revoked])
        # The event states the period this consent keeps (the registry's in force then, its default included).
        twin.update(consent_hash=a["consentHash"], revocation_effective_at=0, notice_period=a["noticePeriod"],
                    updated_block=ev.block_number)
    _consent_row(st, ev, t, rows, "granted", a["consentHash"], None)


def _consent_revoked(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    twin = st.twin(a["twinId"])
    if twin is not None:
        twin.update(revocation_effective_at=a["effectiveAt"], updated_block=ev.block_number)
    _consent_row(st, ev, t, rows, "revoked", None, a["effectiveAt"])


def _category_consent_revoked(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    twin = st.twin(a["twinId"])
    if twin is not None:
        twin.update(category_revocations=category_consent.with_change(
            twin["category_revocations"], a["category"], a["effectiveAt"]), updated_block=ev.block_number)
    _consent_row(st, ev, t, rows, "revoked", None, a["effectiveAt"], a["category"])


def _category_consent_granted(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    twin = st.twin(a["twinId"])
    if twin is not None:
        twin.update(category_revocations=category_consent.with_change(twin["category_revocations"], a["category"], 0),
                    updated_block=ev.block_number)
    _consent_row(st, ev, t, rows, "granted", None, None, a["category"])


def _consent_row(st: State, ev: DecodedEvent, t: int, rows: Rows | None, kind: str, document: str | None,
                 effective_at: int | None, category: int | None = None) -> None:
    if rows is not None:
        rows.consents.append({
            "chain_id": st.chain_id, "tx_hash": ev.tx_hash, "log_index": ev.log_index, "twin_id": ev.args["twinId"],
            "kind": kind, "consent_hash": document, "effective_at": effective_at, "category": category,
            "block_number": ev.block_number, "block_time": t,
        })


def _category_floor_set(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    floor = st.floor(ev.args["category"])
    if floor is not None:
        floor["min_per_use_fee"] = ev.args["minPerUseFee"]
        floor["block_number"] = ev.block_number


_PARAM_OF = {"AgencyCapSet": "agency_cap_bps", "NonModelCapSet": "non_model_cap_bps",
             "ExclusivityMinimumSet": "exclusivity_minimum", "NoticePeriodSet": "notice_period",
             "LicenseContractSet": "license_contract", "GracePeriodSet": "grace_period", "Paused": "paused",
             "Unpaused": "paused"}


def _param_set(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    param = st.param(_PARAM_OF[ev.name])
    if param is None:
        return
    if ev.name in ("Paused", "Unpaused"):
        value = "true" if ev.name == "Paused" else "false"
        if ev.contract == "LicenseToken":  # grace after a licence's end does not count the time paused
            if ev.name == "Paused":
                st.pause_started(ev.block_number, ev.log_index, t)
            else:
                st.pause_ended(ev.block_number, t)
    else:
        (value,) = ev.args.values()
    param["value"] = str(value)
    param["block_number"] = ev.block_number


def _role_changed(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    a = ev.args
    key = (ev.contract, a["role"], a["account"])
    row = None
    if ev.name == "RoleGranted":
        row = {"chain_id": st.chain_id, "contract": ev.contract, "role": a["role"], "account": a["account"],
               "role_name": ROLE_NAMES.get(a["role"], ""), "block_number": ev.block_number}
    st.set_role(key, row)


def _ignore(st: State, ev: DecodedEvent, t: int, rows: Rows | None) -> None:
    """Approvals and anything else: kept in chain_events, no state of their own."""


Handler = Callable[[State, DecodedEvent, int, "Rows | None"], None]
HANDLERS: dict[str, Handler] = {
    "UsesSettled": _uses_settled, "EarningsDistributed": _earnings_distributed, "Withdrawn": _withdrawn,
    "LicensePurchased": _license_purchased, "EscrowToppedUp": _escrow_topped_up,
    "EscrowReclaimed": _escrow_reclaimed, "Transfer": _transfer, "OfferPublished": _offer_published,
    "OfferWithdrawn": _offer_withdrawn, "TwinRegistered": _twin_registered, "PayeesSet": _payees_set,
    "TwinUriSet": _twin_uri_set, "ConsentGranted": _consent_granted, "ConsentRevoked": _consent_revoked,
    "CategoryConsentRevoked": _category_consent_revoked, "CategoryConsentGranted": _category_consent_granted,
    "CategoryFloorSet": _category_floor_set, "AgencyCapSet": _param_set, "NoticePeriodSet": _param_set,
    "NonModelCapSet": _param_set, "ExclusivityMinimumSet": _param_set,
    "LicenseContractSet": _param_set, "Paused": _param_set, "Unpaused": _param_set,
    "RoleGranted": _role_changed, "RoleRevoked": _role_changed,
    "PayeeAccepted": _payee_accepted, "PayeeLeft": _payee_left, "Attested": _attested,
    "AttestationRevoked": _attestation_revoked, "Locked": _lock_changed, "Unlocked": _lock_changed,
    "ExclusiveLicenseEnded": _exclusive_license_ended, "GracePeriodSet": _param_set,
    "UpfrontVested": _upfront_vested, "UpfrontRefunded": _upfront_refunded,
    "LicenseHandedOver": _license_handed_over, "SellerEscrowReclaimed": _seller_escrow_reclaimed,
    "SettleItemSkipped": _settle_item_skipped, "TwinOffersWithdrawn": _twin_offers_withdrawn,
    "UsesVoided": _uses_voided,
}


def apply(st: State, events: list[DecodedEvent], times: dict[int, int], rows: Rows | None) -> None:
    """Runs every event's handler in chain order. `times`: block number -> timestamp. `rows` None when replaying."""
    handlers = HANDLERS
    for ev in events:
        handlers.get(ev.name, _ignore)(st, ev, times[ev.block_number], rows)
