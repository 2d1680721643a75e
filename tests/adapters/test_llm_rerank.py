"""The optional language model, against a stub OpenAI-compatible server on loopback: it may only
pick among the candidates it was offered, and any other answer (or none in time) changes nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sevamitra.actions.converse import respond
from sevamitra.adapters.catalogue_files import load_catalogue, load_lexicon, load_texts
from sevamitra.adapters.nlu.llm import ChatReranker
from sevamitra.adapters.nlu.router import Assistant
from sevamitra.core.conversation import Context, ConversationState
from sevamitra.core.messages import ButtonsOut, ListOut, Recipient, TextIn
from sevamitra.core.understanding import Candidate, Understanding
from sevamitra.testing.memory import MemoryTurn
from tests.e2e.conftest import free_port

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
OFFERED = Understanding(
    language="en",
    intent="apply",
    candidates=(
        Candidate(service_id="social-welfare.old-age-pension", score=0.6),
        Candidate(service_id="social-welfare.widow-pension", score=0.58),
    ),
)


class Stub:
    """What the stub model answers next, and what it was asked."""

    def __init__(self) -> None:
        self.content: str = '{"service_id": "social-welfare.widow-pension"}'
        self.status = 200
        self.delay = 0.0
        self.asked: list[dict[str, Any]] = []

    async def completions(self, request: Request) -> Response:
        self.asked.append(await request.json())
        await asyncio.sleep(self.delay)
        if self.status != 200:
            return JSONResponse({"error": {"message": "overloaded"}}, status_code=self.status)
        return JSONResponse({"choices": [{"index": 0, "message": {"role": "assistant", "content": self.content}}]})


@pytest.fixture
async def stub() -> AsyncIterator[tuple[Stub, str, httpx.AsyncClient]]:
    model = Stub()
    app = Starlette(routes=[Route("/v1/chat/completions", model.completions, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    async with httpx.AsyncClient() as http:
        yield model, f"http://127.0.0.1:{port}/v1", http
    server.should_exit = True
    await task


@pytest.fixture(scope="module")
def assistant() -> Assistant:
    return Assistant(load_catalogue(ROOT), load_lexicon(ROOT))


def reranker(assistant: Assistant, url: str, http: httpx.AsyncClient, timeout: float = 2.0) -> ChatReranker:
    return ChatReranker(http, assistant.catalogue, url=url, key="test-key", model="stub-1", timeout=timeout)


async def test_the_models_pick_among_the_candidates_goes_first(stub: Any, assistant: Assistant) -> None:
    model, url, http = stub
    picked = await reranker(assistant, url, http)("my husband died, I need pension", OFFERED)
    assert [c.service_id for c in picked.candidates] == [
        "social-welfare.widow-pension",
        "social-welfare.old-age-pension",
    ]
    assert picked.clear
    (asked,) = model.asked
    assert asked["model"] == "stub-1" and asked["response_format"] == {"type": "json_object"}
    assert "social-welfare.old-age-pension" in asked["messages"][1]["content"]


@pytest.mark.parametrize(
    ("content", "status", "delay"),
    [
        ('{"service_id": "revenue.income-certificate"}', 200, 0.0),  # not offered: it may not invent
        ('{"service_id": "social-welfare.widow-pension", "fee": 0}', 200, 0.0),  # not the schema
        ("the widow pension, I think", 200, 0.0),  # not JSON
        ('{"service_id": null}', 200, 0.0),  # none fits
        ("{}", 503, 0.0),  # the server fails
        ('{"service_id": "social-welfare.widow-pension"}', 200, 1.0),  # too late
    ],
)
async def test_anything_else_leaves_the_routers_order(
    stub: Any, assistant: Assistant, content: str, status: int, delay: float
) -> None:
    model, url, http = stub
    model.content, model.status, model.delay = content, status, delay
    assert await reranker(assistant, url, http, timeout=0.3)("pension please", OFFERED) == OFFERED


async def test_in_chat_the_model_turns_a_list_into_one_service(stub: Any, assistant: Assistant) -> None:
    model, url, http = stub
    context = Context(catalogue=assistant.catalogue, texts=load_texts(ROOT), router=assistant, reranks=True)
    state = ConversationState(language="en", screen="departments", last_active=NOW)
    message = TextIn(message_id="m", sender="919800000021", sent_at=NOW, body="pension")
    understood = assistant.route("pension")
    assert not understood.clear and len(understood.candidates) > 1
    model.content = json.dumps({"service_id": understood.candidates[2].service_id})

    async def pick(text: str, given: Understanding) -> Understanding:
        return await reranker(assistant, url, http)(text, given)

    state, replies = await respond(
        context, NoRegistry(), MemoryTurn(), state, message, Recipient(wa_id="919800000021"), NOW, rerank=pick
    )
    assert state.service_id == understood.candidates[2].service_id and isinstance(replies[0], ButtonsOut)
    model.status = 503  # the model is down: the citizen gets the list, as without it
    state = ConversationState(language="en", screen="departments", last_active=NOW)
    _, replies = await respond(
        context, NoRegistry(), MemoryTurn(), state, message, Recipient(wa_id="919800000021"), NOW, rerank=pick
    )
    assert isinstance(replies[0], ListOut)


class NoRegistry:
    async def lookup(self, name: str, service_id: str, keys: dict[str, Any]) -> None:
        return None
