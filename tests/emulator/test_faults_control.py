"""The emulator's fault kinds through `/_control`: errors, timeouts and dropped connections queued in order,
bad fault lists refused, and the accepted access token changed (as when Meta's token expires) and restored.
(The dropped connection needs a real socket: `tests/adapters/test_faults_graph.py` meets it over uvicorn.)"""

from __future__ import annotations

import time

import httpx
import pytest

from sevamitra.emulator import Emulator
from sevamitra.emulator.state import Fault
from tests.emulator.support import AUTH, PHONE_NUMBER_ID, citizen_says, text_to

MESSAGES = f"/v23.0/{PHONE_NUMBER_ID}/messages"
WA = "919100000011"


@pytest.fixture
async def open_chat(client: httpx.AsyncClient, emulator: Emulator) -> None:
    await citizen_says(client, WA)
    await emulator.wait_idle()


async def test_faults_of_every_kind_are_queued_after_the_statuses_in_order(
    client: httpx.AsyncClient, emulator: Emulator
) -> None:
    faults = [{"status": 401, "code": 190}, {"kind": "timeout", "seconds": 12}, {"kind": "reset"}, {"status": 500}]
    answer = await client.post("/_control/faults", json={"statuses": [429], "faults": faults})

    assert answer.json() == {"pending": 5}
    assert list(emulator.state.faults) == [
        Fault(429, 130429),
        Fault(401, 190),
        Fault(0, 0, kind="timeout", seconds=12.0),
        Fault(0, 0, kind="reset"),
        Fault(500, 131000),
    ]
    only = await client.post("/_control/faults", json={"faults": [{"kind": "reset"}]})  # statuses may be left out
    assert only.json() == {"pending": 6}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"faults": "reset"},
        {"faults": [{"kind": "sleep"}]},
        {"faults": [{"kind": "timeout", "seconds": 0}]},
        {"faults": [{"kind": "timeout", "seconds": 601}]},
        {"faults": [{"kind": "timeout", "seconds": True}]},
        {"faults": [{"status": 200}]},
        {"faults": [{"status": 500, "code": "x"}]},
        {"statuses": [429], "faults": [{"kind": "reset"}, 3]},
    ],
)
async def test_a_fault_list_that_is_not_one_is_refused_and_nothing_is_queued(
    client: httpx.AsyncClient, emulator: Emulator, body: dict[str, object]
) -> None:
    answer = await client.post("/_control/faults", json=body)

    assert answer.status_code == 400
    assert "error" in answer.json()
    assert not emulator.state.faults


@pytest.mark.usefixtures("open_chat")
async def test_a_timeout_holds_the_answer_then_answers_504_and_sends_nothing(
    client: httpx.AsyncClient, emulator: Emulator
) -> None:
    emulator.inject_timeouts(1, seconds=0.3)
    started = time.perf_counter()
    held = await client.post(MESSAGES, json=text_to(WA), headers=AUTH)
    took = time.perf_counter() - started

    assert held.status_code == 504
    assert held.json()["error"]["code"] == 2
    assert took >= 0.3
    assert emulator.state.outbound(WA) == []
    assert (await client.post(MESSAGES, json=text_to(WA), headers=AUTH)).status_code == 200


@pytest.mark.usefixtures("open_chat")
async def test_a_changed_token_refuses_the_old_one_with_190_until_reset(
    client: httpx.AsyncClient, emulator: Emulator
) -> None:
    changed = await client.post("/_control/access-token", json={"access_token": "renewed"})
    assert changed.json() == {"access_token": "changed"}

    refused = await client.post(MESSAGES, json=text_to(WA), headers=AUTH)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == 190
    renewed = {"Authorization": "Bearer renewed"}
    assert (await client.post(MESSAGES, json=text_to(WA), headers=renewed)).status_code == 200

    assert (await client.post("/_control/access-token", json={"access_token": ""})).status_code == 400
    await client.post("/_control/reset")
    assert (await client.post(f"/_chat/{WA}/send", json={"type": "text", "text": "hi"})).status_code == 201
    await emulator.wait_idle()
    assert (await client.post(MESSAGES, json=text_to(WA), headers=AUTH)).status_code == 200
