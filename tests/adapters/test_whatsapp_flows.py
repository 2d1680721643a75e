"""Service forms as WhatsApp Flows: every field type renders, and the checker catches broken Flows."""

from __future__ import annotations

import copy
import json
import unicodedata
from datetime import date
from typing import Any

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.adapters.whatsapp.flows import (
    FLOW_JSON_VERSION,
    INPUT_COMPONENTS,
    INPUTS_PER_SCREEN,
    LABEL_LIMITS,
    MEDIA_COMPONENTS,
    flow_json,
    flow_problems,
)
from sevamitra.core.catalogue import Service
from sevamitra.core.fields import FIELD_TYPES, GENERIC_TYPES, FieldSpec, Option
from sevamitra.core.texts import Texts

TODAY = date(2025, 3, 1)

TEXTS = load_texts()


def labels(en: str) -> dict[str, str]:
    return {"te": f"తెలుగు {en}", "en": en, "hi": f"हिंदी {en}"}


def options(count: int) -> tuple[Option, ...]:
    return tuple(Option(id=f"o{i}", labels=labels(f"Option {i}")) for i in range(count))


def spec(field_type: str, field_id: str | None = None, **extra: Any) -> FieldSpec:
    """A sound spec of `field_type`: generic types get labels, choices options, documents accept and max_mb."""
    defaults: dict[str, Any] = {}
    if field_type in GENERIC_TYPES:
        defaults["labels"] = labels(field_type.replace("_", " ").capitalize())
    if field_type in ("choice_one", "choice_many"):
        defaults["options"] = options(3)
    if field_type == "document":
        defaults |= {"accept": ("application/pdf", "image/jpeg"), "max_mb": 5.0}
    return FieldSpec(id=field_id or f"f_{field_type}", type=field_type, **(defaults | extra))


def service(*fields: FieldSpec, summary: str = "A summary") -> Service:
    return Service(
        id="revenue.test-service",
        department_id="revenue",
        names=labels("Test service"),
        summaries=labels(summary) if summary else {},
        fields=fields,
    )


EVERY_TYPE = service(*(spec(t) for t in FIELD_TYPES))
VARIANTS = service(
    spec("choice_one", "many_options", options=options(12)),
    spec("choice_one", "too_many_options", options=options(250)),
    spec("choice_many", "too_many_ticks", options=options(25)),
    spec("choice_many", "some_ticks", options=options(6), rules={"min_choices": 2, "max_choices": 4}),
    spec("text", "short_text", rules={"max_length": 40, "min_length": 2}),
    spec("document", "odd_document", accept=("application/x-unknown",)),
    spec("photo", "optional_photo", required=False),
    spec("document", "big_document", max_mb=80.0),
    spec("date", "future_date", rules={"future_only": True, "not_after_days": 30}),
    spec("date_of_birth", "adult_dob", rules={"min_age": 18, "max_age": 60}),
    spec("person_name", "hinted_name", hints=labels("As on your Aadhaar card")),
)


def components(flow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for s in flow["screens"] for c in s["layout"]["children"] if "name" in c}


def screen_of(flow: dict[str, Any], name: str) -> str:
    return str(next(s["id"] for s in flow["screens"] for c in s["layout"]["children"] if c.get("name") == name))


def terminal(flow: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in flow["screens"] if s.get("terminal"))


def complete_payload(flow: dict[str, Any]) -> dict[str, Any]:
    footer = terminal(flow)["layout"]["children"][-1]
    assert footer["type"] == "Footer" and footer["on-click-action"]["name"] == "complete"
    payload: dict[str, Any] = footer["on-click-action"]["payload"]
    return payload


# ---------------------------------------------------------------------------- rendering


@pytest.mark.parametrize("language", ["te", "en", "hi"])
@pytest.mark.parametrize("form", [EVERY_TYPE, VARIANTS, service()], ids=["every-type", "variants", "no-fields"])
def test_a_form_of_any_field_types_renders_a_flow_without_problems(form: Service, language: str) -> None:
    for today in (None, TODAY):
        flow = flow_json(form, language, TEXTS, today=today)
        assert flow_problems(flow) == []
        assert flow["version"] == FLOW_JSON_VERSION
        assert "data_api_version" not in flow and "routing_model" not in flow
        assert json.loads(json.dumps(flow)) == flow  # plain JSON


@pytest.mark.parametrize(
    ("field_type", "component", "input_type"),
    [
        ("person_name", "TextInput", "text"),
        ("text", "TextArea", None),
        ("aadhaar", "TextInput", "number"),
        ("mobile", "TextInput", "phone"),
        ("pin_code", "TextInput", "number"),
        ("email", "TextInput", "email"),
        ("number", "TextInput", "number"),
        ("amount_inr", "TextInput", "number"),
        ("date", "DatePicker", None),
        ("date_of_birth", "DatePicker", None),
        ("choice_one", "RadioButtonsGroup", None),
        ("choice_many", "CheckboxGroup", None),
        ("yes_no", "RadioButtonsGroup", None),
        ("document", "DocumentPicker", None),
        ("photo", "PhotoPicker", None),
        ("address_ap", "TextInput", "text"),
        ("district", "TextInput", "text"),
        ("location", "TextInput", "text"),
        ("vehicle_number", "TextInput", "text"),
        ("pan", "TextInput", "text"),
    ],
)
def test_each_field_type_becomes_its_component(field_type: str, component: str, input_type: str | None) -> None:
    rendered = components(flow_json(EVERY_TYPE, "en", TEXTS))[f"f_{field_type}"]
    assert rendered["type"] == component
    assert rendered.get("input-type") == input_type


def test_every_field_type_of_the_catalogue_is_rendered() -> None:
    rendered = components(flow_json(EVERY_TYPE, "en", TEXTS))
    assert set(rendered) == {f"f_{t}" for t in FIELD_TYPES}


def test_screens_hold_at_most_five_inputs_and_one_picker_in_form_order() -> None:
    flow = flow_json(EVERY_TYPE, "te", TEXTS)
    order = []
    for screen in flow["screens"]:
        kinds = [c["type"] for c in screen["layout"]["children"]]
        assert sum(k in INPUT_COMPONENTS for k in kinds) <= INPUTS_PER_SCREEN
        assert sum(k in MEDIA_COMPONENTS for k in kinds) <= 1
        assert kinds[-1] == "Footer"
        order += [c["name"] for c in screen["layout"]["children"] if "name" in c]
    assert order == [f.id for f in EVERY_TYPE.fields]
    assert [s["id"] for s in flow["screens"]][:3] == ["STEP_A", "STEP_B", "STEP_C"]
    assert [s.get("terminal", False) for s in flow["screens"]] == [False] * (len(flow["screens"]) - 1) + [True]


def test_the_terminal_screen_completes_with_every_field_referenced_where_it_was_asked() -> None:
    flow = flow_json(EVERY_TYPE, "en", TEXTS)
    payload = complete_payload(flow)
    last = terminal(flow)["id"]
    assert list(payload) == [f.id for f in EVERY_TYPE.fields]
    for name, reference in payload.items():
        where = screen_of(flow, name)
        assert reference == (f"${{form.{name}}}" if where == last else f"${{screen.{where}.form.{name}}}")
    for screen in flow["screens"][:-1]:
        assert screen["layout"]["children"][-1]["on-click-action"]["payload"] == {}


def test_required_flags_and_pickers_allow_one_file() -> None:
    rendered = components(flow_json(VARIANTS, "en", TEXTS))
    assert rendered["hinted_name"]["required"] is True
    assert rendered["optional_photo"]["min-uploaded-photos"] == 0
    assert rendered["optional_photo"]["max-uploaded-photos"] == 1
    document = components(flow_json(EVERY_TYPE, "en", TEXTS))["f_document"]
    assert (document["min-uploaded-documents"], document["max-uploaded-documents"]) == (1, 1)
    assert document["allowed-mime-types"] == ["application/pdf", "image/jpeg"]
    assert document["max-file-size-kb"] == 5 * 1024
    assert rendered["big_document"]["max-file-size-kb"] == 25_600  # Meta's cap, not the field's 80 MB


def test_choices_become_radio_buttons_dropdowns_or_checkboxes_with_id_and_title() -> None:
    rendered = components(flow_json(VARIANTS, "te", TEXTS))
    few = components(flow_json(EVERY_TYPE, "te", TEXTS))["f_choice_one"]
    assert few["data-source"][0] == {"id": "o0", "title": "తెలుగు Option 0"}
    assert rendered["many_options"]["type"] == "Dropdown"
    assert len(rendered["many_options"]["data-source"]) == 12
    assert rendered["some_ticks"]["min-selected-items"] == 2
    assert rendered["some_ticks"]["max-selected-items"] == 4
    yes_no = components(flow_json(EVERY_TYPE, "te", TEXTS))["f_yes_no"]
    assert [o["id"] for o in yes_no["data-source"]] == ["yes", "no"]
    assert yes_no["data-source"][0]["title"] == "అవును"


def test_what_a_flow_cannot_ask_is_left_to_the_chat() -> None:
    rendered = components(flow_json(VARIANTS, "en", TEXTS)) | components(flow_json(EVERY_TYPE, "en", TEXTS))
    for name in ("f_address_ap", "f_district", "f_location", "too_many_options", "too_many_ticks", "odd_document"):
        assert rendered[name]["type"] == "TextInput"
        assert rendered[name]["required"] is False
        assert "chat will ask" in rendered[name]["helper-text"]


def test_texts_and_hints_in_the_citizens_language() -> None:
    rendered = components(flow_json(VARIANTS, "hi", TEXTS))
    assert rendered["hinted_name"]["label"] == "पूरा नाम"
    assert rendered["hinted_name"]["helper-text"] == "हिंदी As on your Aadhaar card"
    assert (rendered["short_text"]["min-chars"], rendered["short_text"]["max-chars"]) == (2, 40)
    footer = terminal(flow_json(VARIANTS, "hi", TEXTS))["layout"]["children"][-1]
    assert footer["label"] == "जमा करें"


def test_the_flows_own_texts_come_from_the_locale_files() -> None:
    texts = Texts(by_language={"en": {**TEXTS.by_language["en"], "flow.submit": "Apply now"}})
    footer = terminal(flow_json(service(spec("person_name")), "en", texts))["layout"]["children"][-1]
    assert footer["label"] == "Apply now"
    flow_keys = {lang: {k for k in keys if k.startswith("flow.")} for lang, keys in TEXTS.by_language.items()}
    assert flow_keys["te"] == flow_keys["en"] == flow_keys["hi"]


def test_long_telugu_labels_are_clipped_between_syllables_and_given_whole_in_the_helper() -> None:
    long_label = "కుటుంబ సభ్యులందరి వార్షిక ఆదాయం రూపాయలలో"
    field = spec("amount_inr", "income", labels={"te": long_label, "en": "Income", "hi": "आय"})
    rendered = components(flow_json(service(field), "te", TEXTS))["income"]
    label = rendered["label"]
    assert len(label) <= LABEL_LIMITS["TextInput"]
    assert label.endswith("…")
    kept = label[:-1]
    assert long_label.startswith(kept)
    assert not unicodedata.category(long_label[len(kept)]).startswith("M")  # no vowel sign cut off its consonant
    assert unicodedata.combining(kept[-1]) != 9  # no virama left waiting for its conjunct
    assert rendered["helper-text"] == long_label


def test_date_pickers_get_bounds_from_the_rules_only_when_today_is_given() -> None:
    rendered = components(flow_json(VARIANTS, "en", TEXTS, today=TODAY))
    assert (rendered["future_date"]["min-date"], rendered["future_date"]["max-date"]) == ("2025-03-01", "2025-03-31")
    assert rendered["adult_dob"]["max-date"] == "2007-03-01"  # 18 today
    assert rendered["adult_dob"]["min-date"] == "1964-03-02"  # 60, not yet 61
    undated = components(flow_json(VARIANTS, "en", TEXTS))
    assert "min-date" not in undated["future_date"] and "max-date" not in undated["adult_dob"]


def test_aadhaar_is_marked_sensitive_and_asks_for_twelve_digits() -> None:
    flow = flow_json(EVERY_TYPE, "en", TEXTS)
    aadhaar = components(flow)["f_aadhaar"]
    assert (aadhaar["min-chars"], aadhaar["max-chars"], aadhaar["helper-text"]) == (12, 12, "12 digits")
    screen = next(s for s in flow["screens"] if s["id"] == screen_of(flow, "f_aadhaar"))
    assert screen["sensitive"] == ["f_aadhaar"]


def test_a_service_without_fields_is_one_terminal_screen_with_an_empty_payload() -> None:
    flow = flow_json(service(summary=""), "en", TEXTS)
    assert len(flow["screens"]) == 1
    assert complete_payload(flow) == {}
    assert flow["screens"][0]["layout"]["children"][0]["type"] == "TextBody"


# ---------------------------------------------------------------------------- the checker


def broken(change: str) -> list[str]:
    """The problems of a valid three-screen Flow (five names; a photo; a document) after one change."""
    flow = flow_json(
        service(*(spec("person_name", f"n{i}") for i in range(5)), spec("photo"), spec("document")), "en", TEXTS
    )
    assert [len(s["layout"]["children"]) for s in flow["screens"]] == [7, 2, 2]  # summary, inputs, footer
    assert flow_problems(flow) == []
    flow = copy.deepcopy(flow)
    first, last = flow["screens"][0], flow["screens"][-1]
    first_children, last_children = first["layout"]["children"], last["layout"]["children"]
    if change == "no version":
        del flow["version"]
    elif change == "old version":
        flow["version"] = "3.1"
    elif change == "no terminal":
        del last["terminal"]
    elif change == "two terminals":
        first["terminal"] = True
    elif change == "terminal navigates":
        last_children[-1]["on-click-action"] = {"name": "navigate", "next": {"type": "screen", "name": "STEP_A"}}
    elif change == "long label":
        first_children[1]["label"] = "A label that is far too long"
    elif change == "dangling reference":
        complete_payload(flow)["n0"] = "${form.n0}"  # n0 is asked on STEP_A, not here
    elif change == "unknown screen reference":
        complete_payload(flow)["n0"] = "${screen.STEP_Q.form.n0}"
    elif change == "undeclared data":
        complete_payload(flow)["n0"] = "${data.n0}"
    elif change == "duplicate names":
        first_children[2]["name"] = first_children[1]["name"]
    elif change == "no options":
        first_children.insert(1, {"type": "Dropdown", "name": "d", "label": "Pick", "data-source": []})
    elif change == "duplicate option ids":
        items = [{"id": "a", "title": "A"}, {"id": "a", "title": "B"}]
        first_children.insert(1, {"type": "RadioButtonsGroup", "name": "r", "label": "Pick", "data-source": items})
    elif change == "long option title":
        items = [{"id": "a", "title": "An option title of more than thirty characters"}]
        first_children.insert(1, {"type": "CheckboxGroup", "name": "c", "label": "Pick", "data-source": items})
    elif change == "too many inputs":
        first_children.insert(1, {"type": "TextInput", "name": "extra", "label": "Extra"})
        first_children.insert(1, {"type": "TextInput", "name": "extra2", "label": "Extra"})
    elif change == "too many components":
        first_children[:0] = [{"type": "TextBody", "text": f"Line {i}"} for i in range(50)]
    elif change == "two pickers":
        second = next(s for s in flow["screens"] if any(c["type"] == "DocumentPicker" for c in s["layout"]["children"]))
        first_children.insert(1, second["layout"]["children"][0] | {"name": "doc2"})
        first_children.insert(1, {"type": "PhotoPicker", "name": "p2", "label": "Photo"})
    elif change == "picker in navigate":
        first_children[-1]["on-click-action"]["payload"] = {"photo": "${screen.STEP_B.form.f_photo}"}
    elif change == "picker of many files":
        for screen in flow["screens"]:
            for child in screen["layout"]["children"]:
                if child["type"] == "PhotoPicker":
                    child["max-uploaded-photos"] = 3
    elif change == "nested picker":
        payload = complete_payload(flow)
        payload["f_document"] = {"file": payload["f_document"]}
    elif change == "bad screen id":
        first["id"] = "step-1"
    elif change == "reserved screen id":
        first["id"] = "SUCCESS"
    elif change == "navigate to unknown":
        first_children[-1]["on-click-action"]["next"]["name"] = "NOWHERE"
    elif change == "navigate payload without data model":
        first_children[-1]["on-click-action"]["payload"] = {"name": "${form.n0}"}
    elif change == "complete before the end":
        first_children[-1]["on-click-action"] = {"name": "complete", "payload": {}}
    elif change == "loop":
        middle = flow["screens"][1]["layout"]["children"]
        middle[-1]["on-click-action"]["next"]["name"] = "STEP_A"
    elif change == "unreachable screen":
        flow["screens"].insert(1, copy.deepcopy(first) | {"id": "STEP_X"})
    elif change == "no footer":
        first_children.pop()
    elif change == "endpoint without routing model":
        flow["data_api_version"] = "3.0"
    elif change == "flow_token in payload":
        complete_payload(flow)["flow_token"] = "${form.f_document}"
    elif change == "unknown input type":
        first_children[1]["input-type"] = "date"
    elif change == "empty helper":
        first_children[1]["helper-text"] = " "
    elif change == "bad dates":
        first_children.insert(1, {"type": "DatePicker", "name": "d", "label": "Date", "min-date": "01-01-2025"})
        first_children.insert(1, {"type": "DatePicker", "name": "e", "label": "Date", "min-date": "2025-02-01"})
        first_children[1]["max-date"] = "2025-01-01"
    elif change == "big file":
        last_children[0]["max-file-size-kb"] = 30_000
    elif change == "unsupported mime type":
        last_children[0]["allowed-mime-types"] = ["application/x-unknown"]
    elif change == "sensitive names nothing":
        first["sensitive"] = ["nothing"]
    elif change == "answer dropped":
        del complete_payload(flow)["n3"]
    elif change == "unknown component":
        first_children.insert(1, {"type": "Carousel", "name": "c"})
    else:
        raise AssertionError(change)
    return flow_problems(flow)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("no version", "version: a Flow JSON version"),
        ("old version", "need Flow JSON 4.0 or later"),
        ("no terminal", "exactly one terminal screen"),
        ("two terminals", "exactly one terminal screen"),
        ("terminal navigates", "must complete, not navigate"),
        ("long label", "label has 28 characters, more than 20"),
        ("dangling reference", "${form.n0} names no input of this screen"),
        ("unknown screen reference", "names an unknown screen"),
        ("undeclared data", "names no field of this screen's data"),
        ("duplicate names", "is used more than once"),
        ("no options", "data-source needs at least one option"),
        ("duplicate option ids", "option id a is used twice"),
        ("long option title", "more than 30"),
        ("too many inputs", "more than 5 inputs"),
        ("too many components", "more than 50"),
        ("two pickers", "at most one PhotoPicker or one DocumentPicker"),
        ("picker in navigate", "may not be carried by navigate"),
        ("picker of many files", "must allow one file"),
        ("nested picker", "whole top-level value"),
        ("bad screen id", "the id must match"),
        ("reserved screen id", "not be SUCCESS"),
        ("navigate to unknown", "navigate goes to an unknown screen"),
        ("navigate payload without data model", "must match the data of STEP_B"),
        ("complete before the end", "complete is only allowed on a terminal screen"),
        ("loop", "loop"),
        ("unreachable screen", "no navigate leads to it"),
        ("no footer", "needs a Footer to go on"),
        ("endpoint without routing model", "routing_model: required"),
        ("flow_token in payload", "may not use the key flow_token"),
        ("unknown input type", "input-type must be one of"),
        ("empty helper", "helper-text is empty"),
        ("bad dates", "must be a date as YYYY-MM-DD"),
        ("bad dates", "min-date is after max-date"),
        ("big file", "max-file-size-kb must be from 1 to 25600"),
        ("unsupported mime type", "not a MIME type a DocumentPicker supports"),
        ("sensitive names nothing", "sensitive names 'nothing'"),
        ("unknown component", "unknown component type 'Carousel'"),
        ("answer dropped", "screen STEP_A: no payload sends the answer to n3 on"),
    ],
)
def test_the_checker_rejects_a_broken_flow(change: str, expected: str) -> None:
    problems = broken(change)
    assert any(expected in p for p in problems), problems


def test_the_checker_rejects_what_is_not_a_flow() -> None:
    assert flow_problems({}) == [
        f"version: a Flow JSON version like {FLOW_JSON_VERSION!r} is required",
        "screens: a non-empty list of screens is required",
    ]
    assert flow_problems({"version": "7.3", "screens": []}) == ["screens: a non-empty list of screens is required"]


def test_the_checker_accepts_values_carried_in_navigate_payloads_to_a_declared_data_model() -> None:
    flow: dict[str, Any] = {
        "version": "7.3",
        "screens": [
            {
                "id": "ASK",
                "layout": {
                    "type": "SingleColumnLayout",
                    "children": [
                        {"type": "TextInput", "name": "name", "label": "Name"},
                        {
                            "type": "Footer",
                            "label": "Continue",
                            "on-click-action": {
                                "name": "navigate",
                                "next": {"type": "screen", "name": "DONE"},
                                "payload": {"name": "${form.name}"},
                            },
                        },
                    ],
                },
            },
            {
                "id": "DONE",
                "terminal": True,
                "data": {"name": {"type": "string", "__example__": "Ravi"}},
                "layout": {
                    "type": "SingleColumnLayout",
                    "children": [
                        {"type": "TextBody", "text": "${data.name}"},
                        {"type": "OptIn", "name": "agree", "label": "I agree", "required": True},
                        {
                            "type": "Footer",
                            "label": "Submit",
                            "on-click-action": {
                                "name": "complete",
                                "payload": {"name": "${data.name}", "agree": "${form.agree}"},
                            },
                        },
                    ],
                },
            },
        ],
    }
    assert flow_problems(flow) == []
    del flow["screens"][1]["data"]["name"]["__example__"]
    assert flow_problems(flow) == ["screen DONE: data name needs a type and an __example__"]


# ---------------------------------------------------------------------------- the shipped catalogue


def test_every_service_of_the_shipped_catalogue_renders_a_valid_flow_in_telugu_and_english() -> None:
    catalogue = load_catalogue()  # a catalogue that does not load fails this test
    assert catalogue.services
    problems = [
        f"{s.id} ({language}): {problem}"
        for s in catalogue.services
        for language in ("te", "en")
        for today in (None, TODAY)
        for problem in flow_problems(flow_json(s, language, TEXTS, today=today))
    ]
    assert problems == []
