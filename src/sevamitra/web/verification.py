"""The public verification portal: the QR's URL, uploads, a JSON API, the trust and revocation lists."""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from sevamitra.bootstrap import Checked, Verification
from sevamitra.bootstrap.transparency import LogStatus
from sevamitra.core.certificates import Verdict
from sevamitra.core.texts import Texts

PAGE_LANGUAGES = ("te", "en")
MAX_TEXT = 4096
COLOURS = {Verdict.VALID: "#1b7f3b", Verdict.EXPIRED: "#9a6a00", Verdict.SUPERSEDED: "#9a6a00"}


def log_json(log: LogStatus | None) -> dict[str, Any] | None:
    if log is None:
        return None
    return {
        "state": log.state,
        "entry": log.position,
        "size": log.size,
        "witnesses": log.witnesses,
        "problem": log.problem,
        "anchor": _anchor_json(log),
    }


def _anchor_json(log: LogStatus) -> dict[str, Any] | None:
    anchor = log.anchor
    if anchor is None or anchor.inclusion is None or anchor.transaction is None:
        return None
    return {
        "chain": log.chain,
        "chain_id": anchor.chain_id,
        "block": anchor.inclusion.block,
        "transaction": "0x" + anchor.transaction.hash.hex(),
    }


def checked_json(checked: Checked) -> dict[str, Any]:
    """What `POST /api/verify` and `sevamitra verify --json` answer: only what the signed payload holds."""
    statement = checked.statement
    answer: dict[str, Any] = {"verdict": checked.verdict.value, "reason": checked.reason}
    if statement is not None:
        answer |= {
            "certificate_number": statement.number,
            "kind": statement.kind,
            "service_id": statement.service_id,
            "issuer": statement.issuer,
            "issued_at": statement.issued_at.isoformat(),
            "valid_until": statement.valid_until.isoformat() if statement.valid_until else None,
            "holder": dict(statement.holder),
            "masked_ids": dict(statement.masked_ids),
            "facts": [list(f) for f in statement.facts],
            "office": dict(statement.office),
            "officer": statement.officer,
        }
    if checked.kid is not None:
        answer["kid"] = checked.kid.hex()
    return answer


def _both(texts: Texts, key: str, **params: object) -> str:
    return "<br>".join(
        f'<span lang="{lang}">{escape(texts.get(lang, key, **params))}</span>' for lang in PAGE_LANGUAGES
    )


def _label(texts: Texts, key: str) -> str:
    """A fact's label in both languages when it is a text key, else as printed."""
    try:
        return " / ".join(escape(texts.get(lang, key)) for lang in PAGE_LANGUAGES)
    except KeyError:
        return escape(key.replace("_", " "))


def verdict_page(texts: Texts, checked: Checked, log: LogStatus | None = None) -> str:
    statement = checked.statement
    colour = COLOURS.get(checked.verdict, "#b3261e")
    rows: list[tuple[str, str]] = []
    if statement is not None and checked.verdict is not Verdict.UNREADABLE:
        rows.append((_both(texts, "verify.number"), escape(statement.number)))
        for lang, name in statement.holder.items():
            rows.append((_both(texts, "verify.holder"), f'<span lang="{escape(lang)}">{escape(name)}</span>'))
        rows += [(escape(kind), escape(value)) for kind, value in statement.masked_ids.items()]
        rows += [(_label(texts, label), escape(value)) for label, value in statement.facts]
        office = " / ".join(escape(statement.office[lang]) for lang in PAGE_LANGUAGES if statement.office.get(lang))
        if office:
            rows.append((_both(texts, "verify.office"), office))
        if statement.officer:
            rows.append((_both(texts, "verify.officer"), escape(statement.officer)))
        rows.append((_both(texts, "verify.issued"), statement.issued_at.strftime("%d-%m-%Y")))
        if statement.valid_until:
            rows.append((_both(texts, "verify.valid_until"), statement.valid_until.strftime("%d-%m-%Y")))
    if log is not None:
        params = {"position": log.position, "size": log.size, "witnesses": log.witnesses}
        text = _both(texts, f"verify.log.{log.state}", **params)
        rows.append((_both(texts, "verify.log"), f'<span data-testid="log" data-log="{log.state}">{text}</span>'))
        if log.anchor is not None and log.anchor.inclusion is not None:
            anchored = _both(texts, "verify.log.anchored", block=log.anchor.inclusion.block, chain=log.chain)
            rows.append(
                (
                    _both(texts, "verify.anchor"),
                    f'<span data-testid="anchor" data-block="{log.anchor.inclusion.block}">{anchored}</span>',
                )
            )
    table = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    compare = f'<p class="compare">{_both(texts, "verify.compare")}</p>' if rows else ""
    return _page(
        texts,
        f"""<section class="verdict" data-testid="verdict" data-verdict="{checked.verdict.value}"
 style="border-color:{colour};color:{colour}">{_both(texts, f"verify.verdict.{checked.verdict.value}")}</section>
<table data-testid="details">{table}</table>{compare}""",
    )


def upload_page(texts: Texts, message: str = "") -> str:
    notice = f'<p class="notice" data-testid="notice">{message}</p>' if message else ""
    return _page(
        texts,
        f"""<h2>{_both(texts, "verify.upload_title")}</h2>{notice}
<form method="post" action="verify" enctype="multipart/form-data">
<p>{_both(texts, "verify.upload_hint")}</p>
<input type="file" name="file" accept="image/*,application/pdf" data-testid="upload">
<p>{_both(texts, "verify.paste_hint")}</p>
<textarea name="text" rows="3" data-testid="qr-text"></textarea>
<p><button type="submit" data-testid="check">{_both(texts, "verify.upload_button")}</button></p>
</form>
<p><a href="verifier.html">{_both(texts, "verify.offline")}</a></p>""",
    )


def _page(texts: Texts, body: str) -> str:
    title = " · ".join(texts.get(lang, "verify.title") for lang in PAGE_LANGUAGES)
    return f"""<!doctype html>
<html lang="te"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><meta name="robots" content="noindex">
<style>
body{{font-family:"Noto Sans Telugu","Noto Sans",system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;
line-height:1.5;color:#1d1d1f}}
.verdict{{border:3px solid;border-radius:12px;padding:1rem;font-size:1.25rem;font-weight:700;margin:1rem 0}}
table{{border-collapse:collapse;width:100%}} th,td{{text-align:left;padding:.4rem;border-bottom:1px solid #ddd;
vertical-align:top}} th{{width:40%;font-weight:600}}
.compare,.notice{{background:#fff7e0;padding:.6rem;border-radius:8px}}
textarea{{width:100%}} button{{font-size:1.1rem;padding:.5rem 1.2rem}}
</style></head>
<body><h1>{escape(title)}</h1>{body}</body></html>"""


def routes(verification: Verification, texts: Texts) -> list[BaseRoute]:
    async def by_url(request: Request) -> Response:
        payload = request.path_params["payload"]
        checked = await verification.check_online(payload[:MAX_TEXT])
        status = 200 if checked.verdict is not Verdict.UNREADABLE else 400
        log = await verification.log_status(checked)
        return HTMLResponse(verdict_page(texts, checked, log), status_code=status)

    async def upload(request: Request) -> Response:
        if request.method == "GET":
            return HTMLResponse(upload_page(texts))
        text, data = await _submitted(request)
        if data is not None:
            found = verification.scan(data)
            if not found:
                return HTMLResponse(upload_page(texts, _both(texts, "verify.no_qr")), status_code=422)
            text = found[0]
        checked = await verification.check_online(text or "")
        return HTMLResponse(verdict_page(texts, checked, await verification.log_status(checked)))

    async def api(request: Request) -> Response:
        text: str | None
        data: bytes | None
        try:
            if request.headers.get("content-type", "").startswith("application/json"):
                body = await request.json()
                text, data = (str(body.get("qr_text", "")) if isinstance(body, dict) else ""), None
            else:
                text, data = await _submitted(request)
        except (ValueError, RecursionError, HTTPException):  # not JSON (or nested too deep), or a form not read
            return JSONResponse({"verdict": Verdict.UNREADABLE.value, "reason": "unreadable body"}, status_code=400)
        if data is not None:
            found = verification.scan(data)
            if not found:
                return JSONResponse(
                    {"verdict": Verdict.UNREADABLE.value, "reason": "no QR code found"}, status_code=422
                )
            text = found[0]
        checked = await verification.check_online(text or "")
        return JSONResponse(checked_json(checked) | {"log": log_json(await verification.log_status(checked))})

    async def keys(_: Request) -> Response:
        return JSONResponse(await verification.jwks(), headers={"Cache-Control": "public, max-age=300"})

    async def revocations(_: Request) -> Response:
        body = await verification.revocations()
        return Response(body, media_type="application/cose", headers={"Cache-Control": "public, max-age=60"})

    async def offline(_: Request) -> Response:
        return HTMLResponse(await verification.offline_page())

    async def download(request: Request) -> Response:
        pdf = await verification.pdf(request.path_params["token"])
        if pdf is None:
            return PlainTextResponse("not found", status_code=404)
        return Response(pdf, media_type="application/pdf", headers={"Cache-Control": "private, no-store"})

    return [
        Route("/V/{payload:path}", by_url),
        Route("/verify", upload, methods=["GET", "POST"]),
        Route("/api/verify", api, methods=["POST"]),
        Route("/verifier.html", offline),
        Route("/.well-known/sevamitra/keys.json", keys),
        Route("/.well-known/sevamitra/revocations.cbor", revocations),
        Route("/c/{token}.pdf", download),
    ]


async def _submitted(request: Request) -> tuple[str | None, bytes | None]:
    """The pasted QR text, or the uploaded file's bytes, from a form."""
    async with request.form(max_files=1, max_fields=4, max_part_size=10 * 1024 * 1024) as form:
        upload = form.get("file")
        if upload is not None and not isinstance(upload, str):
            data = await upload.read()
            if data:
                return None, data
        text = form.get("text")
        return (text[:MAX_TEXT] if isinstance(text, str) else None), None
