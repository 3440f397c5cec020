"""Content credentials without the API: a signed copy reads back as ours and intact; a pixel changed after signing
is caught; another issuer's valid signature is untrusted; the local identity is made once and reused."""

from __future__ import annotations

import pytest

from twin_licensing.provenance.certificates import (
    SIGNER_KEY, SigningIdentity, ensure_local_identity, identity_from, load_identity, make_ca, make_signer,
)
from twin_licensing.provenance.credentials import LICENCE_ASSERTION, UseClaim, read_credential, sign_copy
from twin_licensing.settings import get_settings
from kit.images import encoded, picture, png_with_pixel_changed, stripped_copy

CLAIM = UseClaim(chain_id=31337, license_token="0x" + "9f" * 20, license_id=3, twin_id=2, seq=4, category=1,
                 territory=0, used_at=1_700_000_000, use_ref="0x" + "ab" * 32, report_digest="0x" + "cd" * 32,
                 use_id=17)


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> SigningIdentity:
    var = tmp_path_factory.mktemp("var")
    return load_identity(get_settings(var_dir=var), local_chain=True)


def test_local_identity_is_made_once_and_its_key_is_private(tmp_path):
    folder = ensure_local_identity(tmp_path)
    first = (folder / "ca.pem").read_bytes()
    assert ensure_local_identity(tmp_path) == folder and (folder / "ca.pem").read_bytes() == first
    assert (folder / SIGNER_KEY).stat().st_mode & 0o077 == 0
    identity = load_identity(get_settings(var_dir=tmp_path), local_chain=True)
    assert "PRIVATE" not in repr(identity) and "PRIVATE" not in str(identity)


@pytest.mark.parametrize("fmt, media_type", [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_sign_and_read_back(ours, fmt, media_type):
    signed = sign_copy(ours, encoded(picture(1), fmt), media_type, CLAIM, "Licence 3, use 4")
    reading = read_credential(ours.trust_anchors_pem, signed, media_type)
    assert reading is not None and reading.state == "Trusted" and reading.failures == ()
    assert not (reading.altered or reading.untrusted or reading.bad_signature)
    assert reading.claim == CLAIM and reading.ai_generated
    assert reading.has_licence_assertion and LICENCE_ASSERTION.startswith("org.")


def test_a_pixel_changed_after_signing_is_altered(ours):
    signed = sign_copy(ours, encoded(picture(2), "PNG"), "image/png", CLAIM, "t")
    reading = read_credential(ours.trust_anchors_pem, png_with_pixel_changed(signed), "image/png")
    assert reading is not None and reading.altered and reading.state == "Invalid"


def test_another_issuers_valid_signature_is_untrusted(ours):
    ca_key, ca_cert = make_ca("Some other CA")
    key, cert = make_signer(ca_key, ca_cert, "Someone else")
    signed = sign_copy(identity_from(ca_cert, key, cert), encoded(picture(3), "PNG"), "image/png", CLAIM, "t")
    reading = read_credential(ours.trust_anchors_pem, signed, "image/png")
    assert reading is not None and reading.untrusted and not reading.altered and not reading.bad_signature
    assert "signingCredential.untrusted" in reading.failures


def test_a_stripped_copy_has_no_credential(ours):
    signed = sign_copy(ours, encoded(picture(4), "PNG"), "image/png", CLAIM, "t")
    assert read_credential(ours.trust_anchors_pem, stripped_copy(signed), "image/jpeg") is None
