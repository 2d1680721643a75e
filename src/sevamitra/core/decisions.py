"""Decisions of instant services: a registry record and the citizen's answers in, an outcome out.

A `Registry` (a port) finds the record; `decide` applies the registry's rules to it. Facts are
(label key, value) pairs shown to the citizen; labels live in `catalogue/locales/*/decisions.yaml`.
A fact with an empty value is a whole statement ("Nothing is due"). Facts never carry personal data
of anyone but the person the record is about, and never an Aadhaar number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Final, Literal, Protocol

from sevamitra.core.amounts import format_inr
from sevamitra.core.catalogue import Fee, Rebate
from sevamitra.core.fees import rebate_inr, rebate_window

Outcome = Literal["granted", "not_found", "not_eligible", "unavailable"]

LOOKUP_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    "land_records": ("land_village", "survey_number"),
    "property_tax": ("assessment_number",),
    "electricity_consumers": ("service_number",),
    "water_connections": ("connection_number",),
    "birth_records": ("registration_number", "date_of_birth"),
    "death_records": ("registration_number", "date_of_death"),
    "rice_cards": ("ration_card",),
    "traffic_challans": ("vehicle",),
    "bus_services": ("from_place", "to_place"),
    "temple_slots": (),  # keyed by the service itself: each temple service is its own slot pool
    "exam_results": ("hall_ticket_number",),
    "voter_roll": ("epic",),
    "pensions": ("aadhaar",),
    "scheme_rules": (),  # keyed by the service itself: the answers are judged, not looked up
    "information": (),
    "applications": ("reference_number",),
}
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class UnknownRegistry(ValueError):
    """A registry name that no rule knows: a catalogue error, caught by the catalogue lint."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What an instant service decided; `record` feeds fees and documents, `facts` the reply."""

    outcome: Outcome
    record: Mapping[str, Any] = field(default_factory=dict)
    amount_inr: int | None = None  # what the citizen pays now: a bill, a fine, a fare
    facts: tuple[tuple[str, str], ...] = ()
    refer_to: str | None = None  # another part of the system answers instead ("applications")


class Registry(Protocol):
    """Where records come from: seed files in development, a department's API in production."""

    async def lookup(self, registry: str, service_id: str, keys: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The record for `keys` (answers named by `lookup_keys(registry)`), or None when there is none."""
        ...


def lookup_keys(registry: str) -> tuple[str, ...]:
    """The answer ids a registry is searched by (empty: by the service id, or not searched at all)."""
    try:
        return LOOKUP_KEYS[registry]
    except KeyError:
        raise UnknownRegistry(registry) from None


def key_text(value: object) -> str:
    """A key as compared: an address by its village id; upper case, without spaces, dots, hyphens, slashes."""
    if isinstance(value, Mapping):
        value = value.get("village") or value.get("mandal") or value.get("district") or ""
    if isinstance(value, date):
        value = value.isoformat()
    return "".join(ch for ch in str(value) if not ch.isspace() and ch not in "-./").upper()


def show_date(value: object) -> str:
    """`dd-mm-yyyy` from an ISO date (or a date); other text unchanged."""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.day:02d}-{day.month:02d}-{day.year:04d}"


def age_on(today: date, born: date) -> int:
    """Age in completed years."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def on_weekday(capacity: object, day: date) -> int:
    """A capacity given once for every day (an int) or per weekday (`{mon: 40, sun: 0}`)."""
    if isinstance(capacity, Mapping):
        capacity = capacity.get(WEEKDAYS[day.weekday()], 0)
    return capacity if isinstance(capacity, int) else 0


def _answer_date(answers: Mapping[str, Any], key: str) -> date | None:
    value = answers.get(key)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _count(answers: Mapping[str, Any], key: str) -> int:
    value = answers.get(key, 1)
    return value if isinstance(value, int) and value > 0 else 0


def _date_fact(label: str, day: date | None) -> tuple[tuple[str, str], ...]:
    return ((label, show_date(day)),) if day is not None else ()


def _bookable(day: date | None, record: Mapping[str, Any], today: date) -> bool:
    """Whether a journey or visit on `day` is inside the booking window (today up to `advance_days`)."""
    advance = record.get("advance_days", 60)
    return day is not None and today <= day <= today + timedelta(days=int(advance))


# --- bills and records -------------------------------------------------------------------------------


def _bill(record: Mapping[str, Any], due: int, facts: Iterable[tuple[str, str]]) -> Decision:
    shown = list(facts)
    if due <= 0:
        shown.append(("fact.nothing_due", ""))
    else:
        shown.append(("fact.amount_due", format_inr(due)))
        if record.get("due_date"):
            shown.append(("fact.due_date", show_date(record["due_date"])))
    return Decision(outcome="granted", record=record, amount_inr=max(due, 0), facts=tuple(shown))


def _land(service_id: str, answers: Mapping[str, Any], record: Mapping[str, Any], today: date) -> Decision:
    facts = [
        ("fact.owner", str(record["pattadar"])),
        ("fact.khata_number", str(record["khata_number"])),
        ("fact.survey_number", str(record["survey_number"])),
        ("fact.extent_acres", str(record["extent_acres"])),
        (f"fact.land_type.{record['land_type']}", ""),
    ]
    return Decision(outcome="granted", record=record, facts=tuple(facts))


def _property_tax(service_id: str, answers: Mapping[str, Any], record: Mapping[str, Any], today: date) -> Decision:
    facts = [("fact.owner", str(record["owner"])), ("fact.annual_tax", format_inr(int(record["annual_tax"])))]
    return _bill(record, int(record["tax_due"]), facts)


def _electricity(service_id: str, answers: Mapping[str, Any], record: Mapping[str, Any], today: date) -> Decision:
    facts = [
        ("fact.consumer", str(record["consumer_name"])),
        ("fact.discom", str(record["discom"])),
        ("fact.bill_date", show_date(record["bill_date"])),
        ("fact.units", str(record["units"])),
    ]
    return _bill(record, int(record["amount_due"]), facts)


def _water(service_id: str, answers: Mapping[str, Any], record: Mapping[str, Any], today: date) -> Decision:
    facts = [("fact.consumer", str(record["consumer_name"])), ("fact.bill_date", show_date(record["bill_date"]))]
    return _bill(record, int(record["amount_due"]), facts)


def _challans(service_id: str, answers: Mapping[str, Any], record: Mapping[str, Any], today: date) -> Decision:
    challans = list(record.get("challans", ()))
    total = sum(int(c["amount"]) for c in challans)
    facts = [("fact.challan_count", str(len(challans)))]
    facts += [
        ("fact.challan", f"{c['challan_number']} · {show_date(c['date'])} · {format_inr(int(c['amount']))}")
        for c in challans
    ]
    return _bill({**record, "amount_due": total}, total, facts)


def _birth(service_id: str, answers: Mapping[str, Any], record: Mapping[str, Any], today: date) -> Decision:
    facts = [
        ("fact.name", str(record["name"])),
        ("fact.date_of_birth", show_date(record["date_of_birth"])),
        ("fact.place_of_birth", str(record["place_of_birth"])),
        ("fact.registered_on", show_date(record["registered_on"])),
    ]
    return Decision(outcome="granted", record=record, facts=tuple(facts))


def _death(service_id: str, answers: Mapping[str, Any], record: Mapping[str, Any], today: date) -> Decision:
    facts = [
        ("fact.name", str(record["name"])),
        ("fact.date_of_death", show_date(record["date_of_death"])),
        ("fact.place_of_death", str(record["place_of_death"])),
        ("fact.registered_on", show_date(record["registered_on"])),
    ]
    return Decision(outcome="granted", record=record, facts=tuple(facts))


def _rice_card(service_id: str, answers: Mapping[str, Any], record: Mapping[str, Any], today: date) -> Decision:
    facts = [
        ("fact.card_holder", str(record["card_holder"])),
        ("fact.members", str(record["members"])),
        (f"fact.card_status.{record['status']}", ""),
        ("fact.fair_price_shop", str(record["fair_price_shop"])),
    ]
    return Decision(outcome="granted", record=record, facts=tuple(facts))


def _exam(service_id: str, answers: Mapping[str, Any], record: Mapping[str, Any], today: date) -> Decision:
    facts = [
        ("fact.name", str(record["name"])),
        (f"fact.exam.{record['exam']}", ""),
        ("fact.exam_year", str(record["year"])),
        ("fact.exam_centre", str(record["exam_centre"])),
    ]
    if record.get("result"):
        facts.append((f"fact.result.{record['result']}", ""))
        facts.append(("fact.marks", f"{record['marks']} / {record['max_marks']}"))
    return Decision(outcome="granted", record=record, facts=tuple(facts))


def _voter(service_id: str, answers: Mapping[str, Any], record: Mapping[str, Any], today: date) -> Decision:
    facts = [  # the roll also names a relative: theirs is not ours to show
        ("fact.name", str(record["name"])),
        ("fact.constituency", str(record["constituency"])),
        ("fact.part_number", str(record["part_number"])),
        ("fact.serial_number", str(record["serial_number"])),
        ("fact.polling_station", str(record["polling_station"])),
    ]
    return Decision(outcome="granted", record=record, facts=tuple(facts))


def _pension(service_id: str, answers: Mapping[str, Any], record: Mapping[str, Any], today: date) -> Decision:
    facts = [  # the Aadhaar number is the key the citizen gave: never echoed back
        ("fact.name", str(record["name"])),
        ("fact.pension_id", str(record["pension_id"])),
        (f"fact.pension_category.{record['category']}", ""),
        ("fact.pension_amount", format_inr(int(record["amount_per_month"]))),
        (f"fact.pension_status.{record['status']}", ""),
        ("fact.last_paid", show_date(record["last_paid"])),
    ]
    return Decision(outcome="granted", record=record, facts=tuple(facts))


# --- bookings ----------------------------------------------------------------------------------------


def _bus(service_id: str, answers: Mapping[str, Any], record: Mapping[str, Any], today: date) -> Decision:
    day, seats = _answer_date(answers, "journey_date"), _count(answers, "seats")
    if day is None or not seats or not _bookable(day, record, today):
        return Decision(outcome="unavailable", facts=_date_fact("fact.journey_date", day))
    for bus in record.get("services", ()):
        left, total = on_weekday(bus["seats_left"], day), int(bus["seats"])
        if left >= seats:
            first = total - left + 1
            numbers = list(range(first, first + seats))
            fare = int(bus["fare"])
            chosen = {
                **bus,
                "from_place": record["from_place"],
                "to_place": record["to_place"],
                "journey_date": day.isoformat(),
                "seat_numbers": numbers,
                "booking": {
                    "resource": f"bus/{bus['service_number']}/{day.isoformat()}",
                    "capacity": left,
                    "places": seats,
                    "numbered_from": total - left,
                },
            }
            facts = (
                ("fact.route", f"{record['from_place']} → {record['to_place']}"),
                ("fact.bus_type", str(bus["bus_type"])),
                ("fact.journey_date", show_date(day)),
                ("fact.departure", str(bus["departure"])),
                ("fact.seat", ", ".join(map(str, numbers))),
                ("fact.amount_due", format_inr(fare * seats)),
            )
            return Decision(outcome="granted", record=chosen, amount_inr=fare * seats, facts=facts)
    return Decision(outcome="unavailable", facts=_date_fact("fact.journey_date", day))


def _temple(service_id: str, answers: Mapping[str, Any], record: Mapping[str, Any], today: date) -> Decision:
    day, persons = _answer_date(answers, "visit_date"), _count(answers, "persons")
    if day is None or not persons or not _bookable(day, record, today):
        return Decision(outcome="unavailable", facts=_date_fact("fact.visit_date", day))
    for slot in record.get("slots", ()):
        if on_weekday(slot["capacity"], day) >= persons:
            chosen = {
                "pool": record["pool"],
                "temple": record["temple"],
                "slot": slot["slot"],
                "visit_date": day.isoformat(),
                "persons": persons,
                "booking": {
                    "resource": f"temple/{record['pool']}/{day.isoformat()}/{slot['slot']}",
                    "capacity": on_weekday(slot["capacity"], day),
                    "places": persons,
                },
            }
            facts = (
                ("fact.temple", str(record["temple"])),
                ("fact.visit_date", show_date(day)),
                ("fact.slot", str(slot["slot"])),
                ("fact.persons", str(persons)),
            )
            return Decision(outcome="granted", record=chosen, facts=facts)
    full = (("fact.temple", str(record["temple"])), ("fact.visit_date", show_date(day)))
    return Decision(outcome="unavailable", facts=full)


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingRequest:
    """Places a granted booking takes from a pool the platform counts: a darshan slot, a bus on a day."""

    resource: str
    capacity: int  # the places the registry leaves in the pool
    places: int
    numbered_from: int = 0  # a bus's seats sold elsewhere: its seat numbers start after them


def booking_request(decision: Decision) -> BookingRequest | None:
    """The places to hold before a granted booking is offered for payment; None for other decisions."""
    wanted = decision.record.get("booking") if decision.outcome == "granted" else None
    if not isinstance(wanted, Mapping):
        return None
    return BookingRequest(
        resource=str(wanted["resource"]),
        capacity=int(wanted["capacity"]),
        places=int(wanted["places"]),
        numbered_from=int(wanted.get("numbered_from", 0)),
    )


def with_places(decision: Decision, request: BookingRequest, held: Sequence[int]) -> Decision:
    """The booking as held: a bus's seat numbers are the places the pool gave, after those sold elsewhere."""
    if "seat_numbers" not in decision.record:
        return decision
    numbers = [request.numbered_from + n for n in held]
    facts = tuple(
        (label, ", ".join(map(str, numbers)) if label == "fact.seat" else value) for label, value in decision.facts
    )
    return replace(decision, record={**decision.record, "seat_numbers": numbers}, facts=facts)


def taken_meanwhile(decision: Decision) -> Decision:
    """A granted booking whose places went to others before they could be held."""
    kept = tuple(
        (label, value)
        for label, value in decision.facts
        if label in ("fact.temple", "fact.route", "fact.visit_date", "fact.journey_date")
    )
    return Decision(outcome="unavailable", facts=kept)


# --- scheme eligibility ------------------------------------------------------------------------------


def _scheme_value(answers: Mapping[str, Any], key: str, today: date) -> Any:
    if key == "age" and "age" not in answers and (born := _answer_date(answers, "date_of_birth")):
        return age_on(today, born)
    return answers.get(key)


def _requirement(condition: Mapping[str, Any]) -> str:
    """`18–59`, `≥ 60`, `≤ ₹1,44,000`; empty for a choice (its label says it all)."""
    if "one_of" in condition:
        return ""
    low, high = condition.get("min"), condition.get("max")

    def shown(number: Any) -> str:
        return format_inr(number) if condition.get("unit") == "inr" else str(number)

    if low is not None and high is not None:
        return f"{shown(low)}–{shown(high)}"
    return f"≥ {shown(low)}" if low is not None else f"≤ {shown(high)}"


def _met(condition: Mapping[str, Any], value: Any) -> bool:
    if "one_of" in condition:
        chosen = value if isinstance(value, list | tuple | frozenset | set) else [value]
        return any(str(v) in condition["one_of"] for v in chosen)
    low, high = condition.get("min"), condition.get("max")
    return (low is None or value >= low) and (high is None or value <= high)


def _scheme(service_id: str, answers: Mapping[str, Any], record: Mapping[str, Any], today: date) -> Decision:
    failed: list[tuple[str, str]] = []
    for condition in record.get("conditions", ()):
        value = _scheme_value(answers, condition["answer"], today)
        numeric = "one_of" not in condition
        if value is None or (numeric and (isinstance(value, bool) or not isinstance(value, int))):
            return Decision(outcome="unavailable", record=record)
        if not _met(condition, value):
            failed.append((str(condition["fact"]), _requirement(condition)))
    if failed:
        return Decision(outcome="not_eligible", record=record, facts=tuple(failed))
    facts = tuple((str(key), str(value)) for key, value in record.get("benefits", ()))
    return Decision(outcome="granted", record=record, facts=facts)


_Rule = Callable[[str, Mapping[str, Any], Mapping[str, Any], date], Decision]
_RULES: Final[Mapping[str, _Rule]] = {
    "land_records": _land,
    "property_tax": _property_tax,
    "electricity_consumers": _electricity,
    "water_connections": _water,
    "birth_records": _birth,
    "death_records": _death,
    "rice_cards": _rice_card,
    "traffic_challans": _challans,
    "bus_services": _bus,
    "temple_slots": _temple,
    "exam_results": _exam,
    "voter_roll": _voter,
    "pensions": _pension,
    "scheme_rules": _scheme,
}


def decide(
    registry: str,
    service_id: str,
    answers: Mapping[str, Any],
    record: Mapping[str, Any] | None,
    *,
    today: date,
    fee: Fee | None = None,
) -> Decision:
    """The decision of an instant service, from the record its registry found (None: none found).

    Given the service's `fee`, an early-payment rebate it declares is taken off the amount due.
    """
    lookup_keys(registry)  # refuses unknown registries
    if registry == "information":
        return Decision(outcome="granted")  # the answer is the service's own summary and FAQ
    if registry == "applications":
        return Decision(outcome="unavailable", refer_to="applications")
    if record is None:
        return Decision(outcome="not_found")
    decision = _RULES[registry](service_id, answers, record, today)
    return with_rebate(decision, fee.rebate, today) if fee is not None and fee.rebate is not None else decision


def with_rebate(decision: Decision, rebate: Rebate, today: date) -> Decision:
    """A granted bill with `rebate` taken off when it applies today; its facts say by how much and until when.

    The rebate, its last day and the amount after it follow the `fact.amount_due` they reduce.
    """
    due = decision.amount_inr
    if decision.outcome != "granted" or not due:
        return decision
    off = rebate_inr(rebate, decision.record, due, today)
    if not off:
        return decision
    _, last_day = rebate_window(rebate, today)
    lines = (
        ("fact.rebate", f"{format_inr(off)} ({rebate.percent} %)"),
        ("fact.rebate_until", show_date(last_day)),
        ("fact.amount_after_rebate", format_inr(due - off)),
    )
    labels = [label for label, _ in decision.facts]
    at = labels.index("fact.amount_due") + 1 if "fact.amount_due" in labels else len(labels)
    facts = (*decision.facts[:at], *lines, *decision.facts[at:])
    return replace(decision, amount_inr=due - off, facts=facts)
