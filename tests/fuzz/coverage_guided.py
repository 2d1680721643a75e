"""Coverage-guided fuzzing of the parsers with atheris (libFuzzer), one target a process.

    python -m tests.fuzz.coverage_guided TARGET CORPUS_DIR -runs=100000 -artifact_prefix=crashes/

The corpus directory starts from the same valid seeds as the hypothesis tests (written there on
start) and keeps what libFuzzer finds. Each target lets through only its parser's documented
error; anything else is a crash, which libFuzzer saves under `-artifact_prefix` and reports with a
non-zero exit. `tests/fuzz/test_coverage_guided.py` runs every target briefly.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    import atheris  # only here: the hypothesis tests do not need it

    with atheris.instrument_imports(include=["sevamitra"]):  # coverage of our code only: fast to start
        from tests.fuzz.targets import TARGETS, write_seeds

    target, corpus = argv[1], Path(argv[2])
    write_seeds(target, corpus)
    atheris.Setup([argv[0], str(corpus), *argv[3:]], TARGETS[target].run)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
