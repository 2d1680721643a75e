"""Payment webhooks, and the simulated gateway's page (development and tests).

`POST /webhooks/payments/{provider}` checks the provider's signature on the raw body before
reading it (401 missing, 403 bad), then settles the events in the request: each is recorded once
with everything it causes, so the provider's retries are harmless and the answer means "durable".
"""

from __future__ import annotations

import logging
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sevamitra.actions.pay import settle, start_for
from sevamitra.bootstrap.payments import PaymentsWiring
from sevamitra.core.payments import (
    MalformedWebhook,
    PaymentRecord,
    PaymentStatus,
    ProviderError,
    SignatureMissing,
    WebhookRejected,
    format_paise,
    pay_token_valid,
)
from sevamitra.web.csp import html_policy
from sevamitra.web.templating import SECURITY_HEADERS

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 1024 * 1024  # providers' events are a few KiB
PAGE_LANGUAGES = ("te", "en")
SIMULATED = "simulated"


def _policy(page: str) -> dict[str, str]:
    return {"Content-Security-Policy": html_policy(page)}  # the page's own <style> by hash


def payment_routes(wiring: PaymentsWiring) -> list[BaseRoute]:
    texts = wiring.context.texts

    async def webhook(request: Request) -> Response:
        parse = wiring.webhooks.get(request.path_params["provider"])
        if parse is None:
            return PlainTextResponse("unknown payment provider", status_code=404)
        raw = await request.body()
        if len(raw) > MAX_WEBHOOK_BYTES:
            return PlainTextResponse("too large", status_code=413)
        try:
            events = parse(raw, request.headers)
        except SignatureMissing:
            return PlainTextResponse("missing signature", status_code=401)
        except MalformedWebhook:
            return PlainTextResponse("unreadable event", status_code=400)
        except WebhookRejected:
            return PlainTextResponse("bad signature", status_code=403)
        applied = await settle(wiring.payments, events, wiring.context, wiring.maker, wiring.clock.now())
        return JSONResponse({"events": len(applied), "changed": sum(a.outcome == "changed" for a in applied)})

    def both(key: str, **params: object) -> str:
        return "<br>".join(
            f'<span lang="{lang}">{escape(texts.get(lang, key, **params))}</span>' for lang in PAGE_LANGUAGES
        )

    def page(body: str, status_code: int = 200) -> HTMLResponse:
        html = (
            '<!doctype html><html lang="te"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(texts.get('en', 'pay.sim.title'))}</title><style>"
            "body{font-family:system-ui,'Noto Sans Telugu',sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}"
            "dt{color:#555;font-size:.9rem}dd{margin:0 0 .8rem;font-size:1.1rem}"
            ".note{background:#fff7e0;padding:.6rem;border-radius:.4rem}"
            "button{font-size:1.1rem;padding:.6rem 1.4rem;margin-right:.6rem;border-radius:.4rem;border:0}"
            ".pay{background:#1b7f3b;color:#fff}.fail{background:#ddd}"
            f"</style></head><body><h1>{both('pay.sim.title')}</h1>{body}</body></html>"
        )
        return HTMLResponse(html, status_code=status_code, headers={**SECURITY_HEADERS, **_policy(html)})

    async def simulated(request: Request) -> PaymentRecord | None:
        payment = await wiring.payments.by_provider_ref(request.path_params["provider_ref"])
        return payment if payment is not None and payment.provider == SIMULATED else None

    async def sim_page(request: Request) -> Response:
        payment = await simulated(request)
        if payment is None:
            return page(f"<p>{both('pay.sim.not_found')}</p>", status_code=404)
        rows = "".join(
            f"<dt>{both(label)}</dt><dd>{escape(value)}</dd>"
            for label, value in (
                ("pay.sim.amount", format_paise(payment.amount_paise)),
                ("pay.sim.purpose", payment.purpose),
                ("pay.sim.reference", payment.reference),
            )
        )
        status = (
            f'<p class="status" data-status="{payment.status.value}">{both(f"pay.sim.status.{payment.status}")}</p>'
        )
        form = ""
        if payment.status in (PaymentStatus.CREATED, PaymentStatus.FAILED):
            form = (
                '<form method="post">'
                f'<button class="pay" name="outcome" value="paid">{both("pay.sim.pay")}</button>'
                f'<button class="fail" name="outcome" value="failed">{both("pay.sim.fail")}</button></form>'
            )
        return page(f'<p class="note">{both("pay.sim.note")}</p><dl>{rows}</dl>{status}{form}')

    async def sim_press(request: Request) -> Response:
        payment = await simulated(request)
        if payment is None or wiring.simulator is None:
            return PlainTextResponse("no such payment", status_code=404)
        outcome = (await request.form()).get("outcome")
        if outcome not in ("paid", "failed"):
            return PlainTextResponse("choose Pay or Fail", status_code=400)
        answered = await wiring.simulator.complete(
            payment, "paid" if outcome == "paid" else "failed", wiring.clock.now()
        )
        if answered >= 400:
            log.error("the payment webhook answered the simulated gateway with HTTP %s", answered)
        return RedirectResponse(str(request.url), status_code=303)

    async def pay(request: Request) -> Response:
        """The chat's pay link: start (or resume) the order, then on to the provider's page."""
        reference = request.path_params["reference"]
        provider = wiring.provider
        if provider is None or not pay_token_valid(wiring.link_key, reference, request.query_params.get("t", "")):
            return page(f"<p>{both('pay.sim.not_found')}</p>", status_code=404)
        try:
            started = await start_for(
                wiring.payments,
                provider,
                wiring.context,
                reference,
                wiring.clock.now(),
                valid_for=wiring.link_valid_for,
            )
        except ProviderError:
            log.exception("the payment provider could not create an order for %s", reference)
            return page(f"<p>{both('pay.unavailable')}</p>", status_code=503)
        if started is None:
            return page(f"<p>{both('pay.sim.not_found')}</p>", status_code=404)
        if started.already_paid:
            return page(f"<p>{both('pay.already_paid', reference=reference)}</p>")
        if started.link is None:  # paid inside WhatsApp: there is no page to send the citizen to
            return PlainTextResponse("this payment is made in WhatsApp", status_code=409)
        return RedirectResponse(started.link, status_code=303)

    routes: list[BaseRoute] = [Route("/webhooks/payments/{provider}", webhook, methods=["POST"])]
    if wiring.provider is not None and wiring.link_key:
        routes.append(Route("/pay/{reference}", pay, methods=["GET"]))
    if wiring.simulator is not None:
        routes += [
            Route("/pay/sim/{provider_ref}", sim_page, methods=["GET"]),
            Route("/pay/sim/{provider_ref}", sim_press, methods=["POST"]),
        ]
    return routes
