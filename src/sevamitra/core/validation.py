"""Validation of form answers: a field spec and a citizen's answer in, a stored value or an error code out.

Pure functions over a spec without problems (`core.fields.spec_problems`). An error is a code with
parameters; the conversation turns it into a sentence with the locale text `invalid.<code>`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

from sevamitra.core import choices, idnumbers
from sevamitra.core.amounts import format_inr, parse_amount
from sevamitra.core.fields import (
    MAX_AGE,
    MEDIA_TYPES,
    TEXT_MAX_LENGTH,
    VOICE_ACCEPT,
    VOICE_MAX_MB,
    FieldSpec,
    date_window,
    text_example,
)
from sevamitra.core.idnumbers import mask_aadhaar, verhoeff_check, verhoeff_digit

__all__ = [
    "ERROR_CODES",
    "Answer",
    "Invalid",
    "LocationAnswer",
    "MediaAnswer",
    "PlaceAnswer",
    "Valid",
    "age_on",
    "example_answer",
    "format_date",
    "mask_aadhaar",
    "normalise_digits",
    "normalise_text",
    "validate",
    "verhoeff_check",
    "verhoeff_digit",
]

ERROR_CODES: Final[Mapping[str, frozenset[str]]] = {
    code: frozenset(params.split())
    for code, params in {
        "required": "",
        "expected_text": "",
        "expected_photo": "",
        "expected_document": "",
        "expected_location": "",
        "expected_place": "",
        "name_too_short": "min",
        "name_too_long": "max",
        "name_bad_characters": "",
        "text_too_short": "min",
        "text_too_long": "max",
        "text_pattern": "hint",
        "aadhaar_length": "",
        "aadhaar_first_digit": "",
        "aadhaar_checksum": "",
        "mobile_invalid": "",
        "pin_length": "",
        "pin_not_ap": "",
        "email_invalid": "",
        "date_format": "example",
        "date_not_real": "",
        "date_in_future": "",
        "date_in_past": "",
        "date_too_early": "earliest",
        "date_too_late": "latest",
        "age_below": "min",
        "age_above": "max",
        "amount_invalid": "",
        "amount_below": "min",
        "amount_above": "max",
        "number_invalid": "",
        "number_below": "min",
        "number_above": "max",
        "choice_unknown": "count",
        "choices_too_few": "min",
        "choices_too_many": "max",
        "yes_no_unknown": "",
        "district_unknown": "",
        "address_incomplete": "",
        "file_type": "allowed",
        "file_too_large": "max_mb",
        "location_outside_ap": "",
        **dict.fromkeys(idnumbers.ID_NUMBER_CODES.values(), ""),
    }.items()
}
"""Every error code `validate` returns, with the names of its parameters."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaAnswer:
    media_id: str
    mime_type: str
    size_bytes: int | None  # None: unknown
    filename: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationAnswer:
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceAnswer:
    """The ids the district → mandal/ULB → village/ward pickers chose."""

    district: str
    mandal: str
    village: str


Answer = str | MediaAnswer | LocationAnswer | PlaceAnswer


@dataclass(frozen=True, slots=True, kw_only=True)
class Valid:
    value: str | int | bool | tuple[str, ...] | dict[str, Any] | list[dict[str, Any]]  # stored; JSON-able
    display: str  # safe to show the citizen or an officer: an Aadhaar number is always masked


@dataclass(frozen=True, slots=True, kw_only=True)
class Invalid:
    code: str
    params: Mapping[str, str | int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in ERROR_CODES:
            raise ValueError(f"undocumented error code {self.code!r}")


def normalise_digits(text: str) -> str:
    """Telugu ౦–౯, Devanagari ०–९ and every other Unicode decimal digit → ASCII 0–9."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text)


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff"))  # zero-width space, word joiner, BOM (not ZWJ/ZWNJ)


def normalise_text(text: str) -> str:
    """NFC, ASCII digits, no invisible spaces, single spaces, stripped."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return " ".join(normalise_digits(text).split())


def validate(spec: FieldSpec, answer: Answer, *, today: date, language: str = "en") -> Valid | Invalid:
    """Check one answer to one field: `Valid` with the value to store, or `Invalid` with an error code.

    Text is normalised first (`normalise_text`). An empty answer is `required` even for an optional
    field: the conversation offers those a skip instead.
    """
    if spec.type in MEDIA_TYPES:
        return _media(spec, answer) if isinstance(answer, MediaAnswer) else Invalid(code=f"expected_{spec.type}")
    if spec.type == "location":
        return _location(answer) if isinstance(answer, LocationAnswer) else Invalid(code="expected_location")
    if spec.type == "address_ap":
        return _place(answer) if isinstance(answer, PlaceAnswer) else Invalid(code="expected_place")
    if spec.type not in _TEXT_VALIDATORS:
        raise ValueError(f"unknown field type {spec.type!r}")
    if spec.type == "text" and spec.rules.get("voice") and isinstance(answer, MediaAnswer):
        return _voice(answer)
    if not isinstance(answer, str):
        return Invalid(code="expected_text")
    text = normalise_text(answer)
    if not text:
        return Invalid(code="required")
    return _TEXT_VALIDATORS[spec.type](spec, text, today, language)


# --- names and free text ---------------------------------------------------------------------

NAME_LENGTH: Final = (2, 80)
_NAME_SCRIPTS: Final = ("TELUGU ", "DEVANAGARI ", "LATIN ")


def _name_char(ch: str) -> bool:
    if ch in " .'-\u200c\u200d":  # ZWNJ and ZWJ shape Telugu and Hindi conjuncts
        return True
    return unicodedata.category(ch)[0] in "LM" and unicodedata.name(ch, "").startswith(_NAME_SCRIPTS)


def _person_name(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    name = text.replace("\u2019", "'").replace("\u2018", "'")
    if not all(map(_name_char, name)) or not any(ch.isalpha() for ch in name):
        return Invalid(code="name_bad_characters")
    least, most = NAME_LENGTH
    if len(name) < least:
        return Invalid(code="name_too_short", params={"min": least})
    if len(name) > most:
        return Invalid(code="name_too_long", params={"max": most})
    return Valid(value=name, display=name)


def _text(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    least, most = spec.rules.get("min_length", 1), spec.rules.get("max_length", TEXT_MAX_LENGTH)
    if len(text) < least:
        return Invalid(code="text_too_short", params={"min": least})
    if len(text) > most:
        return Invalid(code="text_too_long", params={"max": most})
    pattern = spec.rules.get("pattern")
    if pattern and re.fullmatch(pattern, text) is None:
        return Invalid(code="text_pattern", params={"hint": spec.hint(language)})
    return Valid(value=text, display=text)


_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)


def _email(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    if len(text) > 254 or not _EMAIL.fullmatch(text) or len(text.partition("@")[0]) > 64:
        return Invalid(code="email_invalid")
    local, _, domain = text.rpartition("@")
    value = f"{local}@{domain.lower()}"
    return Valid(value=value, display=value)


# --- identity numbers, phone, PIN ---------------------------------------------------------------


def _aadhaar(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    digits = re.sub(r"[\s-]", "", text)
    if problem := idnumbers.aadhaar_problem(digits):
        return Invalid(code=problem)
    return Valid(value=digits, display=mask_aadhaar(digits))


def _mobile(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    digits = idnumbers.mobile(text)
    return Valid(value=digits, display=digits) if digits else Invalid(code="mobile_invalid")


AP_PIN_RANGE: Final = range(515000, 536000)  # Andhra Pradesh: 515xxx to 535xxx


def _pin_code(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    digits = text.replace(" ", "")
    if not re.fullmatch(r"[0-9]{6}", digits):
        return Invalid(code="pin_length")
    if int(digits) not in AP_PIN_RANGE:
        return Invalid(code="pin_not_ap")
    return Valid(value=digits, display=digits)


def _id_number(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    value = idnumbers.id_number(spec.type, text)
    return Valid(value=value, display=value) if value else Invalid(code=idnumbers.ID_NUMBER_CODES[spec.type])


_DISTRICT_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _district(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    # The conversation's picker sends a district id; whether it names a real district is its concern.
    return Valid(value=text, display=text) if _DISTRICT_ID.fullmatch(text) else Invalid(code="district_unknown")


# --- dates -------------------------------------------------------------------------------------

_DAY_FIRST = re.compile(r"([0-9]{1,2})([-/. ])([0-9]{1,2})\2([0-9]{4})")
_YEAR_FIRST = re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})")


def format_date(day: date) -> str:
    """`dd-mm-yyyy`, the way dates are shown to citizens."""
    return f"{day.day:02d}-{day.month:02d}-{day.year:04d}"


def _shift(day: date, days: int) -> date | None:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


def _parse_date(text: str, today: date) -> date | Invalid:
    text = re.sub(r"\s*([-/.])\s*", r"\1", text)
    if match := _DAY_FIRST.fullmatch(text):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
    elif match := _YEAR_FIRST.fullmatch(text):
        year, month, day = int(match[1]), int(match[3]), int(match[4])
    else:
        return Invalid(code="date_format", params={"example": format_date(today)})
    try:
        return date(year, month, day)
    except ValueError:
        return Invalid(code="date_not_real")


def _date(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    day = _parse_date(text, today)
    if isinstance(day, Invalid):
        return day
    rules = spec.rules
    if rules.get("past_only") and day > today:
        return Invalid(code="date_in_future")
    if rules.get("future_only") and day < today:
        return Invalid(code="date_in_past")
    lower, upper = date_window(rules)
    if lower is not None and (earliest := _shift(today, lower)) and day < earliest:
        return Invalid(code="date_too_early", params={"earliest": format_date(earliest)})
    if upper is not None and (latest := _shift(today, upper)) and day > latest:
        return Invalid(code="date_too_late", params={"latest": format_date(latest)})
    return Valid(value=day.isoformat(), display=format_date(day))


def age_on(today: date, born: date) -> int:
    """Age in completed years."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _date_of_birth(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    born = _parse_date(text, today)
    if isinstance(born, Invalid):
        return born
    if born > today:
        return Invalid(code="date_in_future")
    age = age_on(today, born)
    least, most = spec.rules.get("min_age", 0), spec.rules.get("max_age", MAX_AGE)
    if age < least:
        return Invalid(code="age_below", params={"min": least})
    if age > most:
        return Invalid(code="age_above", params={"max": most})
    return Valid(value=born.isoformat(), display=format_date(born))


# --- numbers and amounts -------------------------------------------------------------------------


def _number(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    if not re.fullmatch(r"[+-]?[0-9]{1,16}", text):
        return Invalid(code="number_invalid")
    number = int(text)
    if (least := spec.rules.get("min")) is not None and number < least:
        return Invalid(code="number_below", params={"min": least})
    if (most := spec.rules.get("max")) is not None and number > most:
        return Invalid(code="number_above", params={"max": most})
    return Valid(value=number, display=str(number))


def _amount(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    rupees = parse_amount(text)
    if rupees is None:
        return Invalid(code="amount_invalid")
    if (least := spec.rules.get("min")) is not None and rupees < least:
        return Invalid(code="amount_below", params={"min": format_inr(least)})
    if (most := spec.rules.get("max")) is not None and rupees > most:
        return Invalid(code="amount_above", params={"max": format_inr(most)})
    return Valid(value=rupees, display=format_inr(rupees))


# --- choices -------------------------------------------------------------------------------------


def _choice_one(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    chosen = choices.resolver(spec.options)(text)
    if chosen is None:
        return Invalid(code="choice_unknown", params={"count": len(spec.options)})
    return Valid(value=chosen, display=_labels(spec, (chosen,), language))


def _choice_many(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    ids = choices.read_choices(spec.options, text)
    if ids is None:
        return Invalid(code="choice_unknown", params={"count": len(spec.options)})
    least, most = spec.rules.get("min_choices", 1), spec.rules.get("max_choices", len(spec.options))
    if len(ids) < least:
        return Invalid(code="choices_too_few", params={"min": least})
    if len(ids) > most:
        return Invalid(code="choices_too_many", params={"max": most})
    return Valid(value=ids, display=_labels(spec, ids, language))


def _labels(spec: FieldSpec, ids: tuple[str, ...], language: str) -> str:
    return ", ".join(o.label(language) for o in spec.options if o.id in ids)


# How a yes/no answer reads back; the conversation's buttons use the texts `answer.yes` and `answer.no`.
_YES_NO_DISPLAY: Final = {
    True: {"te": "అవును", "en": "Yes", "hi": "हाँ"},
    False: {"te": "లేదు", "en": "No", "hi": "नहीं"},
}


def _yes_no(spec: FieldSpec, text: str, today: date, language: str) -> Valid | Invalid:
    answer = choices.read_yes_no(text)
    if answer is None:
        return Invalid(code="yes_no_unknown")
    display = _YES_NO_DISPLAY[answer]
    return Valid(value=answer, display=display.get(language, display["en"]))


# --- media, location, place ----------------------------------------------------------------------

_MIME_NAMES: Final = {"image/jpeg": "JPG", "image/png": "PNG", "application/pdf": "PDF"}


def _mime_name(mime: str) -> str:
    return _MIME_NAMES.get(mime) or mime.rpartition("/")[2].upper()


def _media(spec: FieldSpec, answer: MediaAnswer) -> Valid | Invalid:
    if not answer.media_id:
        return Invalid(code="required")
    accepted = spec.accepted_types()
    mime = answer.mime_type.partition(";")[0].strip().lower()
    if mime not in accepted:
        return Invalid(code="file_type", params={"allowed": ", ".join(map(_mime_name, accepted))})
    limit = spec.size_limit_mb()
    if limit is not None and answer.size_bytes is not None and answer.size_bytes > limit * 1024 * 1024:
        return Invalid(code="file_too_large", params={"max_mb": f"{limit:g}"})
    value = {
        "media_id": answer.media_id,
        "mime_type": mime,
        "size_bytes": answer.size_bytes,
        "filename": answer.filename,
    }
    return Valid(value=value, display=answer.filename or _mime_name(mime))


VOICE_SHOWN: Final = "🎤"  # a voice note in summaries: its words are heard, not shown


def _voice(answer: MediaAnswer) -> Valid | Invalid:
    """A voice note for a text answer: kept as media for the officer to hear."""
    mime = answer.mime_type.partition(";")[0].strip().lower()
    if not answer.media_id or mime not in VOICE_ACCEPT:
        return Invalid(code="expected_text")
    if answer.size_bytes is not None and answer.size_bytes > VOICE_MAX_MB * 1024 * 1024:
        return Invalid(code="file_too_large", params={"max_mb": f"{VOICE_MAX_MB:g}"})
    value = {"media_id": answer.media_id, "mime_type": mime, "size_bytes": answer.size_bytes, "voice": True}
    return Valid(value=value, display=VOICE_SHOWN)


AP_BOUNDS: Final = ((12.6, 19.95), (76.7, 84.8))  # latitude, longitude: Andhra Pradesh's bounding box


def _location(answer: LocationAnswer) -> Valid | Invalid:
    (south, north), (west, east) = AP_BOUNDS
    lat, lon = answer.latitude, answer.longitude
    if not (math.isfinite(lat) and math.isfinite(lon) and south <= lat <= north and west <= lon <= east):
        return Invalid(code="location_outside_ap")
    return Valid(value={"latitude": lat, "longitude": lon}, display=f"{lat:.5f}, {lon:.5f}")


def _place(answer: PlaceAnswer) -> Valid | Invalid:
    ids = {"district": answer.district.strip(), "mandal": answer.mandal.strip(), "village": answer.village.strip()}
    if not all(ids.values()):
        return Invalid(code="address_incomplete")
    return Valid(value=ids, display=f"{ids['village']}, {ids['mandal']}, {ids['district']}")


_TEXT_VALIDATORS: Final[Mapping[str, Callable[[FieldSpec, str, date, str], Valid | Invalid]]] = {
    "person_name": _person_name,
    "text": _text,
    "email": _email,
    "aadhaar": _aadhaar,
    "mobile": _mobile,
    "pin_code": _pin_code,
    "district": _district,
    "date": _date,
    "date_of_birth": _date_of_birth,
    "number": _number,
    "amount_inr": _amount,
    "choice_one": _choice_one,
    "choice_many": _choice_many,
    "yes_no": _yes_no,
    **dict.fromkeys(idnumbers.ID_NUMBER_CODES, _id_number),
}


def example_answer(spec: FieldSpec, *, today: date) -> Answer:
    """A deterministic valid answer to any spec without problems, for tests that walk every form."""
    rules = spec.rules
    if spec.type in MEDIA_TYPES:
        limit = spec.size_limit_mb() or 1.0
        return MediaAnswer(
            media_id="media-1", mime_type=spec.accepted_types()[0], size_bytes=min(50_000, int(limit * 1024 * 1024))
        )
    if spec.type == "location":
        return LocationAnswer(latitude=16.5062, longitude=80.6480)  # Vijayawada
    if spec.type == "address_ap":
        return PlaceAnswer(district="ntr", mandal="vijayawada-urban", village="ward-1")
    if spec.type == "date":
        lower, upper = date_window(rules)
        return format_date(today + timedelta(days=_clamp(0, lower, upper)))
    if spec.type == "date_of_birth":
        return format_date(_years_before(today, _clamp(30, rules.get("min_age", 0), rules.get("max_age", MAX_AGE))))
    if spec.type in ("number", "amount_inr"):
        return str(_clamp(1 if spec.type == "number" else 50_000, rules.get("min"), rules.get("max")))
    if spec.type == "choice_one":
        return spec.options[0].id
    if spec.type == "choice_many":
        return ", ".join(o.id for o in spec.options[: rules.get("min_choices", 1)])
    if spec.type == "aadhaar":
        return "23456789012" + verhoeff_digit("23456789012")
    if spec.type == "text":
        if "pattern" in rules or "example" in rules:
            return text_example(spec) or ""
        length = _clamp(6, rules.get("min_length", 1), rules.get("max_length", TEXT_MAX_LENGTH))
        return ("Sample" + "a" * length)[:length]
    return _EXAMPLES[spec.type]


_EXAMPLES: Final = {
    "person_name": "Lakshmi Devi",
    "email": "citizen@example.com",
    "mobile": "9876543210",
    "pin_code": "520001",
    "district": "ntr",
    "yes_no": "yes",
    "electricity_service_number": "1234567890123",
    "property_assessment_number": "1086012345",
    "vehicle_number": "AP39AB1234",
    "ration_card_number": "2812345678",
    "epic_number": "ABC1234567",
    "pan": "ABCPE1234F",
}


def _clamp(value: int, lower: int | None, upper: int | None) -> int:
    if lower is not None:
        value = max(value, lower)
    if upper is not None:
        value = min(value, upper)
    return value


def _years_before(today: date, years: int) -> date:
    """The day `years` full years before `today` (28 February for a 29 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)
