"""Wiring for certificates: signing keys from the database, the PDF renderer, the verifier."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from sevamitra.actions.alerts import alert_holder
from sevamitra.adapters.certs import (
    Checked,
    read_revocations,
    sign_certificate,
    sign_revocations,
    verify_qr_text,
)
from sevamitra.adapters.certs.keys import KeyInfo, Signer, TrustList, generate_key
from sevamitra.adapters.pdf import CertificateDocument, PdfSigner, demo_signer, render_certificate
from sevamitra.adapters.qr_scan import ScanError, qr_texts
from sevamitra.adapters.sealing import AesGcmSealer
from sevamitra.adapters.sql.certificates import KeyRow, SqlCertificates, SqlKeys
from sevamitra.bootstrap.transparency import LogStatus, TransparencyLog
from sevamitra.core import qr
from sevamitra.core.certificates import CertificateStatement, Status
from sevamitra.core.ports import Clock
from sevamitra.core.texts import Texts

__all__ = ["Certifier", "Checked", "KeyRing", "Verification", "pdf_signer_for", "read_revocations"]


@dataclass
class KeyRing:
    """The state's signing keys: the newest active one signs, every trusted one verifies."""

    store: SqlKeys
    sealer: AesGcmSealer
    clock: Clock
    trust: TrustList = field(default_factory=lambda: TrustList([]))
    signer: Signer | None = None
    signer_kid: bytes = b""

    async def load(self, *, create: bool = True) -> None:
        """Read the keys; with `create`, make the first key when there is none."""
        rows = await self.store.all()
        if create and not any(r.status == "active" for r in rows):
            await self.rotate()
            rows = await self.store.all()
        now = self.clock.now()
        self.trust = TrustList([_info(r) for r in rows])
        active = [r for r in rows if r.status == "active" and r.not_before <= now]
        if active:
            newest = max(active, key=lambda r: r.not_before)
            self.signer, self.signer_kid = Signer(self.sealer.open(newest.private_sealed)), newest.kid

    async def rotate(self, *, valid_days: int | None = None) -> KeyInfo:
        """A new signing key; the previous ones retire now and keep verifying what they signed."""
        now = self.clock.now().replace(microsecond=0)  # CWT times are whole seconds
        for row in await self.store.all():
            if row.status == "active":
                await self.store.retire(row.kid, now)
        private, info = generate_key(now, valid_days=valid_days)
        row = KeyRow(
            kid=info.kid,
            public=info.public,
            private_sealed=self.sealer.seal(private),
            not_before=info.not_before,
            not_after=info.not_after,
            status="active",
        )
        await self.store.add(row, now)
        return info


def _info(row: KeyRow) -> KeyInfo:
    status = row.status if row.status in ("active", "retired", "revoked") else "revoked"
    return KeyInfo(
        kid=row.kid,
        public=row.public,
        not_before=row.not_before,
        not_after=row.not_after,
        status=status,  # type: ignore[arg-type]
    )


@dataclass
class Certifier:
    """Signs statements and renders signed PDFs (the `CertificateMaker` port)."""

    keys: KeyRing
    pdf_signer: PdfSigner
    texts: Texts
    public_url: str

    def sign(self, statement: CertificateStatement) -> tuple[bytes, bytes]:
        if self.keys.signer is None:
            raise RuntimeError("no active signing key: run `sevamitra keys rotate`")
        return sign_certificate(statement, self.keys.signer, self.keys.signer_kid), self.keys.signer_kid

    def qr_text(self, cose: bytes) -> str:
        return qr.qr_text(self.public_url, cose)

    async def render(
        self,
        statement: CertificateStatement,
        qr_text: str,
        language: str,
        title: Mapping[str, str],
        lines: Sequence[tuple[Mapping[str, str], str]],
    ) -> bytes:
        languages = ("te", "en", "hi") if language == "hi" else ("te", "en")
        document = CertificateDocument(
            statement=statement,
            qr_text=qr_text,
            languages=languages,
            title=title,
            lines=tuple(lines),
            verify_url=f"{self.public_url.rstrip('/')}/verify",
            texts={lang: self.texts.by_language.get(lang, {}) for lang in languages},
        )
        return await asyncio.to_thread(self.render_now, document)

    def render_now(self, document: CertificateDocument) -> bytes:
        return self.pdf_signer.sign(render_certificate(document))


@dataclass
class Verification:
    """Online verification: the QR's URL, uploads, and the published trust and revocation lists."""

    keys: KeyRing
    certificates: SqlCertificates
    clock: Clock
    texts: Texts
    transparency: TransparencyLog

    async def statuses(self) -> dict[str, Status]:
        return {
            row.number: Status(
                revoked=row.status == "revoked",
                superseded_by=row.superseded_by if row.status == "superseded" else None,
                reason=row.status_reason or "",
            )
            for row in await self.certificates.withdrawn()
        }

    async def check_text(self, text: str) -> Checked:
        await self.keys.load(create=False)
        statuses = await self.statuses()
        return verify_qr_text(text, self.keys.trust, statuses.get, self.clock.now())

    async def check_online(self, text: str) -> Checked:
        """`check_text` for someone on the portal: the holder hears of it, if they asked to."""
        checked = await self.check_text(text)
        if checked.statement is not None:
            number, now = checked.statement.number, self.clock.now()
            await alert_holder(self.certificates, self.texts, number=number, verdict=checked.verdict, now=now)
        return checked

    async def log_status(self, checked: Checked) -> LogStatus | None:
        """Where the certificate stands in the transparency log (for a statement our key signed)."""
        if checked.statement is None or checked.cose is None:
            return None
        return await self.transparency.status(checked.statement.number, checked.cose)

    def scan(self, data: bytes) -> list[str]:
        try:
            return qr_texts(data)
        except ScanError:
            return []

    async def jwks(self) -> dict[str, object]:
        await self.keys.load(create=False)
        return self.keys.trust.jwks()

    async def revocations(self) -> bytes:
        await self.keys.load()
        assert self.keys.signer is not None
        entries = [
            (row.number, row.status, row.superseded_by, row.status_at or self.clock.now())
            for row in await self.certificates.withdrawn()
        ]
        return sign_revocations(entries, self.keys.signer, self.keys.signer_kid, self.clock.now())

    async def offline_page(self) -> str:
        """The one-file offline verifier with today's trust list inside it."""
        page = resources.files("sevamitra.web").joinpath("static/verifier.html").read_text(encoding="utf-8")
        trust = json.dumps(await self.jwks()).replace("</", "<\\/")
        return re.sub(
            r'(<script type="application/json" id="trust-list">).*?(</script>)',
            lambda m: m.group(1) + trust + m.group(2),
            page,
            count=1,
            flags=re.S,
        )

    async def pdf(self, token: str) -> bytes | None:
        row = await self.certificates.by_token(token)
        return row.pdf if row else None


def pdf_signer_for(key_dir: Path, key_file: Path | None, cert_file: Path | None) -> PdfSigner:
    """The configured signing certificate, or a self-signed demo one (development)."""
    if key_file and cert_file:
        return PdfSigner.from_pem(key_file.read_bytes(), cert_file.read_bytes())
    return demo_signer(key_dir)
