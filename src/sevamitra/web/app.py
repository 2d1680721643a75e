"""The ASGI app: the WhatsApp webhook, health and metrics, a landing page, and the emulator in development."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Lifespan, Receive, Scope, Send

from sevamitra.bootstrap import Platform, SignatureCheck
from sevamitra.core.logcontext import REQUEST_ID, bound
from sevamitra.web.auth import auth_routes
from sevamitra.web.broadcasts import broadcast_routes
from sevamitra.web.charter import charter_routes
from sevamitra.web.dashboard import dashboard_routes
from sevamitra.web.deadletters import dead_letter_routes
from sevamitra.web.landing import landing_page
from sevamitra.web.limits import BodyLimit
from sevamitra.web.log import routes as log_routes
from sevamitra.web.openapi import openapi_route
from sevamitra.web.payments import payment_routes
from sevamitra.web.photos import photo_routes
from sevamitra.web.probes import probe_routes
from sevamitra.web.requestids import RequestIds, request_id
from sevamitra.web.security import HSTS, NOT_HTML_POLICY, CrossSiteGuard, SecurityHeaders
from sevamitra.web.templating import Templates
from sevamitra.web.verification import routes as verification_routes

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/whatsapp"
MAX_WEBHOOK_BYTES = 3 * 1024 * 1024  # the default of SEVAMITRA_WEBHOOK_MAX_BYTES: Meta's updates are a few KiB
EMULATOR_MAX_BYTES = 101 * 1024 * 1024  # the emulator's Graph API takes uploads up to Meta's 100 MB


def create_app(platform: Platform, *, run_worker: bool = True, emulator: Starlette | None = None) -> Starlette:
    settings = platform.settings
    verify_token = settings.whatsapp_verify_token.get_secret_value()

    async def handshake(request: Request) -> Response:
        params = request.query_params
        token = params.get("hub.verify_token", "")
        if params.get("hub.mode") == "subscribe" and hmac.compare_digest(token.encode(), verify_token.encode()):
            return PlainTextResponse(params.get("hub.challenge", ""))
        return PlainTextResponse("verification failed", status_code=403)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def landing(_: Request) -> Response:
        return HTMLResponse(landing_page(settings.public_url, emulator is not None))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await platform.start()
        stop = asyncio.Event()
        worker = asyncio.create_task(platform.run_worker(stop)) if run_worker else None
        try:
            yield
        finally:
            stop.set()
            platform.wake.set()
            if worker is not None:
                await worker
            if emulator is not None:
                await emulator.state.emulator.aclose()
            await platform.aclose()

    templates = Templates(platform.context.texts)
    webhook = Webhook(platform)
    routes: list[BaseRoute] = [
        Route(WEBHOOK_PATH, webhook, methods=["POST"]),  # first: the busiest route
        Route(WEBHOOK_PATH, handshake, methods=["GET"]),
        Route("/", landing),
        Route("/health", health),
        *probe_routes(platform),
        *verification_routes(platform.verification, platform.context.texts),
        *log_routes(platform.settings.log_dir, platform.transparency.vkey, platform.anchors),
        *auth_routes(platform.access, templates),
        *dashboard_routes(platform, platform.access, templates=templates),
        *charter_routes(platform, templates=templates),
        *photo_routes(platform),
        *payment_routes(platform.payments),
        *broadcast_routes(platform, platform.access, templates),
        *dead_letter_routes(platform, platform.access, templates),
    ]
    routes.append(openapi_route(routes))  # describes the routes above
    if emulator is not None:
        routes.append(Mount("/emulator", app=emulator))
    # traced, the webhook goes the long way round, through the tracing middleware like every route
    guards = [
        Middleware(SecurityHeaders, https=settings.public_url.startswith("https://")),
        Middleware(CrossSiteGuard),
        Middleware(BodyLimit, max_bytes=settings.request_max_bytes, prefixes={"/emulator": EMULATOR_MAX_BYTES}),
    ]
    app = App(webhook=None if settings.tracing else webhook, routes=routes, lifespan=lifespan, middleware=guards)
    if settings.tracing:  # imported only when asked for: OpenTelemetry is an optional extra
        from sevamitra.adapters.tracing import install_tracing

        install_tracing(app, "sevamitra")
    return app


_WEBHOOK_POST = (WEBHOOK_PATH, "POST")


class App(Starlette):
    """The platform's Starlette app, with the webhook's POSTs answered before its middleware stack (five
    layers of coroutines and send wrappers for one route that needs none of them)."""

    def __init__(
        self,
        *,
        webhook: Webhook | None,
        routes: list[BaseRoute],
        lifespan: Lifespan[Starlette],
        middleware: Sequence[Middleware] = (),  # after the request ids: headers, cross-site guard, body limit
    ) -> None:
        super().__init__(routes=routes, lifespan=lifespan, middleware=[Middleware(RequestIds), *middleware])
        self.webhook = webhook

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        webhook = self.webhook
        if webhook is not None and scope["type"] == "http" and (scope["path"], scope["method"]) == _WEBHOOK_POST:
            await webhook(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


_TEXT_PLAIN = b"text/plain; charset=utf-8"


class Webhook:
    """POST /webhooks/whatsapp as a bare ASGI app: the busiest route, so no Request or Response objects.

    The signature is checked on the raw body before anything is stored; a 200 means every item of
    the delivery is committed (see `SqlInbox`); anything not stored answers 5xx, so Meta delivers
    it again.
    """

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.max_bytes = platform.settings.webhook_max_bytes
        https = platform.settings.public_url.startswith("https://")
        # the headers every answer carries, built once: an API answer's share of the security headers (nothing
        # in it may be sniffed, run or framed); the page-only ones would cost every delivery for no one
        self.headers = [
            (b"content-type", _TEXT_PLAIN),
            (b"x-content-type-options", b"nosniff"),
            (b"content-security-policy", NOT_HTML_POLICY.encode()),
            *([(b"strict-transport-security", HSTS.encode())] if https else []),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = request_id(incoming)
        with bound(REQUEST_ID, rid):
            answer = await self.answer(scope, receive)
        if answer is None:  # the client went away before its body had come: no one to answer
            return
        status, text = answer
        # a new list each time: middleware (tracing) may append to it
        headers = [*self.headers, (b"content-length", str(len(text)).encode()), (b"x-request-id", rid.encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": text})

    async def answer(self, scope: Scope, receive: Receive) -> tuple[int, bytes] | None:
        platform = self.platform
        raw = await _body(receive, self.max_bytes)
        if raw is None:
            return None
        if len(raw) > self.max_bytes:
            return 413, b"too large"
        header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-hub-signature-256"), None)
        check = platform.check_signature(raw, header)
        if check is not SignatureCheck.VALID:
            platform.metrics.count("webhook_deliveries", outcome="bad_signature")
            if check is SignatureCheck.MISSING:
                return 401, b"missing X-Hub-Signature-256"
            return 403, b"bad signature"
        try:
            await platform.receive(raw)  # durable before we answer
        except Exception:  # not stored, so not acknowledged: Meta delivers it again
            log.exception("storing a WhatsApp webhook delivery failed")
            return 503, b"not stored; retry"
        if not _may_hold_payments(raw):
            return 200, b"OK"
        try:
            await platform.settle_payments(raw)  # payments settle now: each event once, so a retry is harmless
        except Exception:  # anything unsettled must come again: Meta redelivers what is not answered 200
            log.exception("settling WhatsApp payment statuses failed")
            return 503, b"payment not settled; retry"
        return 200, b"OK"


def _may_hold_payments(raw: bytes) -> bool:
    """False only for a body in which no JSON reader could find a payment status (`"type": "payment"`),
    so that most deliveries are parsed once. The word may be written with escapes of its ASCII letters
    (`\\u0070`), and a UTF-16 or UTF-32 body (which `json.loads` accepts) holds NUL bytes."""
    return b"payment" in raw or b"\\u00" in raw or b"\x00" in raw


async def _body(receive: Receive, limit: int) -> bytes | None:
    """The request body; reading stops once it is over `limit` bytes. None when the client disconnected."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit or not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
