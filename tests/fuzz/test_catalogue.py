"""The catalogue loader under fuzzing: YAML files broken byte by byte or value by value load, or
raise `CatalogueFilesError` naming the file; never another exception."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from sevamitra.adapters.catalogue_files import CatalogueFilesError, load_catalogue, read_catalogue
from tests.conftest import REPO
from tests.fuzz.harness import fuzz
from tests.fuzz.mutations import json_like, mutated, mutated_json

FIXTURE = REPO / "tests" / "fixtures" / "catalogue"
FILES = ("departments.yaml", *(str(p.relative_to(FIXTURE)) for p in sorted(FIXTURE.glob("services/*/*.yaml"))))
V1_FILE = "services/revenue/income-certificate-v1.yaml"
# the loader the catalogue reads with (libyaml's, which reads `{te: ...?, en: ...}` where PyYAML's does not)
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
# what YAML's safe loader builds besides JSON's values: dates, byte strings, sets
yaml_values = st.one_of(json_like, st.dates(), st.binary(max_size=8), st.sets(st.integers(), max_size=3))


def v1_service() -> dict[str, Any]:
    """The income certificate written in spec version 1, which the loader migrates."""
    data = yaml.load((FIXTURE / "services/revenue/income-certificate.yaml").read_bytes(), Loader=LOADER)  # noqa: S506 (a safe loader)
    data |= {"spec_version": 1, "id": "revenue.income-certificate-v1"}
    data["aliases"]["te-Latn"] = data["aliases"].pop("te_latn")
    for field in data["fields"]:
        field["rules"] = [{rule: value} for rule, value in field.get("rules", {}).items()]
        if field.get("options"):
            field["options"] = [option["id"] for option in field["options"]]
    return data


@functools.cache
def seeds() -> dict[str, bytes]:
    found = {name: (FIXTURE / name).read_bytes() for name in FILES}
    found[V1_FILE] = yaml.dump(v1_service(), Dumper=DUMPER, allow_unicode=True).encode()
    return found


def load(replaced: str, data: bytes) -> None:
    """Load the fixture catalogue with one file's bytes replaced by `data`."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for name, seed in seeds().items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data if name == replaced else seed)
        _, listed = read_catalogue(root)  # what the lint reads: it never raises either
        try:
            catalogue = load_catalogue(root)
        except CatalogueFilesError as error:
            problems = error.problems
        else:
            assert catalogue.services and not listed
            return
    assert problems and all(problem.message for problem in problems)
    assert problems == listed


files = st.sampled_from([*FILES, V1_FILE])


@fuzz(files, st.data(), weight=0.5)
def test_catalogue_files_broken_byte_by_byte(name: str, data: st.DataObject) -> None:
    load(name, data.draw(mutated([seeds()[name]], edits=3)))


@fuzz(files, st.data(), weight=0.5)
def test_catalogue_files_with_values_changed(name: str, data: st.DataObject) -> None:
    tree = yaml.load(seeds()[name], Loader=LOADER)  # noqa: S506 (a safe loader, C or pure Python)
    changed = data.draw(mutated_json([tree], values=yaml_values))
    try:
        text = yaml.dump(changed, Dumper=DUMPER, allow_unicode=True)
    except UnicodeEncodeError:  # a lone surrogate: PyYAML's own emitter writes it as an escape
        text = yaml.dump(changed, Dumper=yaml.SafeDumper, allow_unicode=False)
    load(name, text.encode())


def test_catalogue_nested_past_the_recursion_limit_is_a_problem_not_a_crash() -> None:
    nested_maps = b"".join(b" " * i + b"k:\n" for i in range(3_000))
    for deep in (b"departments: " + b"[" * 50_000, b"departments: " + b"[" * 5_000 + b"]" * 5_000, nested_maps):
        load("departments.yaml", deep)
        load(FILES[1], deep)
