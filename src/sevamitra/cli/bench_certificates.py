"""`sevamitra bench certificates`: certificates issued per second through the full action, next to a
naive single-process fpdf2 + segno pipeline measured in the same run, and QR verifications per second.

The full action: an application and its reference number committed, the statement signed (COSE,
Ed25519), the QR text made, the PDF rendered and PAdES-signed, and the certificate stored, with one
platform process per core against a fresh database. Every figure printed is measured here and now.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import platform as host
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SERVICE = "revenue.income-certificate"
LANES = 1  # issuances in flight per process (two in flight measured slower here: the GIL is shared)


def _settings(workdir: Path, database_url: str | None) -> object:
    from sevamitra.settings import Settings

    return Settings(
        database_url=database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
        cache_dir=workdir / "cache",
        keys_dir=workdir / "keys",
        log_dir=workdir / "tlog",
        public_url="https://verify.ap.gov.in",
    )


def _issue_many(workdir: str, database_url: str | None, count: int, offset: int, start_at: float) -> list[float]:
    """One platform process: wait for the common start, issue `count` certificates, return each one's seconds."""
    import gc

    from sevamitra.bootstrap import build
    from sevamitra.cli.certificates import certify_application, issue_sample, sample_answers
    from sevamitra.settings import Settings

    async def run() -> list[float]:
        settings = _settings(Path(workdir), database_url)
        assert isinstance(settings, Settings)
        platform = build(settings)
        await platform.start()
        service = platform.context.catalogue.service(SERVICE)
        assert service is not None
        await issue_sample(platform, SERVICE, offset)  # warm: fonts, templates, connections
        applicants = [sample_answers(platform, service, offset + n) for n in range(count)]  # not part of issuing
        gc.freeze()  # what start-up built stays; as a long-running server process does after warming up
        await asyncio.sleep(max(0.0, start_at - time.time()))  # the processes begin together
        times: list[float] = []

        async def lane(lane_number: int) -> None:  # two in flight: one renders while the other commits
            for n in range(lane_number, len(applicants), LANES):
                answers, shown = applicants[n]
                began = time.perf_counter()
                await certify_application(platform, service, answers, shown, address=f"bench-{offset + n}")
                times.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(lane(i) for i in range(LANES)))
        wall = time.perf_counter() - began
        await platform.aclose()
        return [wall, *times]

    try:
        import uvloop  # the loop `sevamitra serve` runs on

        return uvloop.run(run())
    except ImportError:
        return asyncio.run(run())


def measure_full(workdir: Path, database_url: str | None, count: int, processes: int) -> tuple[float, list[float]]:
    """Certificates per second through the full action, `processes` platform processes in parallel."""
    from sevamitra.bootstrap import build, migrate
    from sevamitra.settings import Settings

    settings = _settings(workdir, database_url)
    assert isinstance(settings, Settings)
    migrate(settings)

    async def first_key() -> None:  # one key for all the processes, made before they start
        platform = build(settings)
        await platform.start()
        await platform.aclose()

    asyncio.run(first_key())
    start_at = time.time() + 3.0
    per_process = count // processes
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        jobs = [
            pool.apply_async(_issue_many, (str(workdir), database_url, per_process, 1000 * (i + 1), start_at))
            for i in range(processes)
        ]
        results = [job.get(timeout=600) for job in jobs]
    elapsed = max(result[0] for result in results)  # the processes started together; the slowest ends it
    latencies = [t for result in results for t in result[1:]]
    return per_process * processes / elapsed, latencies


def measure_naive(count: int) -> float:
    """The pipeline a team would write first: per certificate a new FPDF with the packaged variable
    fonts, shaped text, segno choosing its mask, a PNG of the QR, no signatures, nothing stored."""
    import importlib.metadata
    import io

    import segno
    from fpdf import FPDF

    def font(package: str) -> str:
        files = importlib.metadata.files(package) or []
        path = next(f for f in files if str(f).endswith(".ttf") and "Italic" not in str(f))
        return str(path.locate())

    telugu, latin = font("fontpkg-noto-sans-telugu"), font("fontpkg-noto-sans")
    began = time.perf_counter()
    for n in range(count):
        pdf = FPDF(format="A4")
        pdf.add_page()
        pdf.add_font("te", fname=telugu)
        pdf.add_font("en", fname=latin)
        pdf.set_text_shaping(True)
        pdf.set_font("te", size=18)
        pdf.cell(text="ఆదాయ ధృవీకరణ పత్రం", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("en", size=14)
        pdf.cell(text="Income certificate", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("te", size=12)
        pdf.cell(text=f"శ్రీ లక్ష్మి దేవి · AP-REV-INC-2026-{n:06d}", new_x="LMARGIN", new_y="NEXT")
        png = io.BytesIO()
        segno.make(f"HTTPS://VERIFY.AP.GOV.IN/V/{n:0200d}", error="q").save(png, kind="png", scale=4)
        png.seek(0)
        pdf.image(png, x=150, y=230, w=40)
        pdf.output()
    return count / (time.perf_counter() - began)


def measure_verify(count: int) -> float:
    """QR-text verifications per second in one process (signature, claims, revocation lookup)."""
    from datetime import UTC, datetime

    from sevamitra.adapters.certs import sign_certificate, verify_qr_text
    from sevamitra.adapters.certs.keys import Signer, TrustList, generate_key
    from sevamitra.core import qr
    from sevamitra.core.certificates import CertificateStatement, Status

    now = datetime.now(UTC).replace(microsecond=0)
    private, info = generate_key(now)
    signer = Signer(private)
    statement = CertificateStatement(
        number="AP-REV-INC-2026-000001",
        kind="revenue-certificate",
        service_id=SERVICE,
        issuer="Government of Andhra Pradesh",
        issued_at=now,
        valid_until=None,
        holder={"te": "శ్రీ లక్ష్మి దేవి"},
        masked_ids={"aadhaar": "XXXX XXXX 1234"},
        facts=(("annual_income", "₹1,20,000"),),
        record_hash=bytes(32),
    )
    text = qr.qr_text("https://verify.ap.gov.in", sign_certificate(statement, signer, info.kid))
    trust = TrustList([info])
    statuses: dict[str, Status] = {}
    began = time.perf_counter()
    for _ in range(count):
        verify_qr_text(text, trust, statuses.get, now)
    return count / (time.perf_counter() - began)


def certificates(
    count: int = 400,
    *,
    processes: int | None = None,
    database_url: str | None = None,
    echo: Callable[[str], None] = print,
) -> None:
    processes = processes or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="sevamitra-bench-certificates-") as workdir:
        full, latencies = measure_full(Path(workdir), database_url, count, processes)
    naive = measure_naive(max(20, count // 10))
    verify = measure_verify(20_000)
    p50 = statistics.median(latencies) * 1000
    p99 = sorted(latencies)[int(len(latencies) * 0.99) - 1] * 1000
    echo(
        "\n".join(
            [
                f"sevamitra bench certificates ({SERVICE}, {count} certificates, {processes} processes)",
                f"full action (number, COSE sign, QR, PDF render, PAdES sign, store): {full:.1f} certificates/s "
                f"(each certificate's own time p50 {p50:.1f} ms, p99 {p99:.1f} ms; {LANES} in flight per process)",
                f"naive single-process fpdf2 + segno (no signatures, nothing stored): {naive:.1f} PDFs/s",
                f"ratio full/naive: {full / naive:.1f}x   (goal: >= 100/s and >= 5x)",
                f"QR-text verifications: {verify:,.0f}/s in one process   (goal: >= 5,000/s)",
                f"database: {'sqlite (fresh file)' if not database_url else database_url.split(':')[0]}",
                f"machine: {os.cpu_count()} CPUs, {host.python_implementation()} {host.python_version()}, "
                f"{host.platform()}",
            ]
        )
    )
