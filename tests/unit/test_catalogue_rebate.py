"""A fee's early-payment rebate in the catalogue files: parsed, kept in the snapshot, refused when nonsense."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import DEFAULT_CATALOGUE_DIR, load_catalogue, read_catalogue
from sevamitra.core.catalogue import Catalogue, Rebate
from sevamitra.core.catalogue_lint import catalogue_problems

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "catalogue"
SHIPPED = DEFAULT_CATALOGUE_DIR / "services" / "municipal" / "property-tax-payment.yaml"
REBATE_LINE = "  rebate: {percent: 5, until: '04-30', of: annual_tax, unless: arrears}\n"


def catalogue_with(tmp_path: Path, rebate_line: str, fee_kind: str = "") -> tuple[Path, Path]:
    """The test catalogue plus the shipped property tax service, its rebate line replaced."""
    root = tmp_path / "catalogue"
    shutil.copytree(FIXTURE, root)
    text = SHIPPED.read_text(encoding="utf-8")
    assert REBATE_LINE in text
    text = text.replace(REBATE_LINE, rebate_line)
    if fee_kind:
        text = text.replace("  kind: rule\n  rule: property_tax_due\n", fee_kind)
    path = root / "services" / "municipal" / "property-tax-payment.yaml"
    path.write_text(text, encoding="utf-8")
    return root, path


def test_the_rebate_is_read_into_the_fee(tmp_path: Path) -> None:
    root, _ = catalogue_with(tmp_path, REBATE_LINE)
    catalogue, problems = read_catalogue(root)
    assert catalogue is not None and problems == []
    service = catalogue.service("municipal.property-tax-payment")
    assert service is not None
    assert service.fee.rebate == Rebate(percent=5, until="04-30", of="annual_tax", unless="arrears")
    assert catalogue_problems(catalogue) == []


def test_a_fee_without_a_rebate_has_none(tmp_path: Path) -> None:
    root, _ = catalogue_with(tmp_path, "")
    catalogue, _ = read_catalogue(root)
    service = catalogue.service("municipal.property-tax-payment") if catalogue else None
    assert service is not None and service.fee.rebate is None


def test_the_start_up_snapshot_keeps_the_rebate(tmp_path: Path) -> None:
    root, _ = catalogue_with(tmp_path, REBATE_LINE)
    cold = load_catalogue(root)
    load_catalogue(root, cache_dir=tmp_path / "cache")
    warm = load_catalogue(root, cache_dir=tmp_path / "cache")  # read back from the snapshot
    assert warm == cold
    service = warm.service("municipal.property-tax-payment")
    assert service is not None and service.fee.rebate is not None


@pytest.mark.parametrize(
    ("rebate_line", "message"),
    [
        ("  rebate: {percent: 0, until: '04-30', of: annual_tax}\n", "percent must be a whole number from 1 to 100"),
        ("  rebate: {percent: 105, until: '04-30', of: annual_tax}\n", "from 1 to 100 (got 105)"),
        ("  rebate: {percent: 2.5, until: '04-30', of: annual_tax}\n", "fee.rebate.percent"),
        ("  rebate: {percent: 5, until: '04-31', of: annual_tax}\n", "until must be a day of every year as MM-DD"),
        ("  rebate: {percent: 5, until: '02-29', of: annual_tax}\n", "(got '02-29')"),
        ("  rebate: {percent: 5, until: 30 April, of: annual_tax}\n", "(got '30 April')"),
        ("  rebate: {percent: 5, until: '04-30'}\n", "fee.rebate.of: Field required"),
        ("  rebate: {percent: 5, until: '04-30', of: Annual Tax}\n", "fee.rebate.of"),
        ("  rebate: {percent: 5, until: '04-30', of: annual_tax, when: early}\n", "when: Extra inputs"),
    ],
)
def test_a_nonsense_rebate_is_refused_with_the_file_and_the_reason(
    tmp_path: Path, rebate_line: str, message: str
) -> None:
    root, path = catalogue_with(tmp_path, rebate_line)
    _, problems = read_catalogue(root)
    assert any(p.path == path and message in p.message for p in problems), [str(p) for p in problems]


def test_a_rebate_on_a_fee_that_takes_no_registry_figure_is_refused(tmp_path: Path) -> None:
    root, path = catalogue_with(tmp_path, REBATE_LINE, fee_kind="  kind: fixed\n  amount_inr: 45\n")
    _, problems = read_catalogue(root)
    assert any(p.path == path and "a rebate needs a rule fee" in p.message for p in problems), problems


def test_the_lint_refuses_a_nonsense_rebate_built_in_code(tmp_path: Path) -> None:
    root, _ = catalogue_with(tmp_path, REBATE_LINE)
    catalogue, _ = read_catalogue(root)
    assert catalogue is not None
    service = catalogue.service("municipal.property-tax-payment")
    assert service is not None and service.fee.rebate is not None
    broken = replace(service.fee.rebate, percent=120, until="04-31")
    services = tuple(replace(s, fee=replace(s.fee, rebate=broken)) if s is service else s for s in catalogue.services)
    problems = catalogue_problems(Catalogue(departments=catalogue.departments, services=services))
    mine = [p for p in problems if p.startswith("municipal.property-tax-payment:")]
    assert len(mine) == 2 and "1 to 100" in mine[0] and "MM-DD" in mine[1], mine
