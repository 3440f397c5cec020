"""C2PA content credentials: a copy of a use's image carrying a manifest signed with the operator's certificate,
and what a manifest in any image says and whether it holds.

The manifest holds `c2pa.actions` (created, digitalSourceType trainedAlgorithmicMedia: the AI-generated label) and
the project's assertion `LICENCE_ASSERTION`, naming the chain, the licence contract, the licence, the twin, the
use's sequence number, category, territory and time, its reference (the image's SHA-256) and the report's EIP-712
digest.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass
from typing import Any

import c2pa

from .. import __version__
from ..errors import TwinLicensingError
from .certificates import SigningIdentity

LICENCE_ASSERTION = "org.twinlicensing.licence"
AI_GENERATED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
# Validation codes (C2PA 2.x) by what they mean to a person.
UNTRUSTED_CODES = ("signingCredential.untrusted", "signingCredential.invalid", "signingCredential.revoked",
                   "signingCredential.expired")
ALTERED_CODES = ("assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch",
                 "assertion.hashedURI.mismatch", "assertion.collectionHash.mismatch")
SIGNATURE_CODES = ("claimSignature.mismatch", "claimSignature.missing", "claimSignature.outsideValidity",
                   "claim.missing", "claim.malformed", "timeStamp.mismatch")


@dataclass(frozen=True)
class UseClaim:
    """What the project assertion states about the use (all of it checked again on verification)."""

    chain_id: int
    license_token: str
    license_id: int
    twin_id: int
    seq: int
    category: int
    territory: int
    used_at: int
    use_ref: str
    report_digest: str
    use_id: int

    def as_assertion(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id, "license_token": self.license_token, "license_id": self.license_id,
            "twin_id": self.twin_id, "seq": self.seq, "category": self.category, "territory": self.territory,
            "used_at": self.used_at, "use_ref": self.use_ref, "report_digest": self.report_digest,
            "use_id": self.use_id,
        }

    @classmethod
    def from_assertion(cls, data: Any) -> "UseClaim | None":
        """The claim of an assertion's data; None when it lacks a field or a field has the wrong type."""
        if not isinstance(data, dict):
            return None
        values = {}
        for name, kind in cls.__annotations__.items():
            value = data.get(name)
            wanted = int if kind == "int" else str
            if not isinstance(value, wanted) or isinstance(value, bool):
                return None
            values[name] = value
        return cls(**values)


_contexts: dict[str, Any] = {}
_contexts_lock = threading.Lock()


def _context(kind: str, anchors_pem: str) -> Any:
    key = kind + anchors_pem
    with _contexts_lock:
        found = _contexts.get(key)
        if found is None:
            config: dict[str, Any] = {"verify": {"verify_trust": True}, "trust": {"trust_anchors": anchors_pem}}
            if kind == "sign":
                # The image itself is the preview; a thumbnail in the manifest would double the signing time.
                config["builder"] = {"thumbnail": {"enabled": False}}
            found = _contexts[key] = c2pa.Context(c2pa.Settings.from_dict(config))
        return found


def sign_copy(identity: SigningIdentity, image: bytes, media_type: str, claim: UseClaim, title: str) -> bytes:
    """The image with a manifest signed by the operator (ES256), as bytes of the same format."""
    manifest = {
        "claim_generator_info": [{"name": "twin-licensing", "version": __version__}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [
                {"action": "c2pa.created", "digitalSourceType": AI_GENERATED},
            ]}},
            {"label": LICENCE_ASSERTION, "data": claim.as_assertion()},
        ],
    }
    info = c2pa.C2paSignerInfo(b"es256", identity.cert_chain_pem + identity.trust_anchors_pem.encode(),
                               identity.key_pem, None)
    signer = c2pa.Signer.from_info(info)
    try:
        builder = c2pa.Builder(json.dumps(manifest), context=_context("sign", identity.trust_anchors_pem))
        out = io.BytesIO()
        builder.sign(signer, media_type, io.BytesIO(image), out)
        return out.getvalue()
    finally:
        signer.close()


@dataclass(frozen=True)
class Reading:
    """What the manifest in an image says and how it validates."""

    state: str  # Trusted | Valid | Invalid (c2pa's validation state)
    failures: tuple[str, ...]  # validation failure codes of the active manifest
    issuer: str | None
    common_name: str | None
    signed_at: str | None
    claim: UseClaim | None
    has_licence_assertion: bool
    ai_generated: bool

    @property
    def altered(self) -> bool:
        return any(code in ALTERED_CODES or code.endswith("Hash.mismatch") for code in self.failures)

    @property
    def bad_signature(self) -> bool:
        return any(code in SIGNATURE_CODES for code in self.failures)

    @property
    def untrusted(self) -> bool:
        return any(code in UNTRUSTED_CODES for code in self.failures) or self.state not in ("Trusted",)


class UnreadableCredential(TwinLicensingError, ValueError):
    """Raised by `read_credential` when the image holds C2PA data that cannot be parsed at all."""


def read_credential(anchors_pem: str, image: bytes, media_type: str) -> Reading | None:
    """The reading of the image's manifest, validated against `anchors_pem`; None when the image has none."""
    try:
        reader = c2pa.Reader.try_create(media_type, io.BytesIO(image), None, _context("read", anchors_pem))
    except c2pa.C2paError as exc:
        raise UnreadableCredential(str(exc)[:200]) from None
    if reader is None:
        return None
    try:
        manifest = reader.get_active_manifest() or {}
        results = reader.get_validation_results() or {}
        state = reader.get_validation_state() or "Invalid"
    finally:
        reader.close()
    failures = tuple(
        str(item.get("code", "")) for item in (results.get("activeManifest") or {}).get("failure", [])
    )
    signature = manifest.get("signature_info") or {}
    claim_data, ai_generated = None, False
    for assertion in manifest.get("assertions") or []:
        label = assertion.get("label", "")
        if label == LICENCE_ASSERTION:
            claim_data = assertion.get("data")
        elif label.startswith("c2pa.actions"):
            actions = (assertion.get("data") or {}).get("actions") or []
            ai_generated = ai_generated or any(a.get("digitalSourceType") == AI_GENERATED for a in actions)
    return Reading(
        state=state,
        failures=failures,
        issuer=signature.get("issuer"),
        common_name=signature.get("common_name"),
        signed_at=signature.get("time"),
        claim=UseClaim.from_assertion(claim_data),
        has_licence_assertion=claim_data is not None,
        ai_generated=ai_generated,
    )
