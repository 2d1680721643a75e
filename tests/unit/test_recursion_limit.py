"""Python's recursion limit stays as it was once the whole platform is imported: a dependency that
raises it (py_ecc, under web3, sets 100,000) would let a deeply nested JSON body overflow the C stack
and kill the process instead of being refused."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import json, sys
before = sys.getrecursionlimit()
import sevamitra.cli.main, sevamitra.web.app, sevamitra.bootstrap, sevamitra.adapters.chain.evm
after = sys.getrecursionlimit()
try:
    json.loads("[" * 100_000)
except RecursionError:
    refused = True
print(before, after, refused)
"""


def test_importing_the_platform_keeps_the_recursion_limit_and_deep_json_is_refused() -> None:
    command = [sys.executable, "-c", PROBE]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603 (fixed arguments)
    assert done.returncode == 0, done.stderr[-2000:]
    before, after, refused = done.stdout.split()
    assert after == before
    assert refused == "True"
