"""The file registry: synthetic seed data behind the `Registry` port, and decisions over all of it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.adapters.registry_files import DEFAULT_REGISTRY_DIR, FileRegistry, RegistryFileError
from sevamitra.core.decisions import Registry, UnknownRegistry, decide, lookup_keys
from sevamitra.core.idnumbers import verhoeff_check
from sevamitra.core.registries import REGISTRIES

TODAY = date(2026, 11, 30)  # a Monday
AADHAAR = re.compile(r"(?<!\d)\d{4}\s?\d{4}\s?\d{4}(?!\d)")
LOCALES = DEFAULT_REGISTRY_DIR.parent.parent / "catalogue" / "locales"
COUNTS = {
    "land_records": 40,
    "property_tax": 30,
    "electricity_consumers": 30,
    "water_connections": 15,
    "birth_records": 20,
    "death_records": 10,
    "rice_cards": 20,
    "traffic_challans": 20,
    "bus_services": 20,
    "temple_slots": 18,
    "exam_results": 20,
    "voter_roll": 20,
    "pensions": 20,
    "scheme_rules": 7,
}


@pytest.fixture(scope="module")
def registry() -> FileRegistry:
    return FileRegistry()


def keys_of(registry: str, record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: record[name] for name in lookup_keys(registry)}


def answers_for(registry: str, record: Mapping[str, Any], day: date) -> dict[str, Any]:
    answers = keys_of(registry, record)
    if registry == "bus_services":
        answers |= {"journey_date": day.isoformat(), "seats": 1}
    if registry == "temple_slots":
        answers |= {"visit_date": day.isoformat(), "persons": 1}
    return answers


# --- the seed files -----------------------------------------------------------------------------------


def test_the_seed_files_load_with_their_records(registry: FileRegistry) -> None:
    assert {name: len(registry.records(name)) for name in registry.registries} == COUNTS
    assert registry.registries <= REGISTRIES


def test_the_file_registry_satisfies_the_port(registry: FileRegistry) -> None:
    port: Registry = registry
    assert port is registry


@pytest.mark.parametrize("name", sorted(COUNTS))
async def test_every_record_is_found_by_its_own_keys(registry: FileRegistry, name: str) -> None:
    for record in registry.records(name):
        if name in ("temple_slots", "scheme_rules"):
            continue  # found by the service id, below
        assert await registry.lookup(name, "any.service", keys_of(name, record)) is record


def test_a_repeated_key_is_refused_with_the_file_named(tmp_path: Path) -> None:
    record = {"ration_card": "2800000001", "card_holder": "X (synthetic)", "members": 1}
    (tmp_path / "rice_cards.yaml").write_text(yaml.safe_dump({"records": [record, {**record, "members": 2}]}))
    with pytest.raises(RegistryFileError, match=r"rice_cards\.yaml: record 2 repeats"):
        FileRegistry(tmp_path)


def test_a_record_without_its_keys_or_a_file_for_no_registry_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pensions.yaml").write_text(yaml.safe_dump({"records": [{"name": "X (synthetic)"}]}))
    with pytest.raises(RegistryFileError, match="lacks aadhaar"):
        FileRegistry(tmp_path)
    (tmp_path / "pensions.yaml").unlink()
    (tmp_path / "horoscopes.yaml").write_text("records: []\n")
    with pytest.raises(RegistryFileError, match="horoscopes"):
        FileRegistry(tmp_path)


def test_pension_aadhaar_numbers_are_synthetic_but_verhoeff_valid(registry: FileRegistry) -> None:
    numbers = [str(r["aadhaar"]) for r in registry.records("pensions")]
    assert all(re.fullmatch(r"[2-9][0-9]{11}", n) and verhoeff_check(n) for n in numbers)


def test_every_person_in_the_seed_files_is_marked_synthetic(registry: FileRegistry) -> None:
    people = ("pattadar", "owner", "consumer_name", "name", "card_holder", "relative_name", "mother_name")
    for name in registry.registries - {"temple_slots", "scheme_rules"}:
        for record in registry.records(name):
            for field in people:
                if field in record:
                    assert str(record[field]).endswith("(synthetic)"), (name, record[field])


def test_land_records_name_villages_of_the_jurisdiction_registry(registry: FileRegistry) -> None:
    places = load_jurisdictions()
    villages = {str(r["land_village"]) for r in registry.records("land_records")}
    assert {v for v in villages if v not in places} == set()
    assert {v.split("/")[0] for v in villages} == {"ntr", "guntur", "visakhapatnam"}


# --- lookups as the conversation makes them ---------------------------------------------------------------


async def test_land_is_found_by_the_address_picked_and_the_survey_number(registry: FileRegistry) -> None:
    address = {"district": "ntr", "mandal": "ntr/vijayawada-rural", "village": "ntr/vijayawada-rural/nidamanuru"}
    record = await registry.lookup(
        "land_records", "revenue.adangal-extract", {"land_village": address, "survey_number": "123/4A"}
    )
    assert record is not None
    assert record["pattadar"] == "K. Ramaiah (synthetic)"
    missing = await registry.lookup(
        "land_records", "revenue.adangal-extract", {"land_village": address, "survey_number": "999/9Z"}
    )
    assert missing is None


async def test_a_birth_record_needs_both_the_number_and_the_date(registry: FileRegistry) -> None:
    record = registry.records("birth_records")[0]
    keys = keys_of("birth_records", record)
    assert await registry.lookup("birth_records", "municipal.birth-certificate", keys) is record
    wrong_day = keys | {"date_of_birth": "2001-01-01"}
    assert await registry.lookup("birth_records", "municipal.birth-certificate", wrong_day) is None
    assert await registry.lookup("birth_records", "municipal.birth-certificate", {}) is None


async def test_bus_towns_match_whatever_the_case_spelling_or_script(registry: FileRegistry) -> None:
    for origin, destination in [("vijayawada", "VIZAG"), ("Bezawada", " visakhapatnam. "), ("విజయవాడ", "విశాఖపట్నం")]:
        route = await registry.lookup(
            "bus_services", "apsrtc.bus-ticket-booking", {"from_place": origin, "to_place": destination}
        )
        assert route is not None
        assert (route["from_place"], route["to_place"]) == ("Vijayawada", "Visakhapatnam")
    assert await registry.lookup("bus_services", "apsrtc.x", {"from_place": "Vijayawada", "to_place": "Delhi"}) is None


@pytest.mark.parametrize(
    ("service_id", "pool"),
    [
        ("endowments.ttd-special-entry-darshan", "ttd-darshan"),
        ("endowments.tirumala-arjitha-seva", "ttd-seva"),
        ("endowments.dwaraka-tirumala-darshan", "dwaraka-tirumala-darshan"),
        ("endowments.dwaraka-tirumala-room-booking", "dwaraka-tirumala-rooms"),
        ("endowments.kanaka-durga-darshan", "kanaka-durga-darshan"),
        ("endowments.srisailam-abhishekam", "srisailam-seva"),
        ("endowments.simhachalam-darshan", "simhachalam-darshan"),
        ("endowments.annavaram-satyanarayana-vratham", "annavaram-vratham"),
        ("endowments.srikalahasti-rahu-ketu-puja", "srikalahasti-seva"),
    ],
)
async def test_each_temple_service_finds_its_own_slot_pool(registry: FileRegistry, service_id: str, pool: str) -> None:
    record = await registry.lookup("temple_slots", service_id, {})
    assert record is not None
    assert record["pool"] == pool


async def test_a_service_of_no_known_temple_or_scheme_finds_nothing(registry: FileRegistry) -> None:
    assert await registry.lookup("temple_slots", "endowments.donations-general", {}) is None
    assert await registry.lookup("scheme_rules", "welfare.unknown-scheme", {}) is None
    with pytest.raises(UnknownRegistry):
        await registry.lookup("horoscopes", "x", {})


async def test_a_scheme_is_judged_on_the_answers(registry: FileRegistry) -> None:
    rules = await registry.lookup("scheme_rules", "welfare.free-power-eligibility", {})
    eligible = decide("scheme_rules", "welfare.free-power-eligibility", {"category": "sc"}, rules, today=TODAY)
    assert eligible.outcome == "granted"
    refused = decide("scheme_rules", "welfare.free-power-eligibility", {"category": "bc"}, rules, today=TODAY)
    assert (refused.outcome, refused.facts) == ("not_eligible", (("fact.only_sc_st", ""),))


async def test_a_temple_booking_beyond_the_capacity_left_is_unavailable(registry: FileRegistry) -> None:
    pool = await registry.lookup("temple_slots", "endowments.ttd-special-entry-darshan", {})
    assert pool is not None
    saturday = {"visit_date": "2026-12-05", "persons": 1}  # TTD's weekend darshan is sold out
    assert decide("temple_slots", "endowments.ttd", saturday, pool, today=TODAY).outcome == "unavailable"
    most = max(int(slot["capacity"]["mon"]) for slot in pool["slots"])
    monday = {"visit_date": "2026-12-07"}
    granted = decide("temple_slots", "endowments.ttd", monday | {"persons": most}, pool, today=TODAY)
    assert granted.outcome == "granted"
    refused = decide("temple_slots", "endowments.ttd", monday | {"persons": most + 1}, pool, today=TODAY)
    assert refused.outcome == "unavailable"


# --- decisions over every seed record ---------------------------------------------------------------------


async def all_decisions(registry: FileRegistry) -> list[tuple[str, Any]]:
    decisions = []
    for name in sorted(registry.registries):
        for offset in range(1, 8):  # every weekday: capacities repeat weekly, so any future date works
            day = TODAY + timedelta(days=offset)
            for record in registry.records(name):
                service_id = f"x.{'-'.join(record.get('match', ()))}-{'-'.join(record.get('kinds', ()))}"
                found = await registry.lookup(name, service_id, keys_of(name, record))
                assert found is record  # every pool and scheme is reachable by its own words
                decisions.append((name, decide(name, service_id, answers_for(name, record, day), found, today=TODAY)))
    return decisions


async def test_every_seed_record_decides_and_never_shows_an_aadhaar_number(registry: FileRegistry) -> None:
    decisions = await all_decisions(registry)
    assert {d.outcome for _, d in decisions} <= {"granted", "unavailable", "not_eligible"}
    for name, decision in decisions:
        for label, value in decision.facts:
            assert not AADHAAR.search(value), (name, label, value)
    granted = {name for name, d in decisions if d.outcome == "granted"}
    assert granted == set(COUNTS) - {"scheme_rules"}  # schemes need answers; judged above


async def test_every_fact_label_has_a_text_in_every_language(registry: FileRegistry) -> None:
    texts = {lang: yaml.safe_load((LOCALES / lang / "decisions.yaml").read_text()) for lang in ("te", "en", "hi")}
    assert texts["te"].keys() == texts["en"].keys() == texts["hi"].keys()
    labels = {label for _, d in await all_decisions(registry) for label, _ in d.facts}
    for record in registry.records("scheme_rules"):
        labels |= {str(c["fact"]) for c in record["conditions"]} | {str(b[0]) for b in record["benefits"]}
    outcomes = {"decision.granted", "decision.not_found", "decision.not_eligible", "decision.unavailable"}
    assert labels | outcomes <= texts["en"].keys()
    assert all(isinstance(text, str) and text and "{" not in text for t in texts.values() for text in t.values())
