"""The catalogue files: loading, migration of older spec versions, lint and export."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sevamitra.adapters.catalogue_files import (
    DEFAULT_CATALOGUE_DIR,
    _ServiceFile,
    load_catalogue,
    migrate_service,
    read_catalogue,
)
from sevamitra.core.catalogue_lint import catalogue_problems

EXAMPLE = Path(__file__).resolve().parents[3] / "shared" / "examples" / "service-income-certificate.yaml"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "catalogue"


def sevamitra(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from sevamitra.cli.main import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd, env=env, check=False)  # noqa: S603 (our own CLI, fixed arguments)


def test_the_shipped_catalogue_lints_clean() -> None:
    catalogue, problems = read_catalogue(DEFAULT_CATALOGUE_DIR)
    assert catalogue is not None
    assert [str(p) for p in problems] == []
    assert catalogue_problems(catalogue) == []


def test_the_shipped_catalogue_has_360_services_in_20_departments_in_three_scripts() -> None:
    catalogue, _ = read_catalogue(DEFAULT_CATALOGUE_DIR)
    assert catalogue is not None
    assert len(catalogue.services) >= 360
    assert len({s.department_id for s in catalogue.services}) >= 20
    for service in catalogue.services:
        assert re.search(r"[\u0C00-\u0C7F]", service.names["te"]), service.id
        assert re.search(r"[\u0900-\u097F]", service.names["hi"]), service.id
        assert re.search(r"[A-Za-z]", service.names["en"]), service.id


def test_a_version_1_file_is_migrated_on_load() -> None:
    raw = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert raw["spec_version"] == 1
    migrated = migrate_service(raw)
    assert migrated["spec_version"] == 2
    loaded = _ServiceFile.model_validate(migrated)
    dob = next(f for f in loaded.fields if f.id == "date_of_birth")
    assert dob.rules == {"min_age": 0}  # v1's list of one-key rules became a mapping
    assert "te_latn" in loaded.aliases


def test_lint_says_what_a_migration_could_not_supply(tmp_path: Path) -> None:
    root = tmp_path / "catalogue"
    shutil.copytree(FIXTURE, root)
    target = root / "services" / "revenue" / "income-certificate-v1.yaml"
    target.write_text(
        EXAMPLE.read_text(encoding="utf-8")
        .replace("id: revenue.income-certificate", "id: revenue.income-certificate-v1")
        .replace("code: INC", "code: REV-INC1"),
        encoding="utf-8",
    )
    catalogue, problems = read_catalogue(root)
    assert catalogue is not None and not problems
    found = catalogue_problems(catalogue)
    assert any("revenue.income-certificate-v1: field income_sources" in p and "te" in p for p in found), found


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.replace("code: REV-INC", "code: REV-INC\ncolour: blue"), "colour: Extra inputs are not permitted"),
        (lambda s: s.replace("sla: {days: 7}", "sla: {}"), "give the SLA in days or in minutes"),
        (lambda s: s.replace("type: aadhaar", "type: aadhar"), "unknown"),
        (lambda s: s.replace("department: revenue", "department: revenu"), "names department revenu"),
        (
            lambda s: s.replace(
                "[village_revenue_officer, revenue_inspector, tahsildar]", "[village_revenue_officer, mayor]"
            ),
            "unknown approver role 'mayor'",
        ),
        (lambda s: s.replace("hi: आय प्रमाण पत्र}", "hi: ''}"), "no name in hi"),
    ],
)
def test_lint_reports_each_problem_precisely_and_exits_non_zero(tmp_path: Path, change: object, message: str) -> None:
    root = tmp_path / "catalogue"
    shutil.copytree(FIXTURE, root)
    shutil.copytree(DEFAULT_CATALOGUE_DIR / "locales", root / "locales")
    path = root / "services" / "revenue" / "income-certificate.yaml"
    assert callable(change)
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    result = sevamitra("catalogue", "lint", env={"SEVAMITRA_CATALOGUE_DIR": str(root), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert message in result.stderr, result.stderr


def test_export_prints_every_service_as_one_json_document() -> None:
    result = sevamitra("catalogue", "export", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    services = document["services"]
    assert len(services) >= 360
    first = services[0]
    assert {"id", "department", "names", "fee", "sla", "delivery", "fields"} <= set(first)
    assert set(first["names"]) == {"te", "en", "hi"}


def test_the_start_up_snapshot_equals_the_files_and_follows_every_change(tmp_path: Path) -> None:
    root = tmp_path / "catalogue"
    shutil.copytree(FIXTURE, root)
    cache = tmp_path / "cache"
    cold = load_catalogue(root)
    first = load_catalogue(root, cache_dir=cache)
    assert first == cold
    (snapshot,) = cache.glob("catalogue-*.json")
    assert load_catalogue(root, cache_dir=cache) == cold  # read back from the snapshot
    service = root / "services" / "revenue" / "income-certificate.yaml"
    service.write_text(
        service.read_text(encoding="utf-8").replace("amount_inr: 45", "amount_inr: 50"), encoding="utf-8"
    )
    changed = load_catalogue(root, cache_dir=cache)
    income = changed.service("revenue.income-certificate")
    assert income is not None and income.fee.amount_inr == 50
    assert list(cache.glob("catalogue-*.json")) != [snapshot]  # the stale snapshot is gone, a new one stands
