"""`python -m bench`: every benchmark, one after the other (each prints its own baseline and ratio)."""

from __future__ import annotations

import importlib
import sys

BENCHES = [
    "bench.ingest",
    "bench.discounts",
    "bench.scoring",
    "bench.sweep",
    "bench.admin",
    "bench.process",
    "bench.load",
]


def main() -> int:
    """Run the benchmarks that exist; a failing one does not stop the others."""
    failures = 0
    for name in BENCHES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        print(f"\n=== {name} ===", flush=True)
        saved, sys.argv = sys.argv, [name]
        try:
            failures += 1 if module.main() else 0
        finally:
            sys.argv = saved
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
