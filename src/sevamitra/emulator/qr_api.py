"""Message QR codes through the Graph API: codes that open a chat with a prefilled message.

`GET|POST /{version}/{phone_number_id}/message_qrdls` lists (newest first, cursor paging) and
creates or updates; `GET|DELETE /{version}/{phone_number_id}/message_qrdls/{code}` reads and deletes.
All demand `Authorization: Bearer <access_token>`. Image links point to `GET /qr_images/{code}.svg|png`,
which, like Meta's CDN links, needs no token.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import io
import re
import secrets
import time
from typing import Any

import segno
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sevamitra.emulator.emulator import Emulator
from sevamitra.emulator.errors import INVALID_PARAMETER, INVALID_TOKEN, error_body, error_response
from sevamitra.emulator.http_utils import json_object, own_base_url
from sevamitra.emulator.state import MessageQrCode

CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
CODE = re.compile(r"[A-Z2-7]{14}")
VERSION = re.compile(r"v\d+\.\d+")
PREFILLED_MAX = 140  # the spec's maxLength for prefilled_message
PAGE_MAX = 25  # the spec's maximum (and default) `limit`
NOT_FOUND = 803
IMAGE_TYPES = {"SVG": "image/svg+xml", "PNG": "image/png"}
ALWAYS = ("code", "prefilled_message", "deep_link_url")
_IMAGE_FIELD = re.compile(r"qr_image_url\.format\((SVG|PNG)\)")


class QrCodeApi:
    """Meta's message QR code endpoints for the emulated phone number, answering as the spec describes."""

    def __init__(self, emulator: Emulator) -> None:
        self.config = emulator.config
        self.state = emulator.state

    def routes(self) -> list[BaseRoute]:
        """Routes to place before `GraphApi`'s: its `/{version}/{media_id}` would take `/qr_images/...`."""
        return [
            Route("/qr_images/{code}.{extension}", self.image, methods=["GET"]),
            Route("/{version}/{phone_number_id}/message_qrdls", self.collection, methods=["GET", "POST"]),
            Route("/{version}/{phone_number_id}/message_qrdls/{code}", self.single, methods=["GET", "DELETE"]),
        ]

    async def collection(self, request: Request) -> Response:
        if refusal := self._refusal(request):
            return refusal
        if request.method == "GET":
            return self._list(request)
        params = dict(request.query_params)  # Graph takes parameters in the query string or the body
        if await request.body():
            body = await json_object(request)
            if body is None:
                return _invalid("The request body must be a JSON object.")
            params |= body
        return self._create_or_update(request, params)

    async def single(self, request: Request) -> Response:
        if refusal := self._refusal(request):
            return refusal
        code = request.path_params["code"]
        if not CODE.fullmatch(code):
            return _invalid("Invalid QR code ID format. Expected 14-character alphanumeric string")
        qr_code = self.state.qr_codes.get(code)
        if qr_code is None:
            return _not_found("QR code not found", "QR Code Not Found")
        if request.method == "DELETE":
            del self.state.qr_codes[code]
            return JSONResponse({"success": True})
        try:
            asked, image_format = _fields(request.query_params.get("fields"))
        except ValueError as problem:
            return _invalid(str(problem))
        return JSONResponse({"data": [self._details(request, qr_code, image_format, asked)]})

    async def image(self, request: Request) -> Response:
        """The QR image, made on each request: it encodes the deep link, which never changes."""
        qr_code = self.state.qr_codes.get(request.path_params["code"])
        image_format = str(request.path_params["extension"]).upper()
        if qr_code is None or image_format not in IMAGE_TYPES:
            return Response(status_code=404)
        buffer = io.BytesIO()
        segno.make_qr(deep_link(qr_code.code), error="m").save(buffer, kind=image_format.lower(), scale=8, border=4)
        return Response(buffer.getvalue(), media_type=IMAGE_TYPES[image_format])

    # ------------------------------------------------------------ the operations

    def _list(self, request: Request) -> Response:
        query = request.query_params
        try:
            asked, image_format = _fields(query.get("fields"))
            after, before = _cursor(query.get("after")), _cursor(query.get("before"))
        except ValueError as problem:
            return _invalid(str(problem))
        limit = query.get("limit", str(PAGE_MAX))
        if not limit.isdigit() or not 1 <= int(limit) <= PAGE_MAX:
            return _invalid(f"The parameter limit must be a whole number from 1 to {PAGE_MAX}.")
        newest_first = sorted(self.state.qr_codes.values(), key=lambda qr: qr.seq, reverse=True)
        if (code := query.get("code")) is not None:
            if not CODE.fullmatch(code):
                return _invalid("Invalid QR code ID format. Expected 14-character alphanumeric string")
            newest_first = [qr for qr in newest_first if qr.code == code]
        page, more_before, more_after = _page(newest_first, int(limit), after=after, before=before)
        body: dict[str, Any] = {"data": [self._details(request, qr, image_format, asked) for qr in page]}
        if page:
            first, last = _encode_cursor(page[0].seq), _encode_cursor(page[-1].seq)
            paging: dict[str, Any] = {"cursors": {"before": first, "after": last}}
            url = request.url.remove_query_params(["after", "before"])
            if more_before:
                paging["previous"] = str(url.include_query_params(before=first))
            if more_after:
                paging["next"] = str(url.include_query_params(after=last))
            body["paging"] = paging
        return JSONResponse(body)

    def _create_or_update(self, request: Request, params: dict[str, Any]) -> Response:
        text = params.get("prefilled_message")
        if not isinstance(text, str) or not text.strip():
            return _invalid("The parameter prefilled_message is required.")
        if len(text) > PREFILLED_MAX:
            return _invalid(f"Invalid prefilled_message length. Maximum {PREFILLED_MAX} characters allowed")
        image_format = params.get("generate_qr_image")
        if image_format is not None and image_format not in IMAGE_TYPES:
            return _invalid("The parameter generate_qr_image must be one of SVG, PNG.")
        code = params.get("code")
        if code is None:
            qr_code = self.state.add_qr_code(self._fresh_code(), text, int(time.time()))
        elif not isinstance(code, str) or not CODE.fullmatch(code):
            return _invalid("Invalid QR code ID format. Expected 14-character alphanumeric string")
        elif (known := self.state.qr_codes.get(code)) is None:
            return _not_found("QR code not found", "QR Code Not Found")
        else:
            known.prefilled_message = text
            qr_code = known
        return JSONResponse(self._details(request, qr_code, image_format, asked=frozenset()))

    def _details(
        self, request: Request, qr_code: MessageQrCode, image_format: str | None, asked: frozenset[str]
    ) -> dict[str, Any]:
        details: dict[str, Any] = {
            "code": qr_code.code,
            "prefilled_message": qr_code.prefilled_message,
            "deep_link_url": deep_link(qr_code.code),
        }
        if "creation_time" in asked:
            details["creation_time"] = qr_code.creation_time
        if image_format:
            base = own_base_url(request, self.config.public_base_url)
            details["qr_image_url"] = f"{base}/qr_images/{qr_code.code}.{image_format.lower()}"
        return details

    # ------------------------------------------------------------ checks

    def _refusal(self, request: Request) -> Response | None:
        """The error answer for a bad token, an unknown version or another phone number; None when fine."""
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {self.config.access_token}".encode()):
            return error_response(401, INVALID_TOKEN)
        version = request.path_params["version"]
        if not VERSION.fullmatch(version):
            return error_response(400, 2500, message="Unknown path components: /" + version)
        if request.path_params["phone_number_id"] != self.config.phone_number_id:
            return _not_found("Phone number not found", "Phone Number Not Found")
        return None

    def _fresh_code(self) -> str:
        while (code := "".join(secrets.choice(CODE_ALPHABET) for _ in range(14))) in self.state.qr_codes:
            pass
        return code


def deep_link(code: str) -> str:
    return f"https://wa.me/message/{code}"


def _fields(value: str | None) -> tuple[frozenset[str], str | None]:
    """The fields asked for and the image format among them (`qr_image_url.format(SVG)`); ValueError
    for a name the spec does not list."""
    asked = frozenset(part.strip() for part in (value or "").split(",") if part.strip())
    image_format = None
    for name in asked:
        if found := _IMAGE_FIELD.fullmatch(name):
            image_format = found.group(1)
        elif name not in (*ALWAYS, "creation_time"):
            raise ValueError("Invalid fields parameter. Check field names and format specifications")
    return asked, image_format


def _page(
    newest_first: list[MessageQrCode], limit: int, *, after: int | None, before: int | None
) -> tuple[list[MessageQrCode], bool, bool]:
    """One page of the list and whether there are codes before and after it."""
    if after is not None:
        start = next((i for i, qr in enumerate(newest_first) if qr.seq < after), len(newest_first))
    elif before is not None:
        end = next((i for i, qr in enumerate(newest_first) if qr.seq <= before), len(newest_first))
        start = max(0, end - limit)
    else:
        start = 0
    page = newest_first[start : start + limit]
    return page, start > 0, start + len(page) < len(newest_first)


def _encode_cursor(seq: int) -> str:
    return base64.b64encode(str(seq).encode()).decode()


def _cursor(value: str | None) -> int | None:
    """A cursor's sequence number; None when absent, ValueError when it is not one of ours."""
    if value is None:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if not decoded.isdigit():
        raise ValueError("The parameters after and before take a cursor from an earlier answer's paging.")
    return int(decoded)


def _invalid(message: str) -> Response:
    return error_response(400, INVALID_PARAMETER, message=message)


def _not_found(message: str, user_title: str) -> Response:
    """Meta's 803 answer, as the spec shows it: a `GraphMethodException` with a title for people."""
    body = error_body(NOT_FOUND, message=message)
    body["error"] |= {"type": "GraphMethodException", "error_user_title": user_title}
    return JSONResponse(body, status_code=404)
