"""Issuing a certificate: the statement, its signed QR payload, the signed PDF, stored and sent.

Called inside the transaction that decides an application, so the certificate, its row and the
WhatsApp document message commit together or not at all.
"""

from __future__ import annotations

import calendar
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sevamitra.core.catalogue import LANGUAGES, Service
from sevamitra.core.certificates import CertificateStatement, record_hash
from sevamitra.core.conversation import Context
from sevamitra.core.idnumbers import mask_aadhaar
from sevamitra.core.logentries import SALT_BYTES
from sevamitra.core.messages import DocumentOut
from sevamitra.core.ports import CertificateMaker, CertificateSink, IssuedCertificate
from sevamitra.core.texts import Texts

ISSUER = "Government of Andhra Pradesh"
CERTIFYING_OUTPUTS = frozenset({"certificate", "receipt", "booking_pass"})
UNPRINTED = frozenset({"aadhaar", "photo", "document", "location"})  # masked apart, or not text at all
MAX_FACTS = 6  # the key facts in the QR: every fact makes the symbol denser and slower to scan


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def statement_for(
    service: Service,
    *,
    number: str,
    answers: Mapping[str, Any],
    shown: Mapping[str, str],
    facts: Sequence[tuple[str, str]],
    office: Mapping[str, str],
    issued_at: datetime,
) -> CertificateStatement:
    """What the certificate states: the holder, masked identifiers, the facts printed."""
    holder_field = next((f.id for f in service.fields if f.type == "person_name"), None)
    name = str(answers.get(holder_field, "")) if holder_field else ""
    script = "te" if any("\u0c00" <= ch <= "\u0c7f" for ch in name) else "en"
    masked = {
        f.type: mask_aadhaar(str(answers[f.id])) for f in service.fields if f.type == "aadhaar" and f.id in answers
    }
    printed = tuple(facts) or tuple(
        (f"label.{f.type}" if not f.labels else f.id, shown[f.id])
        for f in service.fields
        if f.id in shown and f.id != holder_field and f.type not in UNPRINTED
    )
    validity = service.output.validity_months
    record = {"service": service.id, "version": service.version, "number": number, "answers": dict(answers)}
    approvers = service.delivery.approvers
    return CertificateStatement(
        number=number,
        kind=service.output.template or service.output.kind,
        service_id=service.id,
        issuer=ISSUER,
        issued_at=issued_at.replace(microsecond=0),
        valid_until=add_months(issued_at.replace(microsecond=0), validity) if validity else None,
        holder={script: name} if name else {},
        masked_ids=masked,
        facts=printed[:MAX_FACTS],
        office=dict(office),
        officer=approvers[-1].replace("_", " ").title() if approvers else "",
        record_hash=record_hash(record),
    )


def fact_lines(facts: Sequence[tuple[str, str]], texts: Texts) -> list[tuple[Mapping[str, str], str]]:
    """A decision's facts as printed lines: each label in every language, then the value."""
    return [({lang: texts.get(lang, label) for lang in LANGUAGES}, value) for label, value in facts]


def answer_lines(service: Service, shown: Mapping[str, str], texts: Texts) -> list[tuple[Mapping[str, str], str]]:
    """A form's answers as printed lines, leaving out the holder (printed apart) and what is never printed."""
    holder = next((f.id for f in service.fields if f.type == "person_name"), None)
    return [
        ({lang: f.labels.get(lang) or texts.get(lang, f"label.{f.type}") for lang in LANGUAGES}, shown[f.id])
        for f in service.fields
        if f.id in shown and f.id != holder and f.type not in UNPRINTED
    ]


async def issue(
    maker: CertificateMaker,
    sink: CertificateSink,
    service: Service,
    statement: CertificateStatement,
    *,
    reference: str,
    address: str,
    language: str,
    lines: Sequence[tuple[Mapping[str, str], str]],
    caption: str,
) -> tuple[IssuedCertificate, DocumentOut]:
    """Sign, render, store; returns the certificate and the WhatsApp document that delivers it."""
    cose, kid = maker.sign(statement)
    qr = maker.qr_text(cose)
    pdf = await maker.render(statement, qr, language, service.names, lines)
    certificate = IssuedCertificate(
        statement=statement,
        reference=reference,
        address=address,
        language=language,
        kid=kid,
        cose=cose,
        pdf=pdf,
        download_token=secrets.token_urlsafe(24),
        log_salt=secrets.token_bytes(SALT_BYTES),
    )
    await sink.add_certificate(certificate)
    link = f"{maker.public_url.rstrip('/')}/c/{certificate.download_token}.pdf"
    return certificate, DocumentOut(filename=f"{statement.number}.pdf", link=link, caption=caption)


def office_of(context: Context, service: Service, answers: Mapping[str, Any]) -> dict[str, str]:
    """The issuing office as printed: the department, and the mandal or town when the form named one."""
    department = context.catalogue.department(service.department_id)
    places = context.places
    mandal = next(
        (
            places.get(value["mandal"])
            for value in answers.values()
            if isinstance(value, Mapping) and "mandal" in value and places is not None
        ),
        None,
    )
    return {
        lang: ", ".join(
            part for part in (department.name(lang) if department else "", mandal.name(lang) if mandal else "") if part
        )
        for lang in ("te", "en", "hi")
    }
