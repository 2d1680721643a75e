"""Grievance reports in chat: up to three photos, a voice note for the description, and the kinds of
grievance the catalogue sends straight to a higher authority."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.core.catalogue import Service
from sevamitra.core.catalogue_lint import catalogue_problems
from sevamitra.core.conversation import Context, ConversationState, Step, step
from sevamitra.core.display import display
from sevamitra.core.fields import Option
from sevamitra.core.messages import ButtonsOut, ChoiceIn, Inbound, MediaIn, TextIn
from sevamitra.core.workflow import Case, Place, authority_step, open_case, rerouted

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
SENDER = "919800000005"
PLACE = {"district": "ntr", "mandal": "ntr/vijayawada-corporation", "village": "ntr/vijayawada-corporation/ward-3"}


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(catalogue=load_catalogue(ROOT), texts=load_texts(ROOT))


def service(context: Context, service_id: str) -> Service:
    found = context.catalogue.service(service_id)
    assert found is not None
    return found


def at_field(
    context: Context, service_id: str, field_id: str, answers: dict[str, Any] | None = None
) -> ConversationState:
    chosen = service(context, service_id)
    index = next(i for i, f in enumerate(chosen.fields) if f.id == field_id)
    draft = {
        "service": chosen.id,
        "version": chosen.version,
        "hash": chosen.definition_hash,
        "index": index,
        "answers": answers or {},
        "shown": {},
        "skipped": [],
        "editing": False,
        "place": {},
    }
    return ConversationState(language="en", screen="form", service_id=chosen.id, draft=draft, last_active=NOW)


def send(context: Context, state: ConversationState, inbound: Inbound) -> Step:
    return step(state, inbound, context, NOW)


def photo(n: int) -> MediaIn:
    return MediaIn(
        message_id=f"m{n}", sender=SENDER, sent_at=NOW, kind="image", media_id=f"photo-{n}", mime_type="image/jpeg"
    )


def tap(choice: str) -> ChoiceIn:
    return ChoiceIn(message_id="t", sender=SENDER, sent_at=NOW, choice_id=choice, title="")


def text(body: str) -> TextIn:
    return TextIn(message_id="x", sender=SENDER, sent_at=NOW, body=body)


def current_field(context: Context, state: ConversationState) -> str:
    assert state.draft is not None
    fields = service(context, state.service_id or "").fields
    return fields[state.draft["index"]].id if state.draft["index"] < len(fields) else "(end)"


SERVICE = "municipal.garbage-not-lifted"


def test_three_photos_are_kept_and_the_form_moves_on_by_itself(context: Context) -> None:
    state = at_field(context, SERVICE, "photo")
    for n in (1, 2):
        result = send(context, state, photo(n))
        state = result.state
        (asked,) = result.replies
        assert isinstance(asked, ButtonsOut) and f"Photo {n} received" in asked.body
        assert asked.buttons[0].id == "form:photos_done" and current_field(context, state) == "photo"
    state = send(context, state, photo(3)).state
    assert state.draft is not None
    assert [p["media_id"] for p in state.draft["answers"]["photo"]] == ["photo-1", "photo-2", "photo-3"]
    assert current_field(context, state) != "photo"


def test_done_after_one_photo_keeps_it_and_skip_does_too(context: Context) -> None:
    for finish in (tap("form:photos_done"), text("skip")):
        state = send(context, at_field(context, SERVICE, "photo"), photo(1)).state
        state = send(context, state, finish).state
        assert state.draft is not None and [p["media_id"] for p in state.draft["answers"]["photo"]] == ["photo-1"]
        assert current_field(context, state) != "photo"


def test_done_before_any_photo_is_not_a_way_past_a_question(context: Context) -> None:
    state = at_field(context, SERVICE, "photo")
    assert current_field(context, send(context, state, tap("form:photos_done")).state) == "photo"


def test_editing_the_photos_takes_them_again(context: Context) -> None:
    state = send(context, at_field(context, SERVICE, "photo"), photo(1)).state
    state = send(context, state, tap("form:photos_done")).state
    state = replace(state, screen="confirm")
    state = send(context, state, tap("edit:photo")).state
    assert state.draft is not None and "photo" not in state.draft["answers"]


def test_a_photo_is_still_checked_by_type(context: Context) -> None:
    pdf = MediaIn(
        message_id="p", sender=SENDER, sent_at=NOW, kind="document", media_id="d", mime_type="application/pdf"
    )
    result = send(context, at_field(context, SERVICE, "photo"), pdf)
    assert current_field(context, result.state) == "photo" and "JPG" in str(getattr(result.replies[0], "body", ""))


def test_a_voice_note_answers_a_description(context: Context) -> None:
    grievance = "grievances.pgrs-municipal"
    state = at_field(context, grievance, "description")
    assert any("voice note" in str(getattr(r, "body", "")) for r in send(context, state, text("x")).replies)
    note = MediaIn(
        message_id="v",
        sender=SENDER,
        sent_at=NOW,
        kind="audio",
        media_id="voice-1",
        mime_type="audio/ogg; codecs=opus",
        voice=True,
    )
    state = send(context, state, note).state
    assert state.draft is not None
    assert state.draft["answers"]["description"] == {
        "media_id": "voice-1",
        "mime_type": "audio/ogg",
        "size_bytes": None,
        "voice": True,
    }
    spec = service(context, grievance).form_field("description")
    assert spec is not None and display(spec, state.draft["answers"]["description"], None, "en") == "🎤"


def test_a_voice_note_is_not_an_answer_where_the_catalogue_wants_typing(context: Context) -> None:
    state = at_field(context, "revenue.income-certificate", "applicant_name")
    note = MediaIn(message_id="v", sender=SENDER, sent_at=NOW, kind="audio", media_id="voice-1", mime_type="audio/ogg")
    assert current_field(context, send(context, state, note).state) == "applicant_name"


def test_the_competent_authority_of_a_kind_starts_the_case_further_up(context: Context) -> None:
    municipal = service(context, "grievances.pgrs-municipal")
    assert authority_step(municipal, {"category": "sanitation"}) == 0
    assert authority_step(municipal, {"category": "roads_drains"}) == 1
    case = open_case(municipal, {"category": "encroachment", "address": PLACE}, NOW)
    assert case.step == 1 and case.desk == "municipal_commissioner@ntr/vijayawada-corporation"


def test_the_lint_refuses_an_authority_outside_the_chain(context: Context) -> None:
    municipal = service(context, "grievances.pgrs-municipal")
    category = municipal.fields[0]
    options = tuple(replace(o, authority="tahsildar") if o.id == "water" else o for o in category.options)
    broken = replace(municipal, fields=(replace(category, options=options), *municipal.fields[1:]))
    catalogue = replace(context.catalogue, services=(broken,))
    problems = [p for p in catalogue_problems(catalogue) if "authority" in p]
    assert problems == [
        f"{municipal.id}: field category: option water's authority must be a later approver of the service"
    ]
    assert Option(id="x", labels={}).authority is None


def test_a_case_remembers_where_it_was_routed() -> None:
    place = Place(district="ntr", mandal="ntr/vijayawada-corporation", village="ntr/vijayawada-corporation/ward-7")
    case = Case(step=0, desk="ward_admin_secretary@x", step_due_at=NOW, place=place)
    assert Case.from_dict(case.to_dict()) == case
    old = {"step": 0, "desk": "d@x", "step_due_at": NOW.isoformat()}  # stored before routing was recorded
    assert Case.from_dict(old).place is None and Case.from_dict(old).routed_to({"address": PLACE}).village.endswith(
        "ward-3"
    )


def test_rerouting_keeps_the_role_and_moves_the_place(context: Context) -> None:
    municipal = service(context, "grievances.pgrs-municipal")
    case = open_case(municipal, {"category": "sanitation", "address": PLACE}, NOW)
    ward_7 = Place(district="ntr", mandal="ntr/vijayawada-corporation", village="ntr/vijayawada-corporation/ward-7")
    moved = rerouted(case, municipal, ward_7, NOW)
    assert moved.desk == "ward_admin_secretary@ntr/vijayawada-corporation/ward-7" and moved.place == ward_7
    queued = replace(case, desk="queue@ntr")
    assert rerouted(queued, municipal, ward_7, NOW).desk == moved.desk  # a district queue hands it to the role
