"""A self-signed ECDSA P-256 signing certificate for demos and tests: made once, then reused."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sevamitra.adapters.pdf.pades import PdfSigner

DEMO_COMMON_NAME = "Sevamitra demo signing (not for production)"
KEY_FILE, CERT_FILE = "demo-signing-key.pem", "demo-signing-cert.pem"
VALIDITY = timedelta(days=3 * 365)


def demo_signer(
    directory: Path,
    *,
    common_name: str = DEMO_COMMON_NAME,
    now: datetime | None = None,
    reason: str | None = None,
    location: str | None = None,
) -> PdfSigner:
    """A signer with the demo key in `directory`, made there first if missing, expiring or renamed."""
    now = now or datetime.now(UTC)
    key_path, cert_path = directory / KEY_FILE, directory / CERT_FILE
    if not _usable(cert_path, key_path, common_name, now):
        _make(directory, common_name, now)
    return PdfSigner(key_pem=key_path.read_bytes(), chain_pem=cert_path.read_bytes(), reason=reason, location=location)


def _usable(cert_path: Path, key_path: Path, common_name: str, now: datetime) -> bool:
    if not (cert_path.exists() and key_path.exists()):
        return False
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    fresh = certificate.not_valid_after_utc - now > timedelta(days=30)
    return fresh and [n.value for n in names] == [common_name]


def _make(directory: Path, common_name: str, now: datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,  # non-repudiation: what a signed certificate claims
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(directory / KEY_FILE, key_pem, mode=0o600)
    _write(directory / CERT_FILE, certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)


def _write(path: Path, data: bytes, *, mode: int) -> None:
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    partial.replace(path)
