"""The dashboard's HTML: Jinja2 templates (autoescaped) with its texts in Telugu or English.

The language comes from `?lang=` (which is then remembered in a cookie), else the `lang`
cookie, else Telugu. Templates see `t(key, **params)`, `lang`, `lang_url(code)`,
`role_name(role)` and whatever the page passes (the header shows `officer` and, for the
sign-out form, `session`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from sevamitra.bootstrap import load_texts
from sevamitra.core.texts import MissingText, Texts
from sevamitra.web.csp import html_policy

TEMPLATES_DIR = Path(__file__).resolve().with_name("templates")
LANGUAGES = ("te", "en")
DEFAULT_LANGUAGE = "te"
LANGUAGE_COOKIE = "lang"
DASHBOARD_PATH = "/dashboard"

# Same-origin everything, no framing, no plugins. A page's own inline CSS is allowed by its hash when it is
# rendered (`html_policy`); this is the policy of what carries none (text, CSV, PDF).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-store",  # officers' pages hold personal data: never kept by a browser or proxy
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def language_of(request: Request) -> str:
    """The page language: `?lang=`, else the `lang` cookie, else Telugu."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if chosen in LANGUAGES:
            return chosen
    return DEFAULT_LANGUAGE


class Templates:
    """The Jinja2 environment and the texts it renders with."""

    def __init__(self, texts: Texts, directory: Path = TEMPLATES_DIR) -> None:
        self.texts = texts
        self.environment = Environment(
            loader=FileSystemLoader(directory),
            autoescape=True,
            undefined=StrictUndefined,  # a misspelt variable fails the test, not the page silently
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def text(self, language: str, key: str, /, **params: object) -> str:
        return self.texts.get(language, key, **params)

    def role_name(self, language: str, role: str) -> str:
        """A role's name from `role.<role>` (catalogue/locales/*/roles.yaml), else its id made readable."""
        try:
            return self.texts.get(language, f"role.{role}")
        except MissingText:
            return role.replace("_", " ").capitalize()

    def render(
        self,
        template: str,
        request: Request,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """A page in the request's language, with the dashboard's security headers."""
        lang = language_of(request)

        def t(key: str, /, **params: object) -> str:
            return self.text(lang, key, **params)

        def lang_url(code: str) -> str:
            """This page in another language, its other query parameters kept."""
            kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
            return f"{request.url.path}?{urlencode([*kept, ('lang', code)])}"

        page = self.environment.get_template(template).render(
            {
                "request": request,
                "lang": lang,
                "languages": LANGUAGES,
                "t": t,
                "lang_url": lang_url,
                "role_name": lambda role: self.role_name(lang, role),
                "officer": None,
                "session": None,
                **context,
            }
        )
        policy = {"Content-Security-Policy": html_policy(page)}  # its inline <style> blocks by hash
        response = HTMLResponse(
            page, status_code=status_code, headers={**SECURITY_HEADERS, **policy, **(headers or {})}
        )
        if request.query_params.get("lang") in LANGUAGES and request.cookies.get(LANGUAGE_COOKIE) != lang:
            response.set_cookie(
                LANGUAGE_COOKIE,
                lang,
                max_age=365 * 24 * 3600,
                path=DASHBOARD_PATH,
                samesite="lax",
                httponly=True,
                secure=request.url.scheme == "https",
            )
        return response


@functools.cache
def default_templates() -> Templates:
    """Templates with the texts of the shipped catalogue, loaded on first use (not at import)."""
    return Templates(load_texts())


def render(template: str, request: Request, **context: Any) -> HTMLResponse:
    """Render with `default_templates()`; pass `Templates(platform.context.texts)` around instead
    where CATALOGUE_DIR may point elsewhere."""
    return default_templates().render(template, request, **context)
