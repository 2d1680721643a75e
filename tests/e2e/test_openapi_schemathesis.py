"""Schemathesis against the platform's own OpenAPI document (`GET /openapi.json`), in process on a
migrated SQLite database: whatever it sends, valid or not, no answer is a 5xx and every answer has
a documented status, content type and body.

Webhook deliveries are signed as Meta and the simulated gateway sign them (when the generated case
carries no signature of its own), so that the bodies reach the inbox and the payment reader.
`SEVAMITRA_FUZZ_EXAMPLES` raises the number of cases per operation for a soak.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core import NotSet
from schemathesis.generation.modes import GenerationMode
from schemathesis.python import asgi

from sevamitra.adapters.payments import hex_hmac
from sevamitra.adapters.sql.migrate import upgrade
from sevamitra.bootstrap import build
from sevamitra.emulator.payloads import signature
from sevamitra.settings import DEV_PAYMENT_SECRET, Settings
from sevamitra.web.app import create_app
from sevamitra.web.openapi import PATHS, served_operations
from tests.fuzz.harness import SECONDS, TRIED

SECRET = "schemathesis-app-secret"
JSON = "application/json"
TALLY = "schemathesis cases, all operations"  # in the fuzz summary
EXAMPLES = int(os.environ.get("SEVAMITRA_FUZZ_EXAMPLES") or 120) // 10  # cases per operation
# What a public API promises: no server errors, and answers as documented. Schemathesis' checks that
# a valid request is accepted and an invalid one refused are left out: the webhooks refuse valid
# bodies without a signature (401/403) and keep malformed ones (Meta would redeliver a refusal), and
# the pages read their query leniently.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Routes the document leaves out: the officials' pages (HTML behind a session and CSRF tokens) and
# the posters that print their links.
# every operation with valid requests, and those that take a body with invalid ones too (a bare string
# parameter has no invalid value to send)
CASES = [
    (path, method, mode)
    for path, operations in PATHS.items()
    for method, operation in operations.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or "requestBody" in operation
]
UNDOCUMENTED = ("/dashboard", "/login", "/logout", "/broadcasts", "/posters")


def platform_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        env="dev",
        database_url=database_url,
        whatsapp_app_secret=SECRET,
        graph_api_url="http://127.0.0.1:9",  # nothing is sent: the worker does not run
        public_url="http://testserver",
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
        **overrides,
    )


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The platform's ASGI app on a migrated SQLite database, without its worker, and its OpenAPI
    document as Schemathesis loads it from the app (which starts the app's lifespan)."""
    tmp_path = tmp_path_factory.mktemp("schemathesis")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"
    upgrade(database_url)
    app = create_app(build(platform_settings(database_url, tmp_path)), run_worker=False)
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        asgi.shutdown_lifespans()  # the platform's own shutdown: engines disposed, clients closed


def signed(case: Any) -> dict[str, Any]:
    """The request as its sender would sign it: a webhook body gets the signature header its
    provider sends, unless the case made one up."""
    if case.method != "POST" or isinstance(case.body, NotSet) or not case.path.startswith("/webhooks/"):
        return {}
    headers = case.headers or {}
    try:  # negative cases may carry bytes that are not JSON at all
        raw = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
    except TypeError:
        return {}
    if case.path == "/webhooks/whatsapp":
        if "X-Hub-Signature-256" in headers:
            return {}
        return {"data": raw, "headers": {"X-Hub-Signature-256": signature(raw, SECRET)}}
    if case.path_parameters.get("provider") != "simulated" or "X-Sim-Signature" in headers:
        return {}
    return {"data": raw, "headers": {"X-Sim-Signature": hex_hmac(raw, DEV_PAYMENT_SECRET)}}


@pytest.mark.parametrize(("path", "method", "mode"), CASES, ids=[f"{m.upper()} {p} {g.value}" for p, m, g in CASES])
def test_every_operation_answers_as_documented_and_never_with_a_server_error(
    api: Any, path: str, method: str, mode: GenerationMode
) -> None:
    @given(api[path][method.upper()].as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def answers_as_documented(case: Any) -> None:
        TRIED[TALLY] += 1
        started = time.perf_counter()
        try:
            case.call_and_validate(checks=CHECKS, **signed(case))
        finally:
            SECONDS[TALLY] += time.perf_counter() - started

    answers_as_documented()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_document_describes_every_public_route_and_only_served_ones(
    database_url: str, tmp_path: Path
) -> None:
    platform = build(platform_settings(database_url, tmp_path, metrics=False))
    app = create_app(platform, run_worker=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            answer = await http.get("/openapi.json")
    finally:
        await platform.aclose()
    served = served_operations(app.routes)
    public = {(path, method) for path, method in served if not path.startswith(UNDOCUMENTED)}
    documented = {(path, method) for path, operations in answer.json()["paths"].items() for method in operations}
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert public == documented, f"undocumented: {sorted(public - documented)}, not served: {documented - public}"
    assert ("/metrics", "get") not in documented  # turned off, so not described


# What Schemathesis found, each a 500 or an answer unlike its documentation before it was mended.
TOO_MANY_FIELDS = (
    b"".join(b'--b\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nx\r\n' % i for i in range(5)) + b"--b--\r\n"
)
FOUND: dict[str, tuple[str, str, dict[str, Any], int, str]] = {
    "a JSON body that is not JSON": (
        "POST", "/api/verify", {"content": b"\x00", "headers": {"Content-Type": "application/json"}}, 400, JSON
    ),
    "a form Starlette refuses": (
        "POST",
        "/api/verify",
        {"content": TOO_MANY_FIELDS, "headers": {"Content-Type": "multipart/form-data; boundary=b"}},
        400,
        JSON,
    ),
    "no such certificate PDF": ("GET", "/c/under_review.pdf", {}, 404, "text/plain"),
    "a photo signature that is not ASCII": ("GET", "/p/200/%C2%80.jpg", {}, 404, "text/plain"),
    "a photo id in superscript digits": ("GET", "/p/%C2%B2/0.jpg", {}, 404, "text/plain"),
}  # fmt: skip


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_what_schemathesis_found_is_answered_as_documented(database_url: str, tmp_path: Path) -> None:
    platform = build(platform_settings(database_url, tmp_path))
    transport = httpx.ASGITransport(app=create_app(platform, run_worker=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            for name, (method, path, request, status, media_type) in FOUND.items():
                answer = await http.request(method, path, **request)
                assert (answer.status_code, answer.headers["content-type"].split(";")[0]) == (status, media_type), name
    finally:
        await platform.aclose()
