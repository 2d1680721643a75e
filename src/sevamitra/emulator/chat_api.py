"""The chat page's JSON API: simulated citizens, their chats, and what they send.

All paths sit under `/_chat` relative to the emulator's mount. Errors are `{"error": "..."}`.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sevamitra.emulator import ids
from sevamitra.emulator.emulator import Emulator
from sevamitra.emulator.http_utils import json_object
from sevamitra.emulator.state import ChatEntry

UPLOAD_TYPES = frozenset({"image", "document", "audio", "video"})
TRUE_WORDS = frozenset({"1", "true", "on", "yes"})


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class ChatApi:
    """What the simulated phones do, for the browser page and for scripts."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.state = emulator.state

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/_chat/info", self.info, methods=["GET"]),
            Route("/_chat/citizens", self.citizens, methods=["GET"]),
            Route("/_chat/citizens", self.add_citizen, methods=["POST"]),
            Route("/_chat/media/{media_id}", self.media, methods=["GET"]),
            Route("/_chat/{wa_id}/messages", self.messages, methods=["GET"]),
            Route("/_chat/{wa_id}/send", self.send, methods=["POST"]),
            Route("/_chat/{wa_id}/read", self.read, methods=["POST"]),
            Route("/_chat/{wa_id}/pay/{message_id:path}", self.pay, methods=["POST"]),
            Route("/_chat/{wa_id}/redeliver/{message_id:path}", self.redeliver, methods=["POST"]),
        ]

    async def info(self, request: Request) -> Response:
        config = self.emulator.config
        return JSONResponse(
            {
                "display_phone_number": config.display_phone_number,
                "phone_number_id": config.phone_number_id,
                "waba_id": config.waba_id,
                "webhook_url": config.webhook_url,
            }
        )

    async def citizens(self, request: Request) -> Response:
        listing = []
        for citizen in self.state.citizens.values():
            chat = self.state.chat(citizen.wa_id)
            last = chat[-1] if chat else None
            listing.append(
                citizen.to_json()
                | {
                    "last_seq": last.seq if last else 0,
                    "last_preview": preview(last) if last else "",
                    "last_timestamp": last.timestamp if last else None,
                }
            )
        listing.sort(key=lambda c: -int(c["last_seq"]))
        return JSONResponse({"citizens": listing})

    async def add_citizen(self, request: Request) -> Response:
        data = await json_object(request) or {}
        name = data.get("name")
        if not isinstance(name, str):
            return _error("name is required")
        wa_id = None
        if data.get("wa_id"):
            wa_id = ids.normalise_wa_id(str(data["wa_id"]))
            if wa_id is None:
                return _error("wa_id must be a phone number: 8 to 15 digits, country code first")
        known = wa_id is not None and self.state.citizen(wa_id) is not None
        citizen = self.emulator.add_citizen(name, wa_id)
        return JSONResponse({"citizen": citizen.to_json()}, status_code=200 if known else 201)

    async def media(self, request: Request) -> Response:
        media = self.state.media.get(request.path_params["media_id"])
        if media is None:
            return _error("no such media", 404)
        headers = {"Content-Disposition": f'inline; filename="{media.filename}"'} if media.filename else None
        return Response(media.data, media_type=media.mime_type, headers=headers)

    async def messages(self, request: Request) -> Response:
        wa_id = request.path_params["wa_id"]
        citizen = self.state.citizen(wa_id)
        if citizen is None:
            return _error("no such citizen", 404)
        try:
            after = int(request.query_params.get("after", "0"))
        except ValueError:
            return _error("after must be a number")
        chat = self.state.chat(wa_id)
        return JSONResponse(
            {
                "citizen": citizen.to_json(),
                "messages": [e.to_json() for e in chat if e.seq > after],
                "statuses": {e.id: e.status for e in chat},
                "typing": self.emulator.is_typing(wa_id),
                "last_seq": chat[-1].seq if chat else 0,
            }
        )

    async def send(self, request: Request) -> Response:
        wa_id = ids.normalise_wa_id(request.path_params["wa_id"])
        if wa_id is None:
            return _error("no such citizen", 404)
        parsed: tuple[str, dict[str, Any], str | None] | str
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            parsed = await self._upload(request)
        else:
            parsed = self._message(wa_id, await json_object(request) or {})
        if isinstance(parsed, str):
            return _error(parsed)
        kind, content, context_id = parsed
        entry = self.emulator.citizen_sends(wa_id, kind, content, context_id=context_id)
        return JSONResponse({"message": entry.to_json()}, status_code=201)

    def _message(self, wa_id: str, data: dict[str, Any]) -> tuple[str, dict[str, Any], str | None] | str:
        """The webhook type and content for a JSON send, or what is wrong with it."""
        kind = data.get("type")
        if kind == "text":
            text = data.get("text")
            if not isinstance(text, str) or not text.strip():
                return "text is required"
            return "text", {"body": text}, None
        if kind in ("button_reply", "list_reply"):
            reply = {k: data[k] for k in ("id", "title", "description") if isinstance(data.get(k), str)}
            if "id" not in reply or "title" not in reply:
                return "id and title are required"
            if kind == "button_reply":
                reply.pop("description", None)
            context = data.get("context_id") or (data.get("context") or {}).get("id")
            if not context and (offer := self.emulator.offering(wa_id, reply["id"])):
                context = offer[0].id
            return "interactive", {"type": kind, kind: reply}, str(context) if context else None
        if kind == "location":
            lat, lon = data.get("latitude"), data.get("longitude")
            if not isinstance(lat, int | float) or not isinstance(lon, int | float):
                return "latitude and longitude must be numbers"
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                return "latitude or longitude out of range"
            location: dict[str, Any] = {"latitude": lat, "longitude": lon}
            location |= {k: data[k] for k in ("name", "address") if isinstance(data.get(k), str) and data[k]}
            return "location", location, None
        return "type must be text, button_reply, list_reply or location (or a multipart upload)"

    async def _upload(self, request: Request) -> tuple[str, dict[str, Any], None] | str:
        """A citizen's photo, document or audio: stored as media the platform can fetch."""
        async with request.form(max_files=1) as form:
            kind, upload = form.get("type"), form.get("file")
            if kind not in UPLOAD_TYPES:
                return f"type must be one of {sorted(UPLOAD_TYPES)}"
            if not isinstance(upload, UploadFile):
                return "file is required"
            data = await upload.read()
            caption, voice = form.get("caption"), str(form.get("voice", "")).lower() in TRUE_WORDS
            filename = str(form.get("filename") or upload.filename or "file")
            mime = upload.content_type or "application/octet-stream"
        if not data:
            return "the file is empty"
        if voice and mime in ("audio/ogg", "audio/opus"):
            mime = "audio/ogg; codecs=opus"  # what Meta reports for a recorded voice note
        media = self.state.add_media(data, mime, filename)
        content: dict[str, Any] = {}
        if isinstance(caption, str) and caption and kind in ("image", "document", "video"):
            content["caption"] = caption
        if kind == "document":
            content["filename"] = filename
        content |= {"mime_type": mime, "sha256": media.sha256_b64, "id": media.id}
        if kind == "audio":
            content["voice"] = voice
        return str(kind), content, None

    async def read(self, request: Request) -> Response:
        data = await json_object(request) or {}
        up_to = data.get("up_to")
        if not isinstance(up_to, int):
            return _error("up_to must be a seq number")
        return JSONResponse({"read": self.emulator.citizen_reads(request.path_params["wa_id"], up_to)})

    async def pay(self, request: Request) -> Response:
        """`{"outcome": "paid" | "failed"}` on an order the platform sent: its payment status goes out."""
        outcome = (await json_object(request) or {}).get("outcome")
        if outcome not in ("paid", "failed"):
            return _error("outcome must be paid or failed")
        try:
            status = self.emulator.citizen_pays(
                request.path_params["wa_id"], request.path_params["message_id"], paid=outcome == "paid"
            )
        except KeyError:
            return _error("no such order to this citizen", 404)
        return JSONResponse({"status": status}, status_code=202)

    async def redeliver(self, request: Request) -> Response:
        message_id = request.path_params["message_id"]
        entry = self.state.entry(message_id)
        if entry is None or entry.direction != "in" or entry.wa_id != request.path_params["wa_id"]:
            return _error("no such message from this citizen", 404)
        self.emulator.redeliver(message_id)
        return JSONResponse({"redelivered": message_id})


def preview(entry: ChatEntry) -> str:
    """A one-line summary of a message, for the citizen list."""
    if entry.direction == "in":
        message = entry.message or {}
        kind = message.get("type", "")
        content = message.get(kind) or {}
        if kind == "interactive":
            reply = content.get(content.get("type", ""), {})
            return str(reply.get("title", ""))
        media = {"image": "📷 Photo", "document": "📄 Document", "video": "🎬 Video", "location": "📍 Location"}
        if kind == "audio":
            return "🎤 Voice message" if content.get("voice") else "🎵 Audio"
        return str(content.get("body") or content.get("filename") or media.get(kind, kind))
    body = entry.body or {}
    kind = body.get("type", "text")
    content = body.get(kind) or {}
    if kind == "text":
        return str(content.get("body", ""))
    if kind == "interactive":
        return str((content.get("body") or {}).get("text", ""))
    if kind == "template":
        return f"Template: {content.get('name', '')}"
    return str(content.get("caption") or content.get("filename") or kind)
