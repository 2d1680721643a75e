"""Certificate PDFs: bilingual A4 rendering with a verification QR, and PAdES signing."""

from sevamitra.adapters.pdf.demo import DEMO_COMMON_NAME, demo_signer
from sevamitra.adapters.pdf.document import CertificateDocument
from sevamitra.adapters.pdf.fonts import DEFAULT_FONT_CACHE
from sevamitra.adapters.pdf.pades import PdfSigner
from sevamitra.adapters.pdf.render import CertificateRenderer, render_certificate
from sevamitra.adapters.pdf.templates import Template, template_for

__all__ = [
    "DEFAULT_FONT_CACHE",
    "DEMO_COMMON_NAME",
    "CertificateDocument",
    "CertificateRenderer",
    "PdfSigner",
    "Template",
    "demo_signer",
    "render_certificate",
    "template_for",
]
