"""The dashboard's alerts page: administrators broadcast an alert to the citizens of an area.

`GET /dashboard/broadcasts` shows the form (the topics and areas the officer may choose) and the
recent broadcasts of their scope with how many citizens each reached; `POST` sends one. Like
every dashboard form it needs a signed-in session, a request from our own pages and the
session's CSRF token; every broadcast, and every refused one, goes to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sevamitra.actions.broadcast import BroadcastRefused, InvalidBroadcast, broadcast
from sevamitra.adapters.sql.subscriptions import SqlBroadcasts
from sevamitra.bootstrap import Platform
from sevamitra.bootstrap.officials_auth import OfficerAccess, SessionRow
from sevamitra.core.broadcasts import MAX_TEXT, SentBroadcast, area_name, topic_name, topics_for
from sevamitra.core.jurisdictions import Jurisdictions
from sevamitra.core.localtime import local_time
from sevamitra.core.officers import Officer
from sevamitra.core.workflow import STATE
from sevamitra.web.auth import check_csrf, client_ip, officer_or_redirect
from sevamitra.web.forms import small_form
from sevamitra.web.templating import DASHBOARD_PATH, Templates, language_of

BROADCASTS_PATH = f"{DASHBOARD_PATH}/broadcasts"
MAX_FORM_BYTES = 16 * 1024  # 700 Telugu characters are 6 KiB once URL-encoded; a token and three short fields
RECENT = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One recent broadcast as the page lists it."""

    when: str
    topic: str
    area: str
    text: str
    emergency: bool
    recipients: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Filled:
    """What the officer submitted, shown again when it would not do."""

    topic: str = ""
    area: str = ""
    text: str = ""
    emergency: bool = False


def broadcast_routes(platform: Platform, access: OfficerAccess, templates: Templates | None = None) -> list[BaseRoute]:
    """`GET` and `POST /dashboard/broadcasts`."""
    pages = templates or Templates(platform.context.texts)
    texts = platform.context.texts
    places = platform.context.places or Jurisdictions(())
    store = SqlBroadcasts(platform.cases.engine)

    def areas_for(officer: Officer, language: str) -> list[tuple[str, str]]:
        """The areas the form offers: the state and its districts, or the officer's district and its
        mandals and urban local bodies."""
        if officer.role == "district_admin":
            if officer.place not in places:
                return []
            district = places.path(officer.place)[0]
            return [(district.id, district.name(language))] + [
                (p.id, f"{p.name(language)}, {district.name(language)}") for p in places.children(district.id)
            ]
        return [(STATE, texts.get(language, "alerts.state"))] + [(d.id, d.name(language)) for d in places.districts()]

    async def recent_rows(officer: Officer, language: str) -> list[Row]:
        scope = officer.place if officer.role == "district_admin" else None
        chosen = topics_for(officer) if officer.role == "department_admin" else None
        found: list[SentBroadcast] = await store.recent(limit=RECENT, within=scope, topics=chosen)
        return [
            Row(
                when=local_time(b.created_at),
                topic=topic_name(texts, language, b.topic),
                area=area_name(texts, places, b.area, language),
                text=b.text,
                emergency=b.emergency,
                recipients=b.recipients,
            )
            for b in found
        ]

    async def page(
        request: Request,
        officer: Officer,
        session: SessionRow,
        *,
        status_code: int = 200,
        error: str | None = None,
        filled: Filled | None = None,
    ) -> Response:
        language = language_of(request)
        sent = request.query_params.get("sent", "")
        notice = (
            texts.get(language, "alerts.page.sent", count=int(sent))
            if sent.isdigit() and len(sent) < 10 and error is None
            else None
        )
        return pages.render(
            "broadcasts.html",
            request,
            status_code=status_code,
            allowed=True,
            officer=officer,
            session=session,
            csrf=session.csrf,
            topics=[(t, topic_name(texts, language, t)) for t in topics_for(officer)],
            areas=areas_for(officer, language),
            rows=await recent_rows(officer, language),
            limit=MAX_TEXT,
            notice=notice,
            error=error,
            filled=filled or Filled(),
        )

    def not_allowed(request: Request, officer: Officer, session: SessionRow) -> Response:
        """The page for an officer who sends no alerts: it says so, and nothing more."""
        return pages.render(
            "broadcasts.html", request, status_code=403, allowed=False, officer=officer, session=session
        )

    def expired(request: Request, officer: Officer, session: SessionRow) -> Response:
        return pages.render(
            "forbidden.html", request, status_code=403, kind="expired", officer=officer, session=session
        )

    async def show(request: Request) -> Response:
        found = await officer_or_redirect(request, access)
        if isinstance(found, Response):
            return found
        officer, session = found
        if not topics_for(officer):
            return not_allowed(request, officer, session)
        return await page(request, officer, session)

    async def send(request: Request) -> Response:
        found = await officer_or_redirect(request, access)
        if isinstance(found, Response):
            return found
        officer, session = found
        form = await small_form(request, MAX_FORM_BYTES)
        if form is None:
            return PlainTextResponse("form too large", status_code=413)
        if not check_csrf(session, form.get("csrf")):
            return expired(request, officer, session)
        ip = client_ip(request)
        if not topics_for(officer):  # not an administrator: nothing of the form is looked at
            await access.record(officer, "broadcast_refused", None, {"role": officer.role}, ip)
            return not_allowed(request, officer, session)
        filled = Filled(
            topic=form.get("topic", ""),
            area=form.get("area", ""),
            text=form.get("text", ""),
            emergency=form.get("emergency", "") not in ("", "0", "off"),
        )
        language = language_of(request)
        detail: dict[str, object] = {
            "topic": filled.topic[:40],
            "area": filled.area[:160],
            "emergency": filled.emergency,
        }
        try:
            count = await broadcast(
                store,
                texts,
                officer,
                filled.topic,
                filled.area,
                filled.text,
                filled.emergency,
                platform.clock.now(),
                places,
            )
        except InvalidBroadcast as invalid:
            error = texts.get(language, f"alerts.error.{invalid.problem}", limit=MAX_TEXT)
            return await page(request, officer, session, status_code=422, error=error, filled=filled)
        except BroadcastRefused:
            await access.record(officer, "broadcast_refused", None, detail, ip)
            error = texts.get(language, "alerts.error.refused")
            return await page(request, officer, session, status_code=403, error=error, filled=filled)
        await access.record(
            officer, "broadcast", None, {**detail, "text": filled.text.strip(), "recipients": count}, ip
        )
        return RedirectResponse(f"{BROADCASTS_PATH}?sent={count}", status_code=303)

    return [
        Route(BROADCASTS_PATH, show, methods=["GET"]),
        Route(BROADCASTS_PATH, send, methods=["POST"]),
    ]
