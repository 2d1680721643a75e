"""Decisions of instant services: pure rules over a registry record and the citizen's answers."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from sevamitra.core.decisions import (
    LOOKUP_KEYS,
    Decision,
    UnknownRegistry,
    booking_request,
    decide,
    key_text,
    lookup_keys,
    on_weekday,
    show_date,
)
from sevamitra.core.registries import REGISTRIES

TODAY = date(2026, 11, 30)  # a Monday
AADHAAR = re.compile(r"(?<!\d)\d{4}\s?\d{4}\s?\d{4}(?!\d)")

LAND: dict[str, Any] = {
    "land_village": "ntr/vijayawada-rural/nidamanuru",
    "survey_number": "123/4A",
    "khata_number": "1045",
    "pattadar": "K. Ramaiah (synthetic)",
    "extent_acres": "2.35",
    "land_type": "wet",
}
PENSION: dict[str, Any] = {
    "aadhaar": "732825249984",
    "name": "K. Ramaiah (synthetic)",
    "pension_id": "158079626",
    "category": "old_age",
    "amount_per_month": 4000,
    "status": "active",
    "last_paid": "2026-11-01",
}
BUS: dict[str, Any] = {
    "from_place": "Vijayawada",
    "to_place": "Hyderabad",
    "advance_days": 60,
    "services": (
        {
            "service_number": "1101",
            "bus_type": "Super Luxury",
            "departure": "06:30",
            "fare": 530,
            "seats": 40,
            "seats_left": {"mon": 3, "tue": 11, "wed": 8, "thu": 31, "fri": 0, "sat": 15, "sun": 15},
        },
        {
            "service_number": "1102",
            "bus_type": "Amaravati (AC)",
            "departure": "22:00",
            "fare": 780,
            "seats": 45,
            "seats_left": {"mon": 17, "tue": 15, "wed": 43, "thu": 14, "fri": 0, "sat": 6, "sun": 0},
        },
    ),
}
TEMPLE: dict[str, Any] = {
    "pool": "ttd-darshan",
    "temple": "Sri Venkateswara Swamy Temple, Tirumala",
    "advance_days": 90,
    "slots": (
        {"slot": "07:00–08:00", "capacity": {"mon": 2, "tue": 50, "sat": 0}},
        {"slot": "09:00–10:00", "capacity": {"mon": 6, "tue": 50, "sat": 0}},
    ),
}
PENSION_SCHEME: dict[str, Any] = {
    "scheme": "ntr-bharosa-old-age-pension",
    "conditions": (
        {"answer": "age", "min": 60, "fact": "fact.age_limit"},
        {"answer": "annual_income", "max": 120000, "unit": "inr", "fact": "fact.income_limit"},
    ),
    "benefits": (("fact.benefit_per_month", "₹4,000"),),
}
WOMEN_SCHEME: dict[str, Any] = {
    "scheme": "aadabidda-nidhi",
    "conditions": (
        {"answer": "gender", "one_of": ("female",), "fact": "fact.only_women"},
        {"answer": "age", "min": 18, "max": 59, "fact": "fact.age_limit"},
    ),
    "benefits": (("fact.benefit_per_month", "₹1,500"),),
}


def facts_of(decision: Decision) -> dict[str, str]:
    return dict(decision.facts)


def assert_no_aadhaar(decision: Decision) -> None:
    for _, value in decision.facts:
        assert not AADHAAR.search(value), value


# --- keys -------------------------------------------------------------------------------------------


def test_every_known_registry_has_lookup_keys() -> None:
    assert set(LOOKUP_KEYS) == REGISTRIES


def test_lookup_keys_name_the_answers_a_registry_is_searched_by() -> None:
    assert lookup_keys("land_records") == ("land_village", "survey_number")
    assert lookup_keys("birth_records") == ("registration_number", "date_of_birth")
    assert lookup_keys("temple_slots") == ()
    with pytest.raises(UnknownRegistry):
        lookup_keys("horoscopes")


def test_key_text_compares_addresses_by_village_and_ignores_case_and_separators() -> None:
    address = {"district": "ntr", "mandal": "ntr/vijayawada-rural", "village": "ntr/vijayawada-rural/nidamanuru"}
    assert key_text(address) == key_text("ntr/vijayawada-rural/nidamanuru")
    assert key_text("ap39 ab 1234") == key_text("AP39AB1234")
    assert key_text(date(2019, 5, 14)) == key_text("2019-05-14")


def test_capacities_are_per_weekday_or_one_number_for_every_day() -> None:
    assert on_weekday({"mon": 4}, TODAY) == 4
    assert on_weekday({"mon": 4}, date(2026, 12, 1)) == 0  # a Tuesday not listed: closed
    assert on_weekday(25, date(2031, 6, 7)) == 25
    assert show_date("2026-12-15") == "15-12-2026"


def test_an_unknown_registry_is_refused() -> None:
    with pytest.raises(UnknownRegistry):
        decide("horoscopes", "x", {}, {}, today=TODAY)


# --- found and not found, registry by registry ---------------------------------------------------------

FOUND: list[tuple[str, dict[str, Any], str, str]] = [
    ("land_records", LAND, "fact.owner", "K. Ramaiah (synthetic)"),
    (
        "property_tax",
        {"owner": "B. Sarojini", "annual_tax": 2400, "tax_due": 1200, "due_date": "2027-03-31"},
        "fact.amount_due",
        "₹1,200",
    ),
    (
        "electricity_consumers",
        {
            "consumer_name": "T. Nagaraju",
            "discom": "APCPDCL",
            "bill_date": "2026-11-05",
            "units": 180,
            "amount_due": 1240,
            "due_date": "2026-12-15",
        },
        "fact.amount_due",
        "₹1,240",
    ),
    (
        "water_connections",
        {"consumer_name": "R. Bhavani", "bill_date": "2026-11-01", "amount_due": 300, "due_date": "2026-12-15"},
        "fact.due_date",
        "15-12-2026",
    ),
    (
        "birth_records",
        {
            "name": "K. Sai Charan",
            "date_of_birth": "2009-03-29",
            "place_of_birth": "GGH, Vijayawada",
            "registered_on": "2009-04-08",
            "mother_name": "P. Lakshmi",
            "father_name": "K. Ramaiah",
        },
        "fact.date_of_birth",
        "29-03-2009",
    ),
    (
        "death_records",
        {
            "name": "N. Subba Rao",
            "date_of_death": "2021-07-02",
            "place_of_death": "GGH, Guntur",
            "registered_on": "2021-07-05",
            "informant_name": "Y. Prasad",
        },
        "fact.registered_on",
        "05-07-2021",
    ),
    (
        "rice_cards",
        {"card_holder": "M. Padmavathi", "members": 4, "status": "active", "fair_price_shop": "0812034"},
        "fact.members",
        "4",
    ),
    (
        "traffic_challans",
        {
            "vehicle": "AP39AB1234",
            "challans": (
                {"challan_number": "VJA2026000001", "date": "2026-03-01", "amount": 1035},
                {"challan_number": "VJA2026000002", "date": "2026-04-01", "amount": 135},
            ),
        },
        "fact.amount_due",
        "₹1,170",
    ),
    (
        "exam_results",
        {
            "name": "P. Harshini",
            "exam": "ssc",
            "year": 2026,
            "exam_centre": "ZPHS Nunna",
            "result": "pass",
            "marks": 512,
            "max_marks": 600,
        },
        "fact.marks",
        "512 / 600",
    ),
    (
        "voter_roll",
        {
            "name": "S. Kumari",
            "relative_name": "S. Appala Naidu",
            "constituency": "Tadikonda",
            "part_number": 112,
            "serial_number": 845,
            "polling_station": "ZPHS Lam (room 2)",
        },
        "fact.polling_station",
        "ZPHS Lam (room 2)",
    ),
    ("pensions", PENSION, "fact.pension_amount", "₹4,000"),
]


@pytest.mark.parametrize(("registry", "record", "label", "value"), FOUND, ids=[f[0] for f in FOUND])
def test_a_record_found_is_granted_with_its_facts(
    registry: str, record: dict[str, Any], label: str, value: str
) -> None:
    decision = decide(registry, "any.service", {}, record, today=TODAY)
    assert decision.outcome == "granted"
    assert facts_of(decision)[label] == value
    assert_no_aadhaar(decision)


@pytest.mark.parametrize("registry", sorted(REGISTRIES - {"information", "applications"}))
def test_no_record_is_not_found(registry: str) -> None:
    assert decide(registry, "any.service", {}, None, today=TODAY) == Decision(outcome="not_found")


def test_a_land_extract_shows_the_pattadar_and_the_land() -> None:
    facts = facts_of(decide("land_records", "revenue.adangal-extract", {}, LAND, today=TODAY))
    assert facts == {
        "fact.owner": "K. Ramaiah (synthetic)",
        "fact.khata_number": "1045",
        "fact.survey_number": "123/4A",
        "fact.extent_acres": "2.35",
        "fact.land_type.wet": "",
    }


def test_a_pension_status_never_shows_the_aadhaar_number() -> None:
    decision = decide("pensions", "welfare.pension-status", {"aadhaar": PENSION["aadhaar"]}, PENSION, today=TODAY)
    assert PENSION["aadhaar"] not in " ".join(v for _, v in decision.facts)
    assert_no_aadhaar(decision)
    assert ("fact.pension_status.active", "") in decision.facts


def test_a_voter_roll_entry_shows_the_polling_station_but_not_the_relative() -> None:
    record = FOUND[9][1]
    decision = decide("voter_roll", "elections.voter-search", {}, record, today=TODAY)
    assert {"fact.name", "fact.part_number", "fact.polling_station"} <= facts_of(decision).keys()
    assert all("Appala Naidu" not in value for _, value in decision.facts)


def test_a_birth_record_reprint_does_not_show_the_parents() -> None:
    record = FOUND[4][1]
    decision = decide("birth_records", "municipal.birth-certificate", {}, record, today=TODAY)
    assert all(name not in value for _, value in decision.facts for name in ("P. Lakshmi", "K. Ramaiah"))
    assert decision.record == record  # the certificate still has them


def test_results_not_out_yet_show_the_hall_ticket_without_a_result() -> None:
    record = {"name": "L. Rithvik", "exam": "ssc", "year": 2027, "exam_centre": "ZPHS Nunna", "result": None}
    facts = facts_of(decide("exam_results", "education.ssc-hall-ticket", {}, record, today=TODAY))
    assert facts["fact.exam_centre"] == "ZPHS Nunna"
    assert not any(key.startswith("fact.result.") for key in facts)


# --- bills --------------------------------------------------------------------------------------------


def test_a_bill_with_dues_asks_for_the_amount_due() -> None:
    record = {
        "consumer_name": "T. Nagaraju",
        "discom": "APCPDCL",
        "bill_date": "2026-11-05",
        "units": 180,
        "amount_due": 1240,
        "due_date": "2026-12-15",
    }
    decision = decide("electricity_consumers", "energy.bill-payment", {}, record, today=TODAY)
    assert (decision.outcome, decision.amount_inr) == ("granted", 1240)
    assert ("fact.amount_due", "₹1,240") in decision.facts
    assert ("fact.due_date", "15-12-2026") in decision.facts


def test_a_bill_paid_up_is_granted_with_nothing_due() -> None:
    record = {"owner": "B. Sarojini", "annual_tax": 2400, "tax_due": 0, "due_date": None}
    decision = decide("property_tax", "municipal.property-tax-payment", {}, record, today=TODAY)
    assert (decision.outcome, decision.amount_inr) == ("granted", 0)
    assert ("fact.nothing_due", "") in decision.facts
    assert "fact.amount_due" not in facts_of(decision)


def test_challans_add_up_and_a_vehicle_without_any_owes_nothing() -> None:
    with_fines = decide("traffic_challans", "police.e-challan", {}, FOUND[7][1], today=TODAY)
    assert with_fines.amount_inr == 1170
    assert with_fines.record["amount_due"] == 1170  # the fee rule `challan_amount` reads it
    clean = decide("traffic_challans", "police.e-challan", {}, {"vehicle": "AP16TA8985", "challans": ()}, today=TODAY)
    assert (clean.outcome, clean.amount_inr) == ("granted", 0)
    assert ("fact.nothing_due", "") in clean.facts


# --- bookings -----------------------------------------------------------------------------------------


def bus(journey: date, seats: int) -> Decision:
    answers = {"from_place": "vijayawada", "to_place": "HYDERABAD", "journey_date": journey.isoformat(), "seats": seats}
    return decide("bus_services", "apsrtc.bus-ticket-booking", answers, BUS, today=TODAY)


def test_a_bus_with_enough_seats_is_booked_at_fare_times_seats() -> None:
    decision = bus(date(2026, 12, 7), 2)  # a Monday: the 06:30 bus has 3 seats left
    assert (decision.outcome, decision.amount_inr) == ("granted", 1060)
    assert decision.record["service_number"] == "1101"
    assert decision.record["seat_numbers"] == [38, 39]  # after the 37 taken
    assert ("fact.seat", "38, 39") in decision.facts
    assert ("fact.amount_due", "₹1,060") in decision.facts


def test_a_bus_too_full_for_the_party_gives_way_to_a_later_one() -> None:
    decision = bus(date(2026, 12, 7), 5)  # 3 left on the 06:30, 17 on the 22:00
    assert (decision.record["service_number"], decision.amount_inr) == ("1102", 3900)
    assert decision.record["seat_numbers"] == [29, 30, 31, 32, 33]


def test_no_seats_on_any_bus_that_day_is_unavailable() -> None:
    assert bus(date(2026, 12, 4), 1).outcome == "unavailable"  # Friday: both full


def test_a_past_or_too_distant_journey_is_unavailable() -> None:
    assert bus(date(2026, 11, 29), 1).outcome == "unavailable"
    assert bus(date(2027, 3, 1), 1).outcome == "unavailable"  # beyond 60 days


def test_bus_capacity_repeats_every_week_so_any_future_date_works() -> None:
    assert bus(date(2027, 1, 25), 2).record["seat_numbers"] == [38, 39]  # a Monday eight weeks on


def visit(day: date, persons: int) -> Decision:
    answers = {"visit_date": day.isoformat(), "persons": persons}
    return decide("temple_slots", "endowments.ttd-special-entry-darshan", answers, TEMPLE, today=TODAY)


def test_a_temple_slot_with_room_for_everyone_is_granted() -> None:
    decision = visit(date(2026, 12, 7), 4)  # Monday: 2 in the first slot, 6 in the second
    assert decision.outcome == "granted"
    assert ("fact.slot", "09:00–10:00") in decision.facts
    assert decision.record == {
        "pool": "ttd-darshan",
        "temple": "Sri Venkateswara Swamy Temple, Tirumala",
        "slot": "09:00–10:00",
        "visit_date": "2026-12-07",
        "persons": 4,
        "booking": {"resource": "temple/ttd-darshan/2026-12-07/09:00–10:00", "capacity": 6, "places": 4},
    }
    request = booking_request(decision)
    assert request is not None and (request.capacity, request.places) == (6, 4)


def test_more_persons_than_any_slot_holds_is_unavailable() -> None:
    assert visit(date(2026, 12, 7), 7).outcome == "unavailable"
    assert visit(date(2026, 12, 5), 1).outcome == "unavailable"  # Saturday: sold out


def test_a_temple_visit_in_the_past_is_unavailable() -> None:
    assert visit(date(2026, 11, 23), 1).outcome == "unavailable"


# --- schemes, information, applications -----------------------------------------------------------------


def test_a_citizen_meeting_every_condition_is_eligible_and_told_the_benefit() -> None:
    answers = {"age": 67, "annual_income": 90000}
    decision = decide("scheme_rules", "welfare.old-age-pension-eligibility", answers, PENSION_SCHEME, today=TODAY)
    assert decision.outcome == "granted"
    assert decision.facts == (("fact.benefit_per_month", "₹4,000"),)


def test_a_citizen_failing_a_condition_is_not_eligible_and_told_which() -> None:
    answers = {"age": 67, "annual_income": 250000}
    decision = decide("scheme_rules", "welfare.old-age-pension-eligibility", answers, PENSION_SCHEME, today=TODAY)
    assert decision.outcome == "not_eligible"
    assert decision.facts == (("fact.income_limit", "≤ ₹1,20,000"),)


def test_a_choice_condition_and_an_age_from_the_date_of_birth() -> None:
    man = {"gender": "male", "date_of_birth": "1990-01-01"}
    decision = decide("scheme_rules", "welfare.aadabidda-nidhi", man, WOMEN_SCHEME, today=TODAY)
    assert (decision.outcome, decision.facts) == ("not_eligible", (("fact.only_women", ""),))
    old = {"gender": "female", "date_of_birth": "1960-01-01"}
    decision = decide("scheme_rules", "welfare.aadabidda-nidhi", old, WOMEN_SCHEME, today=TODAY)
    assert decision.facts == (("fact.age_limit", "18–59"),)
    young = {"gender": "female", "date_of_birth": "1996-12-01"}  # turns 30 tomorrow: still 29
    assert decide("scheme_rules", "welfare.aadabidda-nidhi", young, WOMEN_SCHEME, today=TODAY).outcome == "granted"


def test_a_scheme_answer_missing_cannot_be_decided() -> None:
    decision = decide("scheme_rules", "welfare.old-age-pension-eligibility", {"age": 70}, PENSION_SCHEME, today=TODAY)
    assert decision.outcome == "unavailable"


def test_an_information_service_is_granted_without_a_record() -> None:
    assert decide("information", "info.schemes", {}, None, today=TODAY) == Decision(outcome="granted")


def test_an_application_status_is_referred_to_the_applications() -> None:
    decision = decide("applications", "track.application", {"reference_number": "INC-2026-000123"}, None, today=TODAY)
    assert (decision.outcome, decision.refer_to) == ("unavailable", "applications")
