"""Stored answers as people read them: for the officer's page and for certificates officers issue.

The conversation shows each answer back as it is given; an application keeps only the values.
This turns a stored value back into its display: an Aadhaar number masked, amounts in Indian
grouping, dates as dd-mm-yyyy, choices by their labels, places by their names, files by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sevamitra.core.amounts import format_inr
from sevamitra.core.catalogue import Service
from sevamitra.core.fields import FieldSpec
from sevamitra.core.idnumbers import mask_aadhaar
from sevamitra.core.jurisdictions import Jurisdictions
from sevamitra.core.validation import VOICE_SHOWN, format_date

YES_NO = {True: {"te": "అవును", "en": "Yes", "hi": "हाँ"}, False: {"te": "లేదు", "en": "No", "hi": "नहीं"}}


def shown_answers(
    service: Service, answers: Mapping[str, Any], places: Jurisdictions | None, language: str
) -> dict[str, str]:
    """Each answered field's display, in form order."""
    return {
        spec.id: display(spec, answers[spec.id], places, language)
        for spec in service.fields
        if spec.id in answers and answers[spec.id] not in (None, "")
    }


def display(spec: FieldSpec, value: Any, places: Jurisdictions | None, language: str) -> str:
    if spec.type == "aadhaar":
        return mask_aadhaar(str(value))
    if isinstance(value, bool):
        return YES_NO[value].get(language, YES_NO[value]["en"])
    if spec.type == "amount_inr" and isinstance(value, int):
        return format_inr(value)
    if spec.type.startswith("date") and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value))
        except ValueError:
            return value
    if spec.options and isinstance(value, str | list | tuple):
        chosen = {value} if isinstance(value, str) else set(value)
        return ", ".join(o.label(language) for o in spec.options if o.id in chosen)
    if isinstance(value, list) and value and all(isinstance(v, Mapping) and "media_id" in v for v in value):
        return ", ".join(display(spec, v, places, language) for v in value)  # several photos
    if isinstance(value, Mapping):
        if value.get("voice"):
            return VOICE_SHOWN
        if "media_id" in value:
            return str(value.get("filename") or value.get("mime_type") or "file")
        if "latitude" in value:
            return f"{float(value['latitude']):.5f}, {float(value['longitude']):.5f}"
        ids = [str(value[k]) for k in ("village", "mandal", "district") if value.get(k)]
        return ", ".join(_place_name(i, places, language) for i in ids)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _place_name(place_id: str, places: Jurisdictions | None, language: str) -> str:
    place = places.get(place_id) if places is not None else None
    return place.name(language) if place else place_id.rpartition("~")[2].rpartition("/")[2]
