"""The readable copy of a citizen's data as a real PDF: shaped Telugu and Hindi, identifiers masked, long
histories carried over pages."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pypdfium2 as pdfium
import pytest

from sevamitra.adapters.pdf.mydata import render_my_data
from sevamitra.core.privacy import HeldApplication, readable_document
from tests.unit.test_privacy_documents import AADHAAR, CATALOGUE, NOW, PLACES, TEXTS, holdings


def pages_text(pdf: bytes) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    return [" ".join(page.get_textpage().get_text_range().split()) for page in document]


@pytest.mark.parametrize(("language", "title"), [("te", "సేవామిత్ర దగ్గర ఉన్న మీ సమాచారం"), ("hi", "सेवामित्र के पास आपका डेटा")])
def test_the_copy_is_a_pdf_in_the_citizens_script_with_aadhaar_masked(language: str, title: str) -> None:
    pdf = render_my_data(readable_document(holdings(), CATALOGUE, TEXTS, PLACES, language, NOW))
    assert pdf.startswith(b"%PDF-")
    text = " ".join(pages_text(pdf))
    assert title in text  # shaped and copyable: conjuncts such as ద్ద and ప్ర come out as written
    assert f"XXXX XXXX {AADHAAR[-4:]}" in text and AADHAAR not in text
    assert "919000000021" not in text and "XXXXXXXX0021" in text
    assert "AP-REV-INC-2026-000041" in text and "AP-MUN-GRV-TREEFALL-2026-000009" in text


def test_a_long_history_runs_over_several_pages_and_every_application_is_in_it() -> None:
    base = holdings()
    first = base.applications[0]
    many = tuple(
        replace(first, reference=f"AP-REV-INC-2026-{n:06d}", submitted_at=NOW - timedelta(days=n))
        for n in range(100, 140)
    )
    applications: tuple[HeldApplication, ...] = many
    pdf = render_my_data(
        readable_document(replace(base, applications=applications), CATALOGUE, TEXTS, PLACES, "en", NOW)
    )
    pages = pages_text(pdf)
    assert len(pages) >= 5
    text = " ".join(pages)
    assert all(f"AP-REV-INC-2026-{n:06d}" in text for n in range(100, 140))
    assert "Nothing held." in text  # the empty sections say so
