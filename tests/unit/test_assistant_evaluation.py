"""The assistant on its held-out evaluation set (`evaluation/nlu/`), as a floor that must not fall.

The issue's targets (top-1 ≥ 85 %, top-3 ≥ 95 %, out-of-scope ≥ 90 % in every style) are not all met
yet; these floors sit just under what is measured now (`sevamitra nlu eval` prints the table), so a
change that makes routing worse fails here. Raise them as routing improves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_lexicon
from sevamitra.adapters.nlu.evaluation import STYLES, Report, evaluate, read_set
from sevamitra.adapters.nlu.router import Assistant

ROOT = Path(__file__).resolve().parents[2]
FLOORS = {  # style: (top-1 %, top-3 %, out-of-scope answered "not understood" %)
    "en": (82.0, 91.5, 80.0),
    "te": (82.0, 91.0, 84.0),
    "te_latn": (83.0, 92.0, 87.0),
    "hi": (78.5, 88.0, 68.0),
}
DIRECT_RIGHT = 93.0  # of the services offered directly (no list), at least this share must be right


@pytest.fixture(scope="module")
def report() -> Report:
    assistant = Assistant(load_catalogue(ROOT / "catalogue"), load_lexicon(ROOT / "catalogue"))
    return evaluate(assistant, read_set((ROOT / "evaluation" / "nlu").glob("*.tsv")))


def test_the_set_is_large_and_covers_every_style(report: Report) -> None:
    rows = {row["style"]: row for row in report.table()}
    assert set(rows) == set(STYLES)
    assert sum(int(str(r["services"])) + int(str(r["outside"])) + int(str(r["intents"])) for r in rows.values()) >= 2000


@pytest.mark.parametrize("style", STYLES)
def test_routing_stays_above_its_floor(report: Report, style: str) -> None:
    row = next(r for r in report.table() if r["style"] == style)
    measured = tuple(float(str(row[key])) for key in ("top1", "top3", "not_understood"))
    assert all(m >= floor for m, floor in zip(measured, FLOORS[style], strict=True)), (style, measured)
    assert float(str(row["clear_right"])) >= DIRECT_RIGHT, row
