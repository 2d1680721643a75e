"""The platform's public HTTP API as OpenAPI 3.1, served at `GET /openapi.json`.

It covers what machines call: the WhatsApp and payment webhooks, the verification API and its
pages, the transparency log's tiles, the public charter and the probes. The officials' dashboard
(HTML behind a session and CSRF tokens) has its own document, not served (`web.openapi_officers`);
the emulator is left out. The document lists only
the operations this process serves (`/metrics`, the pay pages and the simulated gateway are
optional), so it never describes a route that would answer 404.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib.metadata import version
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

OPENAPI_PATH = "/openapi.json"
JsonObject = dict[str, Any]

TEXT = "text/plain"
HTML = "text/html"
JSON = "application/json"
STRING: JsonObject = {"type": "string"}
VERDICTS = ["valid", "altered", "revoked", "superseded", "expired", "unknown_key", "unreadable"]


def media(media_type: str, schema: JsonObject | None = None) -> JsonObject:
    return {media_type: {"schema": schema or STRING}}


def answer(description: str, media_type: str = TEXT, schema: JsonObject | None = None) -> JsonObject:
    return {"description": description, "content": media(media_type, schema)}


def path_parameter(name: str, description: str) -> JsonObject:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": STRING}


def query_parameter(name: str, description: str, schema: JsonObject | None = None) -> JsonObject:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema or STRING}


def header_parameter(name: str, description: str) -> JsonObject:
    return {"name": name, "in": "header", "required": False, "description": description, "schema": STRING}


def operation(summary: str, tag: str, responses: JsonObject, **more: Any) -> JsonObject:
    return {"summary": summary, "tags": [tag], "responses": responses, **more}


def object_schema(properties: JsonObject, required: Iterable[str] = ()) -> JsonObject:
    return {"type": "object", "properties": properties, "required": list(required)}


STATUS = object_schema({"status": {"const": "ok"}}, ["status"])
UNAVAILABLE = object_schema({"status": {"const": "unavailable"}, "reason": STRING}, ["status", "reason"])
NULLABLE_STRING: JsonObject = {"type": ["string", "null"]}
NULLABLE_INTEGER: JsonObject = {"type": ["integer", "null"]}
BY_LANGUAGE: JsonObject = {"type": "object", "additionalProperties": STRING}

HEX_HASH: JsonObject = {"type": "string", "pattern": "^0x[0-9a-f]{64}$"}
ANCHOR_SEEN = object_schema(
    {"chain": STRING, "chain_id": {"type": "integer"}, "block": {"type": "integer"}, "transaction": HEX_HASH},
    ["chain", "chain_id", "block", "transaction"],
)
LOG_STATUS = object_schema(
    {
        "state": {"enum": ["included", "pending", "missing", "failed"]},
        "entry": NULLABLE_INTEGER,
        "size": NULLABLE_INTEGER,
        "witnesses": {"type": "integer", "minimum": 0},
        "problem": STRING,
        "anchor": {"oneOf": [ANCHOR_SEEN, {"type": "null"}]},
    },
    ["state", "entry", "size", "witnesses", "problem", "anchor"],
)
ANCHORS = object_schema(
    {
        "chain": NULLABLE_STRING,
        "chain_id": NULLABLE_INTEGER,
        "account": NULLABLE_STRING,
        "anchors": {
            "type": "array",
            "items": object_schema(
                {
                    "size": {"type": "integer", "minimum": 1},
                    "checkpoint_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "state": {"enum": ["included", "confirmed"]},
                    "transaction": HEX_HASH,
                    "block": {"type": "integer", "minimum": 0},
                    "block_hash": HEX_HASH,
                    "anchored_at": STRING,
                },
                ["size", "checkpoint_sha256", "state", "transaction", "block", "block_hash", "anchored_at"],
            ),
        },
    },
    ["chain", "chain_id", "account", "anchors"],
)
CHECKED = object_schema(
    {
        "verdict": {"enum": VERDICTS},
        "reason": STRING,
        "certificate_number": STRING,
        "kind": STRING,
        "service_id": STRING,
        "issuer": STRING,
        "issued_at": {"type": "string", "format": "date-time"},
        "valid_until": {"type": ["string", "null"], "format": "date-time"},
        "holder": BY_LANGUAGE,
        "masked_ids": {"type": "object", "additionalProperties": STRING},
        "facts": {"type": "array", "items": {"type": "array", "items": STRING, "minItems": 2, "maxItems": 2}},
        "office": BY_LANGUAGE,
        "officer": STRING,
        "kid": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
        "log": {"oneOf": [LOG_STATUS, {"type": "null"}]},
    },
    ["verdict", "reason", "log"],
)
REFUSED_UPLOAD = object_schema({"verdict": {"const": "unreadable"}, "reason": STRING}, ["verdict", "reason"])
JWK = object_schema(
    {
        "kty": {"const": "OKP"},
        "crv": {"const": "Ed25519"},
        "kid": STRING,
        "x": STRING,
        "use": {"const": "sig"},
        "alg": {"const": "EdDSA"},
        "nbf": {"type": "integer"},
        "exp": {"type": "integer"},
        "status": {"enum": ["active", "retired", "revoked"]},
    },
    ["kty", "crv", "kid", "x", "nbf", "status"],
)
CHARTER_FIGURES: JsonObject = {
    "decided": {"type": "integer", "minimum": 0},
    "median_days": {"type": ["number", "null"]},
    "within_sla_share": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
}
CHARTER = object_schema(
    {
        "generated_at": {"type": "string", "format": "date-time"},
        "since": {"type": "string", "format": "date-time"},
        "window_days": {"type": "integer"},
        "services": {
            "type": "array",
            "items": object_schema(
                {
                    "id": STRING,
                    "name": BY_LANGUAGE,
                    "code": NULLABLE_STRING,
                    "department": object_schema({"id": STRING, "name": BY_LANGUAGE}, ["id", "name"]),
                    "delivery": {"enum": ["instant", "reviewed"]},
                    "fee": object_schema(
                        {
                            "kind": {"enum": ["free", "fixed", "per_unit", "rule"]},
                            "amount_inr": NULLABLE_INTEGER,
                            "unit": {"oneOf": [BY_LANGUAGE, {"type": "null"}]},
                            "rule": NULLABLE_STRING,
                            "text": BY_LANGUAGE,
                        },
                        ["kind", "amount_inr", "unit", "rule", "text"],
                    ),
                    "sla_days": {"type": "integer"},
                    "promised_minutes": {"type": "integer"},
                    "deemed_approval": {"type": "boolean"},
                    "link": NULLABLE_STRING,
                    "districts": {
                        "type": "array",
                        "items": object_schema(
                            {"district": STRING, "name": BY_LANGUAGE, **CHARTER_FIGURES},
                            ["district", "name", *CHARTER_FIGURES],
                        ),
                    },
                    **CHARTER_FIGURES,
                },
                ["id", "name", "code", "department", "delivery", "fee", "deemed_approval", "link", "districts"],
            ),
        },
    },
    ["generated_at", "since", "window_days", "services"],
)
# Meta's webhook update, loosely: the platform keeps whatever it cannot read rather than refuse it.
WHATSAPP_UPDATE = object_schema(
    {
        "object": {"type": "string", "examples": ["whatsapp_business_account"]},
        "entry": {
            "type": "array",
            "items": object_schema(
                {
                    "id": STRING,
                    "changes": {
                        "type": "array",
                        "items": object_schema({"field": {"type": "string", "examples": ["messages"]}, "value": {}}),
                    },
                },
            ),
        },
    },
    ["entry"],
)
QR_FORM = object_schema(
    {
        "file": {"type": "string", "contentMediaType": "application/octet-stream", "description": "photo or PDF"},
        "text": {"type": "string", "description": "the QR's text, pasted"},
    }
)
BAD_SIGNATURE: JsonObject = {
    "401": answer("no signature header"),
    "403": answer("the signature does not match the body"),
    "413": answer("the body is too large"),
}

PATHS: dict[str, dict[str, JsonObject]] = {
    "/webhooks/whatsapp": {
        "get": operation(
            "Meta's subscription handshake: echoes hub.challenge when hub.verify_token matches",
            "whatsapp",
            {"200": answer("the challenge, echoed"), "403": answer("verification failed")},
            parameters=[
                query_parameter("hub.mode", "`subscribe`"),
                query_parameter("hub.verify_token", "the verify token configured at Meta"),
                query_parameter("hub.challenge", "echoed back on success"),
            ],
        ),
        "post": operation(
            "A webhook delivery: stored in the inbox before the 200 (Meta redelivers anything else)",
            "whatsapp",
            {
                "200": answer("every item of the delivery is stored"),
                **BAD_SIGNATURE,
                "503": answer("not stored (or a payment not settled): Meta delivers it again"),
            },
            parameters=[header_parameter("X-Hub-Signature-256", "`sha256=` and the hex HMAC-SHA256 of the raw body")],
            requestBody={"required": True, "content": media(JSON, WHATSAPP_UPDATE)},
        ),
    },
    "/webhooks/payments/{provider}": {
        "post": operation(
            "A payment provider's signed event: each settled once, so retries are harmless",
            "payments",
            {
                "200": answer(
                    "events read and settled",
                    JSON,
                    object_schema(
                        {"events": {"type": "integer"}, "changed": {"type": "integer"}}, ["events", "changed"]
                    ),
                ),
                "400": answer("correctly signed but unreadable"),
                "404": answer("no such provider configured"),
                **BAD_SIGNATURE,
            },
            parameters=[
                path_parameter("provider", "`simulated`, `razorpay` or `whatsapp`"),
                header_parameter("X-Sim-Signature", "the simulated gateway's hex HMAC-SHA256 of the body"),
                header_parameter("X-Razorpay-Signature", "Razorpay's hex HMAC-SHA256 of the body"),
            ],
            requestBody={"required": True, "content": media(JSON, {"type": "object"})},
        ),
    },
    "/pay/{reference}": {
        "get": operation(
            "The chat's pay link: starts or resumes the order, then redirects to the provider's page",
            "payments",
            {
                "200": answer("already paid", HTML),
                "303": {"description": "on to the provider's page"},
                "404": answer("no such payment, or a bad token", HTML),
                "409": answer("this payment is made inside WhatsApp"),
                "503": answer("the provider could not create an order", HTML),
            },
            parameters=[
                path_parameter("reference", "the application's reference number"),
                query_parameter("t", "its token"),
            ],
        ),
    },
    "/pay/sim/{provider_ref}": {
        "get": operation(
            "The simulated gateway's page (development)",
            "payments",
            {"200": answer("the page", HTML), "404": answer("no such payment", HTML)},
            parameters=[path_parameter("provider_ref", "the simulated order's id")],
        ),
        "post": operation(
            "Pay or fail on the simulated gateway (development)",
            "payments",
            {
                "303": {"description": "back to the page"},
                "400": answer("neither Pay nor Fail"),
                "404": answer("no such payment"),
            },
            parameters=[path_parameter("provider_ref", "the simulated order's id")],
            requestBody={
                "content": media(
                    "application/x-www-form-urlencoded", object_schema({"outcome": {"enum": ["paid", "failed"]}})
                )
            },
        ),
    },
    "/api/verify": {
        "post": operation(
            "Verify a certificate from its QR text (JSON or form) or a photo or PDF of it (multipart)",
            "verification",
            {
                "200": answer("the verdict and what the signed payload says", JSON, CHECKED),
                "400": answer("a body that is not JSON, or not a form", JSON, REFUSED_UPLOAD),
                "422": answer("no QR code in the upload", JSON, REFUSED_UPLOAD),
            },
            requestBody={
                "required": True,
                "content": {
                    JSON: {"schema": object_schema({"qr_text": {"type": "string", "maxLength": 4096}}, ["qr_text"])},
                    "multipart/form-data": {"schema": QR_FORM},
                },
            },
        ),
    },
    "/V/{payload}": {
        "get": operation(
            "The QR's own link: the verdict page",
            "verification",
            {
                "200": answer("the verdict", HTML),
                "400": answer("not a certificate QR", HTML),
                "404": answer("a payload with a line break: no link of ours"),
            },
            parameters=[path_parameter("payload", "base32 of the COSE_Sign1 (docs/reference/qr-format.md)")],
        ),
    },
    "/verify": {
        "get": operation("The upload form", "verification", {"200": answer("the form", HTML)}),
        "post": operation(
            "Verify an upload or pasted text: the verdict page",
            "verification",
            {
                "200": answer("the verdict", HTML),
                "400": answer("a form that cannot be read"),
                "422": answer("no QR code in the upload", HTML),
            },
            requestBody={"required": True, "content": {"multipart/form-data": {"schema": QR_FORM}}},
        ),
    },
    "/verifier.html": {
        "get": operation(
            "The offline verifier: one HTML file with today's trust list",
            "verification",
            {
                "200": answer("the page", HTML),
            },
        ),
    },
    "/.well-known/sevamitra/keys.json": {
        "get": operation(
            "The trust list: the certificate keys as a JWK Set with their validity windows",
            "verification",
            {"200": answer("the JWK Set", JSON, object_schema({"keys": {"type": "array", "items": JWK}}, ["keys"]))},
        ),
    },
    "/.well-known/sevamitra/revocations.cbor": {
        "get": operation(
            "The signed revocation list (COSE_Sign1)",
            "verification",
            {"200": answer("the list", "application/cose", {"type": "string", "contentMediaType": "application/cose"})},
        ),
    },
    "/c/{token}.pdf": {
        "get": operation(
            "A certificate's PDF, behind its unguessable token",
            "verification",
            {
                "200": answer("the PDF", "application/pdf", {"type": "string", "contentMediaType": "application/pdf"}),
                "404": answer("no such certificate"),
            },
            parameters=[path_parameter("token", "the download token sent to the holder")],
        ),
    },
    "/p/{id}/{signature}.jpg": {
        "get": operation(
            "An officer's photo shown to a citizen, behind a signed link",
            "verification",
            {"200": {"description": "the photo, as uploaded"}, "404": answer("not found")},
            parameters=[path_parameter("id", "the attachment's id"), path_parameter("signature", "its HMAC")],
        ),
    },
    "/log/checkpoint": {
        "get": operation(
            "The transparency log's latest checkpoint: a signed note (C2SP tlog-checkpoint)",
            "transparency",
            {"200": answer("the signed checkpoint"), "404": answer("no checkpoint yet")},
        ),
    },
    "/log/anchors": {
        "get": operation(
            "Checkpoints anchored in a public chain: each checkpoint's size and SHA-256, the transaction, the block",
            "transparency",
            {"200": answer("the anchors mined so far, oldest first", "application/json", ANCHORS)},
        ),
    },
    "/log/vkey": {
        "get": operation("The log's verifier key (C2SP signed-note)", "transparency", {"200": answer("the key")}),
    },
    "/log/tile/{path}": {
        "get": operation(
            "A hash tile or entry bundle (C2SP tlog-tiles): `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`",
            "transparency",
            {
                "200": answer("the tile", "application/octet-stream", {"type": "string"}),
                "400": answer("not a tile path"),
                "404": answer("no such tile"),
            },
            parameters=[path_parameter("path", "the tile's path below tile/")],
        ),
    },
    "/charter": {
        "get": operation(
            "The citizen charter: every service's fee and promised time beside the measured ones",
            "charter",
            {"200": answer("the page", HTML)},
            parameters=[query_parameter("lang", "`te` or `en`")],
        ),
    },
    "/charter.json": {
        "get": operation("The citizen charter as JSON", "charter", {"200": answer("the charter", JSON, CHARTER)}),
    },
    "/": {"get": operation("The landing page", "probes", {"200": answer("the page", HTML)})},
    "/health": {"get": operation("Liveness (kept for old monitors)", "probes", {"200": answer("alive", JSON, STATUS)})},
    "/healthz": {"get": operation("Liveness: the process answers", "probes", {"200": answer("alive", JSON, STATUS)})},
    "/readyz": {
        "get": operation(
            "Readiness: the database answers and is migrated",
            "probes",
            {"200": answer("ready", JSON, STATUS), "503": answer("not ready", JSON, UNAVAILABLE)},
        ),
    },
    "/metrics": {
        "get": operation("Prometheus metrics", "probes", {"200": answer("the exposition", TEXT)}),
    },
    OPENAPI_PATH: {
        "get": operation("This document", "probes", {"200": answer("OpenAPI 3.1", JSON, {"type": "object"})}),
    },
}

_CONVERTER = re.compile(r"\{(\w+):\w+\}")


def served_operations(routes: Iterable[BaseRoute]) -> set[tuple[str, str]]:
    """(path as OpenAPI writes it, lower-case method) for each plain route; HEAD is implied by GET."""
    served = set()
    for route in routes:
        if isinstance(route, Route):
            path = _CONVERTER.sub(r"{\1}", route.path)
            served |= {(path, method.lower()) for method in route.methods or () if method != "HEAD"}
    return served


def openapi_document(served: set[tuple[str, str]]) -> JsonObject:
    """The OpenAPI document of the operations in `served` that it describes."""
    paths = {
        path: kept
        for path, operations in PATHS.items()
        if (kept := {method: op for method, op in operations.items() if (path, method) in served})
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Sevamitra",
            "version": version("sevamitra"),
            "description": "Citizen services over WhatsApp: webhooks, certificate verification, the transparency log.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": paths,
    }


def openapi_route(routes: Iterable[BaseRoute]) -> Route:
    """`GET /openapi.json`, describing `routes` and itself."""
    served = served_operations(routes) | {(OPENAPI_PATH, "get")}
    body = JSONResponse(openapi_document(served)).body

    async def document(_: Request) -> Response:
        return Response(body, media_type=JSON, headers={"Cache-Control": "public, max-age=300"})

    return Route(OPENAPI_PATH, document, methods=["GET"])
