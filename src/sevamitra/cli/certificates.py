"""`sevamitra verify`, `sevamitra certificates sample | revoke`, `sevamitra keys rotate`."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

from sevamitra.actions.issue import answer_lines, issue, statement_for
from sevamitra.bootstrap import Platform, build, read_revocations
from sevamitra.core.applications import Status as ApplicationStatus
from sevamitra.core.applications import Submission, due_at, reference_prefix
from sevamitra.core.catalogue import Service
from sevamitra.core.certificates import Verdict
from sevamitra.core.messages import Recipient
from sevamitra.core.ports import IssuedCertificate, NewApplication
from sevamitra.core.validation import PlaceAnswer, Valid, example_answer, validate
from sevamitra.settings import Settings
from sevamitra.web.verification import checked_json

# Synthetic applicants for demos and benchmarks: plainly not real people.
SAMPLE_NAMES = ("శ్రీ లక్ష్మి దేవి", "Srinivasa Rao K", "స్త్రీ శక్తి సంఘం", "Kshetrayya P", "రామ కృష్ణ", "Anjali Reddy")


def trust_cache(settings: Settings) -> Path:
    return (settings.cache_dir or Path("var/cache")) / "trust"


async def refresh_trust_cache(platform: Platform) -> None:
    """Keep the offline verifier's copies of the trust list and the signed revocation list fresh."""
    folder = trust_cache(platform.settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "keys.json").write_text(json.dumps(await platform.verification.jwks()), encoding="utf-8")
    (folder / "revocations.cbor").write_bytes(await platform.verification.revocations())


async def verify(settings: Settings, target: str, *, as_json: bool) -> int:
    """Verify a PDF, a photo or a QR text, offline from the cached lists (refreshed when the database answers)."""
    from sevamitra.adapters.certs import verify_qr_text
    from sevamitra.adapters.certs.keys import TrustList

    platform = build(settings)
    try:
        try:
            await platform.keys.load(create=False)
            await refresh_trust_cache(platform)
        except Exception as error:  # offline: the cached lists stand
            print(f"(offline: using the cached trust list: {type(error).__name__})", file=sys.stderr)
        folder = trust_cache(settings)
        trust = TrustList.from_jwks(json.loads((folder / "keys.json").read_text(encoding="utf-8")))
        statuses = read_revocations((folder / "revocations.cbor").read_bytes(), trust)
        path = Path(target)
        texts = platform.verification.scan(path.read_bytes()) if len(target) < 1024 and path.is_file() else [target]
        text = texts[0] if texts else ""
        checked = verify_qr_text(text, trust, statuses.get, platform.clock.now())
    finally:
        await platform.aclose()
    answer = checked_json(checked)
    if as_json:
        print(json.dumps(answer, ensure_ascii=False, indent=1))
    else:
        print(f"{checked.verdict.value.upper()}: {answer.get('certificate_number', '')} {checked.reason}".strip())
    return 0 if checked.verdict is Verdict.VALID else 1


async def sample(settings: Settings, service_id: str, count: int, out: Path) -> int:
    """Issue certificates for synthetic applicants through the real issuance action."""
    platform = build(settings)
    try:
        await platform.start()
        service = platform.context.catalogue.service(service_id)
        if service is None:
            print(f"no service {service_id}", file=sys.stderr)
            return 2
        out.mkdir(parents=True, exist_ok=True)
        for n in range(count):
            path = await sample_to_file(platform, service_id, n, out)
            print(path)
    finally:
        await platform.aclose()
    return 0


async def sample_to_file(platform: Platform, service_id: str, n: int, out: Path) -> Path:
    certificate = await issue_sample(platform, service_id, n)
    path = out / f"{certificate.statement.number}.pdf"
    path.write_bytes(certificate.pdf)
    return path


def sample_answers(platform: Platform, service: Service, n: int) -> tuple[dict[str, object], dict[str, str]]:
    """Valid answers for a synthetic applicant: names from a fixed list, places from the registry."""
    context, today = platform.context, platform.clock.now().date()
    answers: dict[str, object] = {}
    shown: dict[str, str] = {}
    for spec in service.fields:
        answer = example_answer(spec, today=today)
        if spec.type == "person_name":
            answer = SAMPLE_NAMES[(n + len(answers)) % len(SAMPLE_NAMES)]
        if isinstance(answer, PlaceAnswer) and context.places is not None:
            district = next(d for d in context.places.districts() if context.places.children(d.id))
            mandal = context.places.children(district.id)[0]
            answer = PlaceAnswer(
                district=district.id, mandal=mandal.id, village=context.places.children(mandal.id)[0].id
            )
        result = validate(spec, answer, today=today, language="te")
        if isinstance(result, Valid):
            answers[spec.id] = list(result.value) if isinstance(result.value, tuple) else result.value
            shown[spec.id] = result.display
            if isinstance(answer, PlaceAnswer) and context.places is not None:
                path = [context.places.get(i) for i in (answer.village, answer.mandal, answer.district)]
                shown[spec.id] = ", ".join(p.name("te") for p in path if p is not None)
    return answers, shown


async def issue_sample(platform: Platform, service_id: str, n: int) -> IssuedCertificate:
    """One synthetic application, decided and certified through the real issuance action."""
    service = platform.context.catalogue.service(service_id)
    assert service is not None
    answers, shown = sample_answers(platform, service, n)
    return await certify_application(platform, service, answers, shown, address=f"sample-{n}")


async def certify_application(
    platform: Platform, service: Service, answers: dict[str, object], shown: dict[str, str], *, address: str
) -> IssuedCertificate:
    """Store a decided application and issue its certificate.

    The reference number comes from a block this process reserved; the certificate is rendered
    outside any transaction; the application and its certificate then commit together.
    """
    context, now = platform.context, platform.clock.now()
    reference = await platform.applications.reserve(reference_prefix(service), now.year)
    application = NewApplication(
        submission=Submission(
            service_id=service.id,
            service_version=service.version,
            definition_hash=service.definition_hash,
            language="te",
            answers=answers,
        ),
        recipient=Recipient(wa_id=None, user_id=address),
        reference_prefix=reference_prefix(service),
        status=ApplicationStatus.ISSUED,
        submitted_at=now,
        due_at=due_at(service, now),
    )
    statement = statement_for(
        service, number=reference, answers=answers, shown=shown, facts=(), office={}, issued_at=now
    )
    lines = answer_lines(service, shown, context.texts)

    class WithApplication:
        async def add_certificate(self, certificate: IssuedCertificate) -> None:
            await platform.applications.store_issued(address, application, reference, certificate)

    certificate, _ = await issue(
        platform.certifier,
        WithApplication(),
        service,
        statement,
        reference=reference,
        address=address,
        language="te",
        lines=lines,
        caption=service.name("en"),
    )
    return certificate


async def revoke(settings: Settings, number: str, reason: str) -> int:
    platform = build(settings)
    try:
        await platform.start()
        done = await platform.certificates.revoke(number, reason, platform.clock.now())
        await refresh_trust_cache(platform)
    finally:
        await platform.aclose()
    print(f"{number}: {'revoked' if done else 'not found, or already revoked or superseded'}")
    return 0 if done else 1


async def rotate_keys(settings: Settings, valid_days: int | None) -> int:
    platform = build(settings)
    try:
        await platform.keys.load(create=False)
        info = await platform.keys.rotate(valid_days=valid_days)
        await refresh_trust_cache(platform)
    finally:
        await platform.aclose()
    until = f" until {(info.not_before + timedelta(days=valid_days)):%Y-%m-%d}" if valid_days else ""
    print(f"new signing key {info.kid.hex()} from {info.not_before:%Y-%m-%d %H:%M}{until}; earlier keys retired")
    return 0
