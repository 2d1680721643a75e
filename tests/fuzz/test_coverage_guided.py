"""Coverage-guided fuzzing in a soak: each atheris target runs from its seeds in its own process.

Not in `make test`: each process spends seconds instrumenting and importing before its first
input. `SEVAMITRA_FUZZ_EXAMPLES` (set by a soak) turns it on and sizes it: ten times that many
runs a target, scaled by the target's weight.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fuzz.harness import EXAMPLES, SECONDS, TRIED
from tests.fuzz.targets import TARGETS

SOAK = bool(os.environ.get("SEVAMITRA_FUZZ_EXAMPLES"))
pytestmark = pytest.mark.skipif(not SOAK, reason="coverage-guided fuzzing runs in a soak (SEVAMITRA_FUZZ_EXAMPLES)")
DONE = re.compile(r"Done (\d+) runs in (\d+) second")


@pytest.mark.parametrize("target", list(TARGETS))
def test_coverage_guided_fuzzing_finds_no_crash(target: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    runs = max(100, round(EXAMPLES * 10 * TARGETS[target].weight))
    command = [
        sys.executable,
        "-m",
        "tests.fuzz.coverage_guided",
        target,
        str(tmp_path / "corpus"),
        f"-runs={runs}",
        "-max_len=8192",
        f"-artifact_prefix={tmp_path}/",
    ]
    finished = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)  # noqa: S603
    crashes = [path.name for path in tmp_path.glob("crash-*")]
    assert finished.returncode == 0 and not crashes, f"{crashes}\n{finished.stderr[-4000:]}"
    done = DONE.search(finished.stderr)
    assert done is not None, finished.stderr[-2000:]
    TRIED[f"atheris {target}"] += int(done.group(1))
    SECONDS[f"atheris {target}"] += int(done.group(2))
