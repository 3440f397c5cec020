"""The operator's C2PA signing identity: an ES256 (EC P-256) certificate chain and key, and the CA certificates
verification trusts.

On the local chain a local CA and a signing certificate are made once under `<var>/c2pa/` and reused (`twinctl up`
makes them before it starts the services; the API makes them too if they are missing). Elsewhere the settings name
the files (`TWIN_C2PA_CERT_FILE`, `TWIN_C2PA_KEY_FILE`, `TWIN_C2PA_TRUST_ANCHORS_FILE`). Keys are read, never
logged, never put in an exception's text.
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..errors import ConfigurationError
from ..settings import Settings
from .errors import CredentialsNotConfigured

LOCAL_DIR_NAME = "c2pa"
CA_CERT, SIGNER_CHAIN, SIGNER_KEY = "ca.pem", "signer-chain.pem", "signer.key"
ORGANISATION = "Twin licensing"


@dataclass(frozen=True)
class SigningIdentity:
    cert_chain_pem: bytes  # the signing certificate, then its intermediates (not the root)
    key_pem: bytes = field(repr=False)
    trust_anchors_pem: str  # the CA certificate(s) a credential must chain to

    def __str__(self) -> str:  # never the key
        return "SigningIdentity(<certificate chain>)"


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
    ])


def make_ca(common_name: str, days: int = 3650) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name)).issuer_name(_name(common_name)).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_signer(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, common_name: str,
                days: int = 825) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """An end-entity certificate as C2PA wants one: digitalSignature, an allowed extended key usage, not a CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name)).issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def pem_of(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem_of(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def identity_from(ca_cert: x509.Certificate, signer_key, signer_cert: x509.Certificate) -> SigningIdentity:
    return SigningIdentity(pem_of(signer_cert), key_pem_of(signer_key), pem_of(ca_cert).decode())


def ensure_local_identity(var_dir: Path) -> Path:
    """The local CA and signing certificate under `<var_dir>/c2pa`, made now if missing; the folder.

    Made in a temporary folder and renamed into place, so that two processes starting together end with one CA.
    Only the signing key is kept (0600): the CA key is thrown away once it has signed, nothing else is issued.
    """
    target = Path(var_dir) / LOCAL_DIR_NAME
    if (target / SIGNER_KEY).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".c2pa-"))
    try:
        ca_key, ca_cert = make_ca("Twin licensing local CA")
        key, cert = make_signer(ca_key, ca_cert, "Twin licensing local operator")
        (staging / CA_CERT).write_bytes(pem_of(ca_cert))
        (staging / SIGNER_CHAIN).write_bytes(pem_of(cert))
        fd = os.open(staging / SIGNER_KEY, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key_pem_of(key))
        try:
            os.rename(staging, target)
        except OSError:
            if not (target / SIGNER_KEY).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def load_identity(settings: Settings, *, local_chain: bool) -> SigningIdentity:
    """The identity the settings name, or on the local chain the local one (made if missing)."""
    named = (settings.c2pa_cert_file, settings.c2pa_key_file, settings.c2pa_trust_anchors_file)
    if any(named) and not all(named):
        raise ConfigurationError(
            "set all three of TWIN_C2PA_CERT_FILE, TWIN_C2PA_KEY_FILE and TWIN_C2PA_TRUST_ANCHORS_FILE, or none"
        )
    if all(named):
        cert, key, anchors = named
    elif local_chain:
        folder = ensure_local_identity(settings.var_dir)
        cert, key, anchors = folder / SIGNER_CHAIN, folder / SIGNER_KEY, folder / CA_CERT
    else:
        raise CredentialsNotConfigured(
            "this server has no content-credential certificate configured, so it cannot sign or check credentials: "
            "tell its operators"
        )
    try:
        return SigningIdentity(Path(cert).read_bytes(), Path(key).read_bytes(), Path(anchors).read_text())
    except OSError as exc:
        # The file's name, not its content.
        raise ConfigurationError(f"cannot read the C2PA certificate or key file {exc.filename}: {exc.strerror}") from None
