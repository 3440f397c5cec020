"""What anyone can learn about an image: one verdict, with the twin, brand, licence and transaction where known.

licensed_paid       the credential is ours, intact, names a use within its licence, and the use is settled on chain:
                    its Merkle proof checks against the root of the settlement event that paid it;
licensed_pending    the same, not settled yet;
credential_invalid  a credential whose signature fails, whose image was altered after signing, or whose issuer is
                    not trusted (`reason` says which);
outside_licence     a valid credential of ours that names another chain or contract, a use that does not exist or
                    does not match, or a use outside its licence's category, territory, time or consent;
no_credential       no manifest: the nearest stored asset by perceptual hash, if close enough ("likely derived
                    from"), else no licensed match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine, select
from sqlmodel import Session

from ..chain.merkle import verify as verify_proof
from ..db.assets import AssetUse
from ..db.license_state import License
from ..db.registry_state import Twin
from ..db.uses import ChainScope, Use
from ..domain.times import when
from ..domain.use_record import record_of, use_label
from ..domain.vocabulary import category_name, territory_name
from ..usage.errors import ProofNotAvailable
from ..usage.index_view import IndexView
from ..usage.status import use_proof
from .certificates import SigningIdentity
from .credentials import Reading, UnreadableCredential, UseClaim, read_credential
from .errors import ProvenanceRefused
from .images import decode, perceptual_hash, sha256_hex, sniff
from .similarity import MATCH_THRESHOLD, PhashIndex

Verdict = Literal["licensed_paid", "licensed_pending", "credential_invalid", "outside_licence", "no_credential"]
VERDICTS = ("licensed_paid", "licensed_pending", "credential_invalid", "outside_licence", "no_credential")
LICENSED = ("licensed_paid", "licensed_pending")


class ImagePublic(BaseModel):
    sha256: str = Field(description="SHA-256 of the bytes sent, 0x-hex")
    phash: str | None = Field(description="64-bit perceptual hash, 16 hex digits (null if the pixels do not decode)")
    media_type: str
    width: int
    height: int


class CredentialPublic(BaseModel):
    issuer: str | None = Field(description="the signing certificate's organisation")
    common_name: str | None
    signed_at: str | None
    trusted: bool = Field(description="signed by a certificate chaining to this operator's CA")
    ai_generated: bool = Field(description="c2pa.actions names digitalSourceType trainedAlgorithmicMedia")
    claim: dict | None = Field(description="the org.twinlicensing.licence assertion as signed, if readable")
    failures: list[str] = Field(description="C2PA validation failure codes")


class UseRefPublic(BaseModel):
    use_id: int
    license_id: int
    seq: int
    twin_id: int
    twin_name: str
    brand: str = Field(description="the licence holder who reported the use")
    brand_label: str
    category_name: str
    territory_name: str
    used_at: int
    status: str = Field(description="settled | unsettled")
    tx_hash: str | None = Field(description="the settle transaction, once settled")
    block_number: int | None
    proof_checked: bool = Field(description="the use's Merkle proof checked against the settlement event's root")


class MatchPublic(BaseModel):
    sha256: str = Field(description="the stored asset the image is likely derived from")
    distance: int = Field(description="perceptual-hash bits that differ (0-64)")
    threshold: int
    use: UseRefPublic | None


class VerifyResult(BaseModel):
    verdict: Verdict
    reason: str | None = Field(
        description="credential_invalid: signature | altered | untrusted_issuer | unreadable; outside_licence: "
        "other_chain | other_contract | no_licence_named | unknown_use | use_mismatch | category | territory | "
        "time | consent; no_credential: likely_derived | no_licensed_match"
    )
    sentence: str = Field(description="the answer in plain words, naming twin, brand, licence and transaction")
    image: ImagePublic
    credential: CredentialPublic | None
    use: UseRefPublic | None
    match: MatchPublic | None

    @property
    def licensed(self) -> bool:
        return self.verdict in LICENSED


@dataclass
class Names:
    """How a person calls a twin and an account (the API's metadata and labels; the CLI's own)."""

    twin: Callable[[Twin | None, int], str]
    account: Callable[[str], str]


class Verifier:
    def __init__(self, engine: Engine, scope: ChainScope, license_token: str, identity: SigningIdentity,
                 names: Names) -> None:
        self.engine = engine
        self.scope = scope
        self.license_token = license_token
        self.identity = identity
        self.names = names
        self.index = IndexView()
        self.phashes = PhashIndex()

    def verify(self, data: bytes) -> VerifyResult:
        image, media_type = sniff(data)  # 4xx for what is not a JPEG, PNG or WebP of sane dimensions
        shown = ImagePublic(sha256=sha256_hex(data), phash=None, media_type=media_type, width=image.width,
                            height=image.height)
        try:
            reading = read_credential(self.identity.trust_anchors_pem, data, media_type)
            unreadable = False
        except UnreadableCredential:
            reading, unreadable = None, True
        # Only now are the pixels decoded: an altered credentialed image whose pixels no longer decode is answered
        # with its credential's verdict; without a readable credential, a truncated image is a 4xx.
        try:
            shown.phash = perceptual_hash(decode(image))
        except ProvenanceRefused:
            if reading is None:
                raise
        if unreadable:
            return VerifyResult(
                verdict="credential_invalid", reason="unreadable", image=shown, credential=None, use=None,
                match=None, sentence="This image carries content-credential data that cannot be read: it is "
                "damaged or was not made by a C2PA tool, so nothing it claims can be trusted.",
            )
        with Session(self.engine) as session:
            if reading is None:
                return self._similar(session, shown)
            return self._credential(session, reading, shown)

    # ------------------------------------------------------------------ no credential: similarity

    def _similar(self, session: Session, shown: ImagePublic) -> VerifyResult:
        match = self.phashes.nearest(session, shown.phash)
        if match is None:
            return VerifyResult(
                verdict="no_credential", reason="no_licensed_match", image=shown, credential=None, use=None,
                match=None, sentence="This image carries no content credential, and it resembles no licensed image "
                "on record: no licensed match. If it shows a twin, report it to the guild.",
            )
        use_id = session.execute(
            select(AssetUse.use_id).where(AssetUse.sha256 == match.sha256).order_by(AssetUse.use_id).limit(1)
        ).scalar_one_or_none()
        use = session.get(Use, use_id) if use_id is not None else None
        ref = self._use_ref(session, use) if use is not None else None
        found = MatchPublic(sha256=match.sha256, distance=match.distance, threshold=MATCH_THRESHOLD, use=ref)
        if ref is None:
            sentence = ("This image carries no content credential, but it is likely derived from a licensed image "
                        f"on record ({match.sha256[:18]}…).")
        else:
            sentence = (f"This image carries no content credential, but it is likely derived from the image of "
                        f"{use_label(ref.seq)} of licence {ref.license_id}, reported by {ref.brand_label} for {ref.twin_name}"
                        f"{self._paid_words(ref)}.")
        return VerifyResult(verdict="no_credential", reason="likely_derived", image=shown, credential=None,
                            use=ref, match=found, sentence=sentence)

    # ------------------------------------------------------------------ a credential

    def _credential(self, session: Session, reading: Reading, shown: ImagePublic) -> VerifyResult:
        credential = CredentialPublic(
            issuer=reading.issuer, common_name=reading.common_name, signed_at=reading.signed_at,
            trusted=not reading.untrusted, ai_generated=reading.ai_generated,
            claim=reading.claim.as_assertion() if reading.claim else None, failures=list(reading.failures),
        )

        def answer(verdict: Verdict, reason: str | None, sentence: str, use: UseRefPublic | None = None):
            return VerifyResult(verdict=verdict, reason=reason, sentence=sentence, image=shown,
                                credential=credential, use=use, match=None)

        issuer = reading.issuer or reading.common_name or "an unnamed issuer"
        if reading.bad_signature:
            return answer("credential_invalid", "signature",
                          "The content credential's signature does not verify: the credential was tampered with, so "
                          "nothing it claims can be trusted.")
        if reading.altered:
            return answer("credential_invalid", "altered",
                          "The image was altered after its content credential was signed: it is not the licensed "
                          "image, whatever the credential names.")
        if reading.untrusted:
            return answer("credential_invalid", "untrusted_issuer",
                          f"The content credential was signed by {issuer}, which this service does not trust: it "
                          "proves nothing about a licence here.")
        claim = reading.claim
        if claim is None:
            return answer("outside_licence", "no_licence_named",
                          "The content credential is valid but names no licence in a form this service reads: the "
                          "image is not shown to be licensed.")
        if claim.chain_id != self.scope.chain_id:
            return answer("outside_licence", "other_chain",
                          f"The content credential names a licence on chain {claim.chain_id}, but this service "
                          f"records licences on chain {self.scope.chain_id}: it does not show a licence here.")
        if claim.license_token.lower() != self.license_token.lower():
            return answer("outside_licence", "other_contract",
                          f"The content credential names licence contract {claim.license_token}, not this service's "
                          f"({self.license_token}): it does not show a licence here.")
        lic = session.get(License, (self.scope.chain_id, claim.license_id))
        if lic is None:
            return answer("outside_licence", "unknown_use",
                          f"The content credential names licence {claim.license_id}, which does not exist: the image "
                          "is not shown to be licensed.")
        # The terms first: a credential claiming a use its licence never allowed is outside it, whatever else.
        outside = _outside_terms(claim, lic, session.get(Twin, (self.scope.chain_id, lic.twin_id)))
        if outside is not None:
            reason, words = outside
            return answer("outside_licence", reason,
                          f"The content credential names {use_label(claim.seq)} of licence {claim.license_id}, but {words}.")
        use = session.execute(
            select(Use).where(*self.scope.uses(), Use.license_id == claim.license_id, Use.seq == claim.seq)
        ).scalars().first()
        if use is None:
            return answer("outside_licence", "unknown_use",
                          f"The content credential names {use_label(claim.seq)} of licence {claim.license_id}, which was "
                          "never reported: the image is not shown to be licensed.")
        ref = self._use_ref(session, use)
        if not _claim_matches(claim, use, lic):
            return answer("outside_licence", "use_mismatch",
                          f"The content credential names {use_label(claim.seq)} of licence {claim.license_id}, but that "
                          "use was reported differently (another image, report, category, territory, time or twin): "
                          "the credential belongs to another use.", ref)
        if ref.status == "settled" and ref.proof_checked:
            return answer("licensed_paid", None,
                          f"Licensed and paid: this image is {use_label(ref.seq)} of licence {ref.license_id} for "
                          f"{ref.twin_name}, reported by {ref.brand_label}, {ref.category_name} in "
                          f"{ref.territory_name}; settled on chain in transaction {ref.tx_hash}, its proof checked "
                          "against the settlement's root.", ref)
        return answer("licensed_pending", None,
                      f"Licensed, payment pending: this image is {use_label(ref.seq)} of licence {ref.license_id} for "
                      f"{ref.twin_name}, reported by {ref.brand_label}, {ref.category_name} in {ref.territory_name}; "
                      "its settlement on chain has not happened yet.", ref)

    # ------------------------------------------------------------------ helpers

    def _use_ref(self, session: Session, use: Use) -> UseRefPublic:
        lic = session.get(License, (use.chain_id, use.license_id))
        twin_id = lic.twin_id if lic is not None else 0
        twin = session.get(Twin, (use.chain_id, twin_id)) if lic is not None else None
        brand = lic.holder if lic is not None else use.signer
        settled = self.index.settlement_of(session, use.chain_id, use.license_id, use.seq)
        checked = False
        if settled is not None:
            try:
                proven = use_proof(session, self.index, use)
                checked = proven.proof.root == settled.uses_root and verify_proof(
                    settled.uses_root, list(proven.proof.proof), record_of(use)
                )
            except ProofNotAvailable:
                checked = False
        return UseRefPublic(
            use_id=use.use_id, license_id=use.license_id, seq=use.seq, twin_id=twin_id,
            twin_name=self.names.twin(twin, twin_id), brand=brand, brand_label=self.names.account(brand) or brand,
            category_name=category_name(use.category), territory_name=territory_name(use.territory),
            used_at=use.used_at, status="settled" if settled is not None else "unsettled",
            tx_hash=settled.tx_hash if settled else None, block_number=settled.block_number if settled else None,
            proof_checked=checked,
        )

    @staticmethod
    def _paid_words(ref: UseRefPublic) -> str:
        if ref.status == "settled":
            return f", paid on chain in transaction {ref.tx_hash}"
        return ", payment pending"


def _claim_matches(claim: UseClaim, use: Use, lic: License) -> bool:
    return (
        claim.report_digest.lower() == use.digest.lower()
        and claim.use_ref.lower() == use.use_ref.lower()
        and claim.twin_id == lic.twin_id
        and (claim.category, claim.territory, claim.used_at) == (use.category, use.territory, use.used_at)
    )


def _outside_terms(claim: UseClaim, lic: License, twin: Twin | None) -> tuple[str, str] | None:
    """Why the use lies outside its licence, if it does (the terms as the index holds them now)."""
    if not lic.categories >> claim.category & 1:
        return "category", f"licence {lic.license_id} does not allow the category {category_name(claim.category)}"
    if not lic.territories >> claim.territory & 1:
        return "territory", f"licence {lic.license_id} does not cover {territory_name(claim.territory)}"
    if (lic.started_at and claim.used_at < lic.started_at) or (lic.expiry and claim.used_at >= lic.expiry):
        return "time", (f"the use is dated {when(claim.used_at)}, outside the licence's term "
                        f"({when(lic.started_at)} to {when(lic.expiry)})")
    if twin is not None and twin.revocation_effective_at and claim.used_at >= twin.revocation_effective_at:
        return "consent", (f"the model's consent was revoked with effect from {when(twin.revocation_effective_at)}, "
                           "before the use")
    return None


__all__ = ["LICENSED", "Names", "VERDICTS", "Verifier", "VerifyResult"]
