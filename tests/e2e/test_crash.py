"""Crash test, the short version of `make soak` (see `sevamitra.testing.soak`): citizens apply for an
income certificate through the emulator while `serve --no-worker` and `worker` processes are killed
with SIGKILL at seeded random moments and started again, and the Graph API fails some sends (429,
5xx, dropped connections, no answer, and once a refused access token). Afterwards no message is
lost, every application is whole, every citizen answered, and no reply reached a citizen twice
unless it was in flight at a kill.

Every worker is killed at once here, so that their leases can be ended at once instead of waited
out (60 s); `make soak` kills one process at a time and waits. Set SEVAMITRA_CRASH_SEED to replay a
run (its seed is printed)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from sevamitra.emulator.state import EmulatorState
from sevamitra.testing.crash_checks import Duplicates, count_duplicates
from sevamitra.testing.crowd import WALK
from sevamitra.testing.emulator_process import IndexedState
from sevamitra.testing.soak import Plan, run_soak, summary

SEED = int(os.environ["SEVAMITRA_CRASH_SEED"]) if os.environ.get("SEVAMITRA_CRASH_SEED") else None


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_killed_processes_lose_no_message_break_no_application_and_resend_only_what_was_in_flight(
    database_url: str, tmp_path: Path
) -> None:
    several = not database_url.startswith("sqlite")  # SQLite takes one worker process
    plan = Plan(
        database_url=database_url,
        fresh=False,
        citizens=80 if several else 50,
        spread=8.0,
        gap=0.5,
        webs=2 if several else 1,
        workers=2 if several else 1,
        kills=4,
        downtime=(0.2, 1.0),
        kill_workers_together=True,
        faults_every=1.0,
        token_refused=True,
        graph_api_timeout=2.0,
        pause_probe=3.0,
        settle_timeout=120.0,
        seed=SEED,
        workdir=tmp_path,
    )
    report = await run_soak(plan)
    print(summary(report))  # noqa: T201 (shown when the test fails, with the seed)
    verdict = report.verdict
    assert verdict is not None and report.settled
    assert report.killed["serve"] >= 1 and report.killed["worker"] >= 1
    assert sum(report.faults.values()) > report.faults_left  # some sends were refused and retried
    assert report.faults["190"] == 1  # and the number paused once, until a probe passed
    assert verdict.messages == plan.citizens * len(WALK)
    assert verdict.lost == 0
    assert verdict.receipts_wrong == 0 and verdict.odd_transcripts == 0
    assert verdict.applications_intact == verdict.applications_expected == plan.citizens
    assert verdict.broken_applications == ()
    assert verdict.unexplained_duplicates == 0
    assert report.ok


# ------------------------------------------------------------------ the duplicate count, without processes


def _row(row_id: int, address: str, message_id: str | None, state: str = "sent") -> SimpleNamespace:
    return SimpleNamespace(id=row_id, address=address, state=state, message_id=message_id, attempts=1, error=None)


def _counts(found: Duplicates) -> tuple[int, int, int]:
    return found.not_delivered, found.total, found.unexplained


def _out(message_id: str, text: str) -> dict[str, object]:
    return {"id": message_id, "direction": "out", "body": {"type": "text", "text": {"body": text}}}


def test_a_message_no_row_recorded_is_a_duplicate_allowed_only_where_its_row_was_in_flight() -> None:
    rows = [_row(1, "91800", "wamid.a"), _row(2, "91800", "wamid.b")]
    chats = {"91800": [_out("wamid.a", "hello"), _out("wamid.x", "hello"), _out("wamid.b", "bye")]}
    assert _counts(count_duplicates(rows, chats, {1: 1})) == (0, 1, 0)  # row 1 was sending at a kill
    unexplained = count_duplicates(rows, chats, {2: 1})  # only "bye" was: "hello" twice is unexplained
    assert _counts(unexplained) == (0, 1, 1)
    assert unexplained.details[0].startswith("91800: 1 extra, 0 in flight; rows 1 (1 attempts")
    assert _counts(count_duplicates(rows, chats, {})) == (0, 1, 1)
    twice = {"91800": [*chats["91800"], _out("wamid.y", "hello")]}
    assert _counts(count_duplicates(rows, twice, {1: 1})) == (0, 2, 1)  # one kill explains one extra copy


def test_a_reply_recorded_as_sent_that_the_citizen_never_got_is_not_delivered() -> None:
    rows = [_row(1, "91800", "wamid.a"), _row(2, "91800", "wamid.gone")]
    chats = {"91800": [_out("wamid.a", "hello")]}
    assert _counts(count_duplicates(rows, chats, {})) == (1, 0, 0)


def test_the_crash_runs_emulator_state_answers_as_the_emulators_own() -> None:
    plain, indexed = EmulatorState(), IndexedState()
    for state in (plain, indexed):
        for n, (wa_id, direction) in enumerate([("918001", "in"), ("918002", "in"), ("918001", "out")] * 3):
            state.add_citizen(wa_id=wa_id)
            state.append(id=f"wamid.{n}", wa_id=wa_id, direction=direction, timestamp=n, status="sent")
    for wa_id in ("918001", "918002", "918009"):
        for after in (0, 4):
            assert [e.id for e in indexed.chat(wa_id, after)] == [e.id for e in plain.chat(wa_id, after)]
        assert [e.id for e in indexed.inbound(wa_id)] == [e.id for e in plain.inbound(wa_id)]
        assert [e.id for e in indexed.outbound(wa_id)] == [e.id for e in plain.outbound(wa_id)]
    user_id = plain.citizens["918002"].user_id
    found = indexed.citizen_by_user_id(user_id)
    assert found is not None and found.wa_id == "918002"
    assert indexed.citizen_by_user_id("IN.000000000000009") is plain.citizen_by_user_id("IN.000000000000009") is None
    indexed.reset()
    assert indexed.chat("918001") == [] and indexed.citizen_by_user_id(user_id) is None
