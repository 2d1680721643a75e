"""Security headers on every answer, and no state-changing request from another site's page.

Every response gets `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, no framing
(`frame-ancestors 'none'`, `X-Frame-Options: DENY`) and, where the public URL is https, HSTS and only
`Secure` cookies (even when a proxy forgot to say the request came over https); the WhatsApp webhook,
answered before this middleware, sets an API answer's share itself (`web.app.Webhook`). An HTML
page gets a Content-Security-Policy without 'unsafe-inline': each inline `<style>` or `<script>` (and
`style` attribute) it carries is allowed by its SHA-256, so an injected one would not run. Pages are
rendered with autoescaping (Jinja2, `html.escape`), so no request can add such a block of its own.

`CrossSiteGuard` refuses any POST, PUT, PATCH or DELETE that the browser says comes from another
site's page (`Sec-Fetch-Site`, else `Origin`): a forged form is refused before any route reads it.
Servers (Meta, payment gateways, witnesses, API clients) send neither header and carry no one's
cookies; they pass here and prove themselves by signature where it matters. Forms of a signed-in
officer also carry the session's CSRF token (`web.auth.check_csrf`).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sevamitra.web.auth import SAFE_METHODS, same_origin
from sevamitra.web.csp import html_policy

HSTS = "max-age=63072000; includeSubDomains"  # two years, as hstspreload.org asks
NOT_HTML_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"  # JSON, text, files: nothing runs, no framing
FILE_POLICY = "frame-ancestors 'none'"  # a PDF or an image opened by the browser: no framing, the viewer left alone
COMMON: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # links carry tokens (pay links, certificate downloads): never passed on
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware: the headers above on every response that does not set its own."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https
        common = {**COMMON, **({"Strict-Transport-Security": HSTS} if https else {})}
        self.common = [(name.lower().encode(), value.encode()) for name, value in common.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None  # an HTML page's start, held until its body is read for the policy
        chunks: list[bytes] = []

        async def secured(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ())]  # the raw list, in one pass
                if self.https:  # a cookie of an https deployment is Secure, whatever the proxy told the app
                    headers = [_secure(name, value) for name, value in headers]
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self.common if name not in present]
                message["headers"] = headers
                if b"content-security-policy" in present:
                    await send(message)
                    return
                kind = _content_type(headers)
                if kind.startswith("text/html"):
                    held = message
                    return
                policy = FILE_POLICY if _is_file(kind) else NOT_HTML_POLICY
                headers.append((b"content-security-policy", policy.encode()))
                await send(message)
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            page_policy = html_policy(body.decode("utf-8", "replace"))
            held["headers"].append((b"content-security-policy", page_policy.encode()))
            await send(held)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, secured)


def _content_type(headers: list[tuple[bytes, bytes]]) -> str:
    return next((value for name, value in headers if name.lower() == b"content-type"), b"").decode("latin-1")


def _secure(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    if name.lower() != b"set-cookie" or b"secure" in (a.strip().lower() for a in value.split(b";")[1:]):
        return name, value
    return name, value + b"; Secure"


def _is_file(content_type: str) -> bool:
    """A document the browser shows with a viewer of its own (PDF, images, audio): `sandbox` would stop it."""
    kind = content_type.partition(";")[0].strip().lower()
    return kind == "application/pdf" or kind.split("/", 1)[0] in ("image", "audio", "video")


class CrossSiteGuard:
    """ASGI middleware: a state-changing request from another site's page is answered 403, unread."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS and scope["method"] != "OPTIONS":
            headers = Headers(scope=scope)
            if ("sec-fetch-site" in headers or "origin" in headers) and not same_origin(Request(scope)):
                refused = PlainTextResponse("cross-site request refused", status_code=403)
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)
