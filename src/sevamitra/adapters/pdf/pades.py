"""PAdES B-B signatures (SubFilter ETSI.CAdES.detached) with pyHanko.

pyHanko prepares each document (signature field and dictionary, /ByteRange, digest) and embeds
the CMS, through its interrupted-signing API (made for remote signers). Building the CMS is the
slow part of pyHanko (~7 ms of asn1crypto per signature), yet for one signer only two things in it
ever change: the document digest (a fixed-length field of the signed attributes) and the signature
value. So pyHanko builds the CMS once, for a marker digest, and each document gets that CMS with its
own digest and a fresh signature (pyHanko's `sign_raw`, 0.05 ms) spliced in. The template is
checked at start-up by rebuilding pyHanko's own bytes from it exactly.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko_certvalidator.registry import SimpleCertificateStore

DIGEST = "sha256"
T = TypeVar("T")
_MARKER = hashlib.sha256(b"sevamitra: CMS template digest").digest()
_MECHANISMS = ("sha256_ecdsa", "sha256_rsa")  # what the template path is known to rebuild


class PdfSigner:
    """Signs PDFs with one key and its certificate chain (PEM; the signer's certificate first).

    ECDSA P-256 is the fast choice. `reuse_cms=False` has pyHanko build every CMS itself (~8 ms).
    """

    def __init__(
        self,
        *,
        key_pem: bytes,
        chain_pem: bytes,
        password: bytes | None = None,
        field_name: str = "Signature1",
        reason: str | None = None,
        location: str | None = None,
        reuse_cms: bool = True,
    ) -> None:
        certificates = list(load_certs_from_pemder_data(chain_pem))
        if not certificates:
            raise ValueError("the chain holds no certificate")
        key = load_private_key_from_pemder_data(key_pem, passphrase=password)
        if not _same_key(key, certificates[0]):
            raise ValueError("the private key does not belong to the first certificate of the chain")
        self.certificate = certificates[0]  # asn1crypto, as pyHanko wants it
        self._signer = signers.SimpleSigner(
            signing_cert=certificates[0],
            signing_key=key,
            cert_registry=SimpleCertificateStore.from_certs(certificates),  # type: ignore[no-untyped-call]
        )
        metadata = signers.PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm=DIGEST,
            subfilter=SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
        )
        self._pdf_signer = signers.PdfSigner(metadata, signer=self._signer)
        self._template = _CmsTemplate.of(self._signer) if reuse_cms else None
        self._reserved = 2 * (sum(len(c.dump()) for c in certificates) + 2048)  # hex: twice the DER, and room

    @classmethod
    def from_pem(cls, key_pem: bytes, chain_pem: bytes, **options: Any) -> PdfSigner:
        """A signer from a PEM private key and PEM certificate chain; `options` as for the constructor."""
        return cls(key_pem=key_pem, chain_pem=chain_pem, **options)

    @property
    def common_name(self) -> str:
        return str(self.certificate.subject.native.get("common_name", ""))

    def sign(self, pdf: bytes) -> bytes:
        """The PDF with a PAdES B-B signature added as an incremental update. CPU-bound: call it
        from a worker thread, not from an event loop's."""
        return _run(self._sign(pdf))

    async def _sign(self, pdf: bytes) -> bytes:
        writer, output = IncrementalPdfFileWriter(io.BytesIO(pdf)), io.BytesIO()
        if self._template is None:
            await self._pdf_signer.async_sign_pdf(writer, bytes_reserved=self._reserved, output=output)
            return output.getvalue()
        prepared, _, _ = await self._pdf_signer.async_digest_doc_for_signing(
            writer, bytes_reserved=self._reserved, output=output
        )
        prepared.fill_with_cms(output, self._template.build(prepared.document_digest))
        return output.getvalue()


class _CmsTemplate:
    """pyHanko's CMS for one signer, cut into the parts that never change."""

    @staticmethod
    def of(signer: Any) -> _CmsTemplate | None:
        """The template, or None where pyHanko signs with a mechanism the template does not rebuild."""
        content_info = _run(signer.async_sign(_MARKER, DIGEST, use_pades=True))
        info = content_info["content"]["signer_infos"][0]
        if info["signature_algorithm"]["algorithm"].native not in _MECHANISMS:
            return None
        return _CmsTemplate(signer, content_info)

    def __init__(self, signer: Any, content_info: Any) -> None:
        self._signer = signer
        data, info = content_info["content"], content_info["content"]["signer_infos"][0]
        attributes = info["signed_attrs"].dump()
        if attributes[0] != 0xA0 or attributes.count(_MARKER) != 1:
            raise ValueError("unexpected signed attributes in pyHanko's CMS")
        self._attributes = attributes.split(_MARKER)
        self._content_type = content_info["content_type"].dump()
        self._data_head = b"".join(
            data[name].dump() for name in ("version", "digest_algorithms", "encap_content_info", "certificates", "crls")
        )
        self._info_head = b"".join(info[name].dump() for name in ("version", "sid", "digest_algorithm"))
        self._algorithm = info["signature_algorithm"].dump()
        if self._assemble(attributes, info["signature"].native) != content_info.dump():
            raise ValueError("pyHanko's CMS has parts this template does not know")

    def build(self, digest: bytes) -> bytes:
        """The DER of a CMS signing `digest`."""
        if len(digest) != len(_MARKER):
            raise ValueError(f"a {DIGEST} digest is {len(_MARKER)} bytes, not {len(digest)}")
        attributes = self._attributes[0] + digest + self._attributes[1]
        signature = self._signer.sign_raw(b"\x31" + attributes[1:], DIGEST)  # signed as a SET OF
        return self._assemble(attributes, signature)

    def _assemble(self, attributes: bytes, signature: bytes) -> bytes:
        info = _tlv(0x30, self._info_head + attributes + self._algorithm + _tlv(0x04, signature))
        data = _tlv(0x30, self._data_head + _tlv(0x31, info))
        return _tlv(0x30, self._content_type + _tlv(0xA0, data))


def _same_key(key: Any, certificate: Any) -> bool:
    """Whether a private key (asn1crypto PrivateKeyInfo) belongs to a certificate, as far as it tells."""
    public, private = certificate.public_key, key["private_key"].parsed
    if key.algorithm == "ec" and private["public_key"].native is not None:
        return bool(private["public_key"].native == public["public_key"].native)
    if key.algorithm == "rsa":
        return bool(private["modulus"].native == public["public_key"].parsed["modulus"].native)
    return True


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs pyHanko's coroutine to the end, in a thread of its own if this one runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def _tlv(tag: int, body: bytes) -> bytes:
    """One DER element: tag, definite length, body."""
    size = len(body)
    if size < 0x80:
        return bytes((tag, size)) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + body
