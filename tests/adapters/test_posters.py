"""Service posters: a QR that scans to the service's click-to-chat link, copyable Telugu, A4 and A5,
long names and long lists kept on the page, and `sevamitra qr poster`."""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp

from sevamitra.adapters.catalogue_files import load_catalogue
from sevamitra.adapters.pdf.poster import PosterRenderer, display_number, fee_words, time_words
from sevamitra.cli.qr_poster import run_poster
from sevamitra.core.catalogue import Catalogue, Fee, Service, Sla
from sevamitra.core.links import service_link
from sevamitra.settings import Settings

NUMBER = "919552300009"
MM = 72 / 25.4  # points per millimetre
LONG_TE = "శ్రీ లక్ష్మీ స్త్రీ క్షేత్రపాల సంక్షేమ పథకం కింద గ్రామ సచివాలయం ద్వారా వ్యవసాయ భూమి యాజమాన్య ధృవీకరణ మరియు పట్టాదారు పాసు పుస్తకం జారీ"
LONG_EN = "Pattadar passbook and certificate of ownership of agricultural land, through the village secretariat"


@pytest.fixture(scope="module")
def font_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Static fonts take seconds to make: keep them in pytest's cache between runs when it is on."""
    cache = getattr(request.config, "cache", None)
    return cache.mkdir("sevamitra-fonts") if cache is not None else tmp_path_factory.mktemp("fonts")


@pytest.fixture(scope="module")
def renderer(font_cache: Path) -> PosterRenderer:
    return PosterRenderer(cache_dir=font_cache)


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    return load_catalogue(Settings().catalogue_root, cache_dir=tmp_path_factory.mktemp("catalogue"))


def service(catalogue: Catalogue, service_id: str) -> Service:
    found = catalogue.service(service_id)
    assert found is not None
    return found


def long_service(catalogue: Catalogue) -> Service:
    """A service with a name too long for two lines and fifteen two-line documents."""
    document = {
        "te": "గ్రామ రెవెన్యూ అధికారి జారీ చేసిన కుటుంబ సభ్యుల ధృవీకరణ పత్రం మరియు ఆధార్ కార్డు నకలు",
        "en": "Family members certificate issued by the village revenue officer and a copy of the Aadhaar card",
    }
    return replace(
        service(catalogue, "revenue.income-certificate"),
        names={"te": LONG_TE, "en": LONG_EN},
        documents=tuple({lang: f"{n}. {text}" for lang, text in document.items()} for n in range(1, 16)),
        fee=Fee(kind="per_unit", amount_inr=10, unit={"te": "పేజీ", "en": "page"}),
        sla=Sla(minutes=30),
    )


class Page:
    """Page 1 of a PDF: its size in millimetres, its text (whitespace normalised) and its QR codes at 150 dpi."""

    def __init__(self, pdf: bytes) -> None:
        document = pdfium.PdfDocument(pdf)
        try:
            page = document[0]
            width, height = page.get_size()
            self.size_mm = (round(width / MM), round(height / MM))
            textpage = page.get_textpage()
            self.text = " ".join(textpage.get_text_range().split())
            boxes = [textpage.get_charbox(i) for i in range(textpage.count_chars())]
            self.inside = all(
                left >= 0 and bottom >= 0 and right <= width and top <= height for left, bottom, right, top in boxes
            )
            self.qr = [b.text for b in zxingcpp.read_barcodes(page.render(scale=150 / 72).to_pil())]
        finally:
            document.close()


@pytest.mark.parametrize(
    ("service_id", "size", "source"),
    [
        ("revenue.income-certificate", "A4", None),
        ("energy.new-ht-connection-apspdcl", "A4", "kurnool-ws-12"),  # the longest Telugu name
        ("agriculture.fertiliser-licence-retail", "A5", "temple_queue"),  # the most documents
        ("apsrtc.bus-enquiry", "A5", None),  # free, answered in minutes
    ],
)
def test_the_qr_scans_to_the_services_link_and_the_page_reads_in_telugu_and_english(
    renderer: PosterRenderer, catalogue: Catalogue, service_id: str, size: str, source: str | None
) -> None:
    chosen = service(catalogue, service_id)
    page = Page(renderer.render(chosen, number=NUMBER, size=size, source=source))  # type: ignore[arg-type]
    assert page.qr == [service_link(NUMBER, chosen, "te", source)]
    assert page.size_mm == ((210, 297) if size == "A4" else (148, 210))
    assert chosen.name("te") in page.text and chosen.name("en") in page.text
    assert f"#{chosen.code}" in page.text and "+91 95523 00009" in page.text
    assert f"send #{chosen.code} to +91 95523 00009" in page.text
    assert time_words(chosen, "te") in page.text and fee_words(chosen, "en") in page.text
    assert all(document["en"] in page.text for document in chosen.documents)
    assert page.text.count("• ") == 2 * len(chosen.documents)  # Telugu and English: every document, both columns
    assert page.inside


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_a_long_name_and_a_long_list_are_cut_to_fit_the_page(
    renderer: PosterRenderer, catalogue: Catalogue, size: str
) -> None:
    chosen = long_service(catalogue)
    page = Page(renderer.render(chosen, number=NUMBER, size=size))  # type: ignore[arg-type]
    assert page.qr == [service_link(NUMBER, chosen, "te")]  # the whole name is in the link, if not on the page
    assert LONG_TE not in page.text and LONG_TE[:40] in page.text and "…" in page.text
    assert "1. గ్రామ రెవెన్యూ" in page.text and "15. " not in page.text
    shown = sum(f"{n}. Family" in page.text for n in range(1, 16))
    assert 1 <= shown < 15 and f"and {15 - shown} more" in page.text and f"మరో {15 - shown}" in page.text
    assert "₹10 per page" in page.text and "within 30 minutes" in page.text
    assert page.inside


def test_the_number_fee_and_time_are_worded_for_print(catalogue: Catalogue) -> None:
    assert display_number("919552300009") == "+91 95523 00009"
    assert display_number("+1 415 555 0100") == "+14155550100"
    income = service(catalogue, "revenue.income-certificate")
    assert (fee_words(income, "en"), time_words(income, "en"), time_words(income, "te")) == (
        "₹45",
        "within 7 days",
        "7 రోజుల్లో",
    )
    assert fee_words(replace(income, fee=Fee(kind="fixed", amount_inr=125000)), "te") == "₹1,25,000"
    assert fee_words(replace(income, fee=Fee(kind="free")), "te") == "ఉచితం"
    assert fee_words(replace(income, fee=Fee(kind="rule", rule="bill_amount_due")), "en") == "Shown when you apply"
    per_page = Fee(kind="per_unit", amount_inr=10, unit={"en": "page"})
    assert fee_words(replace(income, fee=per_page), "te") == "ఒక్కో pageకు ₹10"  # no Telugu unit: the English one
    assert time_words(replace(income, sla=Sla(days=0)), "en") == "at once"
    assert time_words(replace(income, sla=Sla(days=1)), "te") == "ఒక రోజులో"


def test_a_service_without_a_code_a_bad_tag_or_size_is_refused(renderer: PosterRenderer, catalogue: Catalogue) -> None:
    income = service(catalogue, "revenue.income-certificate")
    with pytest.raises(ValueError, match="no short code"):
        renderer.render(replace(income, code=""), number=NUMBER)
    with pytest.raises(ValueError, match="source tag"):
        renderer.render(income, number=NUMBER, source="a tag with spaces")
    with pytest.raises(ValueError, match="A4 or A5"):
        renderer.render(income, number=NUMBER, size="A3")  # type: ignore[arg-type]


def test_every_service_has_a_poster_in_well_under_100_ms(renderer: PosterRenderer, catalogue: Catalogue) -> None:
    renderer.render(service(catalogue, "revenue.income-certificate"), number=NUMBER)  # fonts parsed once
    seconds = []
    for each in catalogue.services:
        start = time.perf_counter()
        pdf = renderer.render(each, number=NUMBER)
        seconds.append(time.perf_counter() - start)
        assert pdf.startswith(b"%PDF-") and b"/FontFile2" in pdf, each.id
    assert len(seconds) >= 360
    assert statistics.median(seconds) < 0.1


def poster_args(tmp_path: Path, **chosen: str | None) -> argparse.Namespace:
    return argparse.Namespace(
        service=chosen.get("service"),
        department=chosen.get("department"),
        out=tmp_path / "posters" / "new",
        size="A5",
        source=chosen.get("source"),
    )


def test_the_cli_writes_one_poster_a_service_of_a_department(
    tmp_path: Path, catalogue: Catalogue, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(cache_dir=tmp_path / "cache")
    args = poster_args(tmp_path, department="cmrf", source="ward-7")
    assert run_poster(args, settings) == 0
    services = catalogue.services_of("cmrf")
    expected = sorted(args.out / f"{s.id}.pdf" for s in services)
    assert len(expected) >= 2
    assert sorted(args.out.iterdir()) == expected
    assert sorted(capsys.readouterr().out.split()) == [str(path) for path in expected]
    first = Page(expected[0].read_bytes())
    assert first.size_mm == (148, 210)
    assert first.qr == [service_link(settings.whatsapp_display_phone_number, services[0], "te", "ward-7")]

    one = poster_args(tmp_path, service="revenue.income-certificate")
    assert run_poster(one, settings) == 0
    assert (one.out / "revenue.income-certificate.pdf").read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        ({"service": "revenue.no-such-certificate"}, "no service 'revenue.no-such-certificate'"),
        ({"department": "no-such-department"}, "no department 'no-such-department'"),
        ({"service": "revenue.income-certificate", "source": "not a tag"}, "source tag"),
    ],
)
def test_the_cli_exits_2_on_an_unknown_id_or_a_bad_tag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], chosen: dict[str, str], message: str
) -> None:
    args = poster_args(tmp_path, **chosen)
    assert run_poster(args, Settings(cache_dir=tmp_path / "cache")) == 2
    assert message in capsys.readouterr().err
    assert not args.out.exists()
