"""The repository carries what its code and tests need: no absolute machine paths, no reads of ../shared."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_OURS = {".git", ".venv", ".cache", "node_modules", "instance", "build", ".hypothesis"}
CONFORMANCE = ROOT / "tests" / "unit" / "connectors" / "test_published_samples.py"
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:work|tmp|root|home)/")
SHARED = re.compile(r"""["'/]shared["'/]|\.\./shared""")


def sources() -> list[Path]:
    """Our code, build and CI files."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in NOT_OURS and not d.endswith(".egg-info")]
        for name in files:
            path = Path(folder, name)
            if (
                path.suffix in {".py", ".toml", ".cfg"}
                or name in {"Makefile", "Procfile"}
                or path.parent.name == ".ci"
            ):
                found.append(path)
    return sorted(found)


def test_the_scan_sees_the_code_the_tests_and_the_build() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in sources()}
    assert {"Makefile", "pyproject.toml", ".ci/run", "tests/conftest.py", "bench/sweep.py"} <= names


def test_no_absolute_machine_paths() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if MACHINE_PATH.search(line)
    ]
    assert found == []


def test_only_the_conformance_test_reads_the_shared_folder() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources()
        if path.suffix == ".py" and path not in (CONFORMANCE, Path(__file__).resolve())
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if SHARED.search(line)
    ]
    assert found == []


def test_the_procfile_is_at_the_root_where_platforms_look_for_it() -> None:
    processes = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line and line[0] != "#"
    )
    assert {"release", "web", "worker", "scheduler"} <= set(processes)
    assert "gunicorn -c deploy/gunicorn.conf.py wsgi:app" in processes["web"]
    assert (ROOT / "deploy" / "Procfile").read_text() == (ROOT / "Procfile").read_text()  # the link to it
