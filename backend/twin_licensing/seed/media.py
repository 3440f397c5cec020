"""The files behind each twin's metadata URI: portrait, consent document and ERC-721 metadata JSON."""

from __future__ import annotations

import json
from pathlib import Path

from ..domain.vocabulary import CATEGORIES
from .data import TwinPlan
from .portraits import portrait_svg

MEDIA_URL = "/media"  # the API serves <media_dir> here; URIs stay relative so any host serves them


def twin_uri(plan: TwinPlan) -> str:
    return f"{MEDIA_URL}/twins/{plan.number}.json"


def consent_document(plan: TwinPlan, model_address: str) -> str:
    """The consent text the model signs; its keccak256 goes on chain so the document can be checked later."""
    return (
        "CONSENT TO THE CREATION AND LICENSED USE OF A DIGITAL TWIN\n\n"
        f"Model: {plan.name}\n"
        f"Wallet: {model_address}\n"
        f"Represented by: {plan.agency.name}, {plan.agency.city}\n\n"
        "1. I consent to the creation of an AI digital twin of my likeness and to its licensed use in the usage\n"
        "   categories and territories of the offers I publish, and in no other.\n"
        "2. I am paid for each use of the twin at no less than the guild's floor for its category.\n"
        "3. I may revoke this consent at any time. New licences stop at once; uses stop after the notice period.\n"
        "4. The twin is not transferable: these rights stay with me.\n"
    )


def write_twin_media(media_dir: Path, plan: TwinPlan, model_address: str, consent_hash: str) -> Path:
    """Writes portrait, consent document and metadata of a twin; returns the metadata file."""
    twins = Path(media_dir) / "twins"
    consent = Path(media_dir) / "consent"
    twins.mkdir(parents=True, exist_ok=True)
    consent.mkdir(parents=True, exist_ok=True)
    (twins / f"{plan.number}.svg").write_text(portrait_svg(plan.name))
    (consent / f"{plan.number}.txt").write_text(consent_document(plan, model_address))
    categories = sorted({CATEGORIES[b] for offer in plan.offers for b in range(8) if offer.categories >> b & 1})
    metadata = {
        "name": plan.name,
        "description": f"Digital twin of {plan.name}, represented by {plan.agency.name} ({plan.agency.city}). "
        "Licensed per use, with the model's consent.",
        "image": f"{MEDIA_URL}/twins/{plan.number}.svg",
        "consent_document": f"{MEDIA_URL}/consent/{plan.number}.txt",
        "consent_hash": consent_hash,
        "attributes": [
            {"trait_type": "Model", "value": plan.name},
            {"trait_type": "Agency", "value": plan.agency.name},
            {"trait_type": "Offers", "value": len(plan.offers)},
            *({"trait_type": "Category", "value": c} for c in categories),
        ],
    }
    path = twins / f"{plan.number}.json"
    path.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    return path
