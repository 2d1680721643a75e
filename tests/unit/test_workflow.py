"""Cases, pure: routing to desks, the SLA clock, officers' actions and who may do what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sevamitra.core.applications import Status
from sevamitra.core.catalogue import Delivery, Service, Sla
from sevamitra.core.officers import Officer, may_act, may_view, within
from sevamitra.core.workflow import (
    ActionError,
    Case,
    Desk,
    act,
    applicant_place,
    citizen_clock,
    desk_for,
    next_clock,
    on_clock,
    open_case,
    resubmitted,
    step_time,
)

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
CHAIN = ("village_revenue_officer", "revenue_inspector", "tahsildar")
PLACE = {"district": "ntr", "mandal": "ntr/vijayawada-rural", "village": "ntr/vijayawada-rural/nunna"}
ANSWERS = {"applicant_name": "Lakshmi", "residence": PLACE}


def service(*, days: int = 6, chain: tuple[str, ...] = CHAIN, deemed: bool = False) -> Service:
    return Service(
        id="revenue.income-certificate",
        department_id="revenue",
        names={"en": "Income Certificate"},
        delivery=Delivery(kind="reviewed", approvers=chain),
        sla=Sla(days=days, deemed_approval=deemed),
    )


def officer(role: str, place: str, **more: object) -> Officer:
    return Officer(id=1, username="o1", display_name="Officer", role=role, place=place, **more)  # type: ignore[arg-type]


def test_each_step_goes_to_its_roles_desk_at_the_applicants_place() -> None:
    place = applicant_place(ANSWERS)
    assert desk_for("village_revenue_officer", place).key == "village_revenue_officer@ntr/vijayawada-rural/nunna"
    assert desk_for("tahsildar", place).key == "tahsildar@ntr/vijayawada-rural"
    assert desk_for("revenue_divisional_officer", place).key == "revenue_divisional_officer@ntr"
    assert desk_for("board_secretary", place).key == "board_secretary@state"


@pytest.mark.parametrize(
    ("answers", "queue"),
    [
        (
            {
                "residence": {
                    "district": "ntr",
                    "mandal": "ntr/vijayawada-rural",
                    "village": "ntr/vijayawada-rural/~Kothuru",
                }
            },
            "queue@ntr",
        ),
        ({"residence": {"district": "guntur"}}, "queue@guntur"),
        ({"applicant_name": "no place at all"}, "queue@state"),
    ],
)
def test_a_case_no_desk_can_take_goes_to_a_named_district_queue(answers: dict[str, object], queue: str) -> None:
    assert desk_for("village_revenue_officer", applicant_place(answers)).key == queue


def test_the_sla_is_shared_out_over_the_steps() -> None:
    assert step_time(service(days=6)) == timedelta(days=2)
    case = open_case(service(days=6), ANSWERS, NOW)
    assert (
        case.step == 0
        and case.desk.startswith("village_revenue_officer@")
        and case.step_due_at == NOW + timedelta(days=2)
    )


def test_the_officer_is_reminded_when_a_quarter_of_the_step_is_left_then_the_case_moves_on() -> None:
    svc = service(days=4)  # 32 hours a step
    case = open_case(svc, ANSWERS, NOW)
    assert next_clock(case, svc) == NOW + timedelta(hours=24)
    assert on_clock(case, Status.SUBMITTED, svc, ANSWERS, NOW + timedelta(hours=23)) is None
    reminded = on_clock(case, Status.SUBMITTED, svc, ANSWERS, NOW + timedelta(hours=24))
    assert reminded is not None and reminded.event == "remind" and reminded.case.reminded
    assert next_clock(reminded.case, svc) == case.step_due_at
    assert on_clock(reminded.case, Status.SUBMITTED, svc, ANSWERS, NOW + timedelta(hours=31)) is None
    moved = on_clock(reminded.case, Status.SUBMITTED, svc, ANSWERS, NOW + timedelta(hours=32))
    assert moved is not None and moved.event == "escalate" and moved.status is Status.UNDER_REVIEW
    assert moved.case.step == 1 and moved.case.desk == "revenue_inspector@ntr/vijayawada-rural"
    assert moved.case.escalated and moved.case.step_due_at == NOW + timedelta(hours=64)


def test_after_the_last_approver_the_case_goes_to_the_supervisor_and_stays_overdue() -> None:
    svc = service(days=2, chain=("tahsildar",))
    case = open_case(svc, ANSWERS, NOW)
    moved = on_clock(case, Status.UNDER_REVIEW, svc, ANSWERS, case.step_due_at)
    assert moved is not None and moved.case.desk == "revenue_divisional_officer@ntr"
    assert on_clock(moved.case, Status.UNDER_REVIEW, svc, ANSWERS, moved.case.step_due_at + timedelta(days=9)) is None


def test_deemed_approval_when_the_last_step_runs_out_where_the_law_grants_it() -> None:
    svc = service(days=2, chain=("town_planning_officer",), deemed=True)
    case = open_case(svc, ANSWERS, NOW)
    due = on_clock(replace_reminded(case), Status.SUBMITTED, svc, ANSWERS, case.step_due_at)
    assert due is not None and due.event == "deemed_approval" and due.status is Status.APPROVED


def replace_reminded(case: Case) -> Case:
    return Case(step=case.step, desk=case.desk, step_due_at=case.step_due_at, reminded=True)


def test_no_clock_for_a_case_with_the_citizen_or_decided() -> None:
    svc = service()
    case = open_case(svc, ANSWERS, NOW)
    for status in (Status.RETURNED, Status.APPROVED, Status.REJECTED, Status.ISSUED):
        assert on_clock(case, status, svc, ANSWERS, NOW + timedelta(days=30)) is None


def test_approving_passes_the_case_up_the_chain_and_the_last_approval_issues() -> None:
    svc = service()
    case = open_case(svc, ANSWERS, NOW)
    first = act("approve", case, Status.SUBMITTED, svc, ANSWERS, NOW)
    assert first.status is Status.UNDER_REVIEW and not first.issue and first.case.step == 1
    second = act("approve", first.case, first.status, svc, ANSWERS, NOW)
    last = act("approve", second.case, second.status, svc, ANSWERS, NOW)
    assert last.status is Status.APPROVED and last.issue


def test_returning_stops_the_clock_and_the_correction_restarts_it_with_the_time_left() -> None:
    svc = service(days=6)
    case = open_case(svc, ANSWERS, NOW)
    returned = act("return", case, Status.SUBMITTED, svc, ANSWERS, NOW + timedelta(hours=10))
    assert returned.status is Status.RETURNED and returned.case.paused_minutes == 38 * 60
    assert next_clock(returned.case, svc) is None
    again = resubmitted(returned.case, NOW + timedelta(days=5))
    assert again.step_due_at == NOW + timedelta(days=5, hours=38) and again.paused_minutes is None


@pytest.mark.parametrize("status", [Status.RETURNED, Status.REJECTED, Status.ISSUED])
def test_a_case_not_with_an_officer_cannot_be_decided(status: Status) -> None:
    svc = service()
    with pytest.raises(ActionError):
        act("approve", open_case(svc, ANSWERS, NOW), status, svc, ANSWERS, NOW)


def test_the_citizen_reads_the_day_and_who_it_moves_to() -> None:
    svc = service(days=6)
    case = open_case(svc, ANSWERS, NOW)
    clock = citizen_clock(case, svc, NOW, NOW + timedelta(days=1, hours=2))
    assert (clock.day, clock.of_days, clock.next_role, clock.next_day) == (2, 6, "revenue_inspector", 3)


def test_an_officer_acts_only_at_a_desk_of_their_role_within_their_place() -> None:
    desk = "tahsildar@ntr/vijayawada-rural"
    assert may_act(officer("tahsildar", "ntr/vijayawada-rural"), desk)
    assert not may_act(officer("tahsildar", "ntr/ibrahimpatnam"), desk)
    assert not may_act(officer("tahsildar", "guntur"), desk)
    assert not may_act(officer("revenue_inspector", "ntr/vijayawada-rural"), desk)
    assert not may_act(officer("tahsildar", "ntr/vijayawada-rural", active=False), desk)
    assert not may_act(
        officer("tahsildar", "ntr/vijayawada"), "tahsildar@ntr/vijayawada-rural"
    )  # a prefix, not a parent
    assert may_act(officer("district_admin", "ntr"), "queue@ntr")
    assert not may_act(officer("district_admin", "guntur"), "queue@ntr")


def test_administrators_see_their_scope_and_decide_nothing() -> None:
    desk = "tahsildar@ntr/vijayawada-rural"
    assert may_view(officer("district_admin", "ntr"), desk, "ntr", "revenue")
    assert not may_view(officer("district_admin", "guntur"), desk, "ntr", "revenue")
    assert may_view(officer("department_admin", "state", department_id="revenue"), desk, "ntr", "revenue")
    assert not may_view(officer("department_admin", "state", department_id="municipal"), desk, "ntr", "revenue")
    assert not may_act(officer("state_admin", "state"), desk)
    assert within("ntr/vijayawada-rural/nunna", "ntr") and not within("ntr2", "ntr")
    assert Desk.parse(desk) == Desk(role="tahsildar", place="ntr/vijayawada-rural")
