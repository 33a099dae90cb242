"""The import contracts can fail: the same check on a copy of the package with one bad import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize(
    ("module", "upward_import"),
    [
        ("store/jobs.py", "from reviewbot.bot import review"),  # storage reaching up into a behaviour
        ("review/outcome.py", "import subprocess"),  # I/O in the pure core
    ],
)
def test_an_import_against_the_layers_breaks_a_contract(tmp_path: Path, module: str, upward_import: str) -> None:
    shutil.copytree(ROOT / "reviewbot", tmp_path / "reviewbot", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "reviewbot" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{upward_import}\n", encoding="utf-8")
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(lint), "--no-cache", "pyproject.toml"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "BROKEN" in run.stdout
