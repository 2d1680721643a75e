"""The field types of service forms, a field's spec, and the lint that finds a broken spec.

A spec is data from the catalogue: `spec_problems` says everything wrong with one, and the
validators in `core.validation` assume a spec without problems.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeGuard

# Not imported from core.catalogue, which imports this module.
LANGUAGES: Final = ("te", "en", "hi")
_FALLBACK_LANGUAGE: Final = "en"

FIELD_TYPES: Final[tuple[str, ...]] = (
    "person_name",
    "text",
    "aadhaar",
    "mobile",
    "pin_code",
    "email",
    "date",
    "date_of_birth",
    "amount_inr",
    "number",
    "choice_one",
    "choice_many",
    "yes_no",
    "district",
    "address_ap",
    "document",
    "photo",
    "location",
    "electricity_service_number",
    "property_assessment_number",
    "vehicle_number",
    "ration_card_number",
    "epic_number",
    "pan",
)
GENERIC_TYPES: Final = frozenset(
    {"text", "number", "date", "choice_one", "choice_many", "yes_no", "document", "amount_inr"}
)
"""Types whose meaning depends on the service: their specs must carry labels in te, en and hi."""
SPECIFIC_TYPES: Final = frozenset(FIELD_TYPES) - GENERIC_TYPES
"""Types with a default question, `ask.<type>` in the locale files."""
CHOICE_TYPES: Final = frozenset({"choice_one", "choice_many"})
MEDIA_TYPES: Final = frozenset({"document", "photo"})

RULES: Final[Mapping[str, frozenset[str]]] = {
    # `example`: a sample answer, for a `pattern` whose hints show none (example_answer cannot invert a regex).
    # `voice`: a voice note is also an answer (a grievance's description, for those who cannot type).
    "text": frozenset({"min_length", "max_length", "pattern", "example", "voice"}),
    "photo": frozenset({"max_count"}),  # up to this many photos, one message each
    "number": frozenset({"min", "max"}),
    "amount_inr": frozenset({"min", "max"}),
    # Days relative to today (negative: the past); past_only and future_only both admit today.
    "date": frozenset({"not_before_days", "not_after_days", "past_only", "future_only"}),
    "date_of_birth": frozenset({"min_age", "max_age"}),
    "choice_many": frozenset({"min_choices", "max_choices"}),
}
"""The rules each type allows; a type not listed allows none."""

TEXT_MAX_LENGTH: Final = 1000  # a text answer's length when the spec sets no max_length
TEXT_LENGTH_LIMIT: Final = 4096  # WhatsApp's limit on a text message
MAX_AGE: Final = 120  # the oldest age a date of birth may give, and the default max_age
MAX_DAYS: Final = 36_600  # about a hundred years either side of today
MAX_MAGNITUDE: Final = 10**15  # numbers and amounts
PHOTO_ACCEPT: Final = ("image/jpeg", "image/png")
PHOTO_MAX_MB: Final = 5.0
MAX_PHOTOS: Final = 10  # the most a photo field's max_count may be
VOICE_ACCEPT: Final = ("audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr")  # WhatsApp's audio types
VOICE_MAX_MB: Final = 16.0  # WhatsApp's limit on audio
UPLOAD_LIMIT_MB: Final = 100.0  # WhatsApp's limit on a document

_MIME = re.compile(r"[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*")
_INT_RULES: Final[Mapping[str, tuple[int, int]]] = {
    "min_length": (1, TEXT_LENGTH_LIMIT),
    "max_length": (1, TEXT_LENGTH_LIMIT),
    "min": (-MAX_MAGNITUDE, MAX_MAGNITUDE),
    "max": (-MAX_MAGNITUDE, MAX_MAGNITUDE),
    "not_before_days": (-MAX_DAYS, MAX_DAYS),
    "not_after_days": (-MAX_DAYS, MAX_DAYS),
    "min_age": (0, MAX_AGE),
    "max_age": (0, MAX_AGE),
    "min_choices": (1, TEXT_LENGTH_LIMIT),
    "max_choices": (1, TEXT_LENGTH_LIMIT),
    "max_count": (1, MAX_PHOTOS),
}
_BOOL_RULES: Final = frozenset({"past_only", "future_only", "voice"})
_STR_RULES: Final = frozenset({"pattern", "example"})


def _localised(texts: Mapping[str, str], language: str) -> str:
    return texts.get(language) or texts.get(_FALLBACK_LANGUAGE) or ""


def choice_key(text: str) -> str:
    """How typed text is compared with option ids and labels: case and spaces ignored."""
    return "".join(unicodedata.normalize("NFC", text).casefold().split())


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    """One answer of a choice field."""

    id: str
    labels: Mapping[str, str]
    authority: str | None = None  # a kind of grievance beyond the first desk: the approver role competent for it

    def label(self, language: str) -> str:
        """The label in `language`, else English, else the id."""
        return _localised(self.labels, language) or self.id


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    """One question of a service form, as the catalogue defines it."""

    id: str
    type: str
    required: bool = True
    labels: Mapping[str, str] = field(default_factory=dict)
    hints: Mapping[str, str] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    rules: Mapping[str, Any] = field(default_factory=dict)
    accept: tuple[str, ...] = ()  # MIME types, for document and photo
    max_mb: float | None = None

    def label(self, language: str) -> str:
        """The question in `language`, else English; "" when the type's default question applies."""
        return _localised(self.labels, language)

    def hint(self, language: str) -> str:
        return _localised(self.hints, language)

    def accepted_types(self) -> tuple[str, ...]:
        """The MIME types a document or photo may have (a photo defaults to JPEG and PNG)."""
        return self.accept or (PHOTO_ACCEPT if self.type == "photo" else ())

    def size_limit_mb(self) -> float | None:
        return self.max_mb if self.max_mb is not None else (PHOTO_MAX_MB if self.type == "photo" else None)


def date_window(rules: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """The first and last day a `date` field admits, in days from today (None: open)."""
    lower: int | None = rules.get("not_before_days")
    upper: int | None = rules.get("not_after_days")
    if rules.get("future_only"):
        lower = 0 if lower is None else max(lower, 0)
    if rules.get("past_only"):
        upper = 0 if upper is None else min(upper, 0)
    return lower, upper


def spec_problems(spec: FieldSpec) -> list[str]:
    """Every problem of a field spec, as precise messages for the catalogue lint; empty when sound."""
    if spec.type not in FIELD_TYPES:
        return [f"unknown type {spec.type!r}; known: {', '.join(FIELD_TYPES)}"]
    problems: list[str] = []
    if spec.type in GENERIC_TYPES and (missing := _missing_languages(spec.labels)):
        problems.append(f"a {spec.type} field needs its label in te, en and hi (missing: {', '.join(missing)})")
    problems += _rule_problems(spec)
    problems += _option_problems(spec)
    problems += _media_problems(spec)
    return problems


def _missing_languages(texts: Mapping[str, str]) -> list[str]:
    return [lang for lang in LANGUAGES if not texts.get(lang, "").strip()]


def _rule_problems(spec: FieldSpec) -> Iterator[str]:
    allowed = RULES.get(spec.type, frozenset())
    rules = spec.rules
    for name in sorted(set(rules) - allowed):
        yield f"rule {name!r} is not allowed for type {spec.type} (allowed: {', '.join(sorted(allowed)) or 'none'})"
    value_problems = [
        p for name in sorted(set(rules) & allowed) for p in _rule_value_problems(name, rules[name], spec.type)
    ]
    yield from value_problems
    if value_problems:
        return
    yield from _order_problems(rules)
    if spec.type == "date" and rules.get("past_only") and rules.get("future_only"):
        yield "past_only and future_only together admit only today; use neither, or one with days"
    elif spec.type == "date":
        lower, upper = date_window(rules)
        if lower is not None and upper is not None and lower > upper:
            yield f"the date rules admit no day (from {lower} to {upper} days from today)"
    if spec.type == "choice_many":
        for name in ("min_choices", "max_choices"):
            if (count := rules.get(name, 0)) > len(spec.options):
                yield f"{name} {count} is more than the {len(spec.options)} options"
    if spec.type == "text":
        if "max_length" not in rules and rules.get("min_length", 0) > TEXT_MAX_LENGTH:
            yield f"rule min_length ({rules['min_length']}) is greater than the default max_length ({TEXT_MAX_LENGTH})"
        yield from _pattern_problems(spec)


def _rule_value_problems(name: str, value: object, field_type: str) -> Iterator[str]:
    if name in _INT_RULES:
        lo, hi = _INT_RULES[name]
        if field_type == "amount_inr" and name in ("min", "max"):
            lo = 0
        if not isinstance(value, int) or isinstance(value, bool):
            yield f"rule {name} must be a whole number (got {value!r})"
        elif not lo <= value <= hi:
            yield f"rule {name} must be from {lo} to {hi} (got {value})"
    elif name in _BOOL_RULES and not isinstance(value, bool):
        yield f"rule {name} must be true or false (got {value!r})"
    elif name in _STR_RULES and not (isinstance(value, str) and value):
        yield f"rule {name} must be a non-empty text (got {value!r})"


def _order_problems(rules: Mapping[str, Any]) -> Iterator[str]:
    pairs = (
        ("min_length", "max_length"),
        ("min", "max"),
        ("min_age", "max_age"),
        ("min_choices", "max_choices"),
    )
    for low, high in pairs:
        a, b = rules.get(low), rules.get(high)
        if _is_int(a) and _is_int(b) and a > b:
            yield f"rule {low} ({a}) is greater than {high} ({b})"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def text_example(spec: FieldSpec) -> str | None:
    """A sample answer to a text field with a pattern: its `example` rule, else the first word of a hint that fits."""
    example = spec.rules.get("example")
    if isinstance(example, str):
        return example
    for language in (_FALLBACK_LANGUAGE, *LANGUAGES):
        for word in spec.hints.get(language, "").split():
            for candidate in (word, word.strip(".,;:!?()'\"")):
                if candidate and _fits(spec, candidate):
                    return candidate
    return None


def _fits(spec: FieldSpec, text: str) -> bool:
    pattern = spec.rules.get("pattern")
    least, most = spec.rules.get("min_length", 1), spec.rules.get("max_length", TEXT_MAX_LENGTH)
    if not (_is_int(least) and _is_int(most) and least <= len(text) <= most and _is_normal(text)):
        return False
    try:
        return not isinstance(pattern, str) or re.fullmatch(pattern, text) is not None
    except re.error:
        return False


def _pattern_problems(spec: FieldSpec) -> Iterator[str]:
    pattern, example = spec.rules.get("pattern"), spec.rules.get("example")
    if isinstance(pattern, str) and pattern:
        try:
            compiled = re.compile(pattern)
        except re.error as e:
            yield f"rule pattern is not a valid regular expression: {e}"
            return
        if isinstance(example, str) and compiled.fullmatch(example) is None:
            yield f"the example {example!r} does not match the pattern {pattern!r}"
        elif text_example(spec) is None:
            yield "a text field with a pattern needs a word in its hint that matches it, or an `example` rule"
        if missing := _missing_languages(spec.hints):
            yield f"a text field with a pattern needs a hint in te, en and hi (missing: {', '.join(missing)})"
    if isinstance(example, str) and example:
        if not _is_normal(example):
            yield f"the example {example!r} must be as validation leaves it: single spaces, ASCII digits"
        least, most = spec.rules.get("min_length", 1), spec.rules.get("max_length", TEXT_MAX_LENGTH)
        if _is_int(least) and _is_int(most) and not least <= len(example) <= most:
            yield f"the example {example!r} is not from {least} to {most} characters long"


def _is_normal(text: str) -> bool:
    return (
        text == " ".join(text.split())
        and unicodedata.is_normalized("NFC", text)
        and all(ch.isascii() or not ch.isdecimal() for ch in text)
        and not any(ch in text for ch in "\u200b\ufeff\u2060")
    )


def _option_problems(spec: FieldSpec) -> Iterator[str]:
    if spec.type not in CHOICE_TYPES:
        if spec.options:
            yield f"options are only for choice_one and choice_many, not {spec.type}"
        return
    if len(spec.options) < 2:
        yield f"a choice field needs at least 2 options (has {len(spec.options)})"
    seen_ids: set[str] = set()
    for option in spec.options:
        if not option.id or option.id.strip() != option.id:
            yield f"option id {option.id!r} must be non-empty, without spaces around it"
        if option.id.isdecimal():
            yield f"option id {option.id!r} is a number, which a citizen types to pick the option at that place"
        if option.id in seen_ids:
            yield f"option id {option.id!r} appears more than once"
        seen_ids.add(option.id)
        if missing := _missing_languages(option.labels):
            yield f"option {option.id!r} needs its label in te, en and hi (missing: {', '.join(missing)})"
    for lang in LANGUAGES:
        seen: dict[str, str] = {}
        for option in spec.options:
            key = choice_key(option.labels.get(lang, ""))
            if key.isdecimal():
                yield f"option {option.id!r}: label {option.labels[lang]!r} ({lang}) is a number"
            elif key and key in seen:
                yield f"options {seen[key]!r} and {option.id!r} share the label {option.labels[lang]!r} ({lang})"
            seen.setdefault(key, option.id)


def _media_problems(spec: FieldSpec) -> Iterator[str]:
    if spec.type not in MEDIA_TYPES:
        if spec.accept or spec.max_mb is not None:
            yield f"accept and max_mb are only for document and photo, not {spec.type}"
        return
    if spec.type == "document" and not spec.accept:
        yield "a document field needs `accept`: the MIME types it takes, e.g. [application/pdf, image/jpeg]"
    for mime in spec.accept:
        if not _MIME.fullmatch(mime):
            yield f"accept: {mime!r} is not a lower-case MIME type like image/jpeg"
        elif spec.type == "photo" and not mime.startswith("image/"):
            yield f"accept: a photo must be an image, not {mime}"
    if len(set(spec.accept)) != len(spec.accept):
        yield "accept lists a MIME type more than once"
    if spec.type == "document" and spec.max_mb is None:
        yield "a document field needs max_mb, its size limit in MB"
    if spec.max_mb is not None:
        size = spec.max_mb
        if isinstance(size, bool) or not isinstance(size, int | float) or not math.isfinite(size):
            yield f"max_mb must be a number (got {size!r})"
        elif not 0 < size <= UPLOAD_LIMIT_MB:
            yield f"max_mb must be above 0 and at most {UPLOAD_LIMIT_MB:g} (got {size:g})"
