"""Golden transcripts: every service's form walked to submission in Telugu and English.

A changed reply shows up as a diff against `transcripts/<lang>/<service-id>.txt`. After an
intended change, regenerate with `SEVAMITRA_UPDATE_GOLDEN=1 make pytest` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import DEFAULT_CATALOGUE_DIR, load_catalogue, load_texts
from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.core.conversation import Context
from sevamitra.core.search import ServiceIndex
from sevamitra.testing.walker import Walk

GOLDEN = Path(__file__).resolve().parent / "transcripts"
UPDATE = os.environ.get("SEVAMITRA_UPDATE_GOLDEN") == "1"
CATALOGUE = load_catalogue(DEFAULT_CATALOGUE_DIR)
CONTEXT = Context(
    catalogue=CATALOGUE,
    texts=load_texts(DEFAULT_CATALOGUE_DIR),
    places=load_jurisdictions(DEFAULT_CATALOGUE_DIR / "jurisdictions"),
    index=ServiceIndex(CATALOGUE),
)
SERVICES = [s.id for s in CATALOGUE.services]


@pytest.mark.parametrize("language", ["te", "en"])
@pytest.mark.parametrize("service_id", SERVICES)
def test_the_form_walks_to_submission_as_recorded(service_id: str, language: str) -> None:
    service = CATALOGUE.service(service_id)
    assert service is not None
    transcript = Walk(CONTEXT, language).apply(service) + "\n"
    path = GOLDEN / language / f"{service_id}.txt"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(transcript, encoding="utf-8")
    assert path.exists(), f"no golden transcript {path}: run with SEVAMITRA_UPDATE_GOLDEN=1 and review it"
    assert transcript == path.read_text(encoding="utf-8")


def test_no_golden_transcript_is_left_without_its_service() -> None:
    recorded = {p.stem for p in GOLDEN.glob("*/*.txt")}
    assert recorded <= set(SERVICES), f"stale transcripts: {sorted(recorded - set(SERVICES))[:5]}"
