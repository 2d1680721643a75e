"""The fuzz budget and its tally: how many inputs each target gets, and how many it was given.

`make test` runs a modest number of inputs per target (`DEFAULT_EXAMPLES`); a soak sets
`SEVAMITRA_FUZZ_EXAMPLES` (e.g. 20000) for a long run. A target whose inputs are expensive (an
image decoded, a catalogue written to disk) takes a share of the budget through `weight`.
"""

from __future__ import annotations

import functools
import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DEFAULT_EXAMPLES = 150
EXAMPLES = int(os.environ.get("SEVAMITRA_FUZZ_EXAMPLES") or DEFAULT_EXAMPLES)
TRIED: Counter[str] = Counter()  # inputs run per target, shrinking included
SECONDS: Counter[str] = Counter()

_F = TypeVar("_F", bound=Callable[..., Any])


def fuzz(*strategies: st.SearchStrategy[Any], weight: float = 1.0) -> Callable[[_F], _F]:
    """`given(*strategies)` with this run's budget (at least 10 inputs), counted under the test's name."""
    examples = max(10, round(EXAMPLES * weight))

    def decorate(test: _F) -> _F:
        name = test.__name__.removeprefix("test_")

        @functools.wraps(test)
        def counted(*args: Any, **kwargs: Any) -> Any:
            TRIED[name] += 1
            started = time.perf_counter()
            try:
                return test(*args, **kwargs)
            finally:
                SECONDS[name] += time.perf_counter() - started

        budget = settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.filter_too_much,
                HealthCheck.function_scoped_fixture,  # a fixture serving the whole test, reset by nothing
            ],
        )
        return budget(given(*strategies)(counted))  # type: ignore[no-any-return]

    return decorate
