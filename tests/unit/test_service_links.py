"""Every service's click-to-chat link: its prefilled text opens that service, for a new citizen in the
link's language, for a known one in theirs; edits around the marker do not matter; sources are counted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.core.conversation import Arrive, Context, ConversationState, step
from sevamitra.core.links import marker_in, prefilled, service_link, wa_link
from sevamitra.core.messages import Sender, TextIn

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
NUMBER = "+91 95523 00009"
CITIZEN = Sender(wa_id="919800000031")


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(catalogue=load_catalogue(ROOT), texts=load_texts(ROOT))


def _said(text: str) -> TextIn:
    return TextIn(message_id="wamid.l1", sender=CITIZEN, sent_at=NOW, body=text)


@pytest.mark.parametrize("language", ["te", "en"])
def test_every_services_link_opens_that_service_in_the_links_language(context: Context, language: str) -> None:
    opened = 0
    for service in context.catalogue.services:
        link = service_link(NUMBER, service, language)
        parts = urlsplit(link)
        assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/919552300009")
        (text,) = parse_qs(parts.query)["text"]
        result = step(ConversationState(), _said(text), context, NOW)
        assert (result.state.service_id, result.state.language) == (service.id, language), text
        assert Arrive(service_id=service.id, source=None, language=language, first=True) in result.effects
        opened += 1
    assert opened == len(context.catalogue.services) > 300


def test_edits_around_the_marker_and_the_source_tag(context: Context) -> None:
    service = context.catalogue.service("revenue.income-certificate")
    assert service is not None
    text = prefilled(service, "te", source="kurnool-ws-12")
    assert text.endswith(f"#{service.code}@kurnool-ws-12")
    edited = f"నమస్కారం సార్, {text} నాకు కావాలి"
    result = step(ConversationState(), _said(edited), context, NOW)
    assert result.state.service_id == service.id and result.state.language == "te"
    assert Arrive(service_id=service.id, source="kurnool-ws-12", language="te", first=True) in result.effects
    lower = step(ConversationState(), _said(f"please open #{service.code.lower()}"), context, NOW)
    assert lower.state.service_id == service.id and lower.state.language == "en"


def test_a_known_citizen_keeps_their_language_and_unknown_codes_are_ordinary_text(context: Context) -> None:
    service = context.catalogue.service("municipal.property-tax-payment")
    assert service is not None
    known = ConversationState(language="hi", screen="departments", last_active=NOW)
    result = step(known, _said(prefilled(service, "en")), context, NOW)
    assert (result.state.service_id, result.state.language) == (service.id, "hi")
    assert Arrive(service_id=service.id, source=None, language="hi", first=False) in result.effects
    other = step(known, _said("call #1902 for help"), context, NOW)
    assert not any(isinstance(e, Arrive) for e in other.effects)
    in_form = replace(
        known, screen="form", service_id=service.id, draft={"service": service.id, "index": 0, "answers": {}}
    )
    answered = step(in_form, _said(prefilled(service, "en")), context, NOW)
    assert not any(isinstance(e, Arrive) for e in answered.effects)  # a form's answer is an answer


def test_links_and_markers_are_well_formed() -> None:
    assert wa_link("+91 95523-00009", "a b&c#d") == "https://wa.me/919552300009?text=a%20b%26c%23d"
    assert marker_in("Pay #PTAX-PAY@P17.") is not None
    assert marker_in("abc#INC") is None and marker_in("no marker") is None
    catalogue = load_catalogue(ROOT)
    service = catalogue.services[0]
    with pytest.raises(ValueError, match="source tag"):
        prefilled(service, "en", source="has space")
    assert len({s.code for s in catalogue.services}) == len(catalogue.services)  # codes are unique
