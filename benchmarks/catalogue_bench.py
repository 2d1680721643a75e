"""Catalogue benchmark as a script: `python benchmarks/catalogue_bench.py [--services N] [--turns N]`.

The same as `sevamitra bench catalogue`: a synthetic catalogue of N services cloned from the
shipped one, its load time, and the conversation engine's turn times on it. See
`sevamitra.cli.bench_catalogue` for what is measured.
"""

from __future__ import annotations

import argparse

from sevamitra.cli.bench_catalogue import catalogue


def main() -> None:
    parser = argparse.ArgumentParser(description="A synthetic catalogue: its load time and engine turn times.")
    parser.add_argument("--services", type=int, default=5000, help="synthetic services to generate (default 5000)")
    parser.add_argument("--turns", type=int, default=1000, help="timed engine turns of each kind (default 1000)")
    args = parser.parse_args()
    catalogue(args.services, turns=args.turns)


if __name__ == "__main__":
    main()
