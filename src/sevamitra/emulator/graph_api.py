"""The Graph API endpoints the platform calls: send messages, upload and fetch media.

Paths are relative to the emulator's mount: `POST /{version}/{phone_number_id}/messages`,
`POST /{version}/{phone_number_id}/media`, `GET|DELETE /{version}/{media_id}` and
`GET /media/{media_id}/download`. All demand `Authorization: Bearer <access_token>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import re

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from sevamitra.emulator.emulator import Emulator
from sevamitra.emulator.errors import (
    INVALID_PARAMETER,
    INVALID_TOKEN,
    MEDIA_UPLOAD_ERROR,
    SERVICE_UNAVAILABLE,
    error_response,
)
from sevamitra.emulator.http_utils import json_object, own_base_url
from sevamitra.emulator.limits import check_message
from sevamitra.emulator.state import Fault

_VERSION = re.compile(r"v\d+(\.\d+)?")
# Meta's size limits per media type, in bytes.
MEDIA_LIMITS = {"image": 5 << 20, "audio": 16 << 20, "video": 16 << 20, "sticker": 500 << 10, "document": 100 << 20}


class GraphApi:
    """Meta's Graph API for one phone number, answering as Meta does, errors included."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.config = emulator.config

    def routes(self) -> list[BaseRoute]:
        """Routes to place after all others: `/{version}/{media_id}` matches many paths."""
        return [
            Route("/media/{media_id}/download", self.download, methods=["GET"]),
            Route("/{version}/{phone_number_id}/messages", self.messages, methods=["POST"]),
            Route("/{version}/{phone_number_id}/media", self.upload, methods=["POST"]),
            Route("/{version}/{media_id}", self.media, methods=["GET", "DELETE"]),
        ]

    def _refusal(self, request: Request, phone_number_id: str | None = None) -> Response | None:
        """The error answer for a bad token, an unknown version or another phone number; None when fine."""
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {self.config.access_token}".encode()):
            return error_response(401, INVALID_TOKEN)
        version = request.path_params.get("version")
        if version is not None and not _VERSION.fullmatch(version):
            return error_response(400, 2500, message="Unknown path components: /" + version)
        if phone_number_id is not None and phone_number_id != self.config.phone_number_id:
            return _unsupported(request, phone_number_id)
        return None

    async def messages(self, request: Request) -> Response:
        if refusal := self._refusal(request, request.path_params["phone_number_id"]):
            return refusal
        if fault := self.emulator.state.take_fault():
            return await _faulty(request, fault)
        body = await json_object(request)
        if body is None:
            return error_response(400, INVALID_PARAMETER, "The request body must be a JSON object.")
        if body.get("status") == "read":
            if body.get("messaging_product") != "whatsapp" or not body.get("message_id"):
                return error_response(400, INVALID_PARAMETER, "messaging_product and message_id are required.")
            typing = isinstance(body.get("typing_indicator"), dict)
            self.emulator.business_marks_read(str(body["message_id"]), typing=typing)
            return JSONResponse({"success": True})
        if problem := check_message(body):
            code, details = problem
            return error_response(400, code, details)
        return JSONResponse(self.emulator.business_sends(body))

    async def upload(self, request: Request) -> Response:
        if refusal := self._refusal(request, request.path_params["phone_number_id"]):
            return refusal
        async with request.form(max_files=1) as form:
            upload, product, declared = form.get("file"), form.get("messaging_product"), form.get("type")
            if product != "whatsapp":
                return error_response(400, INVALID_PARAMETER, "The parameter messaging_product is required.")
            if not isinstance(upload, UploadFile):
                return error_response(400, INVALID_PARAMETER, "The parameter file is required.")
            data = await upload.read()
            mime = (declared if isinstance(declared, str) and declared else None) or upload.content_type
        mime = mime or "application/octet-stream"
        limit = MEDIA_LIMITS.get(mime.split("/")[0], MEDIA_LIMITS["document"])
        if len(data) > limit:
            return error_response(400, MEDIA_UPLOAD_ERROR, f"File of {len(data)} bytes exceeds {limit} bytes.")
        media = self.emulator.state.add_media(data, mime, upload.filename)
        return JSONResponse({"id": media.id})

    async def media(self, request: Request) -> Response:
        if refusal := self._refusal(request):
            return refusal
        media_id = request.path_params["media_id"]
        media = self.emulator.state.media.get(media_id)
        if media is None:
            return _unsupported(request, media_id)
        if request.method == "DELETE":
            del self.emulator.state.media[media_id]
            return JSONResponse({"success": True})
        url = f"{own_base_url(request, self.config.public_base_url)}/media/{media.id}/download"
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": media.mime_type,
                "sha256": media.sha256_hex,
                "file_size": str(len(media.data)),
                "id": media.id,
            }
        )

    async def download(self, request: Request) -> Response:
        if refusal := self._refusal(request):
            return refusal
        media = self.emulator.state.media.get(request.path_params["media_id"])
        if media is None:
            return Response(status_code=404)
        return Response(media.data, media_type=media.mime_type)


async def _faulty(request: Request, fault: Fault) -> Response:
    """The answer of an injected fault; the message is not sent."""
    if fault.kind == "reset":
        return _DroppedConnection()
    if fault.kind == "timeout":
        await request.body()  # all of the request has come: the client now waits for the answer
        with contextlib.suppress(TimeoutError):  # held until the client gives up, or for the fault's seconds
            await asyncio.wait_for(_disconnect(request), fault.seconds)
        return error_response(504, SERVICE_UNAVAILABLE)
    return error_response(fault.status, fault.code)


async def _disconnect(request: Request) -> None:
    """Return once the client has closed the connection (the request's body already read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


class _DroppedConnection(Response):
    """A status line and headers that promise a body, then nothing: the server closes the connection
    (uvicorn does when an app returns before its response is complete)."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"128")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})


def _unsupported(request: Request, object_id: str) -> Response:
    message = (
        f"Unsupported {request.method.lower()} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation."
    )
    return error_response(400, INVALID_PARAMETER, message=message, subcode=33)
