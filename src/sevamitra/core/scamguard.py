"""The scam guard: is this message, link or number really from the State's service?

Citizens forward a message they doubt (or type "check" and paste it). The platform never asks for
an OTP, a PIN, a CVV or a password, and pays nothing out: a message that asks for them, or points
to a link or number that is not the service's own, is flagged. Only the service's own WhatsApp
number and web addresses are vouched for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SECRET_WORDS = re.compile(
    r"\b(otp|pin|cvv|password|passcode|one[ -]time)\b|ఓటీపీ|పిన్|పాస్‌వర్డ్|ओटीपी|पिन|पासवर्ड",
    re.IGNORECASE,
)
MONEY_WORDS = re.compile(
    r"\b(refund|lottery|prize|kyc|blocked|suspended|reward|cashback|upi://)|లాటరీ|బహుమతి|रिफंड|इनाम|लॉटरी",
    re.IGNORECASE,
)
URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:in|com|org|net|ly|io|me|xyz|co)\b[^\s]*",
    re.IGNORECASE,
)
PHONE = re.compile(r"(?<!\d)(?:\+?91[\s-]?)?[6-9]\d{4}[\s-]?\d{5}(?!\d)")

Finding = Literal["asks_secret", "money_bait", "foreign_link", "foreign_number"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    verdict: Literal["ours", "suspicious", "unknown"]
    findings: tuple[Finding, ...] = ()


def _digits(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    return digits[-10:]


def _host(url: str) -> str:
    host = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower()).split("/", 1)[0].split(":", 1)[0]
    return host.rstrip(".,)")


def assess(text: str, *, numbers: tuple[str, ...], hosts: tuple[str, ...]) -> Assessment:
    """`numbers` and `hosts` are the service's own WhatsApp numbers and web hosts."""
    ours_numbers = {_digits(n) for n in numbers}
    ours_hosts = {h.lower() for h in hosts}
    findings: list[Finding] = []
    if SECRET_WORDS.search(text):
        findings.append("asks_secret")
    if MONEY_WORDS.search(text):
        findings.append("money_bait")
    links = [_host(u) for u in URL.findall(text)]
    phones = [_digits(p) for p in PHONE.findall(text)]
    if any(host not in ours_hosts and not any(host.endswith("." + h) for h in ours_hosts) for host in links):
        findings.append("foreign_link")
    if any(phone not in ours_numbers for phone in phones):
        findings.append("foreign_number")
    if findings:
        return Assessment(verdict="suspicious", findings=tuple(findings))
    if links or phones:
        return Assessment(verdict="ours")
    return Assessment(verdict="unknown")
