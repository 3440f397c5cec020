"""Seeds a fresh local deployment with the demo catalogue (data.py) through the chain package."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..chain.client import Chain, keccak
from ..chain.deployment import AccountLabel, Deployment, write_account_labels
from ..chain.keys import dev_account
from ..domain.vocabulary import AGENCY, CATEGORIES, MODEL, TERRITORIES
from ..errors import SeedError
from ..settings import LOCAL_CHAIN_ID
from . import data
from .media import consent_document, twin_uri, write_twin_media


# Fixed, generous gas limits: estimating each transaction would double the seed's time (Hardhat's estimate
# searches), and on the local chain an unused limit costs nothing. A revert still surfaces, decoded, on sending.
_GAS = {
    "setCategoryFloor": 200_000,
    "attest": 300_000,
    "registerTwin": 2_000_000,
    "acceptPayee": 200_000,
    "publishOffer": 500_000,
    "faucet": 200_000,
}


@dataclass(frozen=True)
class SeededTwin:
    twin_id: int
    number: int
    name: str
    model: str
    uri: str
    consent_hash: str
    offer_ids: tuple[int, ...]


@dataclass(frozen=True)
class SeedResult:
    twins: tuple[SeededTwin, ...]
    brands: tuple[str, ...]
    floors: dict[int, int]
    labels_path: Path
    transactions: int
    seconds: float
    offers: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "offers", sum(len(t.offer_ids) for t in self.twins))


def account_labels() -> list[AccountLabel]:
    """Every development account of the demo, labelled for people (the web client shows these names)."""
    labels = [
        AccountLabel(dev_account(data.ADMIN).address, "admin", "Platform admin (deployer)", data.ADMIN),
        AccountLabel(dev_account(data.GUILD).address, "guild", "Models' Guild", data.GUILD),
        AccountLabel(dev_account(data.RECORDER).address, "recorder", "Usage recorder (backend)", data.RECORDER),
    ]
    labels += [
        AccountLabel(dev_account(a.index).address, "agency", a.name, a.index, {"city": a.city}) for a in data.AGENCIES
    ]
    labels += [
        AccountLabel(dev_account(p.model_index).address, "model", p.name, p.model_index, {"agency": p.agency.name})
        for p in data.twin_plans()
    ]
    labels += [AccountLabel(dev_account(b.index).address, "brand", b.name, b.index) for b in data.BRANDS]
    labels += [AccountLabel(dev_account(c.index).address, "crew", c.name, c.index, {"craft": c.craft}) for c in data.CREW]
    return labels


def attest_as_guild(chain: Chain, subjects: list[tuple[str, int, str]], validity: int = data.ATTESTATION_VALIDITY) -> list[str]:
    """The development guild attests each (address, role, label) for `validity` seconds from now, and waits for them
    (a twin is registered only by an attested model). Local chain only, as the guild's key is a development key."""
    guild = dev_account(data.GUILD)
    expires_at = chain.timestamp() + validity
    txs = [
        chain.transact(guild, "TwinRegistry", "attest", address, role, expires_at, label, gas=_GAS["attest"], wait=False)
        for address, role, label in subjects
    ]
    for tx in txs:
        chain.wait(tx)
    return txs


def seed(chain: Chain, deployment: Deployment, *, media_dir: Path, deployments_dir: Path) -> SeedResult:
    """Sets floors, attests the models and agencies as the guild, registers the 30 twins with their offers (their
    agencies and crew accept being payees), funds the brands, writes media and labels.

    Transactions go out without waiting for their receipts where nothing later depends on them (the local node
    mines each on arrival, and each sender tracks its own nonce); all receipts are checked before returning.
    """
    started = time.monotonic()
    chain = chain.bind(chain.check_deployment(deployment))
    if deployment.chain_id != LOCAL_CHAIN_ID:
        raise SeedError(f"the demo seed uses the development accounts: local chain {LOCAL_CHAIN_ID} only")
    if not deployment.test_token:
        raise SeedError("the seed funds brands from the test stablecoin's faucet; this deployment has another token")
    guild = dev_account(data.GUILD)
    if deployment.guild != guild.address:
        raise SeedError(f"the deployment's guild is {deployment.guild}, not the development guild {guild.address}")
    existing = chain.call("TwinRegistry", "twinCount")
    if existing:
        raise SeedError(f"this deployment already has {existing} twins; seed a fresh deployment")

    pending: list[str] = []
    for category, floor in data.CATEGORY_FLOORS.items():
        tx = chain.transact(
            guild, "TwinRegistry", "setCategoryFloor", category, floor, gas=_GAS["setCategoryFloor"], wait=False
        )
        pending.append(tx)

    plans = data.twin_plans()
    # The guild vouches for every model and agency of the demo; a twin is registered only by an attested model.
    attested = [(dev_account(a.index).address, AGENCY, a.name) for a in data.AGENCIES]
    attested += [(dev_account(p.model_index).address, MODEL, p.name) for p in plans]
    attestations = attest_as_guild(chain, attested)

    registrations = []
    for plan in plans:
        model = dev_account(plan.model_index)
        consent_hash = keccak(consent_document(plan, model.address))
        write_twin_media(media_dir, plan, model.address, consent_hash)
        payees = [(dev_account(p.index).address, p.share_bps, p.role) for p in plan.payees]
        tx = chain.transact(
            model, "TwinRegistry", "registerTwin", twin_uri(plan), consent_hash, payees,
            gas=_GAS["registerTwin"], wait=False,
        )
        registrations.append((plan, model, consent_hash, tx))

    # Offers need the twin ids, so registrations are waited for (they were all sent already).
    offer_txs: list[tuple[int, str]] = []
    twin_of: list[tuple[data.TwinPlan, str, str, int]] = []
    for plan, model, consent_hash, tx in registrations:
        (event,) = chain.events(chain.wait(tx), "TwinRegistry", "TwinRegistered")
        twin_id = event["twinId"]
        twin_of.append((plan, model.address, consent_hash, twin_id))
        for offer in plan.offers:
            tx = chain.transact(
                model, "LicenseToken", "publishOffer", twin_id, offer.terms(), gas=_GAS["publishOffer"], wait=False
            )
            offer_txs.append((twin_id, tx))
        # The agency and the crew accept their listing, so the twin counts in their withdraw() and claimable().
        for listed in plan.payees[1:]:
            tx = chain.transact(
                dev_account(listed.index), "TwinRegistry", "acceptPayee", twin_id, gas=_GAS["acceptPayee"], wait=False
            )
            pending.append(tx)

    for brand in data.BRANDS:
        address = dev_account(brand.index).address
        # Anyone may call the test token's faucet; the admin pays the gas.
        tx = chain.transact(
            dev_account(data.ADMIN), "PaymentToken", "faucet", address, data.BRAND_FUNDING, gas=_GAS["faucet"], wait=False
        )
        pending.append(tx)

    offers_by_twin: dict[int, list[int]] = {}
    for twin_id, tx in offer_txs:
        (event,) = chain.events(chain.wait(tx), "LicenseToken", "OfferPublished")
        offers_by_twin.setdefault(twin_id, []).append(event["offerId"])
    for tx in pending:
        chain.wait(tx)  # raises the decoded revert of any that failed

    labels_path = write_account_labels(
        deployments_dir,
        deployment.chain_id,
        account_labels(),
        categories=list(CATEGORIES),
        territories=list(TERRITORIES),
    )
    twins = tuple(
        SeededTwin(twin_id, plan.number, plan.name, address, twin_uri(plan), consent_hash, tuple(offers_by_twin[twin_id]))
        for plan, address, consent_hash, twin_id in twin_of
    )
    return SeedResult(
        twins=twins,
        brands=tuple(dev_account(b.index).address for b in data.BRANDS),
        floors=dict(data.CATEGORY_FLOORS),
        labels_path=labels_path,
        transactions=len(pending) + len(attestations) + len(registrations) + len(offer_txs),
        seconds=time.monotonic() - started,
    )
