"""Per-certificate timings of the PDF pipeline: QR, render (QR included), PAdES signing."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from sevamitra.adapters.pdf.document import CertificateDocument
from sevamitra.adapters.pdf.pades import PdfSigner
from sevamitra.adapters.pdf.qr import qr_image
from sevamitra.adapters.pdf.render import CertificateRenderer


@dataclass(frozen=True, slots=True)
class Timings:
    """Median milliseconds per certificate, after a warm-up."""

    qr_ms: float
    render_ms: float  # the whole PDF, QR included
    sign_ms: float

    @property
    def total_ms(self) -> float:
        return self.render_ms + self.sign_ms


def measure(renderer: CertificateRenderer, signer: PdfSigner, doc: CertificateDocument, *, runs: int = 30) -> Timings:
    """Times each step `runs` times on one process (fonts parsed and signer built beforehand)."""
    pdf = renderer.render(doc)
    signer.sign(pdf)
    return Timings(
        qr_ms=_median_ms(lambda: qr_image(doc.qr_text), runs),
        render_ms=_median_ms(lambda: renderer.render(doc), runs),
        sign_ms=_median_ms(lambda: signer.sign(pdf), runs),
    )


def _median_ms(step: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000
