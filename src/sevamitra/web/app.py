"""The ASGI app: the WhatsApp webhook, health and metrics, a landing page, and the emulator in development."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from sevamitra.bootstrap import Platform, SignatureCheck
from sevamitra.web.auth import auth_routes
from sevamitra.web.broadcasts import broadcast_routes
from sevamitra.web.charter import charter_routes
from sevamitra.web.dashboard import dashboard_routes
from sevamitra.web.landing import landing_page
from sevamitra.web.log import routes as log_routes
from sevamitra.web.payments import payment_routes
from sevamitra.web.photos import photo_routes
from sevamitra.web.probes import probe_routes
from sevamitra.web.requestids import RequestIds
from sevamitra.web.templating import Templates
from sevamitra.web.verification import routes as verification_routes

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 3 * 1024 * 1024  # Meta's updates are a few KiB; anything this big is not Meta


def create_app(platform: Platform, *, run_worker: bool = True, emulator: Starlette | None = None) -> Starlette:
    settings = platform.settings
    verify_token = settings.whatsapp_verify_token.get_secret_value()

    async def handshake(request: Request) -> Response:
        params = request.query_params
        token = params.get("hub.verify_token", "")
        if params.get("hub.mode") == "subscribe" and hmac.compare_digest(token.encode(), verify_token.encode()):
            return PlainTextResponse(params.get("hub.challenge", ""))
        return PlainTextResponse("verification failed", status_code=403)

    async def webhook(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_WEBHOOK_BYTES:
            return PlainTextResponse("too large", status_code=413)
        check = platform.check_signature(raw, request.headers.get("x-hub-signature-256"))
        if check is not SignatureCheck.VALID:
            platform.metrics.count("webhook_deliveries", outcome="bad_signature")
            if check is SignatureCheck.MISSING:
                return PlainTextResponse("missing X-Hub-Signature-256", status_code=401)
            return PlainTextResponse("bad signature", status_code=403)
        try:
            await platform.receive(raw)  # durable before we answer
        except Exception:  # not stored, so not acknowledged: Meta delivers it again
            log.exception("storing a WhatsApp webhook delivery failed")
            return PlainTextResponse("not stored; retry", status_code=503)
        try:
            await platform.settle_payments(raw)  # payments settle now: each event once, so a retry is harmless
        except Exception:  # anything unsettled must come again: Meta redelivers what is not answered 200
            log.exception("settling WhatsApp payment statuses failed")
            return PlainTextResponse("payment not settled; retry", status_code=503)
        return PlainTextResponse("OK")

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
    routes: list[BaseRoute] = [
        Route("/", landing),
        Route("/health", health),
        *probe_routes(platform),
        Route("/webhooks/whatsapp", handshake, methods=["GET"]),
        Route("/webhooks/whatsapp", webhook, methods=["POST"]),
        *verification_routes(platform.verification, platform.context.texts),
        *log_routes(platform.settings.log_dir, platform.transparency.vkey),
        *auth_routes(platform.access, templates),
        *dashboard_routes(platform, platform.access, templates=templates),
        *charter_routes(platform, templates=templates),
        *photo_routes(platform),
        *payment_routes(platform.payments),
        *broadcast_routes(platform, platform.access, templates),
    ]
    if emulator is not None:
        routes.append(Mount("/emulator", app=emulator))
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(RequestIds)])
    if settings.tracing:  # imported only when asked for: OpenTelemetry is an optional extra
        from sevamitra.adapters.tracing import install_tracing

        install_tracing(app, "sevamitra")
    return app
