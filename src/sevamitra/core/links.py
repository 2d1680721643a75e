"""A click-to-chat link for every service: `https://wa.me/<number>?text=<prefilled text>`.

The prefilled text is the service's name in one language and its short code after a `#`
("Income certificate #INC"), with an optional source tag after `@` naming the poster or place that
brought the citizen ("… #INC@kurnool-ws-12"). The engine finds the marker in any message, even when
the citizen edits the words around it, and opens that service in the language the text is written in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from sevamitra.core.catalogue import Service
from sevamitra.core.understanding import script_of

SOURCE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")  # a poster id or a place: safe in a link, short on a poster
_MARKER = re.compile(r"(?<![\w#])#([A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)(?:@([A-Za-z0-9_-]{1,40}))?(?![\w-])")


@dataclass(frozen=True, slots=True, kw_only=True)
class Marker:
    code: str
    source: str | None = None


def prefilled(service: Service, language: str, source: str | None = None) -> str:
    """The text a poster's link types for the citizen: the name, then `#CODE` (and `@source`)."""
    if not service.code:
        raise ValueError(f"service {service.id} has no short code")
    if source is not None and not SOURCE.match(source):
        raise ValueError(f"a source tag is 1-40 letters, digits, '-' or '_': {source!r}")
    tag = f"@{source}" if source else ""
    return f"{service.name(language)} #{service.code}{tag}"


def wa_link(number: str, text: str) -> str:
    """WhatsApp's click-to-chat link to `number` (digits only, with the country code)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"https://wa.me/{digits}?text={quote(text, safe='')}"


def service_link(number: str, service: Service, language: str, source: str | None = None) -> str:
    return wa_link(number, prefilled(service, language, source))


def marker_in(text: str) -> Marker | None:
    """The first `#CODE` (and its `@source`) in a message, if any; a code in any case ("#inc")."""
    found = _MARKER.search(text)
    return Marker(code=found.group(1).upper(), source=found.group(2)) if found else None


def closing_marker(text: str) -> Marker | None:
    """The marker that ends a text, as it ends every text this platform writes ("… #INC@P17"): a QR code
    whose text merely mentions a hashtag ("Show me #Diwali deals") is not one of ours."""
    found = _MARKER.search(text.rstrip())
    if found is None or found.end() != len(text.rstrip()):
        return None
    return Marker(code=found.group(1).upper(), source=found.group(2))


def script_language(text: str) -> str:
    """The language a link's text is in, by its script (the code's Latin letters aside): Telugu,
    Devanagari (Hindi), else English."""
    script = script_of(_MARKER.sub(" ", text))
    return "en" if script == "latin" else script
