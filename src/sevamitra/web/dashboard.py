"""The officers' dashboard: the inbox, one application, decisions, bulk approval, analytics and posters.

Every page sits behind `officer_or_redirect` (a session whose second factor passed), every form
carries the session's CSRF token, and every look at personal data (an application, a citizen's
document, a field-verification photo) and every decision or export goes to the audit log. A page
an officer may not open answers 403 with a page that holds nothing of the application.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message

from sevamitra.actions.pay import refund_on_rejection
from sevamitra.actions.review import PLACE_PROBLEM, REJECT_REASONS, Forbidden, NotFound, Review, review
from sevamitra.adapters.sql.analytics import (
    DecisionRow,
    Overview,
    Scope,
    SqlAnalytics,
    scope_of,
    week_start,
)
from sevamitra.adapters.sql.cases import SqlCases
from sevamitra.bootstrap import Platform
from sevamitra.bootstrap.officials_auth import OfficerAccess, SessionRow
from sevamitra.core.applications import REFERENCE_PATTERN, Status, TransitionError
from sevamitra.core.catalogue import Service
from sevamitra.core.display import shown_answers
from sevamitra.core.fields import VOICE_ACCEPT, FieldSpec
from sevamitra.core.filetypes import agrees, max_bytes
from sevamitra.core.localtime import IST, local_time
from sevamitra.core.officers import Officer, may_act, may_view
from sevamitra.core.ports import CaseRecord, InboxFilter
from sevamitra.core.texts import MissingText
from sevamitra.core.workflow import ACTIONS, OPEN, STATE, ActionError, Desk
from sevamitra.web.auth import check_csrf, client_ip, officer_or_redirect
from sevamitra.web.posters import poster_routes
from sevamitra.web.templating import DASHBOARD_PATH, SECURITY_HEADERS, Templates, language_of

log = logging.getLogger(__name__)

PAGE_SIZE = 50
MAX_PAGE = 10_000
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_FORM_BYTES = MAX_PHOTO_BYTES + 64 * 1024  # a photo and a few short fields
MAX_TEXT = 2000  # characters of an officer's message or note
CACHE_SECONDS = 60.0  # analytics per scope: aggregates over the whole table, kept a minute
CACHE_SCOPES = 256
STATUS_FILTERS = ("open", "submitted", "under_review", "returned", "approved", "rejected", "issued", "all")
INLINE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp", *VOICE_ACCEPT})
PHOTO_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
FILE_HEADERS = {  # a citizen's file, served as data: never run, never framed, never kept
    **SECURITY_HEADERS,
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
}
PHOTO_PROBLEM = "a photo must be a JPEG, PNG or WebP image of at most 5 MB"
ERROR_KEYS = {  # review's ActionError messages (and the photo's) → the page's words
    PHOTO_PROBLEM: "pages.error.photo",
    "choose a reason for the rejection": "pages.error.reason",
    "choose the fields the citizen must correct": "pages.error.fields",
    "a note needs a text or a photo": "pages.error.note",
    PLACE_PROBLEM: "pages.error.place",
}
CHART_BARS = 12


# --- what the templates show ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxRow:
    reference: str
    service: str
    status: str
    desk: str
    due: str
    overdue: bool
    selectable: bool  # at the officer's desk and open: may be approved in bulk


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    label: str
    shown: str
    documents: tuple[str, ...] = ()  # the links to the citizen's files: a document, photos, a voice note


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    at: str
    actor: str
    kind: str
    details: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    label: str
    value: str  # as printed beside the bar
    fraction: float  # of the chart's width (or height), 0..1


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    id: str
    title: str
    bars: tuple[Bar, ...]
    summary: str = ""
    vertical: bool = False
    colour: str = "#0b57d0"


# --- helpers ----------------------------------------------------------------------------


def due_before(text: str) -> datetime | None:
    """`?due=yyyy-mm-dd`: due on or before that day (Indian time), as the end of that day."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=IST) + timedelta(days=1)


def _count(text: str | None) -> int:
    return int(text) if text and text.isdigit() and len(text) < 6 else 0


def page_number(text: str | None) -> int:
    try:
        return max(1, min(int(text or "1"), MAX_PAGE))
    except ValueError:
        return 1


def field_label(templates: Templates, spec: FieldSpec, language: str) -> str:
    if spec.label(language):
        return spec.label(language)
    try:
        return templates.text(language, f"label.{spec.type}")
    except MissingText:
        return spec.id.replace("_", " ")


def photo_type(data: bytes) -> str | None:
    """The image type of a field-verification photo by its first bytes (the browser's word is not taken)."""
    for signature, content_type in PHOTO_SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def csv_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"


def days_text(days: float | None) -> str:
    return "-" if days is None else f"{days:.1f}"


def bars(items: Sequence[tuple[str, float, str]], maximum: float | None = None) -> tuple[Bar, ...]:
    """Bars scaled to the largest value (or `maximum`)."""
    top = maximum if maximum is not None else max((value for _, value, _ in items), default=0.0)
    return tuple(
        Bar(label=label[:40], value=shown, fraction=(value / top) if top > 0 else 0.0) for label, value, shown in items
    )


def _safe_filename(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return cleaned[:80] or "document"


class ScopeCache:
    """Analytics per scope for CACHE_SECONDS, in this process."""

    def __init__(self, analytics: SqlAnalytics, seconds: float = CACHE_SECONDS) -> None:
        self.analytics = analytics
        self.seconds = seconds
        self._kept: dict[Scope, tuple[float, Overview]] = {}

    async def overview(self, scope: Scope, now: datetime) -> Overview:
        kept = self._kept.get(scope)
        if kept is not None and time.monotonic() < kept[0]:
            return kept[1]
        found = await self.analytics.overview(scope, now)
        if len(self._kept) >= CACHE_SCOPES:
            self._kept.clear()
        self._kept[scope] = (time.monotonic() + self.seconds, found)
        return found


# --- the routes -------------------------------------------------------------------------


def dashboard_routes(
    platform: Platform,
    access: OfficerAccess,
    *,
    templates: Templates | None = None,
    analytics: SqlAnalytics | None = None,
) -> list[BaseRoute]:
    """Everything under /dashboard but signing in: the inbox, applications, decisions, analytics."""
    pages = templates or Templates(platform.context.texts)
    catalogue, places = platform.context.catalogue, platform.context.places
    # the inbox's lists and the analytics read the replica where there is one; a case opened, decided or
    # audited reads and writes the primary, so an officer always sees their own decisions
    cache = ScopeCache(analytics or SqlAnalytics(platform.reads))
    listing = SqlCases(platform.reads, platform.cases.sealer)

    def service_name(service_id: str, language: str) -> str:
        service = catalogue.service(service_id)
        return service.name(language) if service else service_id

    def place_name(place_id: str | None, language: str) -> str:
        if not place_id:
            return "-"
        if place_id == STATE:
            return pages.text(language, "pages.state")
        place = places.get(place_id) if places is not None else None
        return place.name(language) if place else place_id.rpartition("/")[2]

    def reroute_choices(district: str | None, language: str) -> list[tuple[str, str]]:
        """The villages, wards, mandals and towns of the case's district, as (id, "name, parent")."""
        if places is None or not district or district not in places:
            return []
        found: list[tuple[str, str]] = []
        for unit in places.children(district):
            found.append((unit.id, unit.name(language)))
            found += [(v.id, f"{v.name(language)}, {unit.name(language)}") for v in places.children(unit.id)]
        return found

    def role_name(role: str, language: str) -> str:
        try:
            return pages.text(language, f"role.{role}")
        except MissingText:
            return role.replace("_", " ")

    def desk_text(desk_key: str | None, language: str) -> str:
        if not desk_key:
            return "-"
        desk = Desk.parse(desk_key)
        return f"{role_name(desk.role, language)} · {place_name(desk.place, language)}"

    def status_text(status: Status | str, language: str) -> str:
        return pages.text(language, f"pages.status.{Status(status).value}")

    def frame(officer: Officer, session: SessionRow) -> dict[str, Any]:
        return {"officer": officer, "session": session, "csrf": session.csrf}

    def viewable(officer: Officer, record: CaseRecord) -> bool:
        desk = record.case.desk if record.case else None
        return may_view(officer, desk, record.district, record.department_id)

    def refused(request: Request, officer: Officer, session: SessionRow) -> Response:
        """The 403 page: it names nothing of the application."""
        return pages.render("forbidden.html", request, status_code=403, kind="forbidden", **frame(officer, session))

    def missing(request: Request, officer: Officer, session: SessionRow) -> Response:
        return pages.render("forbidden.html", request, status_code=404, kind="not_found", **frame(officer, session))

    async def opened(request: Request) -> tuple[Officer, SessionRow, CaseRecord] | Response:
        """The signed-in officer and the application of the path, or the page to send instead."""
        found = await officer_or_redirect(request, access)
        if isinstance(found, Response):
            return found
        officer, session = found
        reference = request.path_params["reference"]
        if not REFERENCE_PATTERN.match(reference):
            return missing(request, officer, session)
        record = await platform.cases.get(reference)
        if record is None:
            return missing(request, officer, session)
        if not viewable(officer, record):
            await access.record(officer, "view_refused", reference, {"path": request.url.path}, client_ip(request))
            return refused(request, officer, session)
        return officer, session, record

    # the inbox --------------------------------------------------------------------------

    async def inbox(request: Request) -> Response:
        found = await officer_or_redirect(request, access)
        if isinstance(found, Response):
            return found
        officer, session = found
        language = language_of(request)
        params = request.query_params
        status = params.get("status", "open")
        status = status if status in STATUS_FILTERS else "open"
        statuses = tuple(OPEN) if status == "open" else () if status == "all" else (Status(status),)
        service_id = params.get("service") or None
        service_id = service_id if service_id and catalogue.service(service_id) else None
        due_text = params.get("due", "")
        page = page_number(params.get("page"))
        wanted = InboxFilter(
            statuses=tuple(sorted(statuses)),
            service_id=service_id,
            due_before=due_before(due_text) if due_text else None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        rows, total = await listing.inbox(officer, wanted)
        now = platform.clock.now()
        items = [
            InboxRow(
                reference=row.reference,
                service=service_name(row.service_id, language),
                status=status_text(row.status, language),
                desk=desk_text(row.desk, language),
                due=local_time(row.step_due_at),
                overdue=row.status in OPEN and row.step_due_at is not None and row.step_due_at < now,
                selectable=row.status in OPEN and row.desk is not None and may_act(officer, row.desk),
            )
            for row in rows
        ]
        kept = {"status": status, "service": service_id or "", "due": due_text if wanted.due_before else ""}

        def page_url(number: int) -> str:
            return f"{DASHBOARD_PATH}?{urlencode([(k, v) for k, v in (*kept.items(), ('page', str(number))) if v])}"

        notice = _notice(request, language)
        return pages.render(
            "inbox.html",
            request,
            **frame(officer, session),
            rows=items,
            total=total,
            first=wanted.offset + 1 if items else 0,
            last=wanted.offset + len(items),
            previous_url=page_url(page - 1) if page > 1 else None,
            next_url=page_url(page + 1) if wanted.offset + len(items) < total else None,
            status=status,
            statuses=[(s, pages.text(language, f"pages.status.{s}")) for s in STATUS_FILTERS],
            service=service_id or "",
            services=_services_for(officer, catalogue.services, language),
            due=kept["due"],
            notice=notice,
            bulk=any(item.selectable for item in items),
        )

    def _notice(request: Request, language: str) -> str | None:
        params = request.query_params
        if params.get("done") in ACTIONS:
            return pages.text(language, f"pages.done.{params['done']}")
        if "approved" in params:
            return pages.text(
                language,
                "pages.bulk.done",
                approved=_count(params.get("approved")),
                failed=_count(params.get("failed")),
            )
        return None

    # one application --------------------------------------------------------------------

    async def application(request: Request) -> Response:
        found = await opened(request)
        if isinstance(found, Response):
            return found
        officer, session, record = found
        await access.record(officer, "view", record.reference, None, client_ip(request))
        return await application_page(request, officer, session, record)

    async def application_page(
        request: Request,
        officer: Officer,
        session: SessionRow,
        record: CaseRecord,
        *,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response:
        language = language_of(request)
        service = catalogue.service(record.service_id)
        answers: list[Answer] = []
        fields: list[tuple[str, str]] = []
        if service is not None:
            shown = shown_answers(service, record.answers, places, language)
            for spec in service.fields:
                fields.append((spec.id, field_label(pages, spec, language)))
                if spec.id not in shown:
                    continue
                base = f"{DASHBOARD_PATH}/applications/{record.reference}/documents/{spec.id}"
                count = len(_files(record.answers.get(spec.id)))
                links = tuple(base if n == 0 else f"{base}?n={n}" for n in range(count))
                answers.append(Answer(label=field_label(pages, spec, language), shown=shown[spec.id], documents=links))
        history = [
            Event(
                at=local_time(e.at),
                actor=_actor(e.actor, language),
                kind=_event_kind(e.kind, language),
                details=tuple(_event_details(e.detail, service, language)),
            )
            for e in await platform.cases.history(record.reference)
        ]
        photos = [
            (f"{DASHBOARD_PATH}/applications/{record.reference}/attachments/{a_id}", local_time(at))
            for a_id, _, at in await platform.cases.attachments_of(record.reference)
        ]
        desk = record.case.desk if record.case else None
        acting = desk is not None and may_act(officer, desk)
        done = request.query_params.get("done")
        return pages.render(
            "application.html",
            request,
            status_code=status_code,
            **frame(officer, session),
            record=record,
            service=service.name(language) if service else record.service_id,
            status=status_text(record.status, language),
            submitted=local_time(record.submitted_at),
            due=local_time(record.due_at),
            step_due=local_time(record.case.step_due_at) if record.case and record.status in OPEN else None,
            overdue=bool(record.case and record.status in OPEN and record.case.step_due_at < platform.clock.now()),
            desk=desk_text(desk, language),
            district=place_name(record.district, language),
            answers=answers,
            history=history,
            photos=photos,
            acting=acting,
            deciding=acting and record.status in OPEN,
            reroute_places=reroute_choices(record.district, language) if acting and record.status in OPEN else [],
            grievance=service is not None and service.output.kind == "grievance_ticket",
            reasons=[(code, pages.text(language, f"reject.{code}")) for code in REJECT_REASONS],
            fields=fields,
            error=error,
            notice=pages.text(language, f"pages.done.{done}") if done in ACTIONS else None,
            base=f"{DASHBOARD_PATH}/applications/{record.reference}",
        )

    def _actor(actor: str, language: str) -> str:
        if actor in ("citizen", "clock"):
            return pages.text(language, f"pages.actor.{actor}")
        return actor

    def _event_kind(kind: str, language: str) -> str:
        try:
            return pages.text(language, f"pages.event.{kind}")
        except MissingText:
            return kind.replace("_", " ")

    def _event_details(detail: Mapping[str, Any], service: Service | None, language: str) -> list[str]:
        said: list[str] = []
        if detail.get("reason") in REJECT_REASONS:
            said.append(pages.text(language, f"reject.{detail['reason']}"))
        if detail.get("fields") and service is not None:
            labels = [
                field_label(pages, spec, language)
                for spec in service.fields
                if spec.id in {str(f) for f in detail["fields"]}
            ]
            said.append(pages.text(language, "pages.event.fields", fields=", ".join(labels)))
        if isinstance(detail.get("to"), str):
            said.append(pages.text(language, "pages.event.to", desk=desk_text(detail["to"], language)))
        if detail.get("message"):
            said.append(f"“{str(detail['message'])[:MAX_TEXT]}”")
        if detail.get("photo"):
            said.append(pages.text(language, "pages.event.photo"))
        return said

    # the citizen's documents and the officers' photos ------------------------------------

    async def document(request: Request) -> Response:
        found = await opened(request)
        if isinstance(found, Response):
            return found
        officer, session, record = found
        field_id = request.path_params["field_id"]
        service = catalogue.service(record.service_id)
        spec = service.form_field(field_id) if service else None
        files = _files(record.answers.get(field_id)) if spec is not None else []
        index = request.query_params.get("n", "0")
        if not index.isdigit() or int(index) >= len(files):
            return missing(request, officer, session)
        value = files[int(index)]
        await access.record(officer, "view_document", record.reference, {"field": field_id}, client_ip(request))
        try:  # over the channel's limit for its kind: refused from its stated size, before download
            limit = max_bytes(str(value.get("mime_type") or ""))
            data, mime_type = await platform.messenger.download_media(str(value["media_id"]), limit)
        except Exception:  # the channel's failure (expired media, network): the page says so, the log has it
            log.exception("document %s of %s could not be fetched", field_id, record.reference)
            return pages.render(
                "forbidden.html", request, status_code=502, kind="unavailable", **frame(officer, session)
            )
        shown = agrees(mime_type, data)  # what its bytes are, where they agree with its stated type
        inline = shown in INLINE_TYPES
        name = _safe_filename(str(value.get("filename") or field_id))
        return Response(
            data,
            media_type=shown if inline and shown else "application/octet-stream",
            headers={
                **FILE_HEADERS,
                "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{name}"',
            },
        )

    async def attachment(request: Request) -> Response:
        found = await opened(request)
        if isinstance(found, Response):
            return found
        officer, session, record = found
        attachment_id = request.path_params["attachment_id"]
        stored = await platform.cases.attachment(record.reference, attachment_id)
        if stored is None:
            return missing(request, officer, session)
        await access.record(
            officer, "view_attachment", record.reference, {"attachment": attachment_id}, client_ip(request)
        )
        _, data = stored  # its type is taken again from its bytes, as when it was stored
        return Response(data, media_type=photo_type(data) or "application/octet-stream", headers=FILE_HEADERS)

    # decisions ----------------------------------------------------------------------------

    async def decide(request: Request) -> Response:
        found = await officer_or_redirect(request, access)
        if isinstance(found, Response):
            return found
        officer, session = found
        action, reference = request.path_params["action"], request.path_params["reference"]
        if action not in ACTIONS or not REFERENCE_PATTERN.match(reference):
            return missing(request, officer, session)
        try:
            form = await _bounded_form(request, max_fields=64)
        except MultiPartException:
            return PlainTextResponse("malformed form", status_code=400)
        if form is None:
            return PlainTextResponse("form too large", status_code=413)
        try:
            if not check_csrf(session, _field(form, "csrf")):
                return pages.render(
                    "forbidden.html", request, status_code=403, kind="expired", **frame(officer, session)
                )
            submitted = await _review_of(action, form)
        finally:
            await form.close()
        ip = client_ip(request)
        if isinstance(submitted, str):
            await access.record(officer, "action_failed", reference, {"action": action, "error": submitted}, ip)
            return await _unprocessable(request, officer, session, reference, submitted)
        try:
            done = await review(
                platform.cases,
                platform.context,
                platform.certifier,
                officer,
                reference,
                submitted,
                platform.clock.now(),
                photo_link=platform.photo_link,
            )
        except NotFound:
            return missing(request, officer, session)
        except Forbidden:
            await access.record(officer, "action_refused", reference, {"action": action}, ip)
            return refused(request, officer, session)
        except (ActionError, TransitionError) as error:
            await access.record(officer, "action_failed", reference, {"action": action, "error": str(error)}, ip)
            return await _unprocessable(request, officer, session, reference, str(error))
        if done.status is Status.REJECTED:  # a refundable fee goes back to the citizen
            await refund_on_rejection(platform.payments.payments, platform.context, reference, platform.clock.now())
        detail: dict[str, Any] = {"status": done.status.value, "desk": done.desk}
        if done.certificate:
            detail["certificate"] = done.certificate
        if action == "reject":
            detail["reason"] = submitted.reason
        if action == "return":
            detail["fields"] = list(submitted.fields)
        if action == "reroute":
            detail["place"] = submitted.place
        await access.record(officer, action, reference, detail, ip)
        record = await platform.cases.get(reference)
        if record is not None and viewable(officer, record):
            return RedirectResponse(f"{DASHBOARD_PATH}/applications/{reference}?done={action}", status_code=303)
        return RedirectResponse(f"{DASHBOARD_PATH}?done={action}", status_code=303)

    async def _unprocessable(
        request: Request, officer: Officer, session: SessionRow, reference: str, message: str
    ) -> Response:
        record = await platform.cases.get(reference)
        if record is None:
            return missing(request, officer, session)
        if not viewable(officer, record):
            return refused(request, officer, session)
        language = language_of(request)
        key = ERROR_KEYS.get(message)
        if key is None and message.startswith("an application that is"):
            key = "pages.error.closed"
        shown = pages.text(language, key) if key else pages.text(language, "pages.error.action", message=message)
        return await application_page(request, officer, session, record, error=shown, status_code=422)

    async def bulk_approve(request: Request) -> Response:
        found = await officer_or_redirect(request, access)
        if isinstance(found, Response):
            return found
        officer, session = found
        try:
            form = await _bounded_form(request, max_fields=PAGE_SIZE + 8)
        except MultiPartException:
            return PlainTextResponse("malformed form", status_code=400)
        if form is None:
            return PlainTextResponse("form too large", status_code=413)
        try:
            if not check_csrf(session, _field(form, "csrf")):
                return pages.render(
                    "forbidden.html", request, status_code=403, kind="expired", **frame(officer, session)
                )
            chosen = [v for v in form.getlist("reference") if isinstance(v, str) and REFERENCE_PATTERN.match(v)]
        finally:
            await form.close()
        approved = failed = 0
        ip = client_ip(request)
        for reference in dict.fromkeys(chosen[:PAGE_SIZE]):
            try:
                done = await review(
                    platform.cases,
                    platform.context,
                    platform.certifier,
                    officer,
                    reference,
                    Review(action="approve"),
                    platform.clock.now(),
                )
            except (NotFound, Forbidden, ActionError, TransitionError) as error:
                failed += 1
                await access.record(officer, "approve_refused", reference, {"bulk": True, "error": str(error)}, ip)
                continue
            approved += 1
            detail = {"bulk": True, "status": done.status.value, "desk": done.desk, "certificate": done.certificate}
            await access.record(officer, "approve", reference, detail, ip)
        return RedirectResponse(f"{DASHBOARD_PATH}?approved={approved}&failed={failed}", status_code=303)

    # analytics ----------------------------------------------------------------------------

    def scope_text(scope: Scope, language: str) -> str:
        if scope.district is not None:
            return pages.text(language, "pages.analytics.scope.district", name=place_name(scope.district, language))
        if scope.department_id is not None:
            department = catalogue.department(scope.department_id)
            name = department.name(language) if department else scope.department_id
            return pages.text(language, "pages.analytics.scope.department", name=name)
        return pages.text(language, "pages.analytics.scope.state")

    def charts(overview: Overview, language: str) -> list[Chart]:
        def t(key: str, **params: object) -> str:
            return pages.text(language, key, **params)

        def services(value: Any, shown: Any) -> list[tuple[str, float, str]]:
            rows = overview.by_service[:CHART_BARS]
            return [(service_name(r.key or "", language), value(r), shown(r)) for r in rows]

        per_week: dict[date, int] = {}
        for row in overview.weekly.get("district", []):
            per_week[row.week] = per_week.get(row.week, 0) + row.count
        first = week_start(overview.now).astimezone(IST).date() - timedelta(weeks=overview.weeks - 1)
        weeks = [first + timedelta(weeks=i) for i in range(overview.weeks)]
        total, backlog, rated = overview.total, overview.backlog, overview.satisfaction
        counted = [
            ("services", "pages.analytics.by_service", overview.weekly.get("service", []), service_name),
            ("districts", "pages.analytics.by_district", overview.weekly.get("district", []), place_name),
        ]
        rating = (
            t("pages.analytics.satisfaction_overall", average=f"{rated.average:.2f}", count=rated.count)
            if rated.average is not None
            else t("pages.analytics.no_ratings")
        )
        return [
            Chart(
                id="weekly",
                title=t("pages.analytics.per_week", weeks=overview.weeks),
                bars=bars([(w.strftime("%d-%m"), per_week.get(w, 0), str(per_week.get(w, 0))) for w in weeks]),
                vertical=True,
            ),
            *(
                Chart(
                    id=id_,
                    title=t(key),
                    bars=bars([(name(k, language), n, str(n)) for k, n in _totals(rows)[:CHART_BARS]]),
                )
                for id_, key, rows, name in counted
            ),
            Chart(
                id="sla",
                title=t("pages.analytics.sla"),
                summary=t(
                    "pages.analytics.sla_overall",
                    share=percent(total.within_sla_share),
                    within=total.within_sla,
                    decided=total.decided,
                ),
                bars=bars(services(lambda r: r.within_sla_share or 0, lambda r: percent(r.within_sla_share)), 1.0),
                colour="#1b7f3b",
            ),
            Chart(
                id="median",
                title=t("pages.analytics.median"),
                summary=t("pages.analytics.median_overall", days=days_text(total.median_days)),
                bars=bars(services(lambda r: r.median_days or 0, lambda r: days_text(r.median_days))),
                colour="#9a6a00",
            ),
            Chart(
                id="backlog",
                title=t("pages.analytics.backlog"),
                summary=t("pages.analytics.backlog_total", total=backlog.total, overdue=backlog.overdue),
                bars=bars([(label, n, str(n)) for label, n in backlog.buckets]),
                vertical=True,
                colour="#b3261e",
            ),
            Chart(
                id="satisfaction",
                title=t("pages.analytics.satisfaction"),
                summary=rating,
                bars=bars([(t(f"pages.score.{s}"), n, str(n)) for s, n in rated.by_score]),
                colour="#6a3ab2",
            ),
        ]

    def decision_table(rows: Sequence[DecisionRow], name: Any) -> list[tuple[str, int, str, str]]:
        return [(name(r.key), r.decided, percent(r.within_sla_share), days_text(r.median_days)) for r in rows]

    async def analytics_page(request: Request) -> Response:
        found = await officer_or_redirect(request, access)
        if isinstance(found, Response):
            return found
        officer, session = found
        language = language_of(request)
        scope = scope_of(officer)
        overview = await cache.overview(scope, platform.clock.now())
        return pages.render(
            "analytics.html",
            request,
            **frame(officer, session),
            scope=scope_text(scope, language),
            window_days=(overview.now - overview.since).days,
            weeks=overview.weeks,
            charts=charts(overview, language),
            services=decision_table(overview.by_service, lambda k: service_name(k or "", language)),
            districts=decision_table(overview.by_district, lambda k: place_name(k, language)),
            updated=local_time(overview.now),
        )

    async def analytics_csv(request: Request) -> Response:
        found = await officer_or_redirect(request, access)
        if isinstance(found, Response):
            return found
        officer, _ = found
        scope = scope_of(officer)
        overview = await cache.overview(scope, platform.clock.now())
        await access.record(
            officer,
            "export",
            None,
            {"what": "analytics.csv", "department": scope.department_id, "district": scope.district},
            client_ip(request),
        )
        body = analytics_csv_text(overview, lambda k: service_name(k, "en"), lambda k: place_name(k, "en"))
        stamp = overview.now.astimezone(IST).strftime("%Y%m%d")
        return Response(
            body.encode("utf-8-sig"),  # the byte-order mark makes spreadsheets read Telugu names as UTF-8
            media_type="text/csv; charset=utf-8",
            headers={
                **SECURITY_HEADERS,
                "Content-Disposition": f'attachment; filename="sevamitra-analytics-{stamp}.csv"',
            },
        )

    return [
        Route(DASHBOARD_PATH, inbox, methods=["GET"]),
        *poster_routes(platform, access, templates=pages),
        Route(f"{DASHBOARD_PATH}/bulk-approve", bulk_approve, methods=["POST"]),
        Route(f"{DASHBOARD_PATH}/analytics", analytics_page, methods=["GET"]),
        Route(f"{DASHBOARD_PATH}/analytics.csv", analytics_csv, methods=["GET"]),
        Route(f"{DASHBOARD_PATH}/applications/{{reference}}", application, methods=["GET"]),
        Route(f"{DASHBOARD_PATH}/applications/{{reference}}/documents/{{field_id}}", document, methods=["GET"]),
        Route(
            f"{DASHBOARD_PATH}/applications/{{reference}}/attachments/{{attachment_id:int}}",
            attachment,
            methods=["GET"],
        ),
        Route(f"{DASHBOARD_PATH}/applications/{{reference}}/{{action}}", decide, methods=["POST"]),
    ]


def analytics_csv_text(overview: Overview, service_name: Any, place_name: Any) -> str:
    """The analytics as one long table: metric, dimension, key, name, week, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["metric", "dimension", "key", "name", "week", "value"])
    names = {"service": service_name, "district": place_name, "department": lambda k: k}
    for dimension, rows in overview.weekly.items():
        for row in rows:
            key = row.key or ""
            name = names[dimension](key) if key else ""
            writer.writerow(map(csv_cell, ["applications", dimension, key, name, row.week.isoformat(), row.count]))
    for group, decisions in (("all", [overview.total]), ("service", overview.by_service)):
        for r in decisions:
            _decision_csv(writer, group, r, service_name(r.key) if r.key else "")
    for r in overview.by_district:
        _decision_csv(writer, "district", r, place_name(r.key) if r.key else "")
    for label, count in overview.backlog.buckets:
        writer.writerow(map(csv_cell, ["backlog", "age_days", label, "", "", count]))
    writer.writerow(map(csv_cell, ["backlog_overdue", "all", "", "", "", overview.backlog.overdue]))
    for score, count in overview.satisfaction.by_score:
        writer.writerow(map(csv_cell, ["ratings", "score", score, "", "", count]))
    average = overview.satisfaction.average
    writer.writerow(map(csv_cell, ["rating_average", "all", "", "", "", "" if average is None else average]))
    return out.getvalue()


def _decision_csv(writer: Any, dimension: str, row: DecisionRow, name: str) -> None:
    key = row.key or ""
    writer.writerow(map(csv_cell, ["decided", dimension, key, name, "", row.decided]))
    writer.writerow(map(csv_cell, ["decided_within_sla", dimension, key, name, "", row.within_sla]))
    share = "" if row.within_sla_share is None else round(row.within_sla_share, 4)
    writer.writerow(map(csv_cell, ["within_sla_share", dimension, key, name, "", share]))
    median = "" if row.median_days is None else row.median_days
    writer.writerow(map(csv_cell, ["median_days", dimension, key, name, "", median]))


def _totals(rows: Sequence[Any]) -> list[tuple[str, int]]:
    """Weekly counts summed per key, largest first (rows without a key left out)."""
    totals: dict[str, int] = {}
    for row in rows:
        if row.key:
            totals[row.key] = totals.get(row.key, 0) + row.count
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


def _services_for(officer: Officer, services: Sequence[Service], language: str) -> list[tuple[str, str]]:
    """The services to filter the inbox by: those whose approvers include the officer's role
    (administrators: every reviewed service of their scope), by name."""
    if officer.is_admin:
        chosen = [
            s
            for s in services
            if s.delivery.kind == "reviewed"
            and (officer.role != "department_admin" or s.department_id == officer.department_id)
        ]
    else:
        chosen = [s for s in services if officer.role in s.delivery.approvers]
    return sorted(((s.id, s.name(language)) for s in chosen), key=lambda item: item[1])


def _files(value: object) -> list[Mapping[str, Any]]:
    """The citizen's files in an answer: one document or voice note, or several photos."""
    found = value if isinstance(value, list) else [value]
    return [v for v in found if isinstance(v, Mapping) and v.get("media_id")]


def _field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


async def _review_of(action: str, form: FormData) -> Review | str:
    """The submitted action as a `Review`, or why the form will not do."""
    message = (_field(form, "message") or "").strip()[:MAX_TEXT]
    if action == "reject":
        return Review(action="reject", reason=_field(form, "reason") or "", message=message)
    if action == "return":
        chosen = tuple(dict.fromkeys(v for v in form.getlist("fields") if isinstance(v, str)))
        return Review(action="return", fields=chosen, message=message)
    if action in ("note", "approve"):  # a field-verification photo, or a grievance's after photo
        photo: tuple[str, bytes] | None = None
        upload = form.get("photo")
        if isinstance(upload, UploadFile):
            data = await upload.read(MAX_PHOTO_BYTES + 1)
            if data:
                content_type = photo_type(data)
                if content_type is None or len(data) > MAX_PHOTO_BYTES:
                    return PHOTO_PROBLEM
                photo = (content_type, data)
        return Review(action="note" if action == "note" else "approve", message=message, photo=photo)
    if action == "reroute":
        return Review(action="reroute", place=(_field(form, "place") or "").strip(), message=message)
    return Review(action="forward")


async def _bounded_form(request: Request, *, max_fields: int) -> FormData | None:
    """The request's form (URL-encoded or multipart) when its body is at most MAX_FORM_BYTES, else None."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return {"type": "http.disconnect"}
        replayed = True
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    return await Request(request.scope, replay).form(max_files=1, max_fields=max_fields, max_part_size=MAX_PHOTO_BYTES)
