"""The WhatsApp message templates in catalogue/templates keep to Meta's rules, in every language."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

TEMPLATES = Path(__file__).resolve().parents[2] / "catalogue" / "templates"
LANGUAGES = ("te", "en", "hi")
CATEGORIES = frozenset({"UTILITY", "MARKETING", "AUTHENTICATION"})
BODY_LIMIT = 1024
VARIABLE = re.compile(r"\{\{(\d+)\}\}")

FILES = sorted(TEMPLATES.glob("*.yaml"))


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: expected a mapping"
    return data


def test_the_templates_the_code_sends_are_there() -> None:
    assert {p.stem for p in FILES} >= {"application_update", "officer_reminder"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_template_header(path: Path) -> None:
    data = _load(path)
    assert data.get("name") == path.stem
    assert data.get("category") in CATEGORIES
    variables = data.get("variables")
    assert isinstance(variables, list) and variables, "variables: a non-empty list"
    assert all(isinstance(v, str) and v for v in variables)
    assert len(set(variables)) == len(variables), "variables: no name twice"
    languages = data.get("languages")
    assert isinstance(languages, dict)
    assert set(languages) >= set(LANGUAGES), f"missing {sorted(set(LANGUAGES) - set(languages))}"


@pytest.mark.parametrize(
    ("path", "language"), [(p, lang) for p in FILES for lang in LANGUAGES], ids=lambda v: getattr(v, "stem", v)
)
def test_template_body(path: Path, language: str) -> None:
    data = _load(path)
    entry = data["languages"][language]
    assert isinstance(entry, dict) and isinstance(entry.get("body"), str)
    body: str = entry["body"]
    count = len(data["variables"])
    used = {int(n) for n in VARIABLE.findall(body)}
    assert used == set(range(1, count + 1)), f"uses {sorted(used)}, expected 1..{count}"
    rest = VARIABLE.sub("", body)
    assert "{{" not in rest and "}}" not in rest, "a stray or malformed {{ }}"
    stripped = body.strip()
    assert not VARIABLE.match(stripped), "starts with a variable"
    assert not re.search(r"\{\{\d+\}\}$", stripped), "ends with a variable"
    assert "\n\n" not in body, "two newlines in a row"
    assert len(body) < BODY_LIMIT
