"""Field specs of service forms: their helpers, the lint that finds broken specs, and their default questions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sevamitra.core.fields import (
    FIELD_TYPES,
    GENERIC_TYPES,
    LANGUAGES,
    PHOTO_ACCEPT,
    PHOTO_MAX_MB,
    RULES,
    SPECIFIC_TYPES,
    FieldSpec,
    Option,
    choice_key,
    date_window,
    spec_problems,
    text_example,
)

LOCALES = Path(__file__).resolve().parents[2] / "catalogue" / "locales"
LABELS = {"te": "ప్రశ్న", "en": "Question", "hi": "प्रश्न"}
HINTS = {"te": "AB1234 లాగా", "en": "Like AB1234", "hi": "AB1234 जैसा"}


def option(option_id: str, en: str | None = None) -> Option:
    en = en or option_id.capitalize()
    return Option(id=option_id, labels={"te": f"{en} తె", "en": en, "hi": f"{en} हि"})


TWO_OPTIONS = (option("salary"), option("business"))


def spec(field_type: str, **kwargs: object) -> FieldSpec:
    if field_type in GENERIC_TYPES:
        kwargs.setdefault("labels", LABELS)
    if field_type in ("choice_one", "choice_many"):
        kwargs.setdefault("options", TWO_OPTIONS)
    if field_type == "document":
        kwargs.setdefault("accept", ("application/pdf",))
        kwargs.setdefault("max_mb", 5)
    return FieldSpec(id="f", type=field_type, **kwargs)  # type: ignore[arg-type]


def only_problem(field_spec: FieldSpec) -> str:
    problems = spec_problems(field_spec)
    assert len(problems) == 1, problems
    return problems[0]


# --- the types and the spec's helpers ---


def test_the_field_types_are_the_documented_ones() -> None:
    assert len(FIELD_TYPES) == len(set(FIELD_TYPES)) == 24
    assert set(FIELD_TYPES) == GENERIC_TYPES | SPECIFIC_TYPES
    assert not GENERIC_TYPES & SPECIFIC_TYPES
    assert set(RULES) <= set(FIELD_TYPES)


@pytest.mark.parametrize("field_type", FIELD_TYPES)
def test_a_minimal_spec_of_every_type_has_no_problems(field_type: str) -> None:
    assert spec_problems(spec(field_type)) == []


def test_label_falls_back_to_english_and_then_to_nothing() -> None:
    field_spec = FieldSpec(id="f", type="text", labels={"en": "Purpose", "te": "ఉద్దేశ్యం"})
    assert field_spec.label("te") == "ఉద్దేశ్యం"
    assert field_spec.label("hi") == "Purpose"
    assert FieldSpec(id="f", type="aadhaar").label("te") == ""


def test_hint_falls_back_to_english() -> None:
    assert FieldSpec(id="f", type="text", hints={"en": "Like AB1234"}).hint("hi") == "Like AB1234"


def test_option_label_falls_back_to_english_and_then_to_the_id() -> None:
    assert option("salary").label("hi") == "Salary हि"
    assert Option(id="other", labels={"en": "Other"}).label("te") == "Other"
    assert Option(id="other", labels={}).label("te") == "other"


def test_a_photo_defaults_to_jpeg_and_png_up_to_5_mb() -> None:
    photo = FieldSpec(id="f", type="photo")
    assert photo.accepted_types() == PHOTO_ACCEPT == ("image/jpeg", "image/png")
    assert photo.size_limit_mb() == PHOTO_MAX_MB == 5
    custom = FieldSpec(id="f", type="photo", accept=("image/webp",), max_mb=2)
    assert (custom.accepted_types(), custom.size_limit_mb()) == (("image/webp",), 2)


def test_a_document_has_no_default_types_or_limit() -> None:
    document = FieldSpec(id="f", type="document")
    assert (document.accepted_types(), document.size_limit_mb()) == ((), None)


def test_specs_are_frozen() -> None:
    with pytest.raises(AttributeError):
        spec("aadhaar").required = False  # type: ignore[misc]


def test_choice_key_ignores_case_and_spaces() -> None:
    assert choice_key("Fee  Reimbursement") == choice_key("fee reimbursement") == "feereimbursement"


@pytest.mark.parametrize(
    ("rules", "window"),
    [
        ({}, (None, None)),
        ({"past_only": True}, (None, 0)),
        ({"future_only": True}, (0, None)),
        ({"future_only": True, "not_after_days": 60}, (0, 60)),
        ({"future_only": True, "not_before_days": -5}, (0, None)),
        ({"past_only": True, "not_after_days": 10, "not_before_days": -365}, (-365, 0)),
    ],
)
def test_date_window_combines_days_with_past_and_future_only(
    rules: dict[str, object], window: tuple[int | None, int | None]
) -> None:
    assert date_window(rules) == window


# --- spec_problems: one test per problem ---


def test_an_unknown_type_is_a_problem() -> None:
    assert only_problem(FieldSpec(id="f", type="aadhar")).startswith("unknown type 'aadhar'")


@pytest.mark.parametrize("field_type", sorted(GENERIC_TYPES))
def test_a_generic_type_needs_labels_in_te_en_and_hi(field_type: str) -> None:
    problem = only_problem(spec(field_type, labels={"en": "Purpose"}))
    assert "label in te, en and hi" in problem and "missing: te, hi" in problem


@pytest.mark.parametrize("field_type", sorted(SPECIFIC_TYPES))
def test_a_specific_type_may_omit_labels(field_type: str) -> None:
    assert spec_problems(FieldSpec(id="f", type=field_type)) == []


def test_a_blank_label_counts_as_missing() -> None:
    assert "missing: hi" in only_problem(spec("number", labels={**LABELS, "hi": "  "}))


@pytest.mark.parametrize(
    ("field_type", "rule"),
    [
        ("text", "min"),
        ("number", "max_length"),
        ("aadhaar", "min_length"),
        ("date", "min_age"),
        ("date_of_birth", "past_only"),
        ("choice_one", "min_choices"),
    ],
)
def test_a_rule_the_type_does_not_allow_is_a_problem(field_type: str, rule: str) -> None:
    problem = only_problem(spec(field_type, rules={rule: 1}))
    assert f"rule {rule!r} is not allowed for type {field_type}" in problem


def test_the_problem_names_the_rules_the_type_allows() -> None:
    assert "(allowed: max_age, min_age)" in only_problem(spec("date_of_birth", rules={"min_agee": 18}))
    assert "(allowed: none)" in only_problem(spec("mobile", rules={"min": 1}))


@pytest.mark.parametrize(
    ("field_type", "rules", "expected"),
    [
        ("number", {"min": "5"}, "rule min must be a whole number (got '5')"),
        ("number", {"max": True}, "rule max must be a whole number (got True)"),
        ("number", {"max": 10**16}, "rule max must be from"),
        ("amount_inr", {"min": -1}, "rule min must be from 0 to"),
        ("text", {"min_length": 0}, "rule min_length must be from 1 to 4096"),
        ("date", {"past_only": "yes"}, "rule past_only must be true or false"),
        ("date", {"not_after_days": 40_000}, "rule not_after_days must be from -36600 to 36600"),
        ("date_of_birth", {"max_age": 121}, "rule max_age must be from 0 to 120"),
        ("choice_many", {"min_choices": 0}, "rule min_choices must be from 1"),
        ("text", {"pattern": ""}, "rule pattern must be a non-empty text"),
    ],
)
def test_a_rule_value_of_the_wrong_kind_or_range_is_a_problem(
    field_type: str, rules: dict[str, object], expected: str
) -> None:
    assert expected in only_problem(spec(field_type, rules=rules))


def test_a_min_length_above_the_default_max_length_is_a_problem() -> None:
    assert only_problem(spec("text", rules={"min_length": 1001})) == (
        "rule min_length (1001) is greater than the default max_length (1000)"
    )
    assert spec_problems(spec("text", rules={"min_length": 1001, "max_length": 2000})) == []


@pytest.mark.parametrize(
    ("field_type", "rules", "expected"),
    [
        ("text", {"min_length": 10, "max_length": 5}, "rule min_length (10) is greater than max_length (5)"),
        ("number", {"min": 10, "max": 5}, "rule min (10) is greater than max (5)"),
        ("amount_inr", {"min": 10, "max": 5}, "rule min (10) is greater than max (5)"),
        ("date_of_birth", {"min_age": 60, "max_age": 18}, "rule min_age (60) is greater than max_age (18)"),
        ("choice_many", {"min_choices": 2, "max_choices": 1}, "rule min_choices (2) is greater than max_choices (1)"),
    ],
)
def test_a_minimum_above_its_maximum_is_a_problem(field_type: str, rules: dict[str, object], expected: str) -> None:
    assert only_problem(spec(field_type, rules=rules)) == expected


@pytest.mark.parametrize(
    "rules",
    [
        {"not_before_days": 10, "not_after_days": 5},
        {"past_only": True, "not_before_days": 1},
        {"future_only": True, "not_after_days": -1},
    ],
)
def test_date_rules_that_admit_no_day_are_a_problem(rules: dict[str, object]) -> None:
    assert only_problem(spec("date", rules=rules)).startswith("the date rules admit no day")


def test_past_only_and_future_only_together_are_a_problem() -> None:
    assert "past_only and future_only together" in only_problem(
        spec("date", rules={"past_only": True, "future_only": True})
    )


def test_more_choices_than_options_is_a_problem() -> None:
    problems = spec_problems(spec("choice_many", rules={"min_choices": 3, "max_choices": 3}))
    assert problems == ["min_choices 3 is more than the 2 options", "max_choices 3 is more than the 2 options"]


def test_a_pattern_needs_hints_in_every_language() -> None:
    rules = {"pattern": "[A-Z]{2}[0-9]{4}", "example": "AB1234"}
    assert spec_problems(spec("text", rules=rules, hints=HINTS)) == []
    assert only_problem(spec("text", rules=rules, hints={"en": "Like AB1234"})) == (
        "a text field with a pattern needs a hint in te, en and hi (missing: te, hi)"
    )


def test_a_pattern_takes_its_sample_answer_from_a_word_of_the_hint() -> None:
    survey = {"pattern": "^[0-9]+(/[0-9A-Z]+)*$"}
    hints = {"te": "ఉదా: 123 లేదా 123/2A", "en": "e.g. 123/2A.", "hi": "जैसे: 123 या 123/2A"}
    field_spec = spec("text", rules=survey, hints=hints)
    assert spec_problems(field_spec) == []
    assert text_example(field_spec) == "123/2A"


def test_a_pattern_without_an_example_anywhere_is_a_problem() -> None:
    field_spec = spec(
        "text", rules={"pattern": "[A-Z]{2}[0-9]{4}"}, hints=dict.fromkeys(LANGUAGES, "Two letters, four digits")
    )
    assert (
        only_problem(field_spec)
        == "a text field with a pattern needs a word in its hint that matches it, or an `example` rule"
    )
    assert text_example(field_spec) is None


def test_an_example_rule_wins_over_the_hint_and_must_match_the_pattern() -> None:
    rules = {"pattern": "[A-Z]{2}[0-9]{4}", "example": "XY9876"}
    assert text_example(spec("text", rules=rules, hints=HINTS)) == "XY9876"
    wrong = spec("text", rules={**rules, "example": "ab12"}, hints=HINTS)
    assert only_problem(wrong) == "the example 'ab12' does not match the pattern '[A-Z]{2}[0-9]{4}'"


def test_a_hint_word_outside_the_length_rules_is_no_example() -> None:
    rules = {"pattern": "[0-9]+", "min_length": 4}
    assert text_example(spec("text", rules=rules, hints=dict.fromkeys(LANGUAGES, "e.g. 123 or 12345"))) == "12345"


def test_a_broken_pattern_is_a_problem() -> None:
    assert "not a valid regular expression" in only_problem(spec("text", rules={"pattern": "[0-9"}))


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        ("ab  cd", "single spaces, ASCII digits"),
        ("౧౨౩౪", "single spaces, ASCII digits"),
        ("abc", "is not from 4 to 10 characters long"),
    ],
)
def test_an_example_must_be_as_validation_leaves_it(example: str, expected: str) -> None:
    rules = {"example": example, "min_length": 4, "max_length": 10}
    assert expected in only_problem(spec("text", rules=rules))


@pytest.mark.parametrize("field_type", ["choice_one", "choice_many"])
def test_a_choice_needs_at_least_two_options(field_type: str) -> None:
    assert (
        only_problem(spec(field_type, options=(option("salary"),))) == "a choice field needs at least 2 options (has 1)"
    )


def test_duplicate_option_ids_are_a_problem() -> None:
    problems = spec_problems(spec("choice_one", options=(option("salary"), option("salary", "Wages"))))
    assert problems == ["option id 'salary' appears more than once"]


def test_an_option_without_te_or_hi_labels_is_a_problem() -> None:
    untranslated = Option(id="wages", labels={"te": "", "en": "Wages", "hi": ""})  # as a v1 file migrates
    problem = only_problem(spec("choice_many", options=(option("salary"), untranslated)))
    assert problem == "option 'wages' needs its label in te, en and hi (missing: te, hi)"


def test_options_sharing_a_label_are_a_problem() -> None:
    problems = spec_problems(spec("choice_one", options=(option("salary", "Salary"), option("wages", "sal ary"))))
    assert "options 'salary' and 'wages' share the label 'sal ary' (en)" in problems


def test_numbers_as_option_ids_or_labels_are_a_problem() -> None:
    problems = spec_problems(
        spec("choice_one", options=(option("salary"), Option(id="2", labels=dict.fromkeys(LANGUAGES, "7"))))
    )
    assert any("option id '2' is a number" in p for p in problems)
    assert any("label '7' (en) is a number" in p for p in problems)


def test_a_blank_option_id_is_a_problem() -> None:
    problems = spec_problems(spec("choice_one", options=(option("salary"), Option(id=" ", labels=LABELS))))
    assert "option id ' ' must be non-empty, without spaces around it" in problems


def test_options_on_another_type_are_a_problem() -> None:
    assert (
        only_problem(spec("text", options=TWO_OPTIONS)) == "options are only for choice_one and choice_many, not text"
    )


def test_a_document_needs_accept_and_max_mb() -> None:
    problems = spec_problems(FieldSpec(id="f", type="document", labels=LABELS))
    assert [p.split(":")[0] for p in problems] == [
        "a document field needs `accept`",
        "a document field needs max_mb, its size limit in MB",
    ]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"max_mb": 0}, "max_mb must be above 0 and at most 100 (got 0)"),
        ({"max_mb": 101}, "max_mb must be above 0 and at most 100 (got 101)"),
        ({"max_mb": float("nan")}, "max_mb must be a number (got nan)"),
        ({"accept": ("PDF",)}, "accept: 'PDF' is not a lower-case MIME type like image/jpeg"),
        ({"accept": ("application/pdf", "application/pdf")}, "accept lists a MIME type more than once"),
    ],
)
def test_bad_accept_or_max_mb_of_a_document_is_a_problem(kwargs: dict[str, object], expected: str) -> None:
    assert only_problem(spec("document", **kwargs)) == expected


def test_a_photo_accepts_only_images() -> None:
    assert (
        only_problem(spec("photo", accept=("application/pdf",)))
        == "accept: a photo must be an image, not application/pdf"
    )


def test_accept_and_max_mb_on_another_type_are_a_problem() -> None:
    assert only_problem(spec("aadhaar", max_mb=5)) == "accept and max_mb are only for document and photo, not aadhaar"


def test_problems_do_not_repeat_the_field_id() -> None:
    """The catalogue lint prefixes `field <id>: ` itself."""
    assert not any(p.startswith("field") for p in spec_problems(FieldSpec(id="income", type="number")))


# --- default questions ---


def _locale(language: str, name: str) -> dict[str, str]:
    data = yaml.safe_load((LOCALES / language / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_specific_type_has_a_default_question_and_nothing_else(language: str) -> None:
    texts = _locale(language, "fields")
    assert set(texts) == {f"ask.{t}" for t in SPECIFIC_TYPES} | {"answer.yes", "answer.no"}
    assert all(isinstance(text, str) and text.strip() for text in texts.values())


@pytest.mark.parametrize("language", LANGUAGES)
def test_yes_and_no_button_titles_fit_whatsapp_buttons(language: str) -> None:
    texts = _locale(language, "fields")
    assert all(0 < len(texts[key]) <= 20 for key in ("answer.yes", "answer.no"))


@pytest.mark.parametrize("name", ["fields", "validation"])
def test_field_texts_have_the_same_keys_in_every_language(name: str) -> None:
    keys = [set(_locale(language, name)) for language in LANGUAGES]
    assert keys[0] == keys[1] == keys[2]


@pytest.mark.parametrize("language", LANGUAGES)
def test_field_texts_do_not_clash_with_other_locale_files(language: str) -> None:
    ours = set(_locale(language, "fields")) | set(_locale(language, "validation"))
    for path in (LOCALES / language).glob("*.yaml"):
        if path.stem not in ("fields", "validation"):
            assert not ours & set(_locale(language, path.stem)), path
