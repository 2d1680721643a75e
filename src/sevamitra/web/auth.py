"""Officers' sign-in pages (password, then a TOTP code), sign-out, and the guard every dashboard page uses.

The session cookie is HttpOnly, SameSite=Strict and scoped to /dashboard (Secure over HTTPS):
no script reads it and no other site's page sends it. On top of that, every state-changing
request must come from our own pages (the browser's Sec-Fetch-Site, else Origin), and every one
made with a session must carry that session's CSRF token.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sevamitra.bootstrap.officials_auth import OfficerAccess, SessionRow, SignInRefused
from sevamitra.core.officers import Officer
from sevamitra.web.forms import small_form
from sevamitra.web.templating import DASHBOARD_PATH, Templates, default_templates

SESSION_COOKIE = "sevamitra_session"
LOGIN_PATH = f"{DASHBOARD_PATH}/login"
TOTP_PATH = f"{DASHBOARD_PATH}/totp"
LOGOUT_PATH = f"{DASHBOARD_PATH}/logout"
HOME_PATH = DASHBOARD_PATH
SAFE_METHODS = frozenset({"GET", "HEAD"})
MAX_FORM_BYTES = 8 * 1024  # a username, a password (at most 1,024 characters) and a token or two
NOTICES = {"signed_out": "dashboard.signed_out", "ended": "dashboard.session_ended"}  # ?notice= on the login page


def client_ip(request: Request) -> str | None:
    """The client's address (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return request.client.host if request.client else None


def check_csrf(session: SessionRow, submitted: str | None) -> bool:
    """Whether a form's CSRF token is the session's, compared in constant time."""
    if not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode(), submitted.encode())


def same_origin(request: Request) -> bool:
    """Whether a request comes from our own pages, by the browser's word: Sec-Fetch-Site where the
    browser sends it, else Origin against Host. A client that sends neither is no browser, so it
    carries no cookies it was not given, and passes."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")  # "none": the officer typed the address or used a bookmark
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin != "null" and urlsplit(origin).netloc == request.headers.get("host")


async def officer_or_redirect(request: Request, access: OfficerAccess) -> tuple[Officer, SessionRow] | Response:
    """The signed-in officer and their session, or the response to send instead: for GET a 303 to
    the sign-in page (no session) or to the code page (second factor pending); for any other
    method a bare 401 or 403 that carries no data, and 403 for a request from another site.
    Pages that change anything must still `check_csrf` the submitted token."""
    safe = request.method in SAFE_METHODS
    if not safe and not same_origin(request):
        return PlainTextResponse("cross-site request refused", status_code=403)
    token = request.cookies.get(SESSION_COOKIE)
    found = await access.officer_for(token, second_factor=False) if token else None
    if found is None:
        if not safe:
            return PlainTextResponse("sign in first", status_code=401)
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        if token:
            _forget_session(response, request)
        return response
    if not found[1].second_factor:
        if not safe:
            return PlainTextResponse("enter your one-time code first", status_code=403)
        return RedirectResponse(TOTP_PATH, status_code=303)
    return found


def auth_routes(access: OfficerAccess, templates: Templates | None = None) -> list[BaseRoute]:
    """`/dashboard/login`, `/dashboard/totp` and `/dashboard/logout`. Pass the platform's
    `Templates(platform.context.texts)`; without it the shipped catalogue's texts are used."""
    pages = templates or default_templates()

    def login_page(
        request: Request,
        status_code: int = 200,
        *,
        error: str | None = None,
        notice: str | None = None,
        username: str = "",
    ) -> Response:
        return pages.render(
            "login.html", request, status_code=status_code, error=error, notice=notice, username=username
        )

    def totp_page(request: Request, session: SessionRow, status_code: int = 200, error: str | None = None) -> Response:
        return pages.render("totp.html", request, status_code=status_code, session=session, error=error)

    async def login(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if request.method in SAFE_METHODS:
            if token and await access.officer_for(token) is not None:
                return RedirectResponse(HOME_PATH, status_code=303)
            return login_page(request, notice=NOTICES.get(request.query_params.get("notice", "")))
        # No CSRF token on this form: there is no session yet to tie one to, and a token in a
        # cookie of its own would guard nothing that the checks here do not. What a forged
        # sign-in could do is sign the officer's browser into another account ("login CSRF").
        # That is refused by `same_origin` (another site's form carries Sec-Fetch-Site:
        # cross-site, or its Origin), and even a forged sign-in would only get a half session: its
        # cookie is SameSite=Strict, so it is not sent on the navigation another site starts, and
        # the code page that completes it demands the session's own CSRF token.
        if not same_origin(request):
            return PlainTextResponse("cross-site request refused", status_code=403)
        form = await small_form(request, MAX_FORM_BYTES)
        if form is None:
            return PlainTextResponse("form too large", status_code=413)
        username = form.get("username", "").strip().lower()
        result = await access.sign_in(username, form.get("password", ""), client_ip(request))
        if isinstance(result, SignInRefused):
            return login_page(request, status_code=403, error="dashboard.sign_in.refused", username=username[:64])
        if token:  # whatever session this browser had before ends here
            await access.sessions.end(token)
        response = RedirectResponse(TOTP_PATH, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            result.token,
            max_age=int(access.session_ttl.total_seconds()),
            path=DASHBOARD_PATH,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        return response

    async def totp(request: Request) -> Response:
        safe = request.method in SAFE_METHODS
        if not safe and not same_origin(request):
            return PlainTextResponse("cross-site request refused", status_code=403)
        token = request.cookies.get(SESSION_COOKIE) or ""
        found = await access.officer_for(token, second_factor=False) if token else None
        response: Response
        if found is None:
            response = RedirectResponse(f"{LOGIN_PATH}?notice=ended" if token else LOGIN_PATH, status_code=303)
            _forget_session(response, request)
            return response
        session = found[1]
        if session.second_factor:
            return RedirectResponse(HOME_PATH, status_code=303)
        if safe:
            return totp_page(request, session)
        form = await small_form(request, MAX_FORM_BYTES)
        if form is None:
            return PlainTextResponse("form too large", status_code=413)
        if not check_csrf(session, form.get("csrf")):
            return totp_page(request, session, status_code=403, error="dashboard.form_expired")
        if await access.second_factor(token, form.get("code", ""), client_ip(request)):
            return RedirectResponse(HOME_PATH, status_code=303)
        if await access.officer_for(token, second_factor=False) is None:  # too many wrong codes
            response = login_page(request, status_code=403, error="dashboard.totp.too_many")
            _forget_session(response, request)
            return response
        return totp_page(request, session, status_code=403, error="dashboard.totp.wrong")

    async def logout(request: Request) -> Response:
        if not same_origin(request):
            return PlainTextResponse("cross-site request refused", status_code=403)
        token = request.cookies.get(SESSION_COOKIE) or ""
        found = await access.officer_for(token, second_factor=False) if token else None
        if found is None:
            response = RedirectResponse(LOGIN_PATH, status_code=303)
            _forget_session(response, request)
            return response
        form = await small_form(request, MAX_FORM_BYTES)
        if form is None:
            return PlainTextResponse("form too large", status_code=413)
        if not check_csrf(found[1], form.get("csrf")):
            return PlainTextResponse("form expired: open the page again", status_code=403)
        await access.sign_out(token, client_ip(request))
        response = RedirectResponse(f"{LOGIN_PATH}?notice=signed_out", status_code=303)
        _forget_session(response, request)
        return response

    return [
        Route(LOGIN_PATH, login, methods=["GET", "POST"]),
        Route(TOTP_PATH, totp, methods=["GET", "POST"]),
        Route(LOGOUT_PATH, logout, methods=["POST"]),
    ]


def _forget_session(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=DASHBOARD_PATH, secure=request.url.scheme == "https", httponly=True, samesite="strict"
    )
