"""WhatsApp message QR codes (Graph API `/{phone_number_id}/message_qrdls`): a code whose scan opens a
chat with the business, a prefilled message typed in. One HTTP attempt per call; failures raise
`GraphApiError`, retryable for rate limits, server errors and network failures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import httpx

from sevamitra.adapters.whatsapp.graph import RATE_LIMIT_CODES, GraphApiError
from sevamitra.core.messages import ChannelError

ImageFormat = Literal["SVG", "PNG"]
PAGE_SIZE = 25  # the most Graph gives in one page
FIELDS = "code,prefilled_message,deep_link_url"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageQrCode:
    code: str  # 14 characters, A-Z and 2-7
    prefilled_message: str
    deep_link_url: str  # https://wa.me/message/<code>
    qr_image_url: str | None = None  # only when an image was asked for


class MessageQrCodes:
    """The message QR codes of one business phone number, over an injected `httpx.AsyncClient`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        version: str,
        phone_number_id: str,
        access_token: str,
    ) -> None:
        self._client = client
        self._url = f"{base_url.rstrip('/')}/{version}/{phone_number_id}/message_qrdls"
        self._auth = {"Authorization": f"Bearer {access_token}"}

    async def list_all(self) -> list[MessageQrCode]:
        """Every QR code of the number, newest first, following the pages to the end."""
        found: list[MessageQrCode] = []
        params: dict[str, str | int] = {"fields": FIELDS, "limit": PAGE_SIZE}
        seen: set[str] = set()
        while True:
            page = await self._request("GET", self._url, params=params)
            data = page.get("data")
            found.extend(_qr_code(item) for item in (data if isinstance(data, list) else []))
            paging = _object(page.get("paging"))
            after = _object(paging.get("cursors")).get("after")
            if not paging.get("next") or not isinstance(after, str) or after in seen:
                return found
            seen.add(after)
            params = {**params, "after": after}

    async def create(self, prefilled: str, image_format: ImageFormat | None = None) -> MessageQrCode:
        """A new QR code; with `image_format`, its answer carries an image URL."""
        body = {"prefilled_message": prefilled} | ({"generate_qr_image": image_format} if image_format else {})
        return _qr_code(await self._request("POST", self._url, json=body))

    async def update(self, code: str, prefilled: str) -> MessageQrCode:
        """Give an existing QR code a new message; its code, link and image stay."""
        return _qr_code(await self._request("POST", self._url, json={"code": code, "prefilled_message": prefilled}))

    async def delete(self, code: str) -> None:
        """Delete a QR code for good: printed copies stop working."""
        await self._request("DELETE", f"{self._url}/{code}")

    async def _request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """One authorised request; its JSON object answer, or `GraphApiError`."""
        try:
            response = await self._client.request(method, url, headers=self._auth, **kwargs)
        except httpx.RequestError as exc:
            error = ChannelError(code=0, title="Graph API unreachable", message=f"{type(exc).__name__}: {exc}")
            raise GraphApiError(None, error, retryable=isinstance(exc, httpx.TransportError)) from exc
        try:
            payload = _object(response.json())
        except ValueError:
            payload = {}
        if response.is_success:
            return payload
        error = _channel_error(response, payload.get("error"))
        retryable = response.status_code == 429 or response.status_code >= 500 or error.code in RATE_LIMIT_CODES
        raise GraphApiError(response.status_code, error, retryable=retryable)


def _qr_code(item: object) -> MessageQrCode:
    """One QR code of an answer; GraphApiError when a required field is missing."""
    values = _object(item)
    code, text, link = values.get("code"), values.get("prefilled_message"), values.get("deep_link_url")
    if not (isinstance(code, str) and isinstance(text, str) and isinstance(link, str)):
        raise GraphApiError(200, ChannelError(code=0, title="QR code answer lacks code, message or link"))
    image = values.get("qr_image_url")
    return MessageQrCode(
        code=code, prefilled_message=text, deep_link_url=link, qr_image_url=image if isinstance(image, str) else None
    )


def _channel_error(response: httpx.Response, error: object) -> ChannelError:
    """The Graph `error` object; a bare HTTP error when the answer has none."""
    if not isinstance(error, dict):
        return ChannelError(code=0, title=f"HTTP {response.status_code}", details=response.text[:500] or None)
    code, message = error.get("code"), error.get("message")
    message = message if isinstance(message, str) and message else None
    user_title = error.get("error_user_title")
    return ChannelError(
        code=code if isinstance(code, int) and not isinstance(code, bool) else 0,
        title=user_title if isinstance(user_title, str) and user_title else message or "Graph error",
        message=message,
    )


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
