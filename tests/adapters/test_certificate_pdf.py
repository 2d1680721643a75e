"""Certificate PDFs: shaped and copyable Telugu, a QR that scans, embedded subset fonts, PAdES."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import yaml
import zxingcpp
from fontTools.ttLib import TTFont
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from sevamitra.adapters.pdf import (
    DEMO_COMMON_NAME,
    CertificateDocument,
    CertificateRenderer,
    PdfSigner,
    demo_signer,
    template_for,
)
from sevamitra.adapters.pdf.bench import measure
from sevamitra.adapters.pdf.demo import CERT_FILE, KEY_FILE
from sevamitra.adapters.pdf.fonts import static_font
from sevamitra.core.certificates import CertificateStatement

LOCALES = Path(__file__).resolve().parents[2] / "catalogue" / "locales"
HOLDER_TE = "శ్రీ లక్ష్మీ స్త్రీ క్షేత్రపాల"  # శ్రీ, స్త్రీ and క్ష: conjuncts that need shaping
HOLDER_HI = "श्री लक्ष्मी क्षेत्रपाल"
# As long as a real one: the URL, then base32 of a ~510-byte compressed COSE_Sign1 (a version 23 QR).
PAYLOAD = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(16))[:510]
QR_TEXT = "HTTPS://VERIFY.SEVAMITRA.AP.GOV.IN/V/" + base64.b32encode(PAYLOAD).decode().rstrip("=")
LINES = (
    ({"te": "తండ్రి పేరు", "en": "Father's name", "hi": "पिता का नाम"}, "శ్రీ వెంకటేశ్వర రావు"),
    ({"te": "వార్షిక ఆదాయం", "en": "Annual income", "hi": "वार्षिक आय"}, "₹ 1,20,000"),
    ({"te": "చిరునామా", "en": "Address", "hi": "पता"}, "12-3-45, Gandhi Nagar, Vijayawada Rural, NTR District 520001"),
)


def texts() -> dict[str, dict[str, str]]:
    return {
        lang: yaml.safe_load((LOCALES / lang / "certificates.yaml").read_text("utf-8")) for lang in ("te", "en", "hi")
    }


def certificate(kind: str = "revenue-certificate", languages: tuple[str, ...] = ("te", "en")) -> CertificateDocument:
    statement = CertificateStatement(
        number="AP-REV-INC-2026-000123",
        kind=kind,
        service_id="revenue.income-certificate",
        issuer="Government of Andhra Pradesh",
        issued_at=datetime(2026, 1, 2, 6, 30, tzinfo=UTC),
        valid_until=datetime(2027, 1, 2, tzinfo=UTC),
        holder={"te": HOLDER_TE, "en": "Sri Lakshmi Kshetrapala", "hi": HOLDER_HI},
        masked_ids={"aadhaar": "XXXX XXXX 1234"},
        office={"te": "తహసీల్దార్ కార్యాలయం, విజయవాడ", "en": "Tahsildar Office, Vijayawada"},
        officer="Tahsildar",
    )
    return CertificateDocument(
        statement=statement,
        qr_text=QR_TEXT,
        languages=languages,
        title={"te": "ఆదాయ ధృవీకరణ పత్రం", "en": "Income Certificate", "hi": "आय प्रमाण पत्र"},
        lines=LINES,
        verify_url="https://verify.sevamitra.ap.gov.in/c/AP-REV-INC-2026-000123",
        texts=texts(),
    )


@pytest.fixture(scope="module")
def font_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Static fonts take seconds to make: keep them in pytest's cache between runs when it is on."""
    cache = getattr(request.config, "cache", None)
    return cache.mkdir("sevamitra-fonts") if cache is not None else tmp_path_factory.mktemp("fonts")


@pytest.fixture(scope="module")
def renderer(font_cache: Path) -> CertificateRenderer:
    return CertificateRenderer(cache_dir=font_cache)


@pytest.fixture(scope="module")
def signing_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("signing")


@pytest.fixture(scope="module")
def signer(signing_dir: Path) -> PdfSigner:
    labels = texts()["en"]
    return demo_signer(
        signing_dir, reason=labels["certificate.signature_reason"], location=labels["certificate.signature_location"]
    )


@pytest.fixture(scope="module")
def pdf(renderer: CertificateRenderer) -> bytes:
    return renderer.render(certificate())


def page_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return " ".join(document[0].get_textpage().get_text_range().split())  # whitespace normalised
    finally:
        document.close()


def streams(pdf: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(dictionary, decoded data) of every stream object in the file."""
    for match in re.finditer(rb"\d+ 0 obj\s*<<(.*?)>>\s*stream\r?\n", pdf, re.S):
        length = re.search(rb"/Length (\d+)", match.group(1))
        assert length is not None
        data = pdf[match.end() : match.end() + int(length.group(1))]
        yield match.group(1), zlib.decompress(data) if b"/FlateDecode" in match.group(1) else data


def embedded_fonts(pdf: bytes) -> list[TTFont]:
    return [TTFont(io.BytesIO(data)) for head, data in streams(pdf) if b"/Length1" in head]


def to_unicode(pdf: bytes) -> dict[str, str]:
    """Glyph code -> text, from the fonts' ToUnicode CMaps."""
    found = {}
    for _, data in streams(pdf):
        if b"begincmap" in data:
            for code, target in re.findall(rb"<([0-9A-F]{4})> <([0-9A-F]+)>", data):
                found[code.decode()] = bytes.fromhex(target.decode()).decode("utf-16-be")
    return found


# --- text -----------------------------------------------------------------------------------------


def test_telugu_text_is_searchable_and_copies_exactly(pdf: bytes) -> None:
    text = page_text(pdf)
    labels = texts()["te"]
    for source in (
        HOLDER_TE,
        "ఆదాయ ధృవీకరణ పత్రం",
        "తండ్రి పేరు",
        "శ్రీ వెంకటేశ్వర రావు",
        labels["certificate.state"],
        labels["certificate.number"],
        labels["certificate.how_to_verify"],  # wraps onto two lines, and holds a ZWNJ (కోడ్‌ను)
        labels["certificate.digitally_signed"],
    ):
        assert " ".join(source.split()) in text


def test_telugu_conjuncts_are_shaped_into_conjunct_glyphs(pdf: bytes) -> None:
    # Unshaped, every glyph would stand for one character (శ ్ ర ీ). Shaped, శ్రీ is a ligature of
    # శ and ీ with ్ర subscribed, so some glyph codes stand for several characters.
    targets = set(to_unicode(pdf).values())
    assert "శ్ర" in targets  # the first glyph of శ్రీ takes శ్ర, its subscript ీ
    assert any(len(target) > 1 and "్" in target for target in targets)
    fonts = embedded_fonts(pdf)
    glyphs_without_a_character = [
        name for font in fonts for name in font.getGlyphOrder()[1:] if name not in set(font.getBestCmap().values())
    ]
    assert glyphs_without_a_character  # conjunct and below-base forms, reachable only by shaping


def test_every_page_text_comes_from_the_catalogue_or_the_certificate(pdf: bytes) -> None:
    text = page_text(pdf)
    for language in ("te", "en"):
        for key, wording in texts()[language].items():
            if key.startswith("certificate.signature_") or key == "certificate.no_expiry":
                continue  # signature metadata, and a validity this certificate has
            assert " ".join(wording.split()) in text, key


def test_hindi_variant_renders_devanagari(renderer: CertificateRenderer) -> None:
    text = page_text(renderer.render(certificate(languages=("te", "en", "hi"))))
    hindi = texts()["hi"]
    for source in (
        HOLDER_HI,
        "आय प्रमाण पत्र",
        "पिता का नाम",
        hindi["certificate.state"],
        hindi["certificate.how_to_verify"],
    ):
        assert " ".join(source.split()) in text
    assert HOLDER_TE in text


def test_a_value_neither_indic_font_has_comes_from_noto_sans(renderer: CertificateRenderer) -> None:
    doc = certificate()
    doc = replace(doc, lines=(*doc.lines, ({"te": "గమనిక", "en": "Note"}, "Ω-rated, ΔT = 5 K")))
    pdf = renderer.render(doc)
    assert "Ω-rated, ΔT = 5 K" in page_text(pdf)
    assert HOLDER_TE in page_text(pdf)
    assert re.findall(rb"/BaseFont /[A-Z]{6}\+(\w+)", pdf) == [b"NotoSansTeluguLatin"] * 2


def test_hindi_is_left_out_unless_chosen(pdf: bytes) -> None:
    assert HOLDER_HI not in page_text(pdf)
    assert re.search("[\u0900-\u097f]", page_text(pdf)) is None


# --- page, fonts, QR --------------------------------------------------------------------------------


def test_the_page_is_a4_portrait(pdf: bytes) -> None:
    document = pdfium.PdfDocument(pdf)
    width, height = document[0].get_size()
    document.close()
    assert len(pdf) > 0
    assert abs(width - 595.28) <= 1
    assert abs(height - 841.89) <= 1


def test_fonts_are_embedded_and_subset(pdf: bytes, font_cache: Path) -> None:
    assert b"/FontFile2" in pdf
    base_fonts = re.findall(rb"/BaseFont /([^\s/]+)", pdf)
    assert base_fonts
    assert all(re.fullmatch(rb"[A-Z]{6}\+\w+", name) for name in base_fonts)  # the subset tag
    (font,) = embedded_fonts(pdf)
    with TTFont(static_font("telugu", bold=False, cache_dir=font_cache).shaping) as whole:
        assert 50 < len(font.getGlyphOrder()) < len(whole.getGlyphOrder()) / 3


def test_the_qr_decodes_at_150_dpi_and_is_at_least_30_mm(pdf: bytes) -> None:
    document = pdfium.PdfDocument(pdf)
    image = document[0].render(scale=150 / 72).to_pil()
    document.close()
    (barcode,) = zxingcpp.read_barcodes(image)
    assert barcode.text == QR_TEXT
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    assert barcode.ec_level == "Q"
    corners = barcode.position
    side_px = max(abs(corners.top_right.x - corners.top_left.x), abs(corners.bottom_left.y - corners.top_left.y))
    assert side_px / 150 * 25.4 >= 30


def test_kinds_choose_their_template_and_unknown_kinds_the_generic_one(renderer: CertificateRenderer) -> None:
    assert template_for("receipt").name == "receipt"
    assert template_for("no-such-kind").name == "generic"
    assert template_for("booking-pass").accent != template_for("revenue-certificate").accent
    valid_until = texts()["en"]["certificate.valid_until"]
    assert valid_until in page_text(renderer.render(certificate(kind="no-such-kind")))
    receipt = page_text(renderer.render(certificate(kind="receipt")))
    assert valid_until not in receipt  # a receipt has no validity
    assert HOLDER_TE in receipt


def test_a_certificate_without_expiry_says_so(renderer: CertificateRenderer) -> None:
    doc = certificate()
    doc = replace(doc, statement=replace(doc.statement, valid_until=None))
    text = page_text(renderer.render(doc))
    assert texts()["te"]["certificate.no_expiry"] in text


def test_static_fonts_are_made_once_and_reused(font_cache: Path) -> None:
    first = static_font("telugu", bold=True, cache_dir=font_cache)
    made = first.shaping.stat().st_mtime_ns
    again = static_font("telugu", bold=True, cache_dir=font_cache)
    assert again == first
    assert again.shaping.stat().st_mtime_ns == made
    with TTFont(first.shaping) as font:
        assert "fvar" not in font
        assert font["OS/2"].usWeightClass == 700


def test_the_locale_files_have_the_same_keys() -> None:
    keys = {language: set(wording) for language, wording in texts().items()}
    assert keys["te"] == keys["en"] == keys["hi"]
    assert all(key.startswith("certificate.") for key in keys["en"])


def test_languages_must_be_a_supported_set() -> None:
    with pytest.raises(ValueError, match="languages"):
        replace(certificate(), languages=("en",))


# --- PAdES ----------------------------------------------------------------------------------------


def signature_status(signed: bytes, signing_dir: Path) -> tuple[object, Mapping[str, object]]:
    trust = ValidationContext(trust_roots=[load_cert_from_pemder(str(signing_dir / CERT_FILE))])
    signature = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    return validate_pdf_signature(signature, trust), signature.sig_object


def test_the_signed_pdf_validates_as_pades_with_the_demo_certificate(
    pdf: bytes, signer: PdfSigner, signing_dir: Path
) -> None:
    signed = signer.sign(pdf)
    status, dictionary = signature_status(signed, signing_dir)
    assert status.intact and status.valid and status.trusted and status.bottom_line  # type: ignore[attr-defined]
    assert status.signing_cert.subject.native["common_name"] == DEMO_COMMON_NAME  # type: ignore[attr-defined]
    assert signer.common_name == DEMO_COMMON_NAME
    assert dictionary["/SubFilter"] == "/ETSI.CAdES.detached"
    assert dictionary["/Reason"] == texts()["en"]["certificate.signature_reason"]
    assert signed.startswith(pdf)  # an incremental update: the rendered bytes are untouched


def test_the_reused_cms_equals_what_pyhanko_builds_itself(pdf: bytes, signing_dir: Path) -> None:
    key, chain = (signing_dir / KEY_FILE).read_bytes(), (signing_dir / CERT_FILE).read_bytes()
    fast = PdfSigner(key_pem=key, chain_pem=chain).sign(pdf)
    plain = PdfSigner(key_pem=key, chain_pem=chain, reuse_cms=False).sign(pdf)
    for signed in (fast, plain):
        status, _ = signature_status(signed, signing_dir)
        assert status.bottom_line  # type: ignore[attr-defined]
    attributes = [
        [a["type"].native for a in PdfFileReader(io.BytesIO(s)).embedded_signatures[0].signer_info["signed_attrs"]]
        for s in (fast, plain)
    ]
    assert attributes[0] == attributes[1] == ["content_type", "message_digest", "signing_certificate_v2"]


def test_a_tampered_pdf_fails_validation(pdf: bytes, signer: PdfSigner, signing_dir: Path) -> None:
    signed = signer.sign(pdf).replace(b"AP-REV-INC-2026-000123", b"AP-REV-INC-2026-000124", 1)  # in /Title
    status, _ = signature_status(signed, signing_dir)
    assert not status.intact  # type: ignore[attr-defined]


def test_the_demo_signer_makes_its_key_once_and_reuses_it(tmp_path: Path) -> None:
    first = demo_signer(tmp_path)
    key = (tmp_path / KEY_FILE).read_bytes()
    demo_signer(tmp_path)
    assert (tmp_path / KEY_FILE).read_bytes() == key
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o077 == 0
    assert first.common_name == DEMO_COMMON_NAME
    demo_signer(tmp_path, common_name="Another demo")
    assert (tmp_path / KEY_FILE).read_bytes() != key


async def test_a_signer_can_be_made_and_used_inside_an_event_loop(
    pdf: bytes, signer: PdfSigner, signing_dir: Path
) -> None:
    key, chain = (signing_dir / KEY_FILE).read_bytes(), (signing_dir / CERT_FILE).read_bytes()
    signed = PdfSigner(key_pem=key, chain_pem=chain).sign(pdf)  # pyHanko runs in a thread of its own
    trust = ValidationContext(trust_roots=[load_cert_from_pemder(str(signing_dir / CERT_FILE))])
    signature = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    status = await async_validate_pdf_signature(signature, trust)
    assert status.bottom_line


def test_a_key_must_match_its_certificate(tmp_path: Path, signing_dir: Path) -> None:
    demo_signer(tmp_path)
    with pytest.raises(ValueError, match="does not belong"):
        PdfSigner(key_pem=(tmp_path / KEY_FILE).read_bytes(), chain_pem=(signing_dir / CERT_FILE).read_bytes())


# --- speed ----------------------------------------------------------------------------------------


def test_speed_per_certificate(
    renderer: CertificateRenderer, signer: PdfSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    short_qr = "HTTPS://VERIFY.SEVAMITRA.AP.GOV.IN/V/" + base64.b32encode(PAYLOAD[:40]).decode().rstrip("=")
    cases = {
        "te+en, full QR (version 23)": certificate(),
        "te+en+hi, full QR (version 23)": certificate(languages=("te", "en", "hi")),
        "te+en, short QR (version 7)": replace(certificate(), qr_text=short_qr),
    }
    for name, doc in cases.items():
        timings = measure(renderer, signer, doc, runs=15)
        with capsys.disabled():
            print(  # noqa: T201 (the figures are what this test is for)
                f"\n{name}: QR {timings.qr_ms:.1f} ms, render {timings.render_ms:.1f} ms (QR included), "
                f"PAdES sign {timings.sign_ms:.1f} ms, total {timings.total_ms:.1f} ms"
            )
        assert timings.total_ms < 250  # generous: shared CI machines are slow; the figures are the point
