"""The officers' interface as OpenAPI 3.1: the dashboard's pages and forms, behind a signed-in session.

Not served: it describes HTML pages and forms for a browser, not an API for machines, and a public
description of the administrators' routes would only help an attacker. It exists so that the
interface can be tested like the public API (`tests/e2e/test_openapi_officers.py` runs Schemathesis
against it with an officer's session) and read by whoever maintains it. Every state-changing form
carries the session's CSRF token (`csrf`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sevamitra.web.openapi import (
    HTML,
    STRING,
    JsonObject,
    answer,
    object_schema,
    operation,
    path_parameter,
    query_parameter,
)

TAG = "officers"
FORM = "application/x-www-form-urlencoded"
CSV = "text/csv"
PDF = "application/pdf"
SESSION: list[JsonObject] = [{"session": []}]

PAGE = {
    "200": answer("the page", HTML),
    "303": {"description": "to the sign-in page, without a signed-in session"},
    "403": answer("not this officer's role or place", HTML),
}
FOUND = {**PAGE, "404": answer("no such application, document or file")}
POSTED = {
    "303": {"description": "done: back to the page, with what happened in its query"},
    "400": answer("a form that will not do", HTML),
    "403": answer("no valid CSRF token, or not this officer's to do", HTML),
    "404": answer("no such application"),
    "413": answer("a form larger than its limit"),
    "422": answer("the decision cannot be taken in the application's present state", HTML),
}


def _form(properties: JsonObject, media_type: str = FORM) -> JsonObject:
    return {
        "required": True,
        "content": {media_type: {"schema": object_schema({"csrf": STRING, **properties}, ["csrf"])}},
    }


def _page(summary: str, *queries: JsonObject, responses: JsonObject = PAGE, **more: object) -> JsonObject:
    return operation(summary, TAG, responses, parameters=list(queries), security=SESSION, **more)


REFERENCE = path_parameter("reference", "the application's reference number")
OFFICER_PATHS: dict[str, JsonObject] = {
    "/dashboard": {
        "get": _page(
            "The inbox: applications at the officer's desk, by status, service and due date",
            query_parameter("status", "open, all, or one status"),
            query_parameter("service", "a service id"),
            query_parameter("due", "due before: today, week or overdue"),
            query_parameter("page", "the page, from 1"),
            query_parameter("done", "the action just done, for its notice"),
            query_parameter("approved", "how many a bulk approval approved"),
            query_parameter("failed", "how many it could not"),
        ),
    },
    "/dashboard/bulk-approve": {
        "post": _page(
            "Approve the chosen applications at once",
            responses=POSTED,
            requestBody=_form({"reference": STRING}),
        ),
    },
    "/dashboard/analytics": {"get": _page("Applications by service, place and SLA, for the officer's area")},
    "/dashboard/analytics.csv": {
        "get": _page("The same figures as CSV", responses={**PAGE, "200": answer("the figures", CSV)}),
    },
    "/dashboard/applications/{reference}": {
        "get": _page("One application: answers (masked), documents, history", REFERENCE, query_parameter("done", "")),
    },
    "/dashboard/applications/{reference}/documents/{field_id}": {
        "get": _page(
            "A document the citizen sent, as they sent it",
            REFERENCE,
            path_parameter("field_id", "the form field"),
            query_parameter("n", "which file of the field, from 0"),
            responses={**FOUND, "200": {"description": "the file"}},
        ),
    },
    "/dashboard/applications/{reference}/attachments/{attachment_id}": {
        "get": _page(
            "A photo an officer attached",
            REFERENCE,
            {**path_parameter("attachment_id", "the attachment"), "schema": {"type": "integer"}},
            responses={**FOUND, "200": {"description": "the photo"}},
        ),
    },
    "/dashboard/applications/{reference}/{action}": {
        "post": _page(
            "Decide: approve, reject, return for correction, forward, note, reroute",
            REFERENCE,
            path_parameter("action", "approve, reject, return, forward, note or reroute"),
            responses=POSTED,
            requestBody=_form(
                {"reason": STRING, "message": STRING, "fields": STRING, "place": STRING}, "multipart/form-data"
            ),
        ),
    },
    "/dashboard/posters": {
        "get": _page("Every service's link and QR poster", query_parameter("source", "a campaign tag"))
    },
    "/dashboard/posters/{service_id}.pdf": {
        "get": _page(
            "One service's printable poster",
            path_parameter("service_id", "the service"),
            query_parameter("size", "A4, A3 or A5"),
            query_parameter("source", "a campaign tag"),
            responses={**FOUND, "200": answer("the poster", PDF), "400": answer("an unknown size or tag")},
        ),
    },
    "/dashboard/broadcasts": {
        "get": _page("Alerts sent and the form to send one", query_parameter("sent", "how many were just queued")),
        "post": _page(
            "Send an alert to the citizens subscribed to a topic in an area",
            responses=POSTED,
            requestBody=_form({"topic": STRING, "area": STRING, "text": STRING, "emergency": STRING}),
        ),
    },
    "/dashboard/dead-letters": {
        "get": _page("Messages given up for good", query_parameter("retried", "how many were just queued again")),
    },
    "/dashboard/dead-letters/retry": {
        "post": _page("Queue one dead letter, or all, again", responses=POSTED, requestBody=_form({"id": STRING})),
    },
}


def officers_document(served: Iterable[tuple[str, str]]) -> JsonObject:
    """The officers' interface among `served` (path, method) as an OpenAPI document."""
    wanted = set(served)
    paths = {
        path: kept
        for path, operations in OFFICER_PATHS.items()
        if (kept := {method: op for method, op in operations.items() if (path, method) in wanted})
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Sevamitra: the officers' dashboard", "version": "1"},
        "components": {"securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "sevamitra_session"}}},
        "paths": paths,
    }
