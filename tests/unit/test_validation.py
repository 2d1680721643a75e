"""Validation of form answers: every type's accept and reject paths, digits in three scripts, and the error texts."""

from __future__ import annotations

import json
import string
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sevamitra.core.amounts import format_inr, parse_amount
from sevamitra.core.fields import FIELD_TYPES, GENERIC_TYPES, LANGUAGES, FieldSpec, Option, spec_problems
from sevamitra.core.validation import (
    ERROR_CODES,
    Invalid,
    LocationAnswer,
    MediaAnswer,
    PlaceAnswer,
    Valid,
    example_answer,
    mask_aadhaar,
    normalise_digits,
    normalise_text,
    validate,
    verhoeff_check,
    verhoeff_digit,
)

TODAY = date(2025, 3, 15)
LOCALES = Path(__file__).resolve().parents[2] / "catalogue" / "locales"
LABELS = {"te": "ప్రశ్న", "en": "Question", "hi": "प्रश्न"}
HINTS = {"te": "AB1234 లాగా పంపండి.", "en": "Send it like AB1234.", "hi": "AB1234 की तरह भेजें।"}
OPTIONS = (
    Option(id="agriculture", labels={"te": "వ్యవసాయం", "en": "Agriculture", "hi": "कृषि"}),
    Option(id="salary", labels={"te": "జీతం", "en": "Salary", "hi": "वेतन"}),
    Option(id="fee_reimbursement", labels={"te": "ఫీజు రీయింబర్స్‌మెంట్", "en": "Fee reimbursement", "hi": "शुल्क प्रतिपूर्ति"}),
    Option(id="other", labels={"te": "ఇతర", "en": "Other", "hi": "अन्य"}),
)
AADHAAR = "23456789012" + verhoeff_digit("23456789012")  # 234567890124
TELUGU_DIGITS = str.maketrans("0123456789", "౦౧౨౩౪౫౬౭౮౯")
DEVANAGARI_DIGITS = str.maketrans("0123456789", "०१२३४५६७८९")


def spec(field_type: str, **kwargs: object) -> FieldSpec:
    if field_type in GENERIC_TYPES:
        kwargs.setdefault("labels", LABELS)
    if field_type in ("choice_one", "choice_many"):
        kwargs.setdefault("options", OPTIONS)
    if field_type == "document":
        kwargs.setdefault("accept", ("application/pdf", "image/jpeg"))
        kwargs.setdefault("max_mb", 2)
    field_spec = FieldSpec(id="f", type=field_type, **kwargs)  # type: ignore[arg-type]
    assert spec_problems(field_spec) == []
    return field_spec


def check(
    field_type: str,
    answer: str | MediaAnswer | LocationAnswer | PlaceAnswer,
    *,
    language: str = "en",
    today: date = TODAY,
    **kwargs: object,
) -> Valid | Invalid:
    return validate(spec(field_type, **kwargs), answer, today=today, language=language)


def media(mime: str = "image/jpeg", size: int | None = 1000, filename: str | None = None) -> MediaAnswer:
    return MediaAnswer(media_id="m1", mime_type=mime, size_bytes=size, filename=filename)


# --- every error code, produced at least once ---

ERROR_CASES: list[tuple[str, object, dict[str, object], str]] = [
    ("aadhaar", "", {}, "required"),
    ("mobile", media(), {}, "expected_text"),
    ("photo", "here it is", {}, "expected_photo"),
    ("document", LocationAnswer(latitude=16.5, longitude=80.6), {}, "expected_document"),
    ("location", "Vijayawada", {}, "expected_location"),
    ("address_ap", "Vijayawada", {}, "expected_place"),
    ("person_name", "R", {}, "name_too_short"),
    ("person_name", "R" * 81, {}, "name_too_long"),
    ("person_name", "Ravi 2", {}, "name_bad_characters"),
    ("text", "ab", {"rules": {"min_length": 3}}, "text_too_short"),
    ("text", "abcd", {"rules": {"max_length": 3}}, "text_too_long"),
    ("text", "ab12", {"rules": {"pattern": "[A-Z]{2}[0-9]{4}", "example": "AB1234"}, "hints": HINTS}, "text_pattern"),
    ("aadhaar", "2345 6789 012", {}, "aadhaar_length"),
    ("aadhaar", "1" + AADHAAR[1:], {}, "aadhaar_first_digit"),
    ("aadhaar", AADHAAR[:-1] + "5", {}, "aadhaar_checksum"),
    ("mobile", "5876543210", {}, "mobile_invalid"),
    ("pin_code", "52001", {}, "pin_length"),
    ("pin_code", "500001", {}, "pin_not_ap"),
    ("email", "ravi@", {}, "email_invalid"),
    ("date", "15 March", {}, "date_format"),
    ("date", "30-02-2024", {}, "date_not_real"),
    ("date", "16-03-2025", {"rules": {"past_only": True}}, "date_in_future"),
    ("date", "14-03-2025", {"rules": {"future_only": True}}, "date_in_past"),
    ("date", "14-03-2025", {"rules": {"not_before_days": 0}}, "date_too_early"),
    ("date", "15-05-2025", {"rules": {"not_after_days": 60}}, "date_too_late"),
    ("date_of_birth", "15-03-2010", {"rules": {"min_age": 18}}, "age_below"),
    ("date_of_birth", "15-03-1960", {"rules": {"max_age": 60}}, "age_above"),
    ("amount_inr", "forty thousand", {}, "amount_invalid"),
    ("amount_inr", "99", {"rules": {"min": 100}}, "amount_below"),
    ("amount_inr", "101", {"rules": {"max": 100}}, "amount_above"),
    ("number", "three", {}, "number_invalid"),
    ("number", "0", {"rules": {"min": 1}}, "number_below"),
    ("number", "11", {"rules": {"max": 10}}, "number_above"),
    ("choice_one", "pension", {}, "choice_unknown"),
    ("choice_many", "1", {"rules": {"min_choices": 2}}, "choices_too_few"),
    ("choice_many", "1, 2, 3", {"rules": {"max_choices": 2}}, "choices_too_many"),
    ("yes_no", "maybe", {}, "yes_no_unknown"),
    ("district", "Krishna!", {}, "district_unknown"),
    ("address_ap", PlaceAnswer(district="ntr", mandal="", village="ward-1"), {}, "address_incomplete"),
    ("photo", media("application/pdf"), {}, "file_type"),
    ("photo", media(size=6 * 1024 * 1024), {}, "file_too_large"),
    ("location", LocationAnswer(latitude=28.61, longitude=77.21), {}, "location_outside_ap"),
    ("electricity_service_number", "12345678", {}, "service_number_invalid"),
    ("property_assessment_number", "108601234", {}, "assessment_number_invalid"),
    ("vehicle_number", "XX 39 AB 1234", {}, "vehicle_number_invalid"),
    ("ration_card_number", "28123456789", {}, "ration_card_invalid"),
    ("epic_number", "AB12345678", {}, "epic_invalid"),
    ("pan", "ABCXE1234F", {}, "pan_invalid"),
]


@pytest.mark.parametrize(("field_type", "answer", "kwargs", "code"), ERROR_CASES, ids=[c[3] for c in ERROR_CASES])
def test_each_error_code_is_returned_for_its_mistake(
    field_type: str, answer: str | MediaAnswer | LocationAnswer | PlaceAnswer, kwargs: dict[str, object], code: str
) -> None:
    result = check(field_type, answer, **kwargs)
    assert isinstance(result, Invalid)
    assert result.code == code
    assert set(result.params) == ERROR_CODES[code]


def test_the_error_cases_cover_every_error_code() -> None:
    assert {case[3] for case in ERROR_CASES} == set(ERROR_CODES)


def test_an_undocumented_error_code_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="undocumented error code"):
        Invalid(code="oops")


# --- error texts in every language ---


def _validation_texts(language: str) -> dict[str, str]:
    data = yaml.safe_load((LOCALES / language / "validation.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_error_code_has_a_text_and_every_text_an_error_code(language: str) -> None:
    assert set(_validation_texts(language)) == {f"invalid.{code}" for code in ERROR_CODES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_error_text_uses_exactly_its_codes_parameters(language: str) -> None:
    for key, text in _validation_texts(language).items():
        placeholders = {name for _, name, _, _ in string.Formatter().parse(text) if name}
        assert placeholders == ERROR_CODES[key.removeprefix("invalid.")], key
        assert "{" not in text.format(**dict.fromkeys(placeholders, "1")), key


@pytest.mark.parametrize(("field_type", "answer", "kwargs", "code"), ERROR_CASES, ids=[c[3] for c in ERROR_CASES])
def test_each_error_formats_into_a_sentence_in_every_language(
    field_type: str, answer: str | MediaAnswer | LocationAnswer | PlaceAnswer, kwargs: dict[str, object], code: str
) -> None:
    for language in LANGUAGES:
        result = check(field_type, answer, language=language, **kwargs)
        assert isinstance(result, Invalid)
        sentence = _validation_texts(language)[f"invalid.{result.code}"].format(**result.params)
        assert sentence.strip() and "{" not in sentence


# --- normalisation ---


def test_telugu_and_devanagari_digits_become_ascii() -> None:
    assert normalise_digits("౦౧౨౩౪౫౬౭౮౯") == "0123456789"
    assert normalise_digits("०१२३४५६७८९") == "0123456789"
    assert normalise_digits("５ and ٣") == "5 and 3"  # any Unicode decimal digit
    assert normalise_digits("x²") == "x²"  # a superscript is no decimal digit


def test_whitespace_is_stripped_and_collapsed_but_zwnj_kept() -> None:
    assert normalise_text("  Lakshmi\u00a0\tDevi\u200b \n") == "Lakshmi Devi"
    assert normalise_text("ఇన్\u200cకమ్") == "ఇన్\u200cకమ్"


# --- Verhoeff and the Aadhaar mask ---


@pytest.mark.parametrize(
    ("digits", "check_digit"), [("236", "3"), ("12345", "1"), ("142857", "0"), ("123456789012", "0")]
)
def test_verhoeff_check_digit_matches_known_vectors(digits: str, check_digit: str) -> None:
    assert verhoeff_digit(digits) == check_digit
    assert verhoeff_check(digits + check_digit)


def test_verhoeff_rejects_what_is_not_ascii_digits() -> None:
    assert not verhoeff_check("")
    assert not verhoeff_check("23a3")
    with pytest.raises(ValueError, match="ASCII digits"):
        verhoeff_digit("౨౩౬")


@given(st.text(alphabet="0123456789", min_size=1, max_size=20), st.data())
def test_verhoeff_catches_every_single_digit_error_and_adjacent_swap(digits: str, data: st.DataObject) -> None:
    number = digits + verhoeff_digit(digits)
    assert verhoeff_check(number)
    i = data.draw(st.integers(0, len(number) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != number[i]]))
    assert not verhoeff_check(number[:i] + wrong + number[i + 1 :])
    j = data.draw(st.integers(0, len(number) - 2))
    if number[j] != number[j + 1]:
        assert not verhoeff_check(number[:j] + number[j + 1] + number[j] + number[j + 2 :])


@given(st.text())
def test_the_aadhaar_mask_never_shows_more_than_four_digits(text: str) -> None:
    masked = mask_aadhaar(text)
    assert masked.startswith("XXXX XXXX ")
    assert len(masked) == 14
    assert sum(ch.isdecimal() for ch in masked) <= 4


def test_the_aadhaar_mask_shows_the_last_four_digits() -> None:
    assert mask_aadhaar("234567890124") == "XXXX XXXX 0124"


# --- aadhaar ---


@pytest.mark.parametrize(
    "typed",
    [
        AADHAAR,
        "2345 6789 0124",
        "2345-6789-0124",
        " 2345  6789 0124 ",
        AADHAAR.translate(TELUGU_DIGITS),
        AADHAAR.translate(DEVANAGARI_DIGITS),
    ],
)
def test_aadhaar_is_stored_as_12_digits_and_shown_masked(typed: str) -> None:
    assert check("aadhaar", typed) == Valid(value=AADHAAR, display="XXXX XXXX 0124")


@given(st.text(alphabet="0123456789", min_size=10, max_size=10), st.integers(2, 9))
def test_a_generated_aadhaar_is_valid_and_never_displayed_in_full(body: str, first: int) -> None:
    number = str(first) + body
    number += verhoeff_digit(number)
    result = check("aadhaar", number)
    assert isinstance(result, Valid) and result.value == number
    assert number[:8] not in result.display.replace(" ", "")
    assert sum(ch.isdecimal() for ch in result.display) == 4


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("23456789012A", "aadhaar_length"),
        ("2345678901245", "aadhaar_length"),
        ("0" + AADHAAR[1:], "aadhaar_first_digit"),
    ],
)
def test_aadhaar_rejects_letters_extra_digits_and_a_leading_zero(typed: str, code: str) -> None:
    assert check("aadhaar", typed) == Invalid(code=code)


# --- mobile, PIN, email ---


@pytest.mark.parametrize(
    "typed",
    [
        "9876543210",
        "+91 98765 43210",
        "+919876543210",
        "919876543210",
        "09876543210",
        "0091 98765-43210",
        "(98765) 43210",
        "౯౮౭౬౫౪౩౨౧౦",
        "९८७६५४३२१०",
    ],
)
def test_mobile_accepts_prefixes_spaces_and_native_digits(typed: str) -> None:
    assert check("mobile", typed) == Valid(value="9876543210", display="9876543210")


@pytest.mark.parametrize("typed", ["987654321", "98765432101", "+1 9876543210", "1234567890", "98765o3210"])
def test_mobile_rejects_wrong_lengths_prefixes_and_first_digits(typed: str) -> None:
    assert check("mobile", typed) == Invalid(code="mobile_invalid")


@pytest.mark.parametrize(
    ("typed", "stored"), [("520001", "520001"), ("515 001", "515001"), ("535999", "535999"), ("౫౨౦౦౦౧", "520001")]
)
def test_pin_code_accepts_andhra_pradesh_pins(typed: str, stored: str) -> None:
    assert check("pin_code", typed) == Valid(value=stored, display=stored)


@pytest.mark.parametrize(
    ("typed", "code"),
    [("514999", "pin_not_ap"), ("536000", "pin_not_ap"), ("5200011", "pin_length"), ("52OO01", "pin_length")],
)
def test_pin_code_rejects_other_states_and_wrong_lengths(typed: str, code: str) -> None:
    assert check("pin_code", typed) == Invalid(code=code)


def test_email_keeps_the_local_part_and_lowercases_the_domain() -> None:
    assert check("email", " Ravi.Kumar+ap@Gmail.COM ") == Valid(
        value="Ravi.Kumar+ap@gmail.com", display="Ravi.Kumar+ap@gmail.com"
    )


@pytest.mark.parametrize(
    "typed",
    [
        "ravi",
        "ravi@gmail",
        "ravi@@gmail.com",
        "ravi kumar@gmail.com",
        ".ravi@gmail.com",
        "ravi..k@gmail.com",
        "ravi@-gmail.com",
        "a@b.c",
    ],
)
def test_email_rejects_malformed_addresses(typed: str) -> None:
    assert check("email", typed) == Invalid(code="email_invalid")


# --- names and text ---


@pytest.mark.parametrize(
    "typed",
    ["Lakshmi Devi", "లక్ష్మి దేవి", "राम कुमार", "K. Srinivasa Rao", "D'Souza", "Mary-Anne", "José", "శ్రీ\u200cనివాస్", "Ek"],
)
def test_person_name_accepts_telugu_latin_and_devanagari_letters(typed: str) -> None:
    assert check("person_name", typed) == Valid(value=typed, display=typed)


def test_person_name_normalises_spaces_and_curly_apostrophes() -> None:
    assert check("person_name", "  Anne   O’Brien ") == Valid(value="Anne O'Brien", display="Anne O'Brien")


@pytest.mark.parametrize("typed", ["Ravi2", "Ravi ౨", "Ravi@home", "रवि।", "Ravi 😊", "Рави", "...", "محمد"])
def test_person_name_rejects_digits_symbols_and_other_scripts(typed: str) -> None:
    assert check("person_name", typed) == Invalid(code="name_bad_characters")


def test_person_name_length_is_2_to_80_characters() -> None:
    assert isinstance(check("person_name", "A" * 80), Valid)
    assert check("person_name", "A" * 81) == Invalid(code="name_too_long", params={"max": 80})
    assert check("person_name", "A") == Invalid(code="name_too_short", params={"min": 2})


def test_text_is_stored_with_normalised_spaces() -> None:
    assert check("text", "  to apply   for a scholarship ") == Valid(
        value="to apply for a scholarship", display="to apply for a scholarship"
    )


def test_text_has_a_default_maximum_length() -> None:
    assert check("text", "a" * 1001) == Invalid(code="text_too_long", params={"max": 1000})


def test_text_pattern_must_match_all_of_the_answer_and_the_error_carries_the_hint() -> None:
    rules = {"pattern": "[A-Z]{2}[0-9]{4}", "example": "AB1234"}
    assert check("text", "AB1234", rules=rules, hints=HINTS) == Valid(value="AB1234", display="AB1234")
    assert check("text", "AB12345", rules=rules, hints=HINTS, language="te") == Invalid(
        code="text_pattern", params={"hint": HINTS["te"]}
    )


# --- dates ---


@pytest.mark.parametrize(
    "typed",
    [
        "05-08-1990",
        "05/08/1990",
        "05.08.1990",
        "5-8-1990",
        "5 8 1990",
        "05 - 08 - 1990",
        "1990-08-05",
        "1990-8-5",
        "౦౫-౦౮-౧౯౯౦",
        "०५/०८/१९९०",
    ],
)
def test_dates_are_read_in_every_accepted_form_stored_iso_and_shown_day_first(typed: str) -> None:
    assert check("date", typed) == Valid(value="1990-08-05", display="05-08-1990")


@pytest.mark.parametrize("typed", ["5-8-90", "05-08/1990", "1990/08-05", "August 5 1990", "05081990", "5th Aug"])
def test_dates_in_other_forms_ask_for_day_month_year_with_an_example(typed: str) -> None:
    assert check("date", typed) == Invalid(code="date_format", params={"example": "15-03-2025"})


@pytest.mark.parametrize("typed", ["29-02-2023", "31-04-2025", "00-01-2025", "10-13-2025"])
def test_dates_that_do_not_exist_are_refused(typed: str) -> None:
    assert check("date", typed) == Invalid(code="date_not_real")


def test_a_leap_day_is_a_real_date() -> None:
    assert check("date", "29-02-2024") == Valid(value="2024-02-29", display="29-02-2024")


def test_past_only_and_future_only_both_admit_today() -> None:
    assert isinstance(check("date", "15-03-2025", rules={"past_only": True}), Valid)
    assert isinstance(check("date", "15-03-2025", rules={"future_only": True}), Valid)


def test_a_booking_window_admits_today_to_sixty_days_ahead() -> None:
    rules = {"future_only": True, "not_after_days": 60}
    last = TODAY + timedelta(days=60)
    assert isinstance(check("date", last.strftime("%d-%m-%Y"), rules=rules), Valid)
    after = check("date", (last + timedelta(days=1)).strftime("%d-%m-%Y"), rules=rules)
    assert after == Invalid(code="date_too_late", params={"latest": "14-05-2025"})
    assert check("date", "14-03-2025", rules=rules) == Invalid(code="date_in_past")


def test_not_before_days_counts_back_from_today() -> None:
    rules = {"past_only": True, "not_before_days": -30}
    assert isinstance(check("date", "13-02-2025", rules=rules), Valid)
    assert check("date", "12-02-2025", rules=rules) == Invalid(code="date_too_early", params={"earliest": "13-02-2025"})


def test_without_rules_a_date_may_be_far_in_the_past_or_future() -> None:
    assert isinstance(check("date", "01-01-1900"), Valid)
    assert isinstance(check("date", "01-01-2100"), Valid)


# --- date of birth and age ---


def test_a_birth_date_in_the_future_is_refused() -> None:
    assert check("date_of_birth", "16-03-2025") == Invalid(code="date_in_future")
    assert isinstance(check("date_of_birth", "15-03-2025"), Valid)  # born today: age 0


def test_min_age_is_reached_on_the_birthday() -> None:
    rules = {"min_age": 18}
    assert check("date_of_birth", "15-03-2007", rules=rules) == Valid(value="2007-03-15", display="15-03-2007")
    assert check("date_of_birth", "16-03-2007", rules=rules) == Invalid(code="age_below", params={"min": 18})


def test_max_age_holds_until_the_next_birthday() -> None:
    rules = {"max_age": 60}
    assert isinstance(check("date_of_birth", "16-03-1964", rules=rules), Valid)  # 60, turning 61 tomorrow
    assert check("date_of_birth", "15-03-1964", rules=rules) == Invalid(code="age_above", params={"max": 60})


def test_a_birth_date_giving_an_age_over_120_is_refused_by_default() -> None:
    assert check("date_of_birth", "15-03-1904") == Invalid(code="age_above", params={"max": 120})
    assert isinstance(check("date_of_birth", "16-03-1904"), Valid)


def test_someone_born_on_a_leap_day_comes_of_age_on_the_first_of_march() -> None:
    rules = {"min_age": 18}
    born = "29-02-2004"
    assert check("date_of_birth", born, rules=rules, today=date(2022, 2, 28)) == Invalid(
        code="age_below", params={"min": 18}
    )
    assert isinstance(check("date_of_birth", born, rules=rules, today=date(2022, 3, 1)), Valid)


def test_date_of_birth_accepts_telugu_digits() -> None:
    assert check("date_of_birth", "౧౫-౦౮-౧౯౯౦") == Valid(value="1990-08-15", display="15-08-1990")


# --- amounts and numbers ---


@pytest.mark.parametrize(
    ("typed", "rupees"),
    [
        ("45000", 45_000),
        ("1,00,000", 100_000),
        ("10,00,000", 1_000_000),
        ("100,000", 100_000),
        ("₹1,20,000", 120_000),
        ("Rs. 50,000/-", 50_000),
        ("rs 500", 500),
        ("Rs500", 500),
        ("INR 2,500", 2_500),
        ("500 rupees", 500),
        ("45000.00", 45_000),
        ("2.5 lakh", 250_000),
        ("3 lakhs", 300_000),
        ("50k", 50_000),
        ("1 crore", 10_000_000),
        ("రూ.1,500", 1_500),
        ("2 లక్షలు", 200_000),
        ("౧,౨౦,౦౦౦", 120_000),
        ("१५००० रुपये", 15_000),
        ("2 लाख", 200_000),
        ("0", 0),
    ],
)
def test_amounts_are_read_as_citizens_type_them(typed: str, rupees: int) -> None:
    assert check("amount_inr", typed) == Valid(value=rupees, display=format_inr(rupees))


@pytest.mark.parametrize(
    "typed", ["12.50", "1,0000", "1,00,00", "-500", "₹", "five hundred", "1e5", "2.333333 lakh", "9" * 16, "50 dollars"]
)
def test_amounts_refuse_paise_bad_grouping_negatives_and_words(typed: str) -> None:
    assert check("amount_inr", typed) == Invalid(code="amount_invalid")


@pytest.mark.parametrize(
    ("rupees", "shown"),
    [(0, "₹0"), (999, "₹999"), (1000, "₹1,000"), (100000, "₹1,00,000"), (12345678, "₹1,23,45,678"), (-1500, "-₹1,500")],
)
def test_amounts_are_shown_with_indian_grouping(rupees: int, shown: str) -> None:
    assert format_inr(rupees) == shown


@given(st.integers(0, 10**15 - 1))
def test_a_shown_amount_reads_back_as_the_same_amount(rupees: int) -> None:
    assert parse_amount(format_inr(rupees).casefold()) == rupees


def test_amount_limits_are_shown_in_rupees() -> None:
    rules = {"min": 1000, "max": 100_000_000}
    assert check("amount_inr", "999", rules=rules) == Invalid(code="amount_below", params={"min": "₹1,000"})
    assert check("amount_inr", "10,00,00,001", rules=rules) == Invalid(
        code="amount_above", params={"max": "₹10,00,00,000"}
    )


@pytest.mark.parametrize(("typed", "number"), [("3", 3), ("-2", -2), ("+7", 7), ("౪", 4), ("१२", 12), (" 42 ", 42)])
def test_numbers_are_whole_numbers_in_any_digits(typed: str, number: int) -> None:
    assert check("number", typed) == Valid(value=number, display=str(number))


@pytest.mark.parametrize("typed", ["2.5", "three", "1,000", "1 000", "3 people", "9" * 17])
def test_numbers_refuse_fractions_words_and_giants(typed: str) -> None:
    assert check("number", typed) == Invalid(code="number_invalid")


# --- choices ---


@pytest.mark.parametrize(
    ("typed", "language"),
    [("salary", "en"), ("2", "en"), ("Salary", "en"), ("జీతం", "te"), ("वेतन", "hi"), (" SALARY. ", "en"), ("౨", "te")],
)
def test_choice_one_reads_a_tapped_id_a_number_or_a_label_in_any_language(typed: str, language: str) -> None:
    shown = {"en": "Salary", "te": "జీతం", "hi": "वेतन"}[language]
    assert check("choice_one", typed, language=language) == Valid(value="salary", display=shown)


def test_choice_one_shows_the_label_in_the_citizens_language_whatever_was_typed() -> None:
    assert check("choice_one", "fee reimbursement", language="hi") == Valid(
        value="fee_reimbursement", display="शुल्क प्रतिपूर्ति"
    )


@pytest.mark.parametrize("typed", ["0", "5", "pension", "1 2"])
def test_choice_one_refuses_unknown_numbers_and_words(typed: str) -> None:
    assert check("choice_one", typed) == Invalid(code="choice_unknown", params={"count": 4})


@pytest.mark.parametrize(
    "typed",
    [
        "1, 2",
        "1 2",
        "2,1",
        "agriculture salary",
        "Agriculture and Salary",
        "వ్యవసాయం, జీతం",
        "कृषि और वेतन",
        "1,1,2",
        "1; salary",
    ],
)
def test_choice_many_reads_numbers_ids_and_labels_separated_by_commas_or_spaces(typed: str) -> None:
    assert check("choice_many", typed) == Valid(value=("agriculture", "salary"), display="Agriculture, Salary")


def test_choice_many_reads_labels_with_spaces() -> None:
    result = check("choice_many", "Fee reimbursement other 1", language="te")
    assert result == Valid(value=("agriculture", "fee_reimbursement", "other"), display="వ్యవసాయం, ఫీజు రీయింబర్స్‌మెంట్, ఇతర")


def test_choice_many_refuses_any_unknown_item() -> None:
    assert check("choice_many", "1, pension") == Invalid(code="choice_unknown", params={"count": 4})
    assert check("choice_many", " , ") == Invalid(code="choices_too_few", params={"min": 1})


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("yes", True), ("YES!", True), ("y", True), ("avunu", True), ("అవును", True), ("అవునండి", True), ("हाँ", True),
        ("हां", True), ("जी", True), ("जी हाँ", True), ("no", False), ("N", False), ("ledu", False), ("kaadu", False),
        ("లేదు", False), ("కాదు", False), ("नहीं", False), ("जी नहीं", False), ("no sir", False),
    ],
)  # fmt: skip
def test_yes_no_reads_yes_and_no_in_every_language(typed: str, answer: bool) -> None:
    result = check("yes_no", typed)
    assert isinstance(result, Valid) and result.value is answer


def test_yes_no_reads_the_button_ids_and_shows_the_answer_in_the_citizens_language() -> None:
    assert check("yes_no", "yes", language="te") == Valid(value=True, display="అవును")
    assert check("yes_no", "no", language="hi") == Valid(value=False, display="नहीं")


@pytest.mark.parametrize("typed", ["maybe", "yes no", "అవును లేదు", "sir", "yes please"])
def test_yes_no_refuses_anything_else(typed: str) -> None:
    assert check("yes_no", typed) == Invalid(code="yes_no_unknown")


# --- identity and account numbers ---


@pytest.mark.parametrize(
    ("field_type", "typed", "stored"),
    [
        ("electricity_service_number", "123456789", "123456789"),
        ("electricity_service_number", "1234 5678 90123", "1234567890123"),
        ("property_assessment_number", "1086-012-345", "1086012345"),
        ("ration_card_number", "౨౮౧౨౩౪౫౬౭౮", "2812345678"),
        ("epic_number", "abc 1234567", "ABC1234567"),
        ("pan", "abcpe1234f", "ABCPE1234F"),
        ("pan", "AAACT 1234 C", "AAACT1234C"),
        ("vehicle_number", "AP39AB1234", "AP39AB1234"),
        ("vehicle_number", "ap 39 ab 1234", "AP39AB1234"),
        ("vehicle_number", "AP-16-Z-123", "AP16Z123"),
        ("vehicle_number", "TS 09 EA 0001", "TS09EA0001"),
        ("vehicle_number", "22 BH 1234 AB", "22BH1234AB"),
        ("vehicle_number", "AP०५CD४५६७", "AP05CD4567"),
    ],
)
def test_id_numbers_are_stored_upper_case_without_spaces(field_type: str, typed: str, stored: str) -> None:
    assert check(field_type, typed) == Valid(value=stored, display=stored)


@pytest.mark.parametrize(
    ("field_type", "typed"),
    [
        ("electricity_service_number", "12345678901234"),
        ("electricity_service_number", "12345678A"),
        ("property_assessment_number", "10860123456"),
        ("ration_card_number", "WAP1234567"),
        ("epic_number", "ABCD123456"),
        ("pan", "ABCPE12345"),
        ("pan", "ABCZE1234F"),
        ("vehicle_number", "AP39AB12345"),
        ("vehicle_number", "AP00AB1234"),
        ("vehicle_number", "AP39ABCD1234"),
        ("vehicle_number", "22BH123AB"),
    ],
)
def test_id_numbers_of_the_wrong_shape_are_refused(field_type: str, typed: str) -> None:
    result = check(field_type, typed)
    assert isinstance(result, Invalid) and result.code.endswith("_invalid")


def test_district_takes_a_picker_id() -> None:
    assert check("district", "ntr") == Valid(value="ntr", display="ntr")
    assert check("district", "alluri-sitharama-raju") == Valid(
        value="alluri-sitharama-raju", display="alluri-sitharama-raju"
    )
    assert check("district", "NTR district") == Invalid(code="district_unknown")


# --- media, location, place ---


def test_a_photo_is_stored_by_media_id_with_its_type_and_size() -> None:
    result = check("photo", media("image/jpeg", 200_000, "me.jpg"))
    assert result == Valid(
        value={"media_id": "m1", "mime_type": "image/jpeg", "size_bytes": 200_000, "filename": "me.jpg"},
        display="me.jpg",
    )


def test_a_mime_type_is_compared_without_case_or_parameters() -> None:
    result = check("document", media("Application/PDF; charset=binary", 10))
    assert isinstance(result, Valid) and result.value["mime_type"] == "application/pdf"  # type: ignore[index]
    assert result.display == "PDF"


def test_a_file_of_unknown_size_is_accepted_and_one_at_the_limit_too() -> None:
    assert isinstance(check("photo", media(size=None)), Valid)
    assert isinstance(check("photo", media(size=5 * 1024 * 1024)), Valid)
    assert check("photo", media(size=5 * 1024 * 1024 + 1)) == Invalid(code="file_too_large", params={"max_mb": "5"})


def test_the_file_type_error_lists_the_accepted_types() -> None:
    assert check("document", media("image/png")) == Invalid(code="file_type", params={"allowed": "PDF, JPG"})
    assert check("photo", media("image/webp"), accept=("image/heic",)) == Invalid(
        code="file_type", params={"allowed": "HEIC"}
    )


def test_a_fractional_size_limit_is_shown_as_is() -> None:
    assert check("document", media("application/pdf", 3 * 1024 * 1024), max_mb=2.5) == Invalid(
        code="file_too_large", params={"max_mb": "2.5"}
    )


def test_a_media_answer_without_a_media_id_is_no_answer() -> None:
    assert check("photo", MediaAnswer(media_id="", mime_type="image/jpeg", size_bytes=1)) == Invalid(code="required")


@pytest.mark.parametrize(
    ("lat", "lon"), [(16.5062, 80.6480), (17.6868, 83.2185), (13.6288, 79.4192), (12.6, 76.7), (19.95, 84.8)]
)
def test_a_location_in_andhra_pradesh_is_accepted(lat: float, lon: float) -> None:
    result = check("location", LocationAnswer(latitude=lat, longitude=lon))
    assert isinstance(result, Valid) and result.value == {"latitude": lat, "longitude": lon}


@pytest.mark.parametrize(
    ("lat", "lon"), [(12.5, 78.0), (20.0, 83.0), (16.5, 76.6), (16.5, 84.9), (float("nan"), 80.0), (16.5, float("inf"))]
)
def test_a_location_outside_andhra_pradesh_is_refused(lat: float, lon: float) -> None:
    assert check("location", LocationAnswer(latitude=lat, longitude=lon)) == Invalid(code="location_outside_ap")


def test_an_address_is_stored_as_the_three_picker_ids() -> None:
    result = check("address_ap", PlaceAnswer(district="ntr", mandal="vijayawada-urban", village=" ward-1 "))
    assert result == Valid(
        value={"district": "ntr", "mandal": "vijayawada-urban", "village": "ward-1"},
        display="ward-1, vijayawada-urban, ntr",
    )


@pytest.mark.parametrize(
    "field_type", [t for t in FIELD_TYPES if t not in ("document", "photo", "location", "address_ap")]
)
def test_a_required_text_field_never_accepts_an_empty_answer(field_type: str) -> None:
    for blank in ("", "   ", "\u200b", "\n\t"):
        assert check(field_type, blank) == Invalid(code="required")


def test_an_unknown_type_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown field type"):
        validate(FieldSpec(id="f", type="aadhar"), AADHAAR, today=TODAY)


# --- properties over generated specs ---

OPTION_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzఅఆఇకగచజతదనపమయరలవసహ కిమార", min_size=1, max_size=12)
TEXT_PATTERNS: list[tuple[str, dict[str, object]]] = [
    ("[A-Z]{2}[0-9]{4}", {"example": "AB1234"}),
    ("[0-9]+", {"example": "42"}),
    ("[a-z ]+", {"example": "a b c"}),
    ("(?i)sy\\.? ?no\\.? [0-9/]+", {"example": "Sy No 12/3"}),
    ("^[0-9]+(/[0-9A-Z]+)*$", {}),  # the sample answer comes from the hint
    ("[0-9]{1,4}(\\.[0-9]{1,2})?", {}),
]
PATTERN_HINTS = {"te": "ఉదా: 123/2A లేదా 2.50", "en": "e.g. 123/2A or 2.50", "hi": "जैसे: 123/2A या 2.50"}


def _pair(draw: st.DrawFn, low: int, high: int, names: tuple[str, str]) -> dict[str, object]:
    a, b = sorted(draw(st.lists(st.integers(low, high), min_size=2, max_size=2)))
    chosen = draw(st.sampled_from([(), (0,), (1,), (0, 1)]))
    return {names[i]: (a, b)[i] for i in chosen}


@st.composite
def specs(draw: st.DrawFn, field_type: str | None = None) -> FieldSpec:
    """A field spec without problems, of any type, with any rules its type allows."""
    field_type = field_type or draw(st.sampled_from(FIELD_TYPES))
    kwargs: dict[str, object] = {"labels": LABELS} if field_type in GENERIC_TYPES else {}
    rules: dict[str, object] = {}
    if field_type == "text":
        rules |= _pair(draw, 1, draw(st.sampled_from([30, 4096])), ("min_length", "max_length"))
        if draw(st.booleans()):
            pattern, example = draw(st.sampled_from(TEXT_PATTERNS))
            rules |= {"pattern": pattern, **example}
            kwargs["hints"] = PATTERN_HINTS
    elif field_type == "number":
        rules |= _pair(draw, -(10**6), 10**6, ("min", "max"))
    elif field_type == "amount_inr":
        rules |= _pair(draw, 0, 10**12, ("min", "max"))
    elif field_type == "date":
        rules |= _pair(draw, -36_600, 36_600, ("not_before_days", "not_after_days"))
        rules |= draw(st.sampled_from([{}, {"past_only": True}, {"future_only": True}, {"past_only": False}]))
    elif field_type == "date_of_birth":
        rules |= _pair(draw, 0, 120, ("min_age", "max_age"))
    elif field_type in ("choice_one", "choice_many"):
        count = draw(st.integers(2, 8))
        labels = draw(st.lists(st.tuples(OPTION_TEXT, OPTION_TEXT, OPTION_TEXT), min_size=count, max_size=count))
        kwargs["options"] = tuple(
            Option(id=f"option_{i}", labels={"te": te, "en": en, "hi": hi}) for i, (te, en, hi) in enumerate(labels)
        )
        if field_type == "choice_many":
            rules |= _pair(draw, 1, count, ("min_choices", "max_choices"))
    elif field_type == "document":
        kwargs["accept"] = tuple(
            draw(
                st.lists(
                    st.sampled_from(["application/pdf", "image/jpeg", "image/png"]), min_size=1, max_size=3, unique=True
                )
            )
        )
        kwargs["max_mb"] = draw(st.floats(0.01, 100))
    elif field_type == "photo" and draw(st.booleans()):
        kwargs["accept"] = tuple(
            draw(
                st.lists(
                    st.sampled_from(["image/jpeg", "image/png", "image/webp"]), min_size=1, max_size=3, unique=True
                )
            )
        )
        kwargs["max_mb"] = draw(st.floats(0.001, 100))
    field_spec = FieldSpec(id="f", type=field_type, rules=rules, **kwargs)  # type: ignore[arg-type]
    assume(not spec_problems(field_spec))
    return field_spec


DAYS = st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31))
ANSWERS = st.one_of(
    st.text(),
    st.text(alphabet="0123456789౦౧౨౩౪౫౬౭౮౯०१२३४५६७८९ -/.,₹+", max_size=20),
    st.builds(
        MediaAnswer,
        media_id=st.text(),
        mime_type=st.text(),
        size_bytes=st.none() | st.integers(),
        filename=st.none() | st.text(),
    ),
    st.builds(LocationAnswer, latitude=st.floats(), longitude=st.floats()),
    st.builds(PlaceAnswer, district=st.text(), mandal=st.text(), village=st.text()),
)

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(specs(), ANSWERS, DAYS, st.sampled_from(LANGUAGES))
def test_validate_never_raises_and_returns_documented_codes(
    field_spec: FieldSpec, answer: str | MediaAnswer | LocationAnswer | PlaceAnswer, today: date, language: str
) -> None:
    result = validate(field_spec, answer, today=today, language=language)
    if isinstance(result, Invalid):
        assert set(result.params) == ERROR_CODES[result.code]
    else:
        json.dumps(result.value)


@pytest.mark.parametrize("field_type", FIELD_TYPES)
@settings(max_examples=60, deadline=None)
@given(data=st.data(), today=DAYS)
def test_example_answer_is_valid_for_every_spec(field_type: str, data: st.DataObject, today: date) -> None:
    field_spec = data.draw(specs(field_type))
    answer = example_answer(field_spec, today=today)
    assert example_answer(field_spec, today=today) == answer  # deterministic
    for language in LANGUAGES:
        result = validate(field_spec, answer, today=today, language=language)
        assert isinstance(result, Valid), (field_spec, answer, result)
        json.dumps(result.value)


@PROPERTY_SETTINGS
@given(specs(), DAYS)
def test_a_valid_value_validates_again_to_itself(field_spec: FieldSpec, today: date) -> None:
    """What validation stores is in the form it accepts, so a stored answer can be checked again."""
    first = validate(field_spec, example_answer(field_spec, today=today), today=today)
    assert isinstance(first, Valid)
    if field_spec.type in (
        "aadhaar",
        "mobile",
        "pin_code",
        "text",
        "email",
        "person_name",
        "pan",
        "epic_number",
        "vehicle_number",
        "choice_one",
    ):
        assert validate(field_spec, str(first.value), today=today) == first
    if field_spec.type in ("date", "date_of_birth"):
        assert validate(field_spec, first.display, today=today) == first


@given(st.text(alphabet="0123456789", min_size=1, max_size=12), st.sampled_from([TELUGU_DIGITS, DEVANAGARI_DIGITS]))
def test_native_digits_read_as_their_ascii_twins(digits: str, script: dict[int, str]) -> None:
    for field_type in ("number", "amount_inr", "mobile", "pin_code", "ration_card_number"):
        assert check(field_type, digits.translate(script)) == check(field_type, digits)
