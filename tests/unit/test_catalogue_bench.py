"""The catalogue benchmark's synthetic catalogue loads and lints clean; the bench runs end to end."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import DEFAULT_CATALOGUE_DIR, load_catalogue, load_texts, read_catalogue
from sevamitra.cli.bench_catalogue import BenchFailed, catalogue, measure_turns, synthesize
from sevamitra.core.catalogue_lint import catalogue_problems
from sevamitra.core.conversation import Context


def test_a_synthetic_catalogue_of_fifty_services_loads_and_lints_clean(tmp_path: Path) -> None:
    files = synthesize(tmp_path, 50)
    loaded, file_problems = read_catalogue(tmp_path)
    assert [str(p) for p in file_problems] == []
    assert loaded is not None
    assert catalogue_problems(loaded) == []
    assert files == 51 == len(list(tmp_path.rglob("*.yaml")))
    assert len(loaded.services) == 50
    assert max(Counter(s.code for s in loaded.services).values()) == 1


def test_synthetic_services_keep_the_shapes_of_the_shipped_ones_across_the_departments(tmp_path: Path) -> None:
    shipped = load_catalogue()
    synthesize(tmp_path, 50)
    synthetic = load_catalogue(tmp_path)
    shapes = {tuple((f.id, f.type) for f in s.fields) for s in shipped.services}
    assert all(tuple((f.id, f.type) for f in s.fields) in shapes for s in synthetic.services)
    with_services = {d.id for d in shipped.departments if shipped.services_of(d.id)}
    used = {s.department_id for s in synthetic.services}
    assert used <= with_services and len(used) == min(50, len(with_services))
    counts = Counter(s.department_id for s in synthetic.services)
    assert max(counts.values()) - min(counts.values()) <= 1  # spread evenly
    assert not {s.id for s in synthetic.services} & {s.id for s in shipped.services}


def test_the_synthesiser_needs_services_to_clone(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one service"):
        synthesize(tmp_path / "out", 0)
    empty = tmp_path / "empty"
    (empty / "services").mkdir(parents=True)
    shutil.copy(DEFAULT_CATALOGUE_DIR / "departments.yaml", empty / "departments.yaml")
    with pytest.raises(BenchFailed, match="no services to clone"):
        synthesize(tmp_path / "out", 10, source=empty)


def test_turn_timings_cover_the_menus_and_a_form(tmp_path: Path) -> None:
    synthesize(tmp_path, 50)
    loaded = load_catalogue(tmp_path)
    timings = measure_turns(loaded, Context(catalogue=loaded, texts=load_texts()), count=20)
    names = [t.name for t in timings]
    assert names[:2] == ["department list", "service list, first page"]
    assert names[-1] == "form: answer one field"
    for timing in timings:
        assert len(timing.samples_ms) in (0, 20)
        assert timing.samples_ms or timing.note  # what was not measured says why


def test_the_bench_prints_its_figures_with_the_machine() -> None:
    printed: list[str] = []
    catalogue(30, turns=20, echo=printed.append)
    report = "\n".join(printed)
    assert "30 synthetic services" in report
    assert "start-up load from the validated snapshot, best of 3" in report
    assert "department list" in report and "form: answer one field" in report
    assert "machine:" in report
