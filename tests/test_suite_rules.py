"""The suite's own rule, checked by running pytest on a tiny suite: a skipped test fails the run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def run_suite(tmp_path: Path, tests: str) -> subprocess.CompletedProcess[str]:
    """pytest over one test module ``tests`` beside a copy of this suite's conftest.py."""
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_example.py").write_text(tests)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )


def test_a_skipped_test_fails_the_run_and_is_named(tmp_path: Path) -> None:
    result = run_suite(
        tmp_path,
        "import pytest\n\n"
        "def test_runs() -> None:\n    assert True\n\n"
        "def test_cannot_run() -> None:\n    pytest.skip('needs a thing')\n",
    )
    assert result.returncode == 1, result.stdout
    assert "skipped tests fail this run" in result.stdout
    assert "test_example.py::test_cannot_run: Skipped: needs a thing" in result.stdout


def test_a_suite_without_skips_passes(tmp_path: Path) -> None:
    result = run_suite(tmp_path, "def test_runs() -> None:\n    assert True\n")
    assert result.returncode == 0, result.stdout
