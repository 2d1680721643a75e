"""GraphMessenger against a fake Graph API (`httpx.MockTransport`): one attempt, failures classified."""

from __future__ import annotations

import email.parser
import email.policy
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from sevamitra.adapters.whatsapp.graph import GraphApiError, GraphMessenger
from sevamitra.adapters.whatsapp.outbound import OutboundLimitError, to_graph_body
from sevamitra.core.messages import MarkRead, MediaError, Recipient, TextOut

BASE_URL = "https://graph.facebook.com"
PHONE_NUMBER_ID = "106540352242922"
TOKEN = "EAAG-test-token"
CITIZEN = Recipient(wa_id="919876543210")
HELLO = TextOut(body="Hello")

Handler = Callable[[httpx.Request], httpx.Response]


class FakeGraph:
    """Records every request and answers with `handler`."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.handler: Handler = lambda request: httpx.Response(500)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


@pytest.fixture
def graph() -> FakeGraph:
    return FakeGraph()


@pytest.fixture
async def messenger(graph: FakeGraph) -> AsyncIterator[GraphMessenger]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(graph)) as client:
        yield GraphMessenger(
            client, base_url=BASE_URL, version="v23.0", phone_number_id=PHONE_NUMBER_ID, access_token=TOKEN
        )


def graph_error(code: int, message: str, details: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Az8"}
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


def answer(status: int, payload: Any = None, **kwargs: Any) -> Handler:
    return lambda request: httpx.Response(status, json=payload, **kwargs)


def accepted(message_id: str = "wamid.HBgM") -> Handler:
    return answer(
        200,
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "919876543210", "wa_id": "919876543210"}],
            "messages": [{"id": message_id, "message_status": "accepted"}],
        },
    )


# ---------------------------------------------------------------- success


async def test_send_posts_the_mapped_body_to_the_messages_endpoint(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = accepted()
    await messenger.send(CITIZEN, HELLO)
    [request] = graph.requests
    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/v23.0/{PHONE_NUMBER_ID}/messages"
    assert request.url.path == f"/v23.0/{PHONE_NUMBER_ID}/messages"
    assert json.loads(request.content) == to_graph_body(CITIZEN, HELLO)


async def test_send_authorises_with_the_bearer_token(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = accepted()
    await messenger.send(CITIZEN, HELLO)
    assert graph.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_success_returns_the_message_id(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = accepted("wamid.ABC")
    result = await messenger.send(CITIZEN, HELLO)
    assert result.ok
    assert result.message_id == "wamid.ABC"
    assert result.error is None
    assert result.details == {"message_status": "accepted"}


async def test_mark_read_success_has_no_message_id(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = answer(200, {"success": True})
    result = await messenger.send(CITIZEN, MarkRead(message_id="wamid.IN", typing=True))
    assert result.ok
    assert result.message_id is None
    assert json.loads(graph.requests[0].content)["status"] == "read"


async def test_an_accepted_send_without_an_id_still_counts_as_sent(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = lambda request: httpx.Response(200, text="OK")
    result = await messenger.send(CITIZEN, HELLO)
    assert result.ok
    assert result.message_id is None


# ---------------------------------------------------------------- retryable failures


async def test_429_with_retry_after_is_retryable_after_that_delay(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = answer(429, graph_error(130429, "Rate limit hit"), headers={"Retry-After": "7"})
    result = await messenger.send(CITIZEN, HELLO)
    assert not result.ok
    assert result.retryable
    assert result.retry_after_seconds == 7.0
    assert result.error is not None
    assert result.error.code == 130429


async def test_a_retry_after_that_is_not_seconds_is_ignored(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = answer(429, None, headers={"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"})
    result = await messenger.send(CITIZEN, HELLO)
    assert result.retryable
    assert result.retry_after_seconds is None


@pytest.mark.parametrize("code", [4, 80007, 130429, 131048, 131056])
async def test_rate_and_throughput_error_codes_are_retryable(
    code: int, graph: FakeGraph, messenger: GraphMessenger
) -> None:
    graph.handler = answer(400, graph_error(code, "Too many messages"))
    result = await messenger.send(CITIZEN, HELLO)
    assert result.retryable
    assert result.error is not None
    assert result.error.code == code


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retryable(status: int, graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = answer(status, graph_error(1, "An unknown error occurred"))
    result = await messenger.send(CITIZEN, HELLO)
    assert not result.ok
    assert result.retryable
    assert result.details["http_status"] == status


async def test_a_server_error_with_an_html_body_is_retryable(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = lambda request: httpx.Response(503, text="<html>Service Unavailable</html>")
    result = await messenger.send(CITIZEN, HELLO)
    assert result.retryable
    assert result.error is not None
    assert result.error.code == 0


@pytest.mark.parametrize(
    ("exception", "title"),
    [
        (httpx.ReadTimeout, "timed out"),
        (httpx.ConnectTimeout, "timed out"),
        (httpx.ConnectError, "network error"),
        (httpx.RemoteProtocolError, "network error"),
    ],
)
async def test_timeouts_and_network_errors_are_retryable(
    exception: type[httpx.TransportError], title: str, graph: FakeGraph, messenger: GraphMessenger
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exception("boom", request=request)

    graph.handler = fail
    result = await messenger.send(CITIZEN, HELLO)
    assert not result.ok
    assert result.retryable
    assert result.error is not None
    assert result.error.code == 0
    assert title in result.error.title


async def test_each_send_is_exactly_one_attempt(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = answer(503, graph_error(2, "Service temporarily unavailable"))
    await messenger.send(CITIZEN, HELLO)
    assert len(graph.requests) == 1


async def test_a_request_error_that_is_not_a_network_failure_is_not_retryable(
    graph: FakeGraph, messenger: GraphMessenger
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.DecodingError("bad gzip stream", request=request)

    graph.handler = fail
    result = await messenger.send(CITIZEN, HELLO)
    assert not result.ok
    assert not result.retryable
    assert result.error is not None
    assert result.error.title == "Graph API request failed"


# ---------------------------------------------------------------- final failures


async def test_outside_the_24_hour_window_is_not_retryable(graph: FakeGraph, messenger: GraphMessenger) -> None:
    details = "Message failed to send because more than 24 hours have passed since the customer last replied"
    graph.handler = answer(400, graph_error(131047, "(#131047) Re-engagement message", details))
    result = await messenger.send(CITIZEN, HELLO)
    assert not result.ok
    assert not result.retryable
    assert result.error is not None
    assert result.error.code == 131047
    assert result.error.message == "(#131047) Re-engagement message"
    assert result.error.details == details
    assert result.details == {"http_status": 400, "type": "OAuthException", "fbtrace_id": "Az8"}


async def test_an_undeliverable_message_is_not_retryable(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = answer(400, graph_error(131026, "(#131026) Message Undeliverable", "Receiver is incapable"))
    result = await messenger.send(CITIZEN, HELLO)
    assert not result.retryable
    assert result.error is not None
    assert result.error.code == 131026
    assert result.error.details == "Receiver is incapable"


async def test_a_user_facing_error_title_is_kept(graph: FakeGraph, messenger: GraphMessenger) -> None:
    payload = graph_error(100, "Invalid parameter")
    payload["error"]["error_user_title"] = "Message body too long"
    graph.handler = answer(400, payload)
    result = await messenger.send(CITIZEN, HELLO)
    assert result.error is not None
    assert result.error.title == "Message body too long"
    assert result.error.message == "Invalid parameter"


async def test_a_400_with_a_non_json_body_does_not_crash(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = lambda request: httpx.Response(400, content=b"\xff<html>Bad Request</html>")
    result = await messenger.send(CITIZEN, HELLO)
    assert not result.ok
    assert not result.retryable
    assert result.error is not None
    assert result.error.code == 0
    assert result.error.title == "HTTP 400 Bad Request"
    assert result.error.details is not None
    assert "Bad Request" in result.error.details


async def test_an_expired_token_is_not_retryable(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = answer(401, graph_error(190, "Error validating access token: Session has expired"))
    result = await messenger.send(CITIZEN, HELLO)
    assert not result.retryable
    assert result.error is not None
    assert result.error.code == 190


async def test_a_message_past_whatsapps_limits_raises_and_sends_nothing(
    graph: FakeGraph, messenger: GraphMessenger
) -> None:
    with pytest.raises(OutboundLimitError):
        await messenger.send(CITIZEN, TextOut(body="x" * 4097))
    assert graph.requests == []


# ---------------------------------------------------------------- media


def multipart_fields(request: httpx.Request) -> dict[str, tuple[str | None, str, bytes]]:
    """Each form field by name: its filename, content type and bytes."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    fields = {}
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        name = part.get_param("name", header="content-disposition")
        fields[str(name)] = (part.get_filename(), part.get_content_type(), payload)
    return fields


async def test_upload_posts_a_multipart_form_and_returns_the_media_id(
    graph: FakeGraph, messenger: GraphMessenger
) -> None:
    graph.handler = answer(200, {"id": "4490709327384033"})
    media_id = await messenger.upload_media(b"%PDF-1.7 certificate", "application/pdf", "certificate.pdf")
    assert media_id == "4490709327384033"
    [request] = graph.requests
    assert request.method == "POST"
    assert request.url.path == f"/v23.0/{PHONE_NUMBER_ID}/media"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    fields = multipart_fields(request)
    assert fields["messaging_product"][2] == b"whatsapp"
    assert fields["type"][2] == b"application/pdf"
    assert fields["file"] == ("certificate.pdf", "application/pdf", b"%PDF-1.7 certificate")


async def test_a_refused_upload_raises_with_status_and_code(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = answer(400, graph_error(131053, "Media upload error", "Unsupported file type"))
    with pytest.raises(GraphApiError) as caught:
        await messenger.upload_media(b"MZ", "application/x-msdownload", "a.exe")
    assert caught.value.status == 400
    assert caught.value.error.code == 131053
    assert not caught.value.retryable


async def test_an_upload_answer_without_an_id_raises(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = answer(200, {})
    with pytest.raises(GraphApiError, match="no media id"):
        await messenger.upload_media(b"x", "image/png", "a.png")


MEDIA_URL = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1158&ext=1700&hash=ATs"


async def test_download_looks_up_the_url_then_fetches_it_with_the_token(
    graph: FakeGraph, messenger: GraphMessenger
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v23.0/1158":
            info = {"url": MEDIA_URL, "mime_type": "image/jpeg", "sha256": "abc", "file_size": "5", "id": "1158"}
            return httpx.Response(200, json={"messaging_product": "whatsapp", **info})
        if str(request.url) == MEDIA_URL:
            return httpx.Response(200, content=b"\xff\xd8jpg", headers={"Content-Type": "image/jpeg"})
        return httpx.Response(404)

    graph.handler = handler
    assert await messenger.download_media("1158") == (b"\xff\xd8jpg", "image/jpeg")
    lookup, fetch = graph.requests
    assert (lookup.method, str(lookup.url)) == ("GET", f"{BASE_URL}/v23.0/1158")
    assert (fetch.method, str(fetch.url)) == ("GET", MEDIA_URL)
    assert lookup.headers["Authorization"] == fetch.headers["Authorization"] == f"Bearer {TOKEN}"


def _cause(error: MediaError) -> GraphApiError:
    assert isinstance(error.__cause__, GraphApiError)
    return error.__cause__


async def test_download_of_an_unknown_media_id_raises(graph: FakeGraph, messenger: GraphMessenger) -> None:
    graph.handler = answer(404, graph_error(100, "Unsupported get request"))
    with pytest.raises(MediaError) as caught:
        await messenger.download_media("nope")
    assert caught.value.problem == "gone"
    assert _cause(caught.value).status == 404
    assert _cause(caught.value).error.code == 100


async def test_an_expired_media_url_raises(graph: FakeGraph, messenger: GraphMessenger) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v23.0/1158":
            return httpx.Response(200, json={"url": MEDIA_URL, "mime_type": "image/jpeg"})
        return httpx.Response(404, text="Not Found")

    graph.handler = handler
    with pytest.raises(MediaError) as caught:
        await messenger.download_media("1158")
    assert caught.value.problem == "gone"
    assert _cause(caught.value).status == 404


async def test_a_network_failure_during_download_raises_a_retryable_error(
    graph: FakeGraph, messenger: GraphMessenger
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    graph.handler = fail
    with pytest.raises(MediaError) as caught:
        await messenger.download_media("1158")
    assert caught.value.problem == "failed"
    assert _cause(caught.value).status is None
    assert _cause(caught.value).retryable


async def test_media_over_the_limit_is_refused_before_download(graph: FakeGraph, messenger: GraphMessenger) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v23.0/1158":
            info = {"url": MEDIA_URL, "mime_type": "audio/ogg", "file_size": str(17 * 1024 * 1024), "id": "1158"}
            return httpx.Response(200, json=info)
        return httpx.Response(200, content=b"OggS")

    graph.handler = handler
    with pytest.raises(MediaError) as caught:
        await messenger.download_media("1158", max_bytes=16 * 1024 * 1024)
    assert caught.value.problem == "too_large"
    assert len(graph.requests) == 1  # the file itself was never fetched


async def test_media_larger_than_stated_is_refused_after_download(graph: FakeGraph, messenger: GraphMessenger) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v23.0/1158":
            return httpx.Response(200, json={"url": MEDIA_URL, "mime_type": "audio/ogg", "id": "1158"})
        return httpx.Response(200, content=b"x" * 2000)

    graph.handler = handler
    with pytest.raises(MediaError, match="too_large"):
        await messenger.download_media("1158", max_bytes=1000)
