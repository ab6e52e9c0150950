"""Every module of bench/ imports and `python -m bench` runs every benchmark: a move can't make one vanish."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bench
from bench import __main__ as runner

MODULES = sorted(info.name for info in pkgutil.iter_modules(bench.__path__, prefix="bench."))


def test_the_scan_finds_the_benchmarks_and_their_helpers() -> None:
    assert {"bench.sweep", "bench.common", "bench.__main__"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_of_bench_imports(name: str) -> None:
    importlib.import_module(name)


def test_every_listed_benchmark_is_a_module_of_bench_with_a_main() -> None:
    modules = runner.import_all(MODULES)
    assert [name for name in runner.BENCHES if not callable(getattr(modules.get(name), "main", None))] == []


def test_python_m_bench_runs_the_listed_benchmarks_then_any_other_module_with_a_main(
    capsys: pytest.CaptureFixture[str],
) -> None:
    modules = runner.import_all(MODULES)
    with_main = sorted(name for name, module in modules.items() if hasattr(module, "main"))
    with_main.remove("bench.__main__")
    assert runner.main(["--list"]) == 0
    listed = capsys.readouterr().out.split()
    assert listed[: len(runner.BENCHES)] == runner.BENCHES and sorted(listed) == with_main


def test_a_module_that_does_not_import_stops_the_run_with_its_name() -> None:
    with pytest.raises(runner.ImportFailed) as failed:
        runner.import_all(["bench.common", "bench.moved_away"])
    assert str(failed.value) == "bench.moved_away"
    assert isinstance(failed.value.__cause__, ModuleNotFoundError)
