"""Schemathesis against the officers' interface (`web.openapi_officers`), in process on a migrated SQLite
database, signed in as a state administrator: whatever the pages and forms are sent, valid or not, no
answer is a server error. Form cases carry the session's real CSRF token half of the time, so that
they reach the decisions, broadcasts and retries behind it, not only the token check."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.python import asgi

from sevamitra.adapters.officer_auth import totp_code
from sevamitra.adapters.sql.migrate import upgrade
from sevamitra.bootstrap import build
from sevamitra.web.app import create_app
from sevamitra.web.openapi import served_operations
from sevamitra.web.openapi_officers import OFFICER_PATHS, officers_document
from tests.e2e.test_openapi_schemathesis import EXAMPLES, platform_settings
from tests.fuzz.harness import SECONDS, TRIED

PASSWORD = "Krishna-delta-2026"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
TALLY = "schemathesis cases, officers' interface"
SIGNING = ("/dashboard/login", "/dashboard/totp", "/dashboard/logout")  # public forms, and the session's end
ANSWERED: Counter[tuple[str, int]] = Counter()  # (method, status) over every case
CASES = [
    (path, method, mode)
    for path, operations in OFFICER_PATHS.items()
    for method, operation in operations.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or "requestBody" in operation
]


async def _officer(database_url: str, tmp_path: Path) -> str:
    """A state administrator's account; its TOTP secret."""
    platform = build(platform_settings(database_url, tmp_path))
    try:
        _, secret = await platform.access.create_officer(
            username="admin.state",
            display_name="State administrator",
            role="state_admin",
            place="state",
            department_id=None,
            password=PASSWORD,
        )
    finally:
        await platform.aclose()
    return secret


@pytest.fixture(scope="module")
def interface(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str], str]]:
    """The officers' document loaded against the platform's app, a signed-in session's cookies and its
    CSRF token."""
    tmp_path = tmp_path_factory.mktemp("officers")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'officers.db'}"
    upgrade(database_url)
    secret = asyncio.run(_officer(database_url, tmp_path))
    app = create_app(build(platform_settings(database_url, tmp_path)), run_worker=False)
    schema = schemathesis.openapi.from_dict(officers_document(served_operations(app.routes)))
    schema.app = app
    try:
        with asgi.get_client(app) as client:
            signed = client.post(
                "/dashboard/login", data={"username": "admin.state", "password": PASSWORD}, allow_redirects=False
            )
            assert signed.status_code == 303, signed.text
            token = CSRF_FIELD.search(client.get("/dashboard/totp").text)
            assert token is not None
            code = totp_code(secret, datetime.now(UTC))
            assert (
                client.post(
                    "/dashboard/totp", data={"csrf": token.group(1), "code": code}, allow_redirects=False
                ).status_code
                == 303
            )
            inbox = client.get("/dashboard")
            csrf = CSRF_FIELD.search(inbox.text)
            assert inbox.status_code == 200 and csrf is not None
            yield schema, dict(client.cookies), csrf.group(1)
    finally:
        asgi.shutdown_lifespans()


def test_the_document_describes_every_dashboard_route_but_signing_in_and_out(
    interface: tuple[Any, dict[str, str], str],
) -> None:
    schema, _, _ = interface
    served = {(path, method) for path, method in served_operations(schema.app.routes) if path.startswith("/dashboard")}
    signing = {(path, method) for path, method in served if path.startswith(SIGNING)}
    documented = {(path, method) for path, operations in OFFICER_PATHS.items() for method in operations}
    assert served - signing == documented, f"undocumented: {served - signing - documented}"


@pytest.mark.parametrize(("path", "method", "mode"), CASES, ids=[f"{m.upper()} {p} {g.value}" for p, m, g in CASES])
def test_no_officers_page_or_form_answers_with_a_server_error(
    interface: tuple[Any, dict[str, str], str], path: str, method: str, mode: GenerationMode
) -> None:
    schema, cookies, csrf = interface

    @given(schema[path][method.upper()].as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def never_a_server_error(case: Any) -> None:
        TRIED[TALLY] += 1
        if isinstance(case.body, dict) and TRIED[TALLY] % 2:
            case.body["csrf"] = csrf  # through the token check, to what it guards
        started = time.perf_counter()
        try:
            answer = case.call_and_validate(checks=[not_a_server_error], cookies=cookies, allow_redirects=False)
            ANSWERED[(method, answer.status_code)] += 1
        finally:
            SECONDS[TALLY] += time.perf_counter() - started

    never_a_server_error()


def test_the_cases_reached_the_pages_and_the_forms_behind_the_token() -> None:
    """Signed in, the pages answered (no redirect to sign-in for everything), and forms with the real token
    got past it: a session or token lost would make the test above look at the sign-in redirect alone."""
    if not ANSWERED:
        pytest.skip("runs after the cases above")
    assert ANSWERED[("get", 200)] > 0, ANSWERED
    assert sum(n for (method, status), n in ANSWERED.items() if method == "post" and status != 403) > 0, ANSWERED
