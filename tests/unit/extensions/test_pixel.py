"""The web pixel's logic, tested by node's built-in test runner against a fake of the Web Pixels API."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PIXEL = Path(__file__).resolve().parents[3] / "extensions" / "relance-pixel"


def test_pixel_logic_passes_its_node_tests() -> None:
    node = shutil.which("node")
    assert node, "node is needed to test the web pixel (it is on the machine image and in CI)"
    done = subprocess.run(
        [node, "--test", "test/"],
        cwd=PIXEL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout
