"""The WhatsApp Cloud API (Meta's Graph API) as a `Messenger`.

One HTTP attempt per call: retries with backoff belong to the outbox sender, which reads
`SendResult.retryable` and `retry_after_seconds`. Rate limits, server errors and network failures
(timeouts, connection and protocol errors) are retryable; every other refusal is not, notably 131047
(outside the 24-hour window), 131026 (undeliverable) and 190 (the access token is invalid or has
expired: the sender pauses the number instead). A send waits at most `timeout` seconds for its answer.
"""

from __future__ import annotations

import math
from typing import Any

import httpx

from sevamitra.adapters.whatsapp.outbound import to_graph_body
from sevamitra.core.messages import ChannelError, MarkRead, MediaError, Outbound, Recipient, SendResult
from sevamitra.core.ports import NO_METER, Meter

# Graph error codes for rate and throughput limits: worth retrying later.
RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131048, 131056})


GONE = frozenset({400, 404, 410})  # the media id is unknown or expired: asking again will not help


class GraphApiError(Exception):
    """A media upload or download failed; `status` is None when no HTTP answer came back."""

    def __init__(self, status: int | None, error: ChannelError, *, retryable: bool = False) -> None:
        super().__init__(f"Graph API error {error.code} ({status or 'no HTTP status'}): {error.title}")
        self.status = status
        self.error = error
        self.retryable = retryable


class GraphMessenger:
    """Sends messages and media for one business phone number over an injected `httpx.AsyncClient`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        version: str,
        phone_number_id: str,
        access_token: str,
        meter: Meter = NO_METER,
        timeout: float | None = None,
    ) -> None:
        self._client = client
        # a send's own limit (None: the client's); connecting gets at most 5 s of it
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0)) if timeout else None
        self._meter = meter  # counts the rate limits Graph answers
        self._api = f"{base_url.rstrip('/')}/{version}"
        self._phone = f"{self._api}/{phone_number_id}"
        self._auth = {"Authorization": f"Bearer {access_token}"}

    async def send(self, recipient: Recipient, message: Outbound) -> SendResult:
        """Send one message; channel failures come back in the result, limit breaches raise."""
        body = to_graph_body(recipient, message)
        try:
            limit = self._timeout or httpx.USE_CLIENT_DEFAULT
            response = await self._client.post(f"{self._phone}/messages", json=body, headers=self._auth, timeout=limit)
        except httpx.RequestError as exc:
            return SendResult(ok=False, retryable=_is_transient(exc), error=_request_error(exc))
        if not response.is_success:
            return self._refused(response)
        if isinstance(message, MarkRead):
            return SendResult(ok=True)
        return _sent(response)

    async def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        """Upload a file for later sending; returns its media id."""
        response = await self._request(
            "POST",
            f"{self._phone}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, data, mime_type)},
        )
        media_id = _json_object(response).get("id")
        if not isinstance(media_id, str) or not media_id:
            raise GraphApiError(response.status_code, ChannelError(code=0, title="upload answered no media id"))
        return media_id

    async def download_media(self, media_id: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        """Look up an inbound media file's short-lived URL, then fetch it (both with the token); a file
        larger than `max_bytes` is refused from its stated size, before download, and again after."""
        try:
            lookup = await self._request("GET", f"{self._api}/{media_id}")
        except GraphApiError as exc:
            raise MediaError("gone" if exc.status in GONE else "failed", str(exc)) from exc
        info = _json_object(lookup)
        url, mime_type, size = info.get("url"), info.get("mime_type"), info.get("file_size")
        if not isinstance(url, str) or not url:
            raise MediaError("gone", f"media {media_id} has no download URL")
        if max_bytes is not None and str(size).isdigit() and int(str(size)) > max_bytes:
            raise MediaError("too_large", f"{size} bytes")
        try:
            response = await self._request("GET", url)
        except GraphApiError as exc:
            raise MediaError("gone" if exc.status in GONE else "failed", str(exc)) from exc
        if max_bytes is not None and len(response.content) > max_bytes:
            raise MediaError("too_large", f"{len(response.content)} bytes")
        if not isinstance(mime_type, str) or not mime_type:
            mime_type = response.headers.get("content-type", "application/octet-stream")
        return response.content, mime_type

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One authorised request; any failure raises `GraphApiError`."""
        try:
            response = await self._client.request(method, url, headers=self._auth, **kwargs)
        except httpx.RequestError as exc:
            raise GraphApiError(None, _request_error(exc), retryable=_is_transient(exc)) from exc
        if not response.is_success:
            refusal = self._refused(response)
            error = refusal.error or ChannelError(code=0, title=f"HTTP {response.status_code}")
            raise GraphApiError(response.status_code, error, retryable=refusal.retryable)
        return response

    def _refused(self, response: httpx.Response) -> SendResult:
        refusal = _refused(response)
        if response.status_code == 429 or (refusal.error is not None and refusal.error.code in RATE_LIMIT_CODES):
            self._meter.count("graph_api_throttled")
        return refusal


def _sent(response: httpx.Response) -> SendResult:
    """A 2xx answer: Graph accepted the message (resending could duplicate it, even without an id)."""
    messages = _json_object(response).get("messages")
    first = messages[0] if isinstance(messages, list) and messages else None
    if not isinstance(first, dict):
        return SendResult(ok=True)
    details = {"message_status": first["message_status"]} if "message_status" in first else {}
    return SendResult(ok=True, message_id=_text(first.get("id")), details=details)


def _refused(response: httpx.Response) -> SendResult:
    """A non-2xx answer, classified: rate limits and server errors are worth retrying."""
    error = _json_object(response).get("error")
    channel_error = _channel_error(response, error)
    details: dict[str, Any] = {"http_status": response.status_code}
    if isinstance(error, dict):
        details.update({key: error[key] for key in ("type", "error_subcode", "fbtrace_id") if key in error})
    status = response.status_code
    return SendResult(
        ok=False,
        retryable=status == 429 or status >= 500 or channel_error.code in RATE_LIMIT_CODES,
        error=channel_error,
        retry_after_seconds=_retry_after(response),
        details=details,
    )


def _channel_error(response: httpx.Response, error: object) -> ChannelError:
    """The Graph `error` object; a bare HTTP error when the answer has none (e.g. not JSON)."""
    if not isinstance(error, dict):
        title = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
        return ChannelError(code=0, title=title, details=response.text[:500] or None)
    code, message, error_data = error.get("code"), _text(error.get("message")), error.get("error_data")
    return ChannelError(
        code=code if isinstance(code, int) and not isinstance(code, bool) else 0,
        title=_text(error.get("error_user_title")) or _text(error.get("title")) or message or "Graph error",
        message=message,
        details=_text(error_data.get("details")) if isinstance(error_data, dict) else None,
    )


def _is_transient(exc: httpx.RequestError) -> bool:
    """Timeouts and network failures pass; a bad redirect chain or encoding would not."""
    return isinstance(exc, httpx.TransportError)


def _request_error(exc: httpx.RequestError) -> ChannelError:
    if isinstance(exc, httpx.TimeoutException):
        title = "Graph API timed out"
    elif isinstance(exc, httpx.TransportError):
        title = "network error reaching the Graph API"
    else:
        title = "Graph API request failed"
    return ChannelError(code=0, title=title, message=f"{type(exc).__name__}: {exc}")


def _retry_after(response: httpx.Response) -> float | None:
    """The `Retry-After` header in seconds; None when absent or not a number of seconds."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer as a JSON object; empty when it is not one."""
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
