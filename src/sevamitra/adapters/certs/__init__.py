"""Verifiable certificates: Ed25519 keys, COSE_Sign1 payloads, offline checks, the revocation list.

One concern in one package: `keys` is the only importer of `cryptography` here, `cose` the only
importer of `cbor2`. The format is specified in docs/reference/qr-format.md.
"""

from sevamitra.adapters.certs.certificates import (
    Checked,
    RegistryStatus,
    check_certificate,
    sign_certificate,
    verify_qr_text,
)
from sevamitra.adapters.certs.cose import CoseError, Decoded, decode1, sign1
from sevamitra.adapters.certs.keys import KeyInfo, Signer, TrustList, generate_key, kid_of, verify_signature
from sevamitra.adapters.certs.revocations import (
    RevocationList,
    RevocationListError,
    read_revocation_list,
    read_revocations,
    sign_revocations,
)

__all__ = [
    "Checked",
    "CoseError",
    "Decoded",
    "KeyInfo",
    "RegistryStatus",
    "RevocationList",
    "RevocationListError",
    "Signer",
    "TrustList",
    "check_certificate",
    "decode1",
    "generate_key",
    "kid_of",
    "read_revocation_list",
    "read_revocations",
    "sign1",
    "sign_certificate",
    "sign_revocations",
    "verify_qr_text",
    "verify_signature",
]
