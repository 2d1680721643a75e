"""Indian identity and account numbers: checksums, shapes and masking.

Every function takes text already normalised by `core.validation` (ASCII digits, single spaces)
and returns the number in its stored form, or None when it is not one.
"""

from __future__ import annotations

import re
from typing import Final

# Verhoeff's dihedral-group tables (J. Verhoeff, 1969), as UIDAI uses them for Aadhaar.
_D: Final = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P: Final = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_INV: Final = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)
_ASCII_DIGITS = re.compile(r"[0-9]+")


def _verhoeff_state(digits: str, offset: int) -> int:
    check = 0
    for i, ch in enumerate(reversed(digits)):
        check = _D[check][_P[(i + offset) % 8][int(ch)]]
    return check


def verhoeff_check(digits: str) -> bool:
    """Whether `digits` (ASCII, check digit last) passes Verhoeff's check."""
    return bool(_ASCII_DIGITS.fullmatch(digits)) and _verhoeff_state(digits, 0) == 0


def verhoeff_digit(digits: str) -> str:
    """The check digit to append to `digits` (ASCII): `verhoeff_digit("236") == "3"`."""
    if not _ASCII_DIGITS.fullmatch(digits):
        raise ValueError("verhoeff_digit takes ASCII digits only")
    return str(_INV[_verhoeff_state(digits, 1)])


def mask_aadhaar(digits: str) -> str:
    """`XXXX XXXX 1234`: never more than the last four digits, whatever the input."""
    last = "".join(ch for ch in digits if ch.isdecimal())[-4:]
    return "XXXX XXXX " + last.rjust(4, "X")


def aadhaar_problem(digits: str) -> str | None:
    """The error code of a would-be Aadhaar number (spaces and hyphens already removed), or None."""
    if not re.fullmatch(r"[0-9]{12}", digits):
        return "aadhaar_length"
    if digits[0] in "01":
        return "aadhaar_first_digit"
    return None if verhoeff_check(digits) else "aadhaar_checksum"


def compact(text: str) -> str:
    """Upper case, without the spaces, hyphens, dots and slashes people type inside numbers."""
    return re.sub(r"[\s\-./]", "", text).upper()


_MOBILE = re.compile(r"(?:\+91|0091|91|0)?([6-9][0-9]{9})")


def mobile(text: str) -> str | None:
    """The 10 digits of an Indian mobile number typed with or without +91, 91 or 0."""
    match = _MOBILE.fullmatch(re.sub(r"[\s\-().]", "", text))
    return match[1] if match else None


# Assumed shapes, where no public specification was found:
# - Electricity: the AP DISCOMs (APSPDCL, APCPDCL, APEPDCL) print a numeric service number on the
#   bill: 9 digits on older bills, up to the 13-digit unique service number (USN) on newer ones.
# - Property tax: the CDMA's assessment number, 10 digits.
# - Ration: the AP rice card number, 10 digits.
_SHAPES: Final = {
    "electricity_service_number": re.compile(r"[0-9]{9,13}"),
    "property_assessment_number": re.compile(r"[0-9]{10}"),
    "ration_card_number": re.compile(r"[0-9]{10}"),
    # Election Commission's EPIC: 3 letters and 7 digits.
    "epic_number": re.compile(r"[A-Z]{3}[0-9]{7}"),
    # Income Tax PAN: 5 letters (the 4th the holder type), 4 digits, 1 letter.
    "pan": re.compile(r"[A-Z]{3}[PCHFATBLJG][A-Z][0-9]{4}[A-Z]"),
}

# Motor Vehicles Act registration marks: state, RTO (1-2 digits), series (0-3 letters), number.
_STATE_CODES: Final = frozenset(
    re.findall(
        "[A-Z]{2}",
        "AN AP AR AS BR CG CH DD DL DN GA GJ HP HR JH JK KA KL LA LD "
        "MH ML MN MP MZ NL OD OR PB PY RJ SK TG TN TR TS UA UK UP WB",
    )
)
_VEHICLE = re.compile(r"([A-Z]{2})([0-9]{1,2})([A-Z]{0,3})([0-9]{1,4})")
_BHARAT_SERIES = re.compile(r"[0-9]{2}BH[0-9]{4}[A-Z]{1,2}")  # e.g. 22 BH 1234 AB


def id_number(field_type: str, text: str) -> str | None:
    """The stored form of a PAN, EPIC, vehicle, ration card, assessment or service number."""
    value = compact(text)
    if field_type == "vehicle_number":
        match = _VEHICLE.fullmatch(value)
        state_ok = match is not None and match[1] in _STATE_CODES and int(match[2]) > 0 and int(match[4]) > 0
        return value if state_ok or _BHARAT_SERIES.fullmatch(value) else None
    return value if _SHAPES[field_type].fullmatch(value) else None


ID_NUMBER_CODES: Final = {
    "electricity_service_number": "service_number_invalid",
    "property_assessment_number": "assessment_number_invalid",
    "vehicle_number": "vehicle_number_invalid",
    "ration_card_number": "ration_card_invalid",
    "epic_number": "epic_invalid",
    "pan": "pan_invalid",
}
"""The field types `id_number` reads, with the error code of each."""
