"""Reports how many inputs each fuzz target was given in this run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.harness import EXAMPLES, SECONDS, TRIED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TRIED:
        return
    terminalreporter.section(f"fuzz inputs tried (budget {EXAMPLES} a target)")
    for name, count in sorted(TRIED.items()):
        terminalreporter.write_line(f"{count:>8}  {SECONDS[name]:7.2f} s  {name}")
    terminalreporter.write_line(f"{sum(TRIED.values()):>8}  {sum(SECONDS.values()):7.2f} s  in all")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A failing input of 100 kB is reported as it is, not as a warning about its size."""
    here = Path(__file__).parent
    large_repr = pytest.mark.filterwarnings("ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning")
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(large_repr)
