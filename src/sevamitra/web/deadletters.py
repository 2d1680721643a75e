"""The dashboard's dead letters: messages given up for good, listed for the state administrator, who may
queue one or all of them again (see `actions/deadletters.py` for why that role alone).

`GET /dashboard/dead-letters` lists them (the citizen's number masked, the message's kind, the error,
the attempts, when) and any number whose sending is paused; `POST /dashboard/dead-letters/retry` with
`id=<n>` or `all=1` queues them again. Like every dashboard form it needs a signed-in session, a request
from our own pages and the session's CSRF token; every retry, and every refused attempt, is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sevamitra.actions.deadletters import NotAllowed, masked, may_handle_dead_letters, retry_dead_letters
from sevamitra.adapters.sql.deadletters import SqlDeadLetters
from sevamitra.adapters.sql.pauses import SqlSendingPauses
from sevamitra.bootstrap import Platform
from sevamitra.bootstrap.officials_auth import OfficerAccess, SessionRow
from sevamitra.core.localtime import local_time
from sevamitra.core.officers import Officer
from sevamitra.web.auth import check_csrf, client_ip, officer_or_redirect
from sevamitra.web.forms import small_form
from sevamitra.web.templating import DASHBOARD_PATH, Templates

DEAD_LETTERS_PATH = f"{DASHBOARD_PATH}/dead-letters"
RETRY_PATH = f"{DEAD_LETTERS_PATH}/retry"
LISTED = 200  # the newest shown; the total counts them all
MAX_FORM_BYTES = 1024  # a token and an id
ERROR_SHOWN = 160  # characters of the channel's error text


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    id: int
    citizen: str
    kind: str
    state: str
    error: str
    attempts: int
    when: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Paused:
    number: str
    code: int
    since: str
    next: str


def dead_letter_routes(platform: Platform, access: OfficerAccess, templates: Templates) -> list[BaseRoute]:
    """`GET /dashboard/dead-letters` and `POST /dashboard/dead-letters/retry`."""
    store = SqlDeadLetters(platform.cases.engine)
    pauses = SqlSendingPauses(platform.cases.engine)

    async def show(request: Request) -> Response:
        found = await officer_or_redirect(request, access)
        if isinstance(found, Response):
            return found
        officer, session = found
        if not may_handle_dead_letters(officer):
            return refused(request, officer, session)
        letters, total = await store.waiting(LISTED)
        rows = [
            Row(
                id=d.id,
                citizen=masked(d.address),
                kind=d.kind,
                state=d.state,
                error=f"{d.error_code or ''} {d.error or ''}".strip()[:ERROR_SHOWN],
                attempts=d.attempts,
                when=local_time(d.dead_at),
            )
            for d in letters
        ]
        paused = [
            Paused(number=p.number, code=p.error_code, since=local_time(p.paused_at), next=local_time(p.next_probe_at))
            for p in (await pauses.current()).values()
        ]
        retried = request.query_params.get("retried", "")
        return templates.render(
            "deadletters.html",
            request,
            allowed=True,
            officer=officer,
            session=session,
            csrf=session.csrf,
            rows=rows,
            total=total,
            paused=paused,
            retried=int(retried) if retried.isdigit() and len(retried) < 7 else None,
        )

    async def retry(request: Request) -> Response:
        found = await officer_or_redirect(request, access)
        if isinstance(found, Response):
            return found
        officer, session = found
        form = await small_form(request, MAX_FORM_BYTES)
        if form is None:
            return PlainTextResponse("form too large", status_code=413)
        if not check_csrf(session, form.get("csrf")):
            return templates.render(
                "forbidden.html", request, status_code=403, kind="expired", officer=officer, session=session
            )
        chosen = form.get("id", "")
        if form.get("all") != "1" and not (chosen.isdigit() and len(chosen) < 19):
            return PlainTextResponse("choose a message, or all of them", status_code=400)
        ids = None if form.get("all") == "1" else [int(chosen)]
        ip = client_ip(request)
        try:
            count = await retry_dead_letters(store, officer, ids, now=platform.clock.now(), ip=ip)
        except NotAllowed:
            await access.record(officer, "dead_letters_refused", None, {"role": officer.role}, ip)
            return refused(request, officer, session)
        return RedirectResponse(f"{DEAD_LETTERS_PATH}?retried={count}", status_code=303)

    def refused(request: Request, officer: Officer, session: SessionRow) -> Response:
        """The page for an officer of another role: it says so, and lists nothing."""
        return templates.render(
            "deadletters.html", request, status_code=403, allowed=False, officer=officer, session=session
        )

    return [
        Route(DEAD_LETTERS_PATH, show, methods=["GET"]),
        Route(RETRY_PATH, retry, methods=["POST"]),
    ]
