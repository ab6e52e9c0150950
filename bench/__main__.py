"""`python -m bench`: every benchmark, one after the other (each prints its own baseline and ratio).

Every module of the package is imported before any benchmark runs: one that fails to import (a module it
uses moved, say) stops the run with its traceback and exit status 2, instead of the benchmark being skipped.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback
from collections.abc import Iterable
from types import ModuleType

import bench

# The benchmarks first, in this order; any other module of the package with a `main()` runs after them. The
# rest (common, httpload, bare_app) are their helpers.
BENCHES = [
    "bench.ingest",
    "bench.discounts",
    "bench.scoring",
    "bench.sweep",
    "bench.journeys",
    "bench.decay",
    "bench.admin",
    "bench.process",
    "bench.load",
]


class ImportFailed(Exception):
    """A module of the package, or a benchmark of BENCHES, does not import."""


def package_modules() -> list[str]:
    """The dotted names of every module in bench/ (this one aside), found on disk."""
    found = pkgutil.iter_modules(bench.__path__, prefix="bench.")
    return sorted(info.name for info in found if info.name != "bench.__main__")


def import_all(names: Iterable[str]) -> dict[str, ModuleType]:
    """Import every module named; ImportFailed names the one that fails."""
    modules = {}
    for name in dict.fromkeys(names):
        try:
            modules[name] = importlib.import_module(name)
        except Exception as error:
            raise ImportFailed(name) from error
    return modules


def benchmarks(modules: dict[str, ModuleType]) -> list[str]:
    """BENCHES, then any other module with a `main()` (a new benchmark is run, not forgotten)."""
    return [*BENCHES, *(name for name, m in modules.items() if hasattr(m, "main") and name not in BENCHES)]


def main(argv: list[str] | None = None) -> int:
    """Import everything, then run each benchmark; a failing one does not stop the others."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--list", action="store_true", help="import every module, print the benchmarks, run none"
    )
    args = parser.parse_args(argv)
    try:
        modules = import_all([*BENCHES, *package_modules()])
    except ImportFailed as failed:
        traceback.print_exception(failed.__cause__, file=sys.stderr)
        print(f"bench: {failed} does not import (traceback above); no benchmark was run", file=sys.stderr)
        return 2
    names = benchmarks(modules)
    if args.list:
        print("\n".join(names))
        return 0
    failures = 0
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        saved, sys.argv = sys.argv, [name]
        try:
            failures += 1 if modules[name].main() else 0
        finally:
            sys.argv = saved
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
