"""The lock scan's diff fixtures are what production's diff makes of them, byte for byte.

`tests/data/diffs/_make_diffs.py` builds each case as two commits and diffs them with
`Mirror.diff` (`--no-renames`, as a review does); a fixture edited by hand, or made with
other flags (rename detection, `--cached`), shows up here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

DIFFS = Path(__file__).resolve().parents[1] / "data" / "diffs"


def make_diffs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_diffs", DIFFS / "_make_diffs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE = make_diffs()


def test_every_fixture_has_a_case_and_every_case_a_fixture() -> None:
    assert sorted(p.stem for p in DIFFS.glob("*.diff")) == sorted(MAKE.CASES)


@pytest.mark.parametrize("name", sorted(MAKE.CASES))
def test_fixture_is_what_production_diffs(name: str) -> None:
    assert (DIFFS / f"{name}.diff").read_text() == MAKE.build(name, MAKE.CASES[name])


def test_a_moved_file_is_a_deletion_and_an_addition() -> None:
    text = (DIFFS / "parser_mixed.diff").read_text()
    assert "rename from" not in text and "similarity index" not in text
    assert "deleted file mode" in text and "new file mode" in text
